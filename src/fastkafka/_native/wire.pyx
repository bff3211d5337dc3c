# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Protocol-level buffer reader/writer: big-endian ints, unsigned and zig-zag varints,
(compact) strings/bytes/arrays, UUIDs (Kafka's protocol primitive types, protocol.html).

Reader invariants: 0 <= pos and every read checks pos + n <= end <= len(buffer) before touching
memory, so malformed input can only ever raise DecodeError. Reads of `records` and `raw` return
memoryview slices of the caller's buffer (no copy); strings and bytes are copied out.

Writer invariants: one malloc'd buffer grown by doubling; it can be exported through the buffer
protocol (`memoryview(w)`, zero-copy hand-off to a transport) and, as a bytearray, refuses to grow
while an export is alive. Integers outside their wire type's range raise OverflowError rather
than being truncated.

Zero copy: `bytes_`/`compact_bytes` also take a `FileRegion` (a byte range of an open file, e.g. a
fetch's slice of a log segment). Its length prefix is written and the region is recorded as a
splice instead of being copied; `parts()` returns the message as bytes pieces interleaved with the
regions, in order, for a sender that can `sendfile` them. `getvalue()` reads regions in (pread) so
every caller that wants plain bytes still gets the exact encoding."""
from cpython.buffer cimport PyBuffer_FillInfo
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy
from posix.unistd cimport pread

from fastkafka._native.bigendian cimport _i16, _i32, _i64, _put_i16, _put_i32, _put_i64


cdef uint8_t _EMPTY[1]
# Kafka 4.4's MessageUtil bounds: refused before anything is allocated.
cdef enum:
    MAX_ARRAY_LENGTH = 1000000
    MAX_TAGGED_FIELD_COUNT = 10000


class DecodeError(ValueError):
    """Malformed input: truncated buffer, negative length where not allowed, bad UTF-8."""


cdef class Reader:
    def __init__(self, buf, Py_ssize_t pos=0, Py_ssize_t end=-1):
        if isinstance(buf, (bytes, bytearray)):
            self._obj = buf
        else:
            # A byte view whatever the exporter's item format, so slices count bytes.
            self._obj = memoryview(buf).cast("B")
        self._view = self._obj
        cdef Py_ssize_t n = self._view.shape[0]
        if end < 0:
            end = n
        if end > n or pos < 0 or pos > end:
            raise DecodeError(f"reader window [{pos}, {end}) outside a {n}-byte buffer")
        self.pos = pos
        self._end = end

    cdef const uint8_t* _take(self, Py_ssize_t n) except NULL:
        cdef Py_ssize_t p = self.pos
        # pos is public (callers skip fields by assigning it), so it is checked on every read.
        if n < 0 or p < 0 or p > self._end or n > self._end - p:
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
        return _i16(self._take(2))

    def uint16(self):
        return <uint16_t>_i16(self._take(2))

    cdef uint32_t _u32(self) except? 0xFFFFFFFF:
        return <uint32_t>_i32(self._take(4))

    def int32(self):
        return _i32(self._take(4))

    def uint32(self):
        return self._u32()

    cdef uint64_t _u64(self) except? 0xFFFFFFFFFFFFFFFF:
        return <uint64_t>_i64(self._take(8))

    def int64(self):
        return _i64(self._take(8))

    def float64(self):
        cdef uint64_t u = self._u64()
        cdef double d
        memcpy(&d, &u, 8)
        return d

    cdef uint64_t _uvarint(self, int max_bytes) except? 0xFFFFFFFFFFFFFFFF:
        # Kafka's ByteUtils.readUnsignedVarint/readUnsignedVarlong: at most 5 (10) bytes.
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
        return PyBytes_FromStringAndSize(<const char*>self._take(16), 16)

    cdef object _str(self, Py_ssize_t n):
        cdef const char* p = <const char*>self._take(n)
        try:
            return PyUnicode_DecodeUTF8(p, n, NULL)
        except UnicodeDecodeError as e:
            raise DecodeError(f"invalid UTF-8 string: {e}") from None

    def string(self):
        cdef Py_ssize_t n = _i16(self._take(2))
        if n < 0:
            if n == -1:
                return None
            raise DecodeError(f"negative string length {n}")
        return self._str(n)

    def compact_string(self):
        cdef Py_ssize_t n = <Py_ssize_t>self._uvarint(5) - 1
        if n < 0:
            return None
        if n > 32767:
            # Kafka's generated readers cap every string at Short.MAX_VALUE bytes.
            raise DecodeError(f"string had invalid length {n}")
        return self._str(n)

    cdef object _bytes(self, Py_ssize_t n):
        return PyBytes_FromStringAndSize(<const char*>self._take(n), n)

    def bytes_(self):
        cdef Py_ssize_t n = _i32(self._take(4))
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
        cdef Py_ssize_t n = _i32(self._take(4))
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

    # Array lengths are checked against the bytes left and against Kafka 4.4's MAX_ARRAY_LENGTH
    # (MessageUtil: 1,000,000), as its generated readers do, so a hostile length cannot make the
    # decoder allocate a huge list before running out of input.
    cdef Py_ssize_t _checked_length(self, Py_ssize_t n) except -2:
        if n > self._end - self.pos:
            raise DecodeError(f"Tried to allocate a collection of size {n}, but there are only "
                              f"{self._end - self.pos} bytes remaining.")
        if n > MAX_ARRAY_LENGTH:
            raise DecodeError(f"Tried to read a collection of size {n}, which exceeds the maximum allowed "
                              f"size of {MAX_ARRAY_LENGTH}.")
        return n

    def array_length(self):
        cdef Py_ssize_t n = _i32(self._take(4))
        if n < -1:
            raise DecodeError(f"negative array length {n}")
        return self._checked_length(n)

    def compact_array_length(self):
        cdef Py_ssize_t n = <Py_ssize_t>self._uvarint(5) - 1
        return self._checked_length(n)

    def tagged_field_count(self):
        """The count that opens a tagged-field section, bounded as Kafka 4.4's readers do
        (MAX_TAGGED_FIELD_COUNT 10,000; each field takes at least 2 bytes)."""
        cdef int64_t n = <int32_t><uint32_t>self._uvarint(5)
        if n < 0:
            raise DecodeError(f"Invalid negative number of tagged fields {n}")
        if n > self._end - self.pos:
            raise DecodeError(f"Tried to read {n} tagged fields, but there are only {self._end - self.pos} "
                              "bytes remaining.")
        if n > MAX_TAGGED_FIELD_COUNT:
            raise DecodeError(f"Tried to read {n} tagged fields, which exceeds the maximum allowed count of "
                              f"{MAX_TAGGED_FIELD_COUNT}.")
        return n

    def raw(self, Py_ssize_t n):
        return self._records(n)


cdef class FileRegion:
    """`size` bytes of the file open as `fd`, from `position`: sent with sendfile, never copied
    into Python. Whoever creates one keeps the fd open (and the bytes unchanged) until it is sent."""

    def __init__(self, int fd, long long position, long long size):
        if position < 0 or size < 0:
            raise ValueError(f"invalid file region position={position} size={size}")
        self.fd = fd
        self.position = position
        self.size = size

    def __len__(self):
        return self.size

    def read_bytes(self):
        """The region's bytes (pread, looping over short reads); OSError if the file is shorter."""
        import os
        if self.size == 0:
            return b""
        out = os.pread(self.fd, self.size, self.position)
        if len(out) == self.size:
            return out
        chunks = [out]
        got = len(out)
        while got < self.size:
            more = os.pread(self.fd, self.size - got, self.position + got)
            if not more:
                raise OSError(f"short read at {self.position + got} of a {self.size}-byte file region")
            chunks.append(more)
            got += len(more)
        return b"".join(chunks)

    def __eq__(self, other):
        if isinstance(other, FileRegion):
            return (self.fd, self.position, self.size) == ((<FileRegion>other).fd, (<FileRegion>other).position,
                                                          (<FileRegion>other).size)
        if isinstance(other, (bytes, bytearray, memoryview)):
            return self.read_bytes() == bytes(other)
        return NotImplemented

    def __hash__(self):
        return hash((self.fd, self.position, self.size))

    def __repr__(self):
        return f"{type(self).__name__}(fd={self.fd}, position={self.position}, size={self.size})"


cdef class Writer:
    def __cinit__(self, Py_ssize_t capacity=256):
        if capacity < 16:
            capacity = 16
        self._buf = <uint8_t*>malloc(capacity)
        if self._buf == NULL:
            raise MemoryError()
        self._cap = capacity
        self._len = 0
        self._exports = 0
        self._splices = None
        self._spliced = 0

    def __init__(self, Py_ssize_t capacity=256):
        pass

    def __dealloc__(self):
        if self._buf != NULL:
            free(self._buf)

    def __len__(self):
        return self._len

    @property
    def spliced_size(self):
        """Bytes in spliced file regions (not in the buffer): the message is len(w) + this."""
        return self._spliced

    cdef int _splice(self, FileRegion region) except -1:
        if self._splices is None:
            self._splices = []
        self._splices.append((self._len, region))
        self._spliced += region.size
        return 0

    def __getbuffer__(self, Py_buffer* view, int flags):
        PyBuffer_FillInfo(view, self, self._buf, self._len, 1, flags)
        self._exports += 1

    def __releasebuffer__(self, Py_buffer* view):
        self._exports -= 1

    cdef uint8_t* _reserve(self, Py_ssize_t n) except NULL:
        cdef Py_ssize_t need = self._len + n
        cdef Py_ssize_t cap
        cdef uint8_t* nb
        if need > self._cap:
            if self._exports > 0:
                # realloc would free memory a live memoryview still points at.
                raise BufferError("Existing exports of data: Writer cannot grow")
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

    def int8(self, int8_t v):
        self._reserve(1)[0] = <uint8_t>v

    def boolean(self, v):
        self._reserve(1)[0] = 1 if v else 0

    def int16(self, int16_t v):
        _put_i16(self._reserve(2), v)

    def uint16(self, uint16_t v):
        _put_i16(self._reserve(2), <int16_t>v)

    cdef int _w32(self, uint32_t v) except -1:
        _put_i32(self._reserve(4), <int32_t>v)
        return 0

    def int32(self, int32_t v):
        _put_i32(self._reserve(4), v)

    def uint32(self, uint32_t v):
        _put_i32(self._reserve(4), <int32_t>v)

    cdef int _w64(self, uint64_t v) except -1:
        _put_i64(self._reserve(8), <int64_t>v)
        return 0

    def int64(self, int64_t v):
        _put_i64(self._reserve(8), v)

    def float64(self, double d):
        cdef uint64_t u
        memcpy(&u, &d, 8)
        self._w64(u)

    cdef int _uv(self, uint64_t v) except -1:
        # Reserve the longest encoding (10 bytes), then give back what was not used.
        cdef uint8_t* p = self._reserve(10)
        cdef Py_ssize_t i = 0
        while v >= 0x80:
            p[i] = <uint8_t>((v & 0x7F) | 0x80)
            v >>= 7
            i += 1
        p[i] = <uint8_t>v
        self._len -= 10 - (i + 1)
        return 0

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
        cdef Py_ssize_t n = view.shape[0]
        cdef uint8_t* p = self._reserve(n)
        if n:
            memcpy(p, &view[0], n)

    def string(self, v):
        if v is None:
            _put_i16(self._reserve(2), -1)
            return
        b = v.encode("utf-8")
        if len(b) > 32767:
            raise ValueError("string longer than 32767 bytes")
        _put_i16(self._reserve(2), <int16_t>len(b))
        self.raw(b)

    def compact_string(self, v):
        if v is None:
            self._uv(0)
            return
        b = v.encode("utf-8")
        if len(b) > 32767:
            raise ValueError("string longer than 32767 bytes")
        self._uv(len(b) + 1)
        self.raw(b)

    def bytes_(self, v):
        if v is None:
            self._w32(<uint32_t>-1)
            return
        if isinstance(v, FileRegion):
            if (<FileRegion>v).size > 0x7FFFFFFF:
                raise ValueError("bytes longer than 2147483647")
            self._w32(<uint32_t>(<FileRegion>v).size)
            self._splice(<FileRegion>v)
            return
        cdef Py_ssize_t n = len(v) if not isinstance(v, memoryview) else v.nbytes
        if n > 0x7FFFFFFF:
            raise ValueError("bytes longer than 2147483647")
        self._w32(<uint32_t>n)
        self.raw(v)

    def compact_bytes(self, v):
        if v is None:
            self._uv(0)
            return
        if isinstance(v, FileRegion):
            if (<FileRegion>v).size > 0x7FFFFFFE:
                raise ValueError("bytes longer than 2147483646")
            self._uv(<uint64_t>((<FileRegion>v).size + 1))
            self._splice(<FileRegion>v)
            return
        cdef Py_ssize_t n = len(v) if not isinstance(v, memoryview) else v.nbytes
        if n > 0x7FFFFFFE:
            raise ValueError("bytes longer than 2147483646")
        self._uv(<uint64_t>(n + 1))
        self.raw(v)

    def array_length(self, int32_t n):
        if n < -1:
            raise ValueError(f"array length {n}")
        self._w32(<uint32_t>n)

    def compact_array_length(self, int32_t n):
        if n < -1 or n == 0x7FFFFFFF:
            raise ValueError(f"array length {n}")
        self._uv(<uint32_t>(n + 1))

    def extend(self, Writer other):
        """Append everything `other` holds: its bytes copied, its spliced FileRegions spliced
        here at the same relative places (a body encoded apart, on a worker, joins the frame
        without reading its file regions in)."""
        cdef Py_ssize_t base = self._len
        cdef Py_ssize_t n = other._len
        cdef uint8_t* p
        if other is self:
            raise ValueError("a Writer cannot extend itself")
        p = self._reserve(n)
        if n:
            memcpy(p, other._buf, n)
        if other._splices:
            if self._splices is None:
                self._splices = []
            for pos, region in other._splices:
                self._splices.append((base + <Py_ssize_t>pos, region))
            self._spliced += other._spliced

    def inline_small_regions(self, Py_ssize_t max_region, Py_ssize_t budget):
        """Read spliced regions of at most `max_region` bytes into the buffer, in place, while
        the bytes read in stay within `budget`; larger ones (and those past the budget) stay
        spliced. Returns the bytes read in. For a response of thousands of tiny regions (a Fetch
        of 10,000 partitions holding a record each), encoded on a worker: one write instead of a
        sendfile and a write per partition on the loop. The preads run without the GIL; a file
        shorter than its region raises OSError and leaves the Writer unchanged."""
        cdef Py_ssize_t extra = 0, new_len, src, dst, n, done, got
        cdef uint8_t* nb
        cdef FileRegion r
        cdef int fd
        cdef long long fpos
        if not self._splices:
            return 0
        if self._exports > 0:
            raise BufferError("Existing exports of data: Writer cannot grow")
        take = []
        for pos, region in self._splices:
            r = <FileRegion>region
            inline = r.size <= max_region and extra + r.size <= budget
            take.append(inline)
            if inline:
                extra += r.size
        if extra == 0:
            return 0
        new_len = self._len + extra
        nb = <uint8_t*>malloc(new_len if new_len > 16 else 16)
        if nb == NULL:
            raise MemoryError()
        kept = []
        src = 0
        dst = 0
        try:
            for (pos, region), inline in zip(self._splices, take):
                n = <Py_ssize_t>pos - src
                memcpy(nb + dst, self._buf + src, n)
                src += n
                dst += n
                r = <FileRegion>region
                if not inline:
                    kept.append((dst, region))
                    continue
                fd = r.fd
                fpos = r.position
                n = r.size
                done = 0
                with nogil:
                    while done < n:
                        got = pread(fd, nb + dst + done, n - done, fpos + done)
                        if got <= 0:
                            break
                        done += got
                if done < n:
                    raise OSError(f"short read at {fpos + done} of a {n}-byte file region")
                dst += n
            memcpy(nb + dst, self._buf + src, self._len - src)
        except BaseException:
            free(nb)
            raise
        free(self._buf)
        self._buf = nb
        self._cap = new_len if new_len > 16 else 16
        self._len = new_len
        self._splices = kept or None
        self._spliced -= extra
        return extra

    def set_int32(self, Py_ssize_t pos, int32_t v):
        """Overwrite 4 already-written bytes at pos (a size prefix reserved before the body)."""
        if pos < 0 or pos > self._len - 4:
            raise IndexError(f"set_int32 at {pos} outside the {self._len} bytes written")
        _put_i32(self._buf + pos, v)

    def getvalue(self):
        if self._splices:
            return b"".join(p if isinstance(p, bytes) else (<FileRegion>p).read_bytes() for p in self.parts())
        return PyBytes_FromStringAndSize(<const char*>self._buf, self._len)

    def parts(self):
        """The message in order: bytes pieces of the buffer and the spliced FileRegions between
        them (just [bytes] when nothing was spliced). Empty regions are left out."""
        cdef Py_ssize_t start = 0
        cdef Py_ssize_t pos
        out = []
        if self._splices:
            for pos, region in self._splices:
                if not (<FileRegion>region).size:
                    continue
                if pos > start:
                    out.append(PyBytes_FromStringAndSize(<const char*>(self._buf + start), pos - start))
                    start = pos
                out.append(region)
        if self._len > start or not out:
            out.append(PyBytes_FromStringAndSize(<const char*>(self._buf + start), self._len - start))
        return out
