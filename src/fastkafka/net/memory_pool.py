"""The request memory pool (Kafka's `queued.max.request.bytes`): a byte budget for large request
bodies being received, shared by every connection of the broker.

Invariants:
- Only frames of at least `LARGE_FRAME` bytes draw on the pool; smaller frames never wait, so
  control traffic (ApiVersions, Metadata, heartbeats) flows whatever large requests are queued.
- A reservation is held for as long as its buffer lives (released by the buffer's finalizer), so
  the budget counts memory really in use, including while a handler still holds views into it.
- Waiters are served in arrival order, each with its whole buffer allocated for it: a connection
  that cannot get memory stops reading (the socket's backlog is the kernel's, not ours).
- A frame larger than the whole budget can never fit; the budget is at least
  `socket.request.max.bytes` (a larger frame is refused at framing), so every valid frame fits alone.
- Large buffers are private anonymous mmaps: when the last reference goes they are unmapped, so
  the broker's RSS falls back once the connections holding them close. Private, not Python's
  default MAP_SHARED (shmem): their page faults and munmap are cheaper (64 MB: 1.7 vs 5.5 ms on
  the event loop), and a buffer whose payload the log writer thread wrote has its pages freed
  there with MADV_DONTNEED (storage/file_records.py), which frees nothing of a shared mapping.

Concurrency contract: event loop thread only.
"""
from __future__ import annotations

import collections
import mmap
import weakref
from collections.abc import Callable

# Frames from this size on take memory from the pool (and get their own mmap'd buffer).
LARGE_FRAME = 1 << 20


class MemoryPool:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._waiters: collections.deque[tuple[int, Callable[[], None]]] = collections.deque()

    def try_allocate(self, size: int) -> mmap.mmap | None:
        """A zero-filled buffer of `size` bytes whose reservation ends when it is freed, or None
        (the caller then queues with `wait_for`)."""
        if self._waiters or self.used + size > self.capacity:
            return None
        return self._allocate(size)

    def _allocate(self, size: int) -> mmap.mmap:
        buf = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
        self.used += size
        weakref.finalize(buf, self._release, size)
        return buf

    def wait_for(self, size: int, grant: Callable[[mmap.mmap], None]) -> None:
        """Call `grant(buffer)` once `size` bytes are free and every earlier waiter was served.
        `grant` may run inside a finalizer: it must only schedule work (call_soon)."""
        self._waiters.append((size, grant))
        self._wake()

    def cancel(self, grant: Callable[[mmap.mmap], None]) -> None:
        # == not `is`: a bound method is a new object at each attribute access.
        self._waiters = collections.deque(w for w in self._waiters if w[1] != grant)
        self._wake()

    def _release(self, size: int) -> None:
        self.used -= size
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.used + self._waiters[0][0] <= self.capacity:
            size, grant = self._waiters.popleft()
            grant(self._allocate(size))
