# Cython-level view of wire.pyx for other native modules. Python callers use wire.pyi.
from libc.stdint cimport uint8_t, uint32_t, uint64_t


cdef class Reader:
    cdef const uint8_t[:] _view   # the bytes being read (bytes, bytearray or a memoryview)
    cdef object _obj              # keeps the underlying object alive for records() views
    cdef public Py_ssize_t pos    # next byte to read
    cdef Py_ssize_t _end          # one past the last readable byte

    # Bounds-checked advance: a pointer to n readable bytes, or DecodeError.
    cdef const uint8_t* _take(self, Py_ssize_t n) except NULL
    cdef uint32_t _u32(self) except? 0xFFFFFFFF
    cdef uint64_t _u64(self) except? 0xFFFFFFFFFFFFFFFF
    cdef uint64_t _uvarint(self, int max_bytes) except? 0xFFFFFFFFFFFFFFFF
    cdef object _str(self, Py_ssize_t n)
    cdef object _bytes(self, Py_ssize_t n)
    cdef object _records(self, Py_ssize_t n)


cdef class Writer:
    cdef uint8_t* _buf            # malloc'd, grown by doubling
    cdef Py_ssize_t _len
    cdef Py_ssize_t _cap

    # Grow if needed and return a pointer to n writable bytes at the end.
    cdef uint8_t* _reserve(self, Py_ssize_t n) except NULL
    cdef void _w32(self, uint32_t v) except *
    cdef void _w64(self, uint64_t v) except *
    cdef void _uv(self, uint64_t v) except *
