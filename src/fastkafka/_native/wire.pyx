# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Protocol-level buffer reader/writer: big-endian ints, unsigned and zig-zag varints,
(compact) strings/bytes/arrays, UUIDs. Every read is bounds-checked and raises DecodeError."""
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy


cdef uint8_t _EMPTY[1]


class DecodeError(ValueError):
    """Malformed input: truncated buffer, negative length where not allowed, bad UTF-8."""


cdef class Reader:
    def __init__(self, buf, Py_ssize_t pos=0, Py_ssize_t end=-1):
        self._obj = buf
        self._view = memoryview(buf).cast("B") if not isinstance(buf, (bytes, bytearray)) else buf
        self.pos = pos
        self._end = len(self._view) if end < 0 else end

    cdef const uint8_t* _take(self, Py_ssize_t n) except NULL:
        cdef Py_ssize_t p = self.pos
        if n < 0 or p + n > self._end or p < 0:
            raise DecodeError(f"need {n} bytes at {p}, have {self._end - p}")
        self.pos = p + n
        if n == 0:
            return &_EMPTY[0]  # callers of a zero-length take never read through the pointer
        return &self._view[p]

    def remaining(self):
        return self._end - self.pos

    def int8(self):
        return <int8_t>self._take(1)[0]

    def boolean(self):
        return self._take(1)[0] != 0

    def int16(self):
        cdef const uint8_t* p = self._take(2)
        return <int16_t>((p[0] << 8) | p[1])

    def uint16(self):
        cdef const uint8_t* p = self._take(2)
        return <uint16_t>((p[0] << 8) | p[1])

    cdef uint32_t _u32(self) except? 0xFFFFFFFF:
        cdef const uint8_t* p = self._take(4)
        return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]

    def int32(self):
        return <int32_t>self._u32()

    def uint32(self):
        return self._u32()

    cdef uint64_t _u64(self) except? 0xFFFFFFFFFFFFFFFF:
        cdef const uint8_t* p = self._take(8)
        cdef uint64_t v = 0
        cdef int i
        for i in range(8):
            v = (v << 8) | p[i]
        return v

    def int64(self):
        return <int64_t>self._u64()

    def float64(self):
        cdef uint64_t u = self._u64()
        cdef double d
        memcpy(&d, &u, 8)
        return d

    cdef uint64_t _uvarint(self, int max_bytes) except? 0xFFFFFFFFFFFFFFFF:
        cdef uint64_t v = 0
        cdef int shift = 0
        cdef uint8_t b
        cdef int i
        for i in range(max_bytes):
            b = self._take(1)[0]
            v |= (<uint64_t>(b & 0x7F)) << shift
            if not (b & 0x80):
                return v
            shift += 7
        raise DecodeError("varint too long")

    def uvarint(self):
        return <uint32_t>self._uvarint(5)

    def varint(self):
        cdef uint32_t u = <uint32_t>self._uvarint(5)
        return <int32_t>((u >> 1) ^ (-(<int32_t>(u & 1))))

    def varlong(self):
        cdef uint64_t u = self._uvarint(10)
        return <int64_t>((u >> 1) ^ (-(<int64_t>(u & 1))))

    def uuid(self):
        cdef const uint8_t* p = self._take(16)
        return PyBytes_FromStringAndSize(<const char*>p, 16)

    cdef object _str(self, Py_ssize_t n):
        cdef Py_ssize_t start = self.pos
        self._take(n)
        try:
            return bytes(self._view[start:start + n]).decode("utf-8")
        except UnicodeDecodeError as e:
            raise DecodeError(f"invalid UTF-8 string: {e}") from None

    def string(self):
        cdef Py_ssize_t n = <int16_t>self.int16()
        if n < 0:
            if n == -1:
                return None
            raise DecodeError(f"negative string length {n}")
        return self._str(n)

    def compact_string(self):
        cdef Py_ssize_t n = <Py_ssize_t>self._uvarint(5) - 1
        if n < 0:
            return None
        return self._str(n)

    cdef object _bytes(self, Py_ssize_t n):
        cdef Py_ssize_t start = self.pos
        self._take(n)
        return bytes(self._view[start:start + n])

    def bytes_(self):
        cdef Py_ssize_t n = <int32_t>self._u32()
        if n < 0:
            if n == -1:
                return None
            raise DecodeError(f"negative bytes length {n}")
        return self._bytes(n)

    def compact_bytes(self):
        cdef Py_ssize_t n = <Py_ssize_t>self._uvarint(5) - 1
        if n < 0:
            return None
        return self._bytes(n)

    cdef object _records(self, Py_ssize_t n):
        cdef Py_ssize_t start = self.pos
        self._take(n)
        return memoryview(self._obj)[start:start + n]

    def records(self):
        cdef Py_ssize_t n = <int32_t>self._u32()
        if n < 0:
            if n == -1:
                return None
            raise DecodeError(f"negative records length {n}")
        return self._records(n)

    def compact_records(self):
        cdef Py_ssize_t n = <Py_ssize_t>self._uvarint(5) - 1
        if n < 0:
            return None
        return self._records(n)

    def array_length(self):
        cdef Py_ssize_t n = <int32_t>self._u32()
        if n < -1:
            raise DecodeError(f"negative array length {n}")
        if n > self._end - self.pos:
            raise DecodeError(f"array length {n} exceeds remaining {self._end - self.pos} bytes")
        return n

    def compact_array_length(self):
        cdef Py_ssize_t n = <Py_ssize_t>self._uvarint(5) - 1
        if n > self._end - self.pos:
            raise DecodeError(f"array length {n} exceeds remaining {self._end - self.pos} bytes")
        return n

    def raw(self, Py_ssize_t n):
        cdef Py_ssize_t start = self.pos
        self._take(n)
        return memoryview(self._obj)[start:start + n]


cdef class Writer:
    def __cinit__(self, Py_ssize_t capacity=256):
        if capacity < 16:
            capacity = 16
        self._buf = <uint8_t*>malloc(capacity)
        if self._buf == NULL:
            raise MemoryError()
        self._cap = capacity
        self._len = 0

    def __init__(self, Py_ssize_t capacity=256):
        pass

    def __dealloc__(self):
        if self._buf != NULL:
            free(self._buf)

    def __len__(self):
        return self._len

    cdef uint8_t* _reserve(self, Py_ssize_t n) except NULL:
        cdef Py_ssize_t need = self._len + n
        cdef Py_ssize_t cap
        cdef uint8_t* nb
        if need > self._cap:
            cap = self._cap * 2
            while cap < need:
                cap *= 2
            nb = <uint8_t*>realloc(self._buf, cap)
            if nb == NULL:
                raise MemoryError()
            self._buf = nb
            self._cap = cap
        cdef uint8_t* p = self._buf + self._len
        self._len = need
        return p

    def int8(self, int v):
        self._reserve(1)[0] = <uint8_t>v

    def boolean(self, v):
        self._reserve(1)[0] = 1 if v else 0

    def int16(self, int v):
        cdef uint8_t* p = self._reserve(2)
        p[0] = <uint8_t>(v >> 8); p[1] = <uint8_t>v

    def uint16(self, int v):
        self.int16(v)

    cdef void _w32(self, uint32_t v) except *:
        cdef uint8_t* p = self._reserve(4)
        p[0] = <uint8_t>(v >> 24); p[1] = <uint8_t>(v >> 16); p[2] = <uint8_t>(v >> 8); p[3] = <uint8_t>v

    def int32(self, int32_t v):
        self._w32(<uint32_t>v)

    def uint32(self, uint32_t v):
        self._w32(v)

    cdef void _w64(self, uint64_t v) except *:
        cdef uint8_t* p = self._reserve(8)
        cdef int i
        for i in range(8):
            p[7 - i] = <uint8_t>(v >> (8 * i))

    def int64(self, int64_t v):
        self._w64(<uint64_t>v)

    def float64(self, double d):
        cdef uint64_t u
        memcpy(&u, &d, 8)
        self._w64(u)

    cdef void _uv(self, uint64_t v) except *:
        while v >= 0x80:
            self._reserve(1)[0] = <uint8_t>((v & 0x7F) | 0x80)
            v >>= 7
        self._reserve(1)[0] = <uint8_t>v

    def uvarint(self, uint32_t v):
        self._uv(v)

    def varint(self, int32_t v):
        self._uv(<uint32_t>((<uint32_t>v << 1) ^ <uint32_t>(v >> 31)))

    def varlong(self, int64_t v):
        self._uv((<uint64_t>v << 1) ^ <uint64_t>(v >> 63))

    def uuid(self, v):
        if len(v) != 16:
            raise ValueError("uuid must be 16 bytes")
        self.raw(v)

    def raw(self, v):
        cdef const uint8_t[:] view = memoryview(v).cast("B") if not isinstance(v, (bytes, bytearray)) else v
        cdef Py_ssize_t n = len(view)
        cdef uint8_t* p = self._reserve(n)
        if n:
            memcpy(p, &view[0], n)

    def string(self, v):
        if v is None:
            self.int16(-1)
            return
        b = v.encode("utf-8")
        if len(b) > 32767:
            raise ValueError("string longer than 32767 bytes")
        self.int16(len(b))
        self.raw(b)

    def compact_string(self, v):
        if v is None:
            self._uv(0)
            return
        b = v.encode("utf-8")
        self._uv(len(b) + 1)
        self.raw(b)

    def bytes_(self, v):
        if v is None:
            self._w32(<uint32_t>-1)
            return
        self._w32(len(v) if not isinstance(v, memoryview) else v.nbytes)
        self.raw(v)

    def compact_bytes(self, v):
        if v is None:
            self._uv(0)
            return
        self._uv((len(v) if not isinstance(v, memoryview) else v.nbytes) + 1)
        self.raw(v)

    def array_length(self, int32_t n):
        self._w32(<uint32_t>n)

    def compact_array_length(self, int32_t n):
        self._uv(<uint32_t>(n + 1))

    def getvalue(self):
        return PyBytes_FromStringAndSize(<const char*>self._buf, self._len)
