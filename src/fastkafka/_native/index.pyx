# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""mmap'd offset and time indexes in Kafka's on-disk format (AbstractIndex, OffsetIndex, TimeIndex).

OffsetIndex entry (8 bytes, big-endian): int32 relative offset, int32 position in the .log file.
TimeIndex entry (12 bytes): int64 timestamp, int32 relative offset.

Lifecycle as Kafka's AbstractIndex: a newly created index is preallocated to `max_index_size`
rounded down to whole entries; an existing file keeps its length, its entries being its whole
entries (or a count the caller knows), and is grown with resize() when it becomes the active
segment's again; trim_to_valid_size() (also on close) cuts the file to its entries.

Differences kept on purpose: an existing file's all-zero tail (preallocated bytes an unclean
shutdown left behind) is not counted as entries unless the caller passes `entries` (a real
all-zero entry can only be the first); an existing empty file opened for writing is treated as
newly created. Lookups are binary searches in C over the mapping, first in the warm section (the
last 8 KiB of entries, which lookups of recent offsets touch) as Kafka does.

Concurrency contract: single writer, the owning LogSegment (event-loop thread).
"""
import os

from libc.errno cimport errno
from libc.stdint cimport int32_t, int64_t, uint8_t
from posix.mman cimport MAP_FAILED, MAP_SHARED, MS_SYNC, PROT_READ, PROT_WRITE, mmap, msync, munmap

from fastkafka._native.bigendian cimport _i32, _i64, _put_i32, _put_i64

cdef enum:
    INT32_MAX = 2147483647
    NO_TIMESTAMP = -1
    WARM_SECTION_BYTES = 8192  # Kafka's AbstractIndex: 8 KiB of the tail stays in the page cache

# What a search compares: the key of an offset index, the key or the value of a time index.
cdef enum:
    K_OFFSET = 0          # OffsetIndex relative offset (int32 @0 of 8)
    K_TIMESTAMP = 1       # TimeIndex timestamp (int64 @0 of 12)
    K_TIME_OFFSET = 2     # TimeIndex relative offset (int32 @8 of 12)


cdef inline int64_t _key(const uint8_t* base, Py_ssize_t i, int kind) noexcept nogil:
    if kind == K_OFFSET:
        return _i32(base + i * 8)
    if kind == K_TIMESTAMP:
        return _i64(base + i * 12)
    return _i32(base + i * 12 + 8)


cdef Py_ssize_t _largest_lower_bound(const uint8_t* base, Py_ssize_t entries, Py_ssize_t warm, int64_t target,
                                     int kind) noexcept nogil:
    """Kafka's largestLowerBoundSlotFor: the last slot whose key is <= target, or -1. Keys are
    non-decreasing. The warm section is searched first, then the rest only if needed."""
    cdef Py_ssize_t first_hot, lo, hi, mid
    if entries == 0:
        return -1
    first_hot = entries - 1 - warm
    if first_hot < 0:
        first_hot = 0
    if _key(base, first_hot, kind) <= target:
        lo = first_hot
        hi = entries - 1
    else:
        if _key(base, 0, kind) > target:
            return -1
        lo = 0
        hi = first_hot
    # key(lo) <= target throughout; find the last such slot in [lo, hi].
    while lo < hi:
        mid = lo + ((hi - lo + 1) >> 1)
        if _key(base, mid, kind) <= target:
            lo = mid
        else:
            hi = mid - 1
    return lo


cdef class _AbstractIndex:

    def __cinit__(self):
        self._fd = -1
        self._base = NULL
        self._closed = False

    def __init__(self, str path, int64_t base_offset, Py_ssize_t max_index_size=10485760, bint writable=True,
                 entries=None):
        cdef Py_ssize_t size, length
        cdef bint newly_created
        self.path = path
        self.base_offset = base_offset
        self.writable = writable
        self._max_index_size = max_index_size
        self._warm_entries = WARM_SECTION_BYTES // self._entry_size
        existed = os.path.exists(path)
        self._fd = os.open(path, (os.O_RDWR if writable else os.O_RDONLY) | os.O_CREAT | os.O_CLOEXEC, 0o644)
        size = os.fstat(self._fd).st_size
        self._misaligned = size % self._entry_size != 0
        newly_created = writable and (not existed or size == 0)
        if newly_created:
            length = max_index_size - max_index_size % self._entry_size
            os.ftruncate(self._fd, length)
            self.entries = 0
        else:
            length = size
            if entries is None:
                self.entries = self._count_entries(size)
            else:
                if entries < 0 or entries > size // self._entry_size:
                    raise ValueError(f"{entries} entries do not fit the {size} bytes of index {path}")
                self.entries = entries
        self._map(length)
        # Kafka closes the index file once it is mapped: the mapping stays valid, and a broker
        # with 10,000 partitions needs one fd per segment (.log), not three.
        os.close(self._fd)
        self._fd = -1

    cdef Py_ssize_t _count_entries(self, Py_ssize_t size) except -1:
        """Whole entries in an existing file, without an all-zero tail (read through the file,
        before it is mapped). Entries are written from the start, so only the end of the data
        needs reading: the file's first hole (SEEK_HOLE; a preallocated index is sparse past its
        last written page) bounds it, and the zero tail is found scanning back in chunks."""
        cdef Py_ssize_t es = self._entry_size
        cdef Py_ssize_t n = size // es
        cdef Py_ssize_t k, lo, chunk_start, i
        cdef bint zero
        cdef const uint8_t[:] d
        if n == 0:
            return 0
        try:
            data_end = os.lseek(self._fd, 0, os.SEEK_HOLE)
            if data_end < n * es:
                n = (data_end + es - 1) // es  # an entry cut by the hole is checked below
        except OSError:
            pass
        while n > 0:
            lo = n - 8192 if n > 8192 else 0   # scan back 8192 entries per read
            chunk_start = lo * es
            data = os.pread(self._fd, (n - lo) * es, chunk_start)
            if len(data) < (n - lo) * es:
                data = data + bytes((n - lo) * es - len(data))  # beyond EOF reads as zeros
            d = data
            while n > lo:
                zero = True
                i = (n - 1 - lo) * es
                for k in range(es):
                    if d[i + k] != 0:
                        zero = False
                        break
                if not zero:
                    break
                n -= 1
            if n > lo:
                break
        # A lone zero first entry in a file holding nothing else is a real entry (size == one entry).
        if n == 0 and size == es:
            n = 1
        return n

    cdef int _unmap(self) except -1:
        if self._base != NULL:
            munmap(self._base, <size_t>self._length)
            self._base = NULL
        return 0

    cdef int _map(self, Py_ssize_t length) except -1:
        cdef void* p
        self._unmap()
        self._length = length
        self.max_entries = length // self._entry_size
        if length > 0:
            p = mmap(NULL, <size_t>length, PROT_READ | (PROT_WRITE if self.writable else 0), MAP_SHARED, self._fd, 0)
            if p == MAP_FAILED:
                self._length = 0
                self.max_entries = 0
                raise OSError(errno, f"mmap of index {self.path} failed: {os.strerror(errno)}")
            self._base = <uint8_t*>p
        return 0

    cdef int _check_open(self) except -1:
        if self._closed:
            raise ValueError(f"index {self.path} is closed")
        return 0

    cdef Py_ssize_t _slot_for(self, int64_t target, int kind) except -2:
        self._check_open()
        if self.entries == 0:
            return -1
        return _largest_lower_bound(self._base, self.entries, self._warm_entries, target, kind)

    def is_full(self):
        return self.entries >= self.max_entries

    def resize(self, Py_ssize_t new_size):
        """Kafka's resize: the file (and mapping) becomes new_size rounded down to whole entries,
        never fewer than the entries present. Returns whether the size changed."""
        self._check_open()
        if not self.writable:
            raise ValueError(f"index {self.path} is read-only")
        cdef Py_ssize_t rounded = new_size - new_size % self._entry_size
        if rounded < self.entries * self._entry_size:
            rounded = self.entries * self._entry_size
        if rounded == self._length:
            return False
        self._unmap()
        self._fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        try:
            os.ftruncate(self._fd, rounded)
            self._map(rounded)
        finally:
            os.close(self._fd)
            self._fd = -1
        return True

    def rename_to(self, str new_path):
        """Rename the file (the mapping is unaffected) and remember the new name."""
        os.rename(self.path, new_path)
        self.path = new_path

    def moved_to(self, str new_path):
        """The file was moved with its directory: remember the new name."""
        self.path = new_path

    def trim_to_valid_size(self):
        if self.writable and not self._closed:
            self.resize(self.entries * self._entry_size)

    def truncate(self):
        """Drop every entry (the file keeps its length)."""
        self._check_open()
        self.entries = 0

    def reset(self):
        """Kafka's reset: no entries, room for max_index_size again (before an index rebuild)."""
        self.truncate()
        self.resize(self._max_index_size)

    def flush(self):
        self._check_open()
        if self._base != NULL and self.writable:
            if msync(self._base, <size_t>self._length, MS_SYNC) != 0:
                raise OSError(errno, f"msync of index {self.path} failed: {os.strerror(errno)}")

    def close(self):
        """Trim to the entries, unmap, close the file. Idempotent."""
        if self._closed:
            return
        try:
            self.trim_to_valid_size()
        except FileNotFoundError:
            pass  # the file went with its directory (topic deletion): nothing left to trim
        finally:
            self._unmap()
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            self._closed = True

    def __dealloc__(self):
        if self._base != NULL:
            munmap(self._base, <size_t>self._length)
            self._base = NULL
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __repr__(self):
        return (f"{type(self).__name__}(path={self.path!r}, base_offset={self.base_offset}, entries={self.entries}, "
                f"max_entries={self.max_entries})")


