"""SocketSender: writes a connection's responses straight to its socket, sending log-segment
slices with `sendfile(2)` (zero copy: page cache -> socket, never through Python).

Why not the transport: asyncio/uvloop transports only take bytes, so a Fetch response would have
to be read into memory first (pread) and copied again into the socket. The sender owns the
write side of the connection instead; the transport keeps the read side.

How: the sender writes on a dup() of the socket fd, non-blocking. Consecutive bytes pieces go
out with one writev; a `FileRegion` goes out with sendfile from its file. When the socket buffer
is full it registers for writability (`loop.add_writer` on the dup'd fd: the loop refuses a
writer on the transport's own fd) and continues from where it stopped.

Invariants:
- Pieces leave in the order they were queued, each exactly once; a region's bytes are taken from
  its file at send time, which is safe because regions only cover immutable log bytes and hold
  their file open (FileRecordsSlice).
- Once a connection has a sender, nothing is ever written through its transport (two writers on
  one socket would interleave).
- `buffered` is the number of queued bytes not yet accepted by the kernel; above `high_water`
  the owner is told to stop reading requests (`on_pause`), and told to resume (`on_resume`) when
  everything has been sent.
- A file shorter than its region (it can only mean a bug or a disk fault) fails the connection
  rather than sending bytes of the wrong length.
Concurrency: event loop thread only.
"""
from __future__ import annotations

import asyncio
import collections
import errno
import os
from collections.abc import Callable, Iterable

from fastkafka._native.wire import FileRegion

_IOV_MAX = 64  # pieces per writev; a response has a few pieces per partition
_SENDFILE_CHUNK = 1 << 30


def _nothing() -> None:
    pass


def _ignore_error(e: OSError) -> None:
    pass


class SocketSender:
    __slots__ = ("_fd", "_loop", "_queue", "_offset", "buffered", "high_water", "_waiting", "_paused",
                 "_closed", "_on_pause", "_on_resume", "_on_error", "bytes_sent", "bytes_sendfile")

    def __init__(self, loop: asyncio.AbstractEventLoop, socket_fd: int, *, on_pause: Callable[[], None],
                 on_resume: Callable[[], None], on_error: Callable[[OSError], None],
                 high_water: int = 256 * 1024) -> None:
        self._fd = os.dup(socket_fd)
        os.set_blocking(self._fd, False)
        self._loop = loop
        self._queue: collections.deque[bytes | FileRegion] = collections.deque()
        self._offset = 0  # bytes of _queue[0] already sent
        self.buffered = 0
        self.high_water = high_water
        self._waiting = False
        self._paused = False
        self._closed = False
        self._on_pause = on_pause
        self._on_resume = on_resume
        self._on_error = on_error
        self.bytes_sent = 0      # total bytes handed to the kernel (metrics, tests)
        self.bytes_sendfile = 0  # of which sent by sendfile

    @property
    def idle(self) -> bool:
        return not self._queue

    def write(self, parts: Iterable[bytes | FileRegion]) -> None:
        if self._closed:
            return
        q = self._queue
        for p in parts:
            n = len(p)
            if n:
                q.append(p)
                self.buffered += n
        if not self._waiting:
            self._drain()

    def close(self) -> None:
        """Stop sending and release the fd; queued pieces (and the files they hold) are dropped."""
        if self._closed:
            return
        self._closed = True
        if self._waiting:
            self._loop.remove_writer(self._fd)
            self._waiting = False
        self._queue.clear()
        self.buffered = 0
        os.close(self._fd)
        # The callbacks are the connection's bound methods: dropping them breaks the
        # connection <-> sender cycle, so a closed connection is freed by reference counting
        # instead of waiting for a full collection (or a thaw, if gc.freeze caught it alive).
        self._on_pause = self._on_resume = _nothing
        self._on_error = _ignore_error

    def _on_writable(self) -> None:
        self._drain()

    def _drain(self) -> None:
        q = self._queue
        fd = self._fd
        try:
            while q:
                head = q[0]
                if isinstance(head, FileRegion):
                    remaining = head.size - self._offset
                    n = os.sendfile(fd, head.fd, head.position + self._offset, min(remaining, _SENDFILE_CHUNK))
                    if n == 0:
                        raise OSError(errno.EIO, f"file ended inside a {head.size}-byte region being sent")
                    self.bytes_sendfile += n
                    self._offset += n
                    if self._offset == head.size:
                        q.popleft()
                        self._offset = 0
                else:
                    if len(q) == 1 or not isinstance(q[1], bytes):
                        n = os.write(fd, memoryview(head)[self._offset:] if self._offset else head)
                    else:
                        iov: list[bytes | memoryview] = [memoryview(head)[self._offset:] if self._offset else head]
                        for i in range(1, min(len(q), _IOV_MAX)):
                            p = q[i]
                            if not isinstance(p, bytes):
                                break
                            iov.append(p)
                        n = os.writev(fd, iov)
                    self._consume_bytes(n)
                    if n == 0:
                        break
                self.buffered -= n
                self.bytes_sent += n
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as e:
            self._fail(e)
            return
        if q:
            if not self._waiting:
                self._loop.add_writer(fd, self._on_writable)
                self._waiting = True
            if self.buffered > self.high_water and not self._paused:
                self._paused = True
                self._on_pause()
            return
        if self._waiting:
            self._loop.remove_writer(fd)
            self._waiting = False
        if self._paused:
            self._paused = False
            self._on_resume()

    def _consume_bytes(self, n: int) -> None:
        q = self._queue
        while n:
            head = q[0]
            rest = len(head) - self._offset
            if n >= rest:
                n -= rest
                q.popleft()
                self._offset = 0
            else:
                self._offset += n
                n = 0

    def _fail(self, e: OSError) -> None:
        on_error = self._on_error  # close() drops it
        self.close()
        on_error(e)
