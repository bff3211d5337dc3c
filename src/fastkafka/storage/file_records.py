"""FileRecords: the `.log` file of a segment (org.apache.kafka.common.record.FileRecords).

On-disk format: record batches (magic 2) back to back, exactly as they travel on the wire; no
file header and no padding. The first 12 bytes of each batch are BaseOffset (int64) and
BatchLength (int32), so the file can be walked batch by batch from any batch boundary.

Writes: `append` writes at the file's size with pwrite, or, inside `batched_appends(appender)`
(a produce request), queues the write on the broker's io_uring (`_native/uring.py`) so all the
partitions of the request go to the kernel in one submission. Any operation that needs the bytes
on file (a read, a flush, a truncation) first completes the queued writes.

The appends of a big produce request (copying 17 MB into the page cache takes 5-50 ms) go to the
log writer thread instead (`append_in_background`, one job per request: `background_writes`): its
position is fixed and `size` counts it at once, the event loop gets a Future and keeps serving.
The writer is one thread for every file, so writes run in submission order. Until the Future is
done the bytes past `written_size` may be missing: the log does not let the high watermark (what
fetches read up to) pass them, and flush, truncation, close and header scans wait for them first.
"""
from __future__ import annotations

import concurrent.futures
import mmap
import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

from fastkafka._native.wire import FileRegion
from fastkafka.protocol.errors import Errors, KafkaError

if TYPE_CHECKING:
    from fastkafka._native.uring import UringAppender

LOG_OVERHEAD = 12  # BaseOffset + BatchLength
_HEADER_PREFIX = 27  # up to and including LastOffsetDelta (byte 23..27)
_MAGIC_POS = 16
_LAST_OFFSET_DELTA_POS = 23
_MAX_TIMESTAMP_POS = 35
_HEADER_SIZE = 61
_PREFIX = struct.Struct(">qi")
# From PartitionLeaderEpoch (byte 12): epoch, [magic, crc skipped], attributes, last offset delta,
# [base timestamp skipped], max timestamp, producer id, producer epoch, base sequence.
_REST = struct.Struct(">i5xhi8xqqhi")
_READ_CHUNK = 16 * 1024  # an index interval (4 KiB) plus headers, in one pread


# The io_uring batch open on the event loop thread, if any (set only by batched_appends).
_batch: UringAppender | None = None

_writer: concurrent.futures.ThreadPoolExecutor | None = None
_writer_lock = threading.Lock()

# The background writes of the produce request being appended (set only by background_writes):
# (writes queued, the Future they all complete).
_bg_jobs: list[tuple["_FileHandle", memoryview, int, bool]] | None = None
_bg_future: concurrent.futures.Future[None] | None = None


@contextmanager
def background_writes() -> Iterator[None]:
    """Scope of one produce request's appends: its background writes go to the log writer as one
    job (one Future for all) when the block ends, instead of one thread hand-off per partition.
    Re-entrant. Anything that waits for a background write first submits the open job."""
    global _bg_jobs, _bg_future
    if _bg_jobs is not None:
        yield
        return
    _bg_jobs, _bg_future = [], None  # the Future is made by the first write (most requests have none)
    try:
        yield
    finally:
        _submit_background_job()
        _bg_jobs = _bg_future = None


def _submit_background_job() -> None:
    """Hand the open job to the writer (a fresh one stays open inside background_writes)."""
    global _bg_jobs, _bg_future
    if not _bg_jobs:
        return
    assert _bg_future is not None
    jobs, fut = _bg_jobs, _bg_future
    _bg_jobs, _bg_future = [], None
    log_writer().submit(_write_job, jobs, fut)


def _write_job(jobs: list[tuple["_FileHandle", memoryview, int, bool]], fut: concurrent.futures.Future[None]) -> None:
    try:
        for handle, data, position, release in jobs:
            _pwrite_all(handle, data, position, release)
    except BaseException as e:
        fut.set_exception(e)
        return
    fut.set_result(None)


def log_writer() -> concurrent.futures.ThreadPoolExecutor:
    """The log writer thread (created on first use; a daemon-like pool thread, idle when unused).
    One thread: writes to a file land in the order they were submitted."""
    global _writer
    with _writer_lock:
        if _writer is None:
            _writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kafka-log-writer")
        return _writer


