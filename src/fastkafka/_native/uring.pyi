from typing_extensions import Buffer

class UringAppender:
    submits: int
    writes: int
    fallbacks: int
    def __init__(self, entries: int = 256) -> None: ...  # OSError when the kernel refuses io_uring
    @property
    def queued(self) -> int: ...
    def write(self, fd: int, data: Buffer, offset: int) -> None: ...
    def complete(self) -> None: ...  # OSError when a write failed twice (ring, then pwrite)
    def close(self) -> None: ...
