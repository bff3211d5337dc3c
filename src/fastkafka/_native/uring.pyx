# cython: language_level=3
"""UringAppender: log appends submitted through io_uring (liburing), one `io_uring_enter` for all
the segment writes of a produce request instead of one `write(2)` per partition.

How: `write(fd, data, offset)` only prepares an SQE (no syscall) and keeps `data` alive;
`complete()` submits everything queued and waits for every completion in one
`io_uring_submit_and_wait`, then checks each result. The ring is set up with the liburing
Python binding's `io_uring` object; SQE preparation and the completion walk use liburing's
inline header functions, so no per-write Python call is made.

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
Concurrency: one owner thread (the event loop's); not thread-safe.
"""
import os

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport free, malloc
from liburing.lib.uring cimport __io_uring, __io_uring_sqe
from liburing.queue cimport io_uring as _Ring
from liburing.queue cimport io_uring_queue_exit, io_uring_queue_init, io_uring_submit_and_wait

cdef extern from *:
    """
    #include "liburing.h"
    /* Walk the completion queue: results[user_data] = res for every CQE, then release them. */
    /* user_data = generation << 32 | index: a completion left over from an earlier, interrupted
       batch never counts for the current one. Returns the completions of this generation. */
    static unsigned fk_uring_reap(struct io_uring *ring, int *results, unsigned capacity,
                                  unsigned generation) {
        unsigned head, seen = 0, ours = 0;
        struct io_uring_cqe *cqe;
        io_uring_for_each_cqe(ring, head, cqe) {
            unsigned long long ud = cqe->user_data;
            if ((unsigned)(ud >> 32) == generation && (unsigned)ud < capacity) {
                results[(unsigned)ud] = cqe->res;
                ours++;
            }
            seen++;
        }
        io_uring_cq_advance(ring, seen);
        return ours;
    }
    static int fk_uring_prep_write(struct io_uring *ring, int fd, const void *buf, unsigned nbytes,
                                   long long offset, unsigned long long user_data) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
        if (!sqe) return -1;
        io_uring_prep_write(sqe, fd, buf, nbytes, (unsigned long long)offset);
        io_uring_sqe_set_data64(sqe, user_data);
        return 0;
    }
    """
    unsigned fk_uring_reap(__io_uring* ring, int* results, unsigned capacity, unsigned generation) nogil
    int fk_uring_prep_write(__io_uring* ring, int fd, const void* buf, unsigned nbytes, long long offset,
                            unsigned long long user_data) nogil


cdef class UringAppender:
    cdef _Ring _ring
    cdef unsigned _entries
    cdef list _pending      # (fd, buffer object, offset, length) per queued write, by user_data
    cdef int* _results
    cdef bint _closed
    cdef unsigned _generation
    cdef public uint64_t submits       # io_uring_submit_and_wait calls (metrics, bench)
    cdef public uint64_t writes        # writes completed through the ring
    cdef public uint64_t fallbacks     # writes finished or redone with pwrite

    def __cinit__(self, unsigned entries=256):
        self._results = NULL
        self._closed = True

    def __init__(self, unsigned entries=256):
        """Raises OSError when the kernel refuses io_uring (old kernel, seccomp, sysctl
        kernel.io_uring_disabled): the caller then appends with plain writes."""
        self._ring = _Ring()
        try:
            io_uring_queue_init(entries, self._ring, 0)
        except Exception as e:
            raise OSError(f"io_uring unavailable: {e}") from e
        self._entries = entries
        self._pending = []
        self._results = <int*>malloc(entries * sizeof(int))
        if self._results == NULL:
            io_uring_queue_exit(self._ring)
            raise MemoryError()
        self._closed = False
        self._generation = 1
        self.submits = self.writes = self.fallbacks = 0

    @property
    def queued(self):
        return len(self._pending)

    cpdef void write(self, int fd, object data, int64_t offset) except *:
        """Queue a write of `data` (bytes-like) at `offset` of `fd`."""
        cdef Py_buffer view
        cdef Py_ssize_t n
        if self._closed:
            raise ValueError("UringAppender is closed")
        if <unsigned>len(self._pending) >= self._entries:
            self.complete()
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            n = view.len
            if fk_uring_prep_write(&self._ring.ptr, fd, view.buf, <unsigned>n, offset,
                                   (<unsigned long long>self._generation << 32) | <unsigned>len(self._pending)) != 0:
                raise OSError("io_uring submission queue full")
        finally:
            # The buffer object itself (bytes, or a memoryview over the request buffer) is kept
            # in _pending, which keeps its memory alive and unmoved until complete().
            PyBuffer_Release(&view)
        self._pending.append((fd, data, offset, n))

    cpdef void complete(self) except *:
        """Submit everything queued, wait for all of it, and check every result."""
        cdef unsigned count = len(self._pending)
        cdef unsigned got = 0
        cdef unsigned i
        cdef int res
        if count == 0:
            return
        for i in range(count):
            self._results[i] = -2147483647
        tries = 0
        while got < count and tries < 8:
            tries += 1
            try:
                io_uring_submit_and_wait(self._ring, count - got)
                self.submits += 1
            except OSError:
                pass  # EINTR and the like: reap what is there and wait again
            got += fk_uring_reap(&self._ring.ptr, self._results, count, self._generation)
        self._generation = (self._generation + 1) & 0xFFFFFFFF
        # Anything not completed by now is (re)done below with pwrite at the same offset: the
        # bytes are the same, so a kernel write still in flight cannot make them differ.
        pending = self._pending
        self._pending = []
        for i in range(count):
            fd, data, offset, n = pending[i]
            res = self._results[i]
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

    def close(self):
        if not self._closed:
            self._closed = True
            io_uring_queue_exit(self._ring)
        if self._results != NULL:
            free(self._results)
            self._results = NULL

    def __dealloc__(self):
        if self._results != NULL:
            free(self._results)
            self._results = NULL