def _pwrite_all(handle: "_FileHandle", data: memoryview, position: int, release: bool) -> None:
    """On the writer thread: write all of `data` at `position` (os.pwrite releases the GIL),
    then, with `release`, give the pages of a pooled request buffer back to the kernel."""
    written = 0
    total = len(data)
    while written < total:
        n = os.pwrite(handle.fd, data[written:], position + written)
        if n <= 0:
            raise OSError(f"pwrite of {total - written} bytes at {position + written} returned {n}")
        written += n
    if release:
        _release_pages(data)


_MADV_DONTNEED = 4
_MADV_REMOVE = 9
_madvise = None


def _release_pages(data: memoryview) -> None:
    """Free the whole pages inside `data`, a view of an anonymous mmap (a pooled request buffer,
    net/memory_pool.py), here on the writer thread (ctypes releases the GIL), instead of in the
    buffer's munmap on the event loop when the request ends (2-17 ms for 64 MB; 0.1 ms after
    this). The pool's buffers are private mappings: MADV_DONTNEED frees their pages; a shared
    (shmem) mapping keeps them under DONTNEED, so MADV_REMOVE is used for those. Only for
    buffers nobody reads again (the bytes read as zero afterwards)."""
    global _madvise
    if not isinstance(data.obj, mmap.mmap):
        return
    if _madvise is None:
        import ctypes
        import ctypes.util
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.madvise
        fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        fn.restype = ctypes.c_int
        _madvise = (fn, ctypes)
    fn, ctypes = _madvise
    anchor = ctypes.c_char.from_buffer(data)  # an export of the buffer: it cannot be unmapped meanwhile
    addr = ctypes.addressof(anchor)
    page = mmap.PAGESIZE
    start = (addr + page - 1) & ~(page - 1)
    end = (addr + len(data)) & ~(page - 1)
    # MADV_REMOVE fails (EINVAL) on a private mapping: then DONTNEED. A failure of both only
    # leaves the pages to the munmap.
    if end > start and fn(start, end - start, _MADV_REMOVE) != 0:
        fn(start, end - start, _MADV_DONTNEED)
    del anchor


@contextmanager
def batched_appends(appender: UringAppender | None) -> Iterator[None]:
    """Queue every FileRecords.append made inside the block on `appender`, and complete them all
    (one io_uring submission) when the block ends. Re-entrant; None means plain writes.
    An OSError from completing means the bytes did not reach the page cache: the caller must
    treat the log dir as failed before anything is acknowledged."""
    global _batch
    if appender is None or _batch is not None:
        yield
        return
    _batch = appender
    try:
        yield
    finally:
        _batch = None
        appender.complete()


def _complete_queued_writes() -> None:
    if _batch is not None and _batch.queued:
        _batch.complete()



class LogOffsetPosition(NamedTuple):
    """A batch found by an offset search: the batch's last offset, its file position and size."""

    offset: int
    position: int
    size: int


class BatchPosition(NamedTuple):
    """Header fields of one batch on disk (index rebuilds, time search, producer state loads)."""

    base_offset: int
    last_offset: int
    position: int
    size: int
    max_timestamp: int
    partition_leader_epoch: int
    attributes: int
    producer_id: int
    producer_epoch: int
    base_sequence: int

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & 0x10)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & 0x20)


