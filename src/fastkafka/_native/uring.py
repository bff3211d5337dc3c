"""UringAppender: log appends submitted through io_uring (liburing), one `io_uring_enter` for all
the segment writes of a produce request instead of one `write(2)` per partition.

How: `write(fd, data, offset)` only prepares an SQE (no syscall) and keeps `data` alive;
`complete()` submits everything queued and waits for every completion in one
`io_uring_submit_and_wait`, then checks each result. Everything goes through the liburing Python
binding (a prebuilt abi3 wheel: nothing is compiled here): `write` makes three binding calls
(get_sqe, prep_write or prep_writev, set_data64) and `complete` reads one CQE per write. That is
Python work per partition write of a produce request, never per record.

The binding's `io_uring_prep_write` takes `bytes`/`bytearray` only and writes straight from the
object's memory (no copy); any other buffer (a memoryview over the request buffer) is written with
`io_uring_prep_writev` and a one-entry `Iovec`, also without a copy. Both keep only a pointer, so
the object (and the Iovec) is referenced in `_pending` until `complete()` has reaped it.

Invariants:
- Writes carry explicit offsets (pwrite semantics) and never overlap: io_uring may run queued
  writes in any order, so an append's position is fixed when it is queued, never "the end".
- A buffer passed to `write` is referenced until `complete()` returns; the kernel reads it
  asynchronously.
- `complete()` returns only when every queued byte is in the page cache: a short write is
  finished with pwrite; a failed one is retried once with pwrite, and if that fails too the
  OSError is raised (the caller treats it as a failed log dir).
- When the submission queue is full, `write` completes what is queued first (the ring never
  holds more than `entries` writes).
- user_data = generation << 32 | index: a completion left over from an earlier, interrupted
  batch never counts for the current one.
Concurrency: one owner thread (the event loop's); not thread-safe.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer


def _missing_cpu_flags(cpuinfo: str) -> set[str]:
    """CPU features the liburing wheel's machine code needs that the first CPU listed lacks.

    The 2025+ wheels are a Zig build for the build host's CPU, not baseline x86-64: the pinned
    2026.3.30 `liburing.so` contains AVX-512 (zmm, mask registers; `Ring()` itself zeroes its
    struct with zmm stores; EVEX compares on xmm need AVX512BW+VL), BMI1/BMI2 and MOVBE
    instructions (objdump -d; AVX2 is implied by AVX-512). On a CPU without them, creating a Ring
    (at least) dies with SIGILL, which no `except` can catch, so this module refuses to load
    instead and the broker appends with pwrite. Re-check the list whenever the pin moves."""
    if os.uname().machine != "x86_64":
        return set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            have = set(line.partition(":")[2].split())
            return {"avx", "avx2", "avx512f", "avx512bw", "avx512vl", "bmi1", "bmi2", "movbe"} - have
    return set()  # no flags line (unusual kernel or container): trust the CPU


def _check_cpu() -> None:
    try:
        with open("/proc/cpuinfo") as f:
            missing = _missing_cpu_flags(f.read())
    except OSError:
        return
    if missing:
        raise ImportError(f"the liburing wheel needs CPU features this CPU lacks: {' '.join(sorted(missing))}")


_check_cpu()

from liburing import (  # type: ignore[import-untyped]  # noqa: E402  (only once the CPU can run it)
    Cqe,
    CqeIter,
    Iovec,
    Ring,
    io_uring_cq_advance,
    io_uring_get_sqe,
    io_uring_prep_nop,
    io_uring_prep_write,
    io_uring_prep_writev,
    io_uring_queue_exit,
    io_uring_queue_init,
    io_uring_sqe_set_data64,
    io_uring_submit_and_wait,
)

_UNSET = -2147483647  # no completion seen for this write (yet)


class UringAppender:
    """See the module docstring."""

    def __init__(self, entries: int = 256) -> None:
        """Raises OSError when the kernel refuses io_uring (old kernel, seccomp, sysctl
        kernel.io_uring_disabled): the caller then appends with plain writes."""
        self._closed = True
        self._ring = Ring()
        try:
            io_uring_queue_init(entries, self._ring)
        except Exception as e:
            raise OSError(f"io_uring unavailable: {e}") from e
        self._entries = entries
        self._cqe = Cqe()
        # (fd, buffer object, offset, length, Iovec or None) per queued write, by user_data index
        self._pending: list[tuple[int, Buffer, int, int, object]] = []
        self._closed = False
        self._generation = 1
        self.submits = 0  # io_uring_submit_and_wait calls (metrics, bench)
        self.writes = 0  # writes completed through the ring
        self.fallbacks = 0  # writes finished or redone with pwrite

    @property
    def queued(self) -> int:
        return len(self._pending)

    def write(self, fd: int, data: Buffer, offset: int) -> None:
        """Queue a write of `data` (bytes-like) at `offset` of `fd`."""
        if self._closed:
            raise ValueError("UringAppender is closed")
        # Everything that can fail on the arguments is done before an SQE is taken: a taken SQE
        # is submitted with the next batch whatever it holds.
        if offset < 0:
            raise ValueError(f"negative offset {offset}")
        t = type(data)
        if t is bytes or t is bytearray:
            n = len(data)  # type: ignore[arg-type]
            iov = None
        else:
            mv = memoryview(data)
            n = mv.nbytes
            iov = Iovec([mv if mv.format == "B" else mv.cast("B")])
        if len(self._pending) >= self._entries:
            self.complete()
        sqe = io_uring_get_sqe(self._ring)
        if sqe is None:  # still full (a neutralised SQE below takes a slot): complete first
            self.complete()
            sqe = io_uring_get_sqe(self._ring)
            if sqe is None:
                raise OSError("io_uring submission queue full")
        pending = self._pending  # (complete() replaces the list)
        try:
            if iov is None:
                io_uring_prep_write(sqe, fd, data, offset)
            else:
                io_uring_prep_writev(sqe, fd, iov, offset)
            io_uring_sqe_set_data64(sqe, (self._generation << 32) | len(pending))
        except BaseException:
            io_uring_prep_nop(sqe)  # generation 0 is never current: its completion never counts
            io_uring_sqe_set_data64(sqe, 0)
            raise
        pending.append((fd, data, offset, n, iov))

    def complete(self) -> None:
        """Submit everything queued, wait for all of it, and check every result."""
        pending = self._pending
        count = len(pending)
        if count == 0:
            return
        ring = self._ring
        cqe = self._cqe
        generation = self._generation
        results = [_UNSET] * count
        got = 0
        tries = 0
        while got < count and tries < 8:
            tries += 1
            try:
                io_uring_submit_and_wait(ring, count - got)
                self.submits += 1
            except OSError:
                pass  # EINTR and the like: reap what is there and wait again
            seen = 0
            for _ in CqeIter(ring, cqe):
                entry = cqe[0]
                seen += 1
                ud = entry.user_data
                if ud >> 32 == generation and (i := ud & 0xFFFFFFFF) < count:
                    try:
                        results[i] = entry.res  # the binding raises OSError for a negative res
                    except OSError:
                        results[i] = -1
                    got += 1
            io_uring_cq_advance(ring, seen)
        self._generation = (generation + 1) & 0xFFFFFFFF or 1  # 0 tags neutralised SQEs
        # Anything not completed by now is (re)done below with pwrite at the same offset: the
        # bytes are the same, so a kernel write still in flight cannot make them differ.
        self._pending = []
        for i in range(count):
            res = results[i]
            fd, data, offset, n, _iov = pending[i]
            if res == n:
                self.writes += 1
                continue
            # Short or failed: finish (or redo) the write synchronously at the same offset.
            done = res if res > 0 else 0
            self.fallbacks += 1
            mv = memoryview(data).cast("B")
            while done < n:
                w = os.pwrite(fd, mv[done:], offset + done)
                if w <= 0:
                    raise OSError(f"pwrite of {n - done} bytes at {offset + done} returned {w}")
                done += w

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            io_uring_queue_exit(self._ring)
