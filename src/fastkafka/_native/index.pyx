# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""mmap'd offset and time indexes in Kafka's on-disk format (AbstractIndex, OffsetIndex, TimeIndex).

OffsetIndex entry (8 bytes, big-endian): int32 relative offset, int32 position in the .log file.
TimeIndex entry (12 bytes): int64 timestamp, int32 relative offset.

An index being written is preallocated to `max_index_size` (rounded down to whole entries) and
trimmed to its entries when closed or rolled, as Kafka does. On opening an existing file, the
entries are the whole entries in the file minus a preallocated all-zero tail (left behind by an
unclean shutdown; a real zero entry can only be the first). Lookups are binary searches in C
over the mapped bytes.

Concurrency contract: single writer, the owning LogSegment (event-loop thread).
"""
import mmap
import os

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t


from fastkafka._native.bigendian cimport _i32, _i64, _put_i32, _put_i64


cdef class _AbstractIndex:
    cdef readonly str path
    cdef readonly int64_t base_offset
    cdef readonly Py_ssize_t entries
    cdef readonly Py_ssize_t max_entries
    cdef readonly bint writable
    cdef Py_ssize_t _entry_size
    cdef Py_ssize_t _length  # mapped file length
    cdef object _file
    cdef object _mm
    cdef uint8_t[:] _view
    cdef bint _misaligned

    def __init__(self, str path, int64_t base_offset, Py_ssize_t max_index_size=10485760, bint writable=True):
        self.path = path
        self.base_offset = base_offset
        self.writable = writable
        self._entry_size = self._esize()
        existed = os.path.exists(path) and os.path.getsize(path) > 0
        self._file = open(path, "r+b" if writable else "rb") if os.path.exists(path) else open(path, "w+b")
        size = os.fstat(self._file.fileno()).st_size
        self._misaligned = size % self._entry_size != 0
        if existed:
            self.entries = self._count_entries(size)
        else:
            self.entries = 0
        if writable:
            target = max(max_index_size, self.entries * self._entry_size)
            target -= target % self._entry_size
            self._remap(target)
        else:
            self._remap(size - size % self._entry_size)

    cdef Py_ssize_t _esize(self):
        return 8

    cdef Py_ssize_t _count_entries(self, Py_ssize_t size) except -1:
        """Whole entries in an existing file, without a preallocated zero tail."""
        cdef Py_ssize_t n = size // self._entry_size
        cdef Py_ssize_t i
        if n == 0:
            return 0
        with open(self.path, "rb") as f:
            data = f.read(n * self._entry_size)
        cdef const uint8_t[:] d = data
        cdef Py_ssize_t es = self._entry_size
        cdef bint zero
        cdef Py_ssize_t k
        while n > 1:
            zero = True
            for k in range(es):
                if d[(n - 1) * es + k] != 0:
                    zero = False
                    break
            if not zero:
                break
            n -= 1
        if n == 1 and size > es:
            zero = True
            for k in range(es):
                if d[k] != 0:
                    zero = False
                    break
            if zero:
                n = 0
        return n

    cdef int _remap(self, Py_ssize_t length) except -1:
        self._view = None
        if self._mm is not None:
            self._mm.close()
            self._mm = None
        if self.writable:
            os.ftruncate(self._file.fileno(), length)
        self._length = length
        self.max_entries = length // self._entry_size
        if length > 0:
            self._mm = mmap.mmap(self._file.fileno(), length,
                                 access=mmap.ACCESS_WRITE if self.writable else mmap.ACCESS_READ)
            if self.writable:
                self._view = self._mm
            else:
                self._view = bytearray(self._mm[:])  # read-only mapping: a private copy to search
        return 0

    def is_full(self):
        return self.entries >= self.max_entries

    def resize(self, Py_ssize_t new_size):
        cdef Py_ssize_t rounded = new_size - new_size % self._entry_size
        if rounded < self.entries * self._entry_size:
            rounded = self.entries * self._entry_size
        self._remap(rounded)

    def trim_to_valid_size(self):
        if self.writable:
            self.resize(self.entries * self._entry_size)

    def truncate(self):
        self.entries = 0

    def flush(self):
        if self._mm is not None and self.writable:
            self._mm.flush()

    def close(self):
        if self._file is None:
            return
        self.trim_to_valid_size()
        self._view = None
        if self._mm is not None:
            self._mm.close()
            self._mm = None
        self._file.close()
        self._file = None

    def __dealloc__(self):
        pass

    cdef inline int _check_writable(self) except -1:
        if not self.writable or self._file is None:
            raise ValueError(f"index {self.path} is not open for writing")
        if self.entries >= self.max_entries:
            raise ValueError(f"Attempt to append to a full index (size = {self.entries}) {self.path}")
        return 0


cdef class OffsetIndex(_AbstractIndex):
    cdef Py_ssize_t _esize(self):
        return 8

    cdef inline int64_t _offset_at(self, Py_ssize_t i):
        return self.base_offset + _i32(&self._view[i * 8])

    def append(self, int64_t offset, int64_t position):
        """Kafka's OffsetIndex.append: offsets strictly increase; relative offsets fit an int32."""
        self._check_writable()
        if self.entries > 0 and offset <= self._offset_at(self.entries - 1):
            raise ValueError(f"Attempt to append an offset ({offset}) to position {self.entries} no larger than "
                             f"the last offset appended ({self._offset_at(self.entries - 1)}) to {self.path}")
        if offset - self.base_offset > 2147483647 or offset < self.base_offset:
            raise ValueError(f"Offset {offset} does not fit a relative offset of base {self.base_offset}")
        cdef uint8_t* p = &self._view[self.entries * 8]
        _put_i32(p, <int32_t>(offset - self.base_offset))
        _put_i32(p + 4, <int32_t>position)
        self.entries += 1

    cdef Py_ssize_t _floor(self, int64_t target):
        """Index of the largest entry with offset <= target, or -1."""
        cdef int64_t rel = target - self.base_offset
        cdef Py_ssize_t lo = 0, hi = self.entries - 1, mid
        cdef Py_ssize_t found = -1
        if self.entries == 0 or rel < 0:
            return -1
        while lo <= hi:
            mid = (lo + hi) >> 1
            if _i32(&self._view[mid * 8]) <= rel:
                found = mid
                lo = mid + 1
            else:
                hi = mid - 1
        return found

    def lookup(self, int64_t target_offset):
        cdef Py_ssize_t i = self._floor(target_offset)
        if i < 0:
            return (self.base_offset, 0)
        return (self._offset_at(i), _i32(&self._view[i * 8 + 4]))

    def last_entry(self):
        if self.entries == 0:
            return (self.base_offset, 0)
        cdef Py_ssize_t i = self.entries - 1
        return (self._offset_at(i), _i32(&self._view[i * 8 + 4]))

    def truncate_to(self, int64_t offset):
        """Drop entries with offset >= the given offset."""
        cdef Py_ssize_t i = self._floor(offset)
        if i >= 0 and self._offset_at(i) == offset:
            self.entries = i
        else:
            self.entries = i + 1

    def entry(self, Py_ssize_t n):
        if n < 0 or n >= self.entries:
            raise IndexError(n)
        return (self._offset_at(n), _i32(&self._view[n * 8 + 4]))

    def sanity_check(self):
        if self._misaligned:
            raise ValueError(f"Index file {self.path} is corrupt: its size is not a multiple of 8")
        cdef Py_ssize_t i
        for i in range(1, self.entries):
            if self._offset_at(i) <= self._offset_at(i - 1):
                raise ValueError(f"Corrupt index found, index file ({self.path}) has non-increasing offsets")


