# mmap'd offset and time indexes (index.pyx): layouts of the extension types. Python callers use
# index.pyi.
#
# On disk, big-endian, no header (Kafka's format):
#   OffsetIndex entry, 8 bytes:  int32 relative offset (offset - base_offset), int32 .log position
#   TimeIndex entry,  12 bytes:  int64 timestamp, int32 relative offset
# Entries are sorted: offsets strictly increase; in a time index timestamps strictly increase and
# offsets never decrease.
from libc.stdint cimport int64_t, uint8_t


cdef class _AbstractIndex:
    """Kafka's AbstractIndex: one file mapped MAP_SHARED with POSIX mmap.

    Invariants: 0 <= entries <= max_entries = mapped length // entry size; bytes past `entries`
    entries are not part of the index (preallocated or stale). `_base` is NULL when the mapped
    length is 0 or after close(). Single writer: the owning LogSegment (event-loop thread)."""
    cdef readonly str path
    cdef readonly int64_t base_offset
    cdef readonly Py_ssize_t entries
    cdef readonly Py_ssize_t max_entries
    cdef readonly bint writable
    cdef Py_ssize_t _entry_size
    cdef Py_ssize_t _length          # bytes mapped (== file length while open)
    cdef Py_ssize_t _max_index_size  # what reset() grows back to
    cdef Py_ssize_t _warm_entries    # Kafka's warm section: the last 8 KiB of entries
    cdef int _fd
    cdef uint8_t* _base
    cdef bint _misaligned            # the file's length was not a multiple of the entry size
    cdef bint _closed

    cdef Py_ssize_t _count_entries(self, Py_ssize_t size) except -1
    cdef int _map(self, Py_ssize_t length) except -1
    cdef int _unmap(self) except -1
    cdef int _check_open(self) except -1
    cdef Py_ssize_t _slot_for(self, int64_t target, int kind) except -2


cdef class OffsetIndex(_AbstractIndex):
    cdef int64_t _offset_at(self, Py_ssize_t i)


cdef class TimeIndex(_AbstractIndex):
    cdef int64_t _ts_at(self, Py_ssize_t i)
    cdef int64_t _offset_at(self, Py_ssize_t i)
