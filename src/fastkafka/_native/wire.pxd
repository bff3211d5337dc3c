# Cython-level view of wire.pyx for other native modules. Python callers use wire.pyi.
from libc.stdint cimport uint8_t, uint32_t, uint64_t


cdef class Reader:
    cdef const uint8_t[:] _view   # the bytes being read (bytes, bytearray or a byte memoryview)
    cdef object _obj              # the same buffer as an object: records()/raw() slice it (no copy)
    cdef public Py_ssize_t pos    # next byte to read; public so callers can skip, checked on every read
    cdef Py_ssize_t _end          # one past the last readable byte; never beyond the buffer

    # Bounds-checked advance: a pointer to n readable bytes, or DecodeError.
    cdef const uint8_t* _take(self, Py_ssize_t n) except NULL
    cdef uint32_t _u32(self) except? 0xFFFFFFFF
    cdef uint64_t _u64(self) except? 0xFFFFFFFFFFFFFFFF
    # Unsigned LEB128 of at most max_bytes bytes (5 for int32, 10 for int64), else DecodeError.
    cdef uint64_t _uvarint(self, int max_bytes) except? 0xFFFFFFFFFFFFFFFF
    cdef Py_ssize_t _checked_length(self, Py_ssize_t n) except -2
    cdef object _str(self, Py_ssize_t n)      # n bytes of UTF-8 -> str (copy)
    cdef object _bytes(self, Py_ssize_t n)    # n bytes -> bytes (copy)
    cdef object _records(self, Py_ssize_t n)  # n bytes -> memoryview slice (no copy)


cdef class FileRegion:
    cdef public int fd            # an open file; the owner keeps it open while the region is queued
    cdef public long long position
    cdef public long long size


cdef class Writer:
    cdef uint8_t* _buf            # malloc'd, grown by doubling
    cdef Py_ssize_t _len          # bytes written
    cdef Py_ssize_t _cap          # bytes allocated
    cdef Py_ssize_t _exports      # live buffer-protocol exports; while > 0 the buffer may not move
    cdef list _splices            # [(buffer position, FileRegion)]: regions that follow those bytes
    cdef Py_ssize_t _spliced      # total size of the spliced regions

    # Grow if needed and return a pointer to n writable bytes at the end (length already counted).
    cdef uint8_t* _reserve(self, Py_ssize_t n) except NULL
    cdef int _w32(self, uint32_t v) except -1
    cdef int _w64(self, uint64_t v) except -1
    cdef int _uv(self, uint64_t v) except -1   # unsigned LEB128
    cdef int _splice(self, FileRegion region) except -1