cdef class TimeIndex(_AbstractIndex):
    cdef Py_ssize_t _esize(self):
        return 12

    cdef inline int64_t _ts_at(self, Py_ssize_t i):
        return _i64(&self._view[i * 12])

    cdef inline int64_t _offset_at(self, Py_ssize_t i):
        return self.base_offset + _i32(&self._view[i * 12 + 8])

    def maybe_append(self, int64_t timestamp, int64_t offset, bint skip_full_check=False):
        """Kafka's TimeIndex.maybeAppend: only a timestamp larger than the last entry's is added."""
        if not skip_full_check:
            self._check_writable()
        elif self.entries >= self.max_entries:
            return
        if self.entries > 0:
            if offset < self._offset_at(self.entries - 1):
                raise ValueError(f"Attempt to append an offset ({offset}) smaller than the last "
                                 f"({self._offset_at(self.entries - 1)}) to the time index {self.path}")
            if timestamp <= self._ts_at(self.entries - 1):
                return
        cdef uint8_t* p = &self._view[self.entries * 12]
        _put_i64(p, timestamp)
        _put_i32(p + 8, <int32_t>(offset - self.base_offset))
        self.entries += 1

    cdef Py_ssize_t _floor(self, int64_t target):
        cdef Py_ssize_t lo = 0, hi = self.entries - 1, mid
        cdef Py_ssize_t found = -1
        while lo <= hi:
            mid = (lo + hi) >> 1
            if _i64(&self._view[mid * 12]) <= target:
                found = mid
                lo = mid + 1
            else:
                hi = mid - 1
        return found

    def lookup(self, int64_t target_timestamp):
        cdef Py_ssize_t i = self._floor(target_timestamp)
        if i < 0:
            return (-1, self.base_offset)
        return (self._ts_at(i), self._offset_at(i))

    def last_entry(self):
        if self.entries == 0:
            return (-1, self.base_offset)
        return (self._ts_at(self.entries - 1), self._offset_at(self.entries - 1))

    def truncate_to(self, int64_t offset):
        """Drop entries whose offset >= the given offset (offsets are non-decreasing)."""
        cdef Py_ssize_t n = self.entries
        while n > 0 and self._offset_at(n - 1) >= offset:
            n -= 1
        self.entries = n

    def entry(self, Py_ssize_t n):
        if n < 0 or n >= self.entries:
            raise IndexError(n)
        return (self._ts_at(n), self._offset_at(n))

    def sanity_check(self):
        if self._misaligned:
            raise ValueError(f"Time index file {self.path} is corrupt: its size is not a multiple of 12")
        if self.entries and self._offset_at(self.entries - 1) < self.base_offset:
            raise ValueError(f"Corrupt time index {self.path}: last offset below the base offset")
