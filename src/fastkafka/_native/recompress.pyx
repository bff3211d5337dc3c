# cython: language_level=3
"""Record-level work of recompression (Kafka's LogValidator.buildRecordsAndAssignOffsets).

Invariants:
- Works on the decompressed records section of one v2 batch; the per-record loop runs in C
  without the GIL (a worker thread rebuilding a 64 MiB batch does not hold up the event loop).
- `renumber_offset_deltas` only rewrites each record's offsetDelta (and so its length prefix);
  attributes, timestampDelta, key, value and headers are copied byte for byte.
- `seal_batch` writes the v2 header's length and CRC-32C (over attributes..end), nothing else.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from fastkafka._native.bigendian cimport _put_i32
from fastkafka._native.includes.crc32c cimport fk_crc32c
from fastkafka._native.record_batch cimport read_varlong


cdef Py_ssize_t _write_varint(uint8_t* out, int32_t value) noexcept nogil:
    cdef uint32_t v = <uint32_t>((value << 1) ^ (value >> 31))
    cdef Py_ssize_t n = 0
    while v >= 0x80:
        out[n] = <uint8_t>((v & 0x7F) | 0x80)
        v >>= 7
        n += 1
    out[n] = <uint8_t>v
    return n + 1


cdef int _scan(const uint8_t* buf, Py_ssize_t size, int32_t count, int* contiguous) noexcept nogil:
    """Walk `count` records; 0 when they fill `size` exactly, -1 when malformed."""
    cdef Py_ssize_t pos = 0, body_end, p
    cdef int64_t length, ts_delta, off_delta
    cdef int32_t i
    contiguous[0] = 1
    for i in range(count):
        if read_varlong(buf, size, &pos, &length, 5) < 0 or length < 0 or pos + length > size:
            return -1
        body_end = pos + length
        p = pos + 1  # attributes
        if read_varlong(buf, body_end, &p, &ts_delta, 10) < 0 or read_varlong(buf, body_end, &p, &off_delta, 5) < 0:
            return -1
        if off_delta != i:
            contiguous[0] = 0
        pos = body_end
    return 0 if pos == size else -1


def records_contiguous(const uint8_t[::1] plain not None, int32_t count):
    """True when the records' offset deltas are 0..count-1 (Kafka's in-place assignment holds);
    ValueError when the section is not `count` well-formed records."""
    cdef int contiguous = 0, rc
    cdef Py_ssize_t size = plain.shape[0]
    cdef const uint8_t* buf = &plain[0] if size else NULL
    with nogil:
        rc = _scan(buf, size, count, &contiguous)
    if rc < 0:
        raise ValueError("malformed records section")
    return contiguous == 1


def renumber_offset_deltas(const uint8_t[::1] plain not None, int32_t count):
    """The records section with offset deltas 0..count-1 (bytes)."""
    cdef Py_ssize_t size = plain.shape[0]
    cdef const uint8_t* buf = &plain[0] if size else NULL
    cdef uint8_t* out = <uint8_t*>malloc(size + <Py_ssize_t>count * 10 + 16)
    cdef Py_ssize_t pos = 0, p, o = 0, body_end, off_start, off_end, rest
    cdef int64_t length, ts_delta, off_delta
    cdef int32_t i, new_len
    cdef uint8_t tmp[5]
    cdef Py_ssize_t tmp_n
    cdef int bad = 0
    if out == NULL:
        raise MemoryError()
    try:
        with nogil:
            for i in range(count):
                if read_varlong(buf, size, &pos, &length, 5) < 0 or length < 0 or pos + length > size:
                    bad = 1
                    break
                body_end = pos + length
                p = pos + 1
                if read_varlong(buf, body_end, &p, &ts_delta, 10) < 0:
                    bad = 1
                    break
                off_start = p
                if read_varlong(buf, body_end, &p, &off_delta, 5) < 0:
                    bad = 1
                    break
                off_end = p
                tmp_n = _write_varint(tmp, i)
                new_len = <int32_t>(length - (off_end - off_start) + tmp_n)
                o += _write_varint(out + o, new_len)
                memcpy(out + o, buf + pos, off_start - pos)
                o += off_start - pos
                memcpy(out + o, tmp, tmp_n)
                o += tmp_n
                rest = body_end - off_end
                memcpy(out + o, buf + off_end, rest)
                o += rest
                pos = body_end
            if pos != size:
                bad = 1
        if bad:
            raise ValueError("malformed records section")
        return PyBytes_FromStringAndSize(<char*>out, o)
    finally:
        free(out)


def seal_batch(bytearray batch not None):
    """Write a v2 batch's length field (bytes 8..11) and CRC-32C (bytes 17..20, over 21..end)."""
    cdef Py_ssize_t size = len(batch)
    cdef uint8_t* b = <uint8_t*>(<char*>batch)
    cdef uint32_t crc
    if size < 61:
        raise ValueError("batch shorter than its header")
    _put_i32(b + 8, <int32_t>(size - 12))
    with nogil:
        crc = fk_crc32c(0, b + 21, size - 21)
    _put_i32(b + 17, <int32_t>crc)