cdef class OffsetIndex(_AbstractIndex):
    """Kafka's OffsetIndex: sparse map from offset to .log position; entries strictly increase in
    offset. Layout and invariants: index.pxd."""

    def __init__(self, str path, int64_t base_offset, Py_ssize_t max_index_size=10485760, bint writable=True,
                 entries=None):
        self._entry_size = 8
        _AbstractIndex.__init__(self, path, base_offset, max_index_size, writable, entries)

    cdef int64_t _offset_at(self, Py_ssize_t i):
        return self.base_offset + _i32(self._base + i * 8)

    def append(self, int64_t offset, int64_t position):
        """Kafka's OffsetIndex.append: offsets strictly increase; relative offsets and positions fit int32."""
        self._check_open()
        if not self.writable:
            raise ValueError(f"index {self.path} is read-only")
        if self.entries >= self.max_entries:
            raise ValueError(f"Attempt to append to a full index (size = {self.entries}) {self.path}")
        if self.entries > 0 and offset <= self._offset_at(self.entries - 1):
            raise ValueError(f"Attempt to append an offset ({offset}) to position {self.entries} no larger than "
                             f"the last offset appended ({self._offset_at(self.entries - 1)}) to {self.path}")
        if offset < self.base_offset or offset - self.base_offset > INT32_MAX:
            raise ValueError(f"Integer overflow for offset: {offset} ({self.path}): not relative to base offset "
                             f"{self.base_offset}")
        if position < 0 or position > INT32_MAX:
            raise ValueError(f"position {position} does not fit an index entry ({self.path})")
        cdef uint8_t* p = self._base + self.entries * 8
        _put_i32(p, <int32_t>(offset - self.base_offset))
        _put_i32(p + 4, <int32_t>position)
        self.entries += 1

    def lookup(self, int64_t target_offset):
        """The largest entry with offset <= target as (offset, position); (base_offset, 0) if none."""
        cdef Py_ssize_t i = self._slot_for(target_offset - self.base_offset, K_OFFSET)
        if i < 0:
            return (self.base_offset, 0)
        return (self._offset_at(i), _i32(self._base + i * 8 + 4))

    def last_entry(self):
        self._check_open()
        if self.entries == 0:
            return (self.base_offset, 0)
        cdef Py_ssize_t i = self.entries - 1
        return (self._offset_at(i), _i32(self._base + i * 8 + 4))

    def truncate_to(self, int64_t offset):
        """Drop entries with offset >= the given offset (Kafka's OffsetIndex.truncateTo)."""
        self.entries = self._slot_for(offset - self.base_offset - 1, K_OFFSET) + 1

    def entry(self, Py_ssize_t n):
        self._check_open()
        if n < 0 or n >= self.entries:
            raise IndexError(n)
        return (self._offset_at(n), _i32(self._base + n * 8 + 4))

    def sanity_check(self):
        """Kafka's OffsetIndex.sanityCheck, plus strictly increasing offsets (a stricter check
        only ever makes the log rebuild an index). Raises ValueError (CorruptIndexException)."""
        self._check_open()
        if self._misaligned:
            raise ValueError(f"Index file {self.path} is corrupt, found {self._length} bytes which "
                             f"is neither positive nor a multiple of 8.")
        cdef Py_ssize_t i
        if self.entries and self._offset_at(self.entries - 1) < self.base_offset:
            raise ValueError(f"Corrupt index found, index file ({self.path}) has non-zero size but the last offset "
                             f"is {self._offset_at(self.entries - 1)} which is less than the base offset "
                             f"{self.base_offset}.")
        for i in range(1, self.entries):
            if _i32(self._base + i * 8) <= _i32(self._base + (i - 1) * 8):
                raise ValueError(f"Corrupt index found, index file ({self.path}) has non-increasing offsets at "
                                 f"entry {i}.")