class _FileHandle:
    """Owns one fd and closes it when the last reference goes: the segment's FileRecords and
    every slice handed to a fetch response hold one, so a segment closed or deleted while a
    response is still being sent never has its fd number reused under the sendfile."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __del__(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


class FileRecordsSlice(FileRegion):
    """A byte range of a `.log` file: what a fetch returns. The network layer sends it with
    `sendfile(socket, fd, position, size)`; `read_bytes()` copies it (pread) where that is
    not possible.

    Invariant: [position, position + size) lies within the file as it was when the slice was
    taken; the bytes there never change while the slice exists (the log is append-only; segments
    are replaced by compaction or deleted by retention only by renaming, and only truncation
    below the high watermark, which fetches never read past, rewrites a file). The slice keeps
    the file's handle alive, so the fd stays valid until the slice is gone.
    """

    __slots__ = ("_handle",)

    def __init__(self, handle: _FileHandle, position: int, size: int) -> None:
        super().__init__(handle.fd, position, size)
        self._handle = handle

    def read_bytes(self) -> bytes:
        try:
            return super().read_bytes()
        except OSError as e:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, str(e)) from e


class FileRecords:
    """Append-only `.log` file.

    Concurrency: single writer: call only from the event loop thread. Reads use pread and never
    move the file offset, so they may interleave freely with appends.
    Invariants: `size` is the number of bytes of whole batches in the file, counting appends
    queued on the io_uring batch (appends are whole batches; recovery truncates torn tails);
    every write is positioned at `size` (pwrite semantics, no O_APPEND: io_uring may run the
    queued writes of a batch in any order, so each carries its own offset).
    """

    def __init__(self, path: str, *, create: bool = True) -> None:
        self.path = path
        flags = os.O_RDWR | os.O_CLOEXEC
        if create:
            flags |= os.O_CREAT
        self.fd: int = os.open(path, flags, 0o644)
        self._handle: _FileHandle | None = _FileHandle(self.fd)
        self.size: int = os.fstat(self.fd).st_size
        self._closed = False
        # Writes on the log writer thread not yet known done: (start position, Future), in order.
        self._inflight: list[tuple[int, concurrent.futures.Future[None]]] = []

    # -- writes ---------------------------------------------------------------------------------
    def append(self, data: bytes | bytearray | memoryview) -> int:
        """Write whole batches at the end; returns the number of bytes written (or queued)."""
        total = len(data)
        if _batch is not None:
            # The buffer is the request's (immutable until the response is sent) or a bytes copy.
            _batch.write(self.fd, data, self.size)
            self.size += total
            return total
        view = memoryview(data)
        written = 0
        try:
            while written < total:
                n = os.pwrite(self.fd, view[written:], self.size + written)
                if n <= 0:
                    raise OSError("write returned 0")
                written += n
        except OSError as e:
            # A partial write leaves a torn batch: cut it so the file stays a sequence of batches.
            if written:
                os.ftruncate(self.fd, self.size)
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"append to {self.path} failed: {e}") from e
        self.size += total
        return total

    def append_in_background(self, data: memoryview, release: bool = False) -> concurrent.futures.Future[None]:
        """Write whole batches at the end on the log writer thread; `size` counts them now.
        `data` must stay unchanged until the Future is done. The Future's exception (OSError)
        means the bytes may be torn: the caller must treat the log dir as failed.
        release=True: `data` is a pooled request buffer's and is never read again: its pages are
        freed on the writer thread once written (_release_pages)."""
        _complete_queued_writes()  # io_uring writes queued before this one go first
        assert self._handle is not None, f"append to closed {self.path}"
        total = len(data)
        if _bg_jobs is not None:
            global _bg_future
            if _bg_future is None:
                _bg_future = concurrent.futures.Future()
            _bg_jobs.append((self._handle, data, self.size, release))
            fut = _bg_future
        else:
            fut = log_writer().submit(_pwrite_all, self._handle, data, self.size, release)
        self._inflight.append((self.size, fut))
        self.size += total
        return fut

    @property
    def written_size(self) -> int:
        """The size below which every byte is in the file (background writes may be missing
        above it)."""
        inflight = self._inflight
        while inflight and inflight[0][1].done() and inflight[0][1].exception() is None:
            inflight.pop(0)
        return inflight[0][0] if inflight else self.size

    def wait_background_writes(self) -> None:
        """Block until every background write to this file is done (flush, truncation, close,
        header scans: rare; the produce path never waits here). Raises the write's OSError."""
        inflight, self._inflight = self._inflight, []
        if inflight:
            _submit_background_job()  # an open request-level job would never run otherwise
        for _start, fut in inflight:
            fut.result()

    def flush(self) -> None:
        """fsync the data (Kafka's FileChannel.force(true)), queued writes included."""
        _complete_queued_writes()
        self.wait_background_writes()
        os.fsync(self.fd)

    def truncate_to(self, target_size: int) -> int:
        """Cut the file to `target_size` bytes; returns the number of bytes removed."""
        if target_size > self.size or target_size < 0:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR,
                             f"Attempt to truncate {self.path} of size {self.size} to {target_size}")
        _complete_queued_writes()
        self.wait_background_writes()
        removed = self.size - target_size
        if removed:
            os.ftruncate(self.fd, target_size)
            self.size = target_size
        return removed

    # -- reads ----------------------------------------------------------------------------------
    def slice(self, position: int, size: int) -> FileRecordsSlice:
        """The bytes [position, position + size) clipped to the file end (FileRecords.slice)."""
        if position < 0:
            raise ValueError(f"Invalid position: {position} in read from {self.path}")
        if position > self.size:
            raise ValueError(f"Slice from position {position} exceeds end position of {self.path}")
        if size < 0:
            raise ValueError(f"Invalid size: {size} in read from {self.path}")
        end = min(self.size, position + size)
        assert self._handle is not None, f"read from closed {self.path}"
        _complete_queued_writes()
        if self._inflight and end > self.written_size:
            self.wait_background_writes()  # never below the high watermark: fetches stop there
        return FileRecordsSlice(self._handle, position, end - position)

    def read_bytes(self, position: int = 0, size: int | None = None) -> bytes:
        n = self.size - position if size is None else size
        return self.slice(position, n).read_bytes()

    def batches_from(self, start_position: int = 0) -> Iterator[BatchPosition]:
        """Yield `BatchPosition`s of the whole batches from `start_position` (a batch boundary).

        Reads headers in 16 KiB chunks; stops at a torn tail. Per batch, not per record."""
        _complete_queued_writes()
        if self._inflight:
            self.wait_background_writes()
        pos = start_position
        end = self.size
        buf = b""
        buf_start = pos
        while pos + _HEADER_SIZE <= end:
            rel = pos - buf_start
            if rel < 0 or rel + _HEADER_SIZE > len(buf):
                buf = os.pread(self.fd, min(_READ_CHUNK, end - pos), pos)
                buf_start = pos
                rel = 0
                if len(buf) < _HEADER_SIZE:
                    return
            base_offset, length = _PREFIX.unpack_from(buf, rel)
            size = length + LOG_OVERHEAD
            if length < _HEADER_SIZE - LOG_OVERHEAD or pos + size > end:
                return
            ple, attributes, delta, max_ts, pid, pepoch, base_seq = _REST.unpack_from(buf, rel + LOG_OVERHEAD)
            yield BatchPosition(base_offset, base_offset + delta, pos, size, max_ts, ple,
                                attributes, pid, pepoch, base_seq)
            pos += size

    def search_for_offset_with_size(self, target_offset: int, starting_position: int) -> LogOffsetPosition | None:
        """The first batch at or after `starting_position` whose last offset >= target_offset
        (FileRecords.searchForOffsetFromPosition)."""
        for b in self.batches_from(starting_position):
            if b.last_offset >= target_offset:
                return LogOffsetPosition(b.last_offset, b.position, b.size)
        return None

    def search_for_timestamp(self, target_timestamp: int, starting_position: int,
                             starting_offset: int) -> tuple[int, int, int] | None:
        """(max_timestamp, offset, leader_epoch) of the first batch at/after `starting_position`
        whose max timestamp >= target and that holds an offset >= starting_offset.

        The offset is the batch's first offset that is >= starting_offset: a batch's records
        are not looked into (Kafka looks at records; for batches whose first record has the
        batch's max timestamp, which is what producers write in the common case, it agrees)."""
        for b in self.batches_from(starting_position):
            if b.max_timestamp >= target_timestamp and b.last_offset >= starting_offset:
                return (b.max_timestamp, max(b.base_offset, starting_offset), b.partition_leader_epoch)
        return None

    def close(self) -> None:
        """Drop our handle: the fd closes now, or when the last slice still being sent is gone."""
        if not self._closed:
            _complete_queued_writes()
            self.wait_background_writes()
            self._closed = True
            self._handle = None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def handle(self) -> _FileHandle | None:
        """The fd's owner, for work that must keep the fd open past a close (background fsync)."""
        return self._handle

    def rename_to(self, new_path: str) -> None:
        os.rename(self.path, new_path)
        self.path = new_path