cdef class TimeIndex(_AbstractIndex):
    """Kafka's TimeIndex: sparse map from timestamp to the first offset at or after which a record
    of that timestamp or later can be found; timestamps strictly increase, offsets never decrease.
    The last slot is kept for the entry written on roll/close (Kafka's isFull). Layout: index.pxd."""

    def __init__(self, str path, int64_t base_offset, Py_ssize_t max_index_size=10485760, bint writable=True,
                 entries=None):
        self._entry_size = 12
        _AbstractIndex.__init__(self, path, base_offset, max_index_size, writable, entries)

    cdef int64_t _ts_at(self, Py_ssize_t i):
        return _i64(self._base + i * 12)

    cdef int64_t _offset_at(self, Py_ssize_t i):
        return self.base_offset + _i32(self._base + i * 12 + 8)

    def is_full(self):
        """Kafka reserves the last slot for the roll/close entry."""
        return self.entries >= self.max_entries - 1

    def maybe_append(self, int64_t timestamp, int64_t offset, bint skip_full_check=False):
        """Kafka's TimeIndex.maybeAppend: adds (timestamp, offset) only if timestamp is larger than
        the last entry's (NO_TIMESTAMP when empty). A smaller timestamp or offset than the last
        entry's is an error, as in Kafka. skip_full_check (roll/close) may use the reserved slot;
        should even that be taken, the file grows by one entry."""
        self._check_open()
        if not self.writable:
            raise ValueError(f"index {self.path} is read-only")
        if not skip_full_check and self.is_full():
            raise ValueError(f"Attempt to append to a full time index (size = {self.entries}) {self.path}")
        cdef int64_t last_ts = NO_TIMESTAMP
        if self.entries > 0:
            last_ts = self._ts_at(self.entries - 1)
            if offset < self._offset_at(self.entries - 1):
                raise ValueError(f"Attempt to append an offset ({offset}) to slot {self.entries} no larger than the "
                                 f"last offset appended ({self._offset_at(self.entries - 1)}) to {self.path}")
            if timestamp < last_ts:
                raise ValueError(f"Attempt to append a timestamp ({timestamp}) to slot {self.entries} no larger than "
                                 f"the last timestamp appended ({last_ts}) to {self.path}")
        if timestamp <= last_ts:
            return
        if offset < self.base_offset or offset - self.base_offset > INT32_MAX:
            raise ValueError(f"Integer overflow for offset: {offset} ({self.path}): not relative to base offset "
                             f"{self.base_offset}")
        if self.entries >= self.max_entries:
            self.resize((self.entries + 1) * 12)
        cdef uint8_t* p = self._base + self.entries * 12
        _put_i64(p, timestamp)
        _put_i32(p + 8, <int32_t>(offset - self.base_offset))
        self.entries += 1

    def close_with_final_entry(self, int64_t timestamp, int64_t offset):
        """close() after Kafka's maybeAppend(max timestamp so far, skip_full_check) on closing a
        segment, with the entry written by pwrite once the mapping is gone: the first store into
        a page of a shared file mapping takes a write fault that costs milliseconds on ext4
        (page_mkwrite and the inode's journal handle) against microseconds for pwrite, and a
        broker closing 10,000 segments paid it for each. Same bytes on disk as maybe_append."""
        self._check_open()
        cdef int64_t last_ts = NO_TIMESTAMP
        if self.entries > 0:
            last_ts = self._ts_at(self.entries - 1)
        cdef bint append = (self.writable and timestamp > last_ts and offset >= self.base_offset
                            and offset - self.base_offset <= INT32_MAX
                            and (self.entries == 0 or offset >= self._offset_at(self.entries - 1)))
        cdef Py_ssize_t n = self.entries
        self.close()  # trimmed to the n entries, unmapped
        if not append:
            return
        cdef uint8_t entry[12]
        _put_i64(entry, timestamp)
        _put_i32(entry + 8, <int32_t>(offset - self.base_offset))
        fd = os.open(self.path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            if os.pwrite(fd, (<char*>entry)[:12], n * 12) != 12:
                raise OSError(f"short write to index {self.path}")
        finally:
            os.close(fd)
        self.entries = n + 1

    def lookup(self, int64_t target_timestamp):
        """The largest entry with timestamp <= target as (timestamp, offset); (-1, base_offset) if none."""
        cdef Py_ssize_t i = self._slot_for(target_timestamp, K_TIMESTAMP)
        if i < 0:
            return (NO_TIMESTAMP, self.base_offset)
        return (self._ts_at(i), self._offset_at(i))

    def last_entry(self):
        self._check_open()
        if self.entries == 0:
            return (NO_TIMESTAMP, self.base_offset)
        return (self._ts_at(self.entries - 1), self._offset_at(self.entries - 1))

    def truncate_to(self, int64_t offset):
        """Drop entries whose offset >= the given offset (offsets are non-decreasing)."""
        self.entries = self._slot_for(offset - self.base_offset - 1, K_TIME_OFFSET) + 1

    def entry(self, Py_ssize_t n):
        self._check_open()
        if n < 0 or n >= self.entries:
            raise IndexError(n)
        return (self._ts_at(n), self._offset_at(n))

    def sanity_check(self):
        """Kafka's TimeIndex.sanityCheck. Raises ValueError (CorruptIndexException)."""
        self._check_open()
        if self._misaligned:
            raise ValueError(f"Time index file {self.path} is corrupt, found {self._length} bytes "
                             f"which is neither positive nor a multiple of 12.")
        if self.entries == 0:
            return
        cdef int64_t last_ts = self._ts_at(self.entries - 1)
        if last_ts < self._ts_at(0):
            raise ValueError(f"Corrupt time index found, time index file ({self.path}) has non-zero size but the "
                             f"last timestamp is {last_ts} which is less than the first timestamp {self._ts_at(0)}")
        if self._offset_at(self.entries - 1) < self.base_offset:
            raise ValueError(f"Corrupt time index found, time index file ({self.path}) has non-zero size but the "
                             f"last offset is {self._offset_at(self.entries - 1)} which is less than the first "
                             f"offset {self.base_offset}")
