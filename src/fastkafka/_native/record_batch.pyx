# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""RecordBatch v2 (magic 2) hot paths: header parsing, validation (sizes, CRC-32C, record walk),
in-place offset assignment, batch scans for recovery, and a builder for internal writers.

Batches stay opaque bytes everywhere else; this module is the only place that looks inside them.
Header layout (big-endian): BaseOffset 0, BatchLength 8, PartitionLeaderEpoch 12, Magic 16,
CRC 17, Attributes 21, LastOffsetDelta 23, BaseTimestamp 27, MaxTimestamp 35, ProducerId 43,
ProducerEpoch 51, BaseSequence 53, RecordsCount 57, records from 61. The CRC covers bytes 21..end.
"""
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from fastkafka._native.bigendian cimport _i16, _i32, _i64, _put_i16, _put_i32, _put_i64

import crc32c as _crc32c_mod

_crc = _crc32c_mod.crc32c

RECORD_BATCH_OVERHEAD = 61
LOG_OVERHEAD = 12
DEF HDR = 61

# Kafka error codes raised from here
DEF CORRUPT_MESSAGE = 2
DEF MESSAGE_TOO_LARGE = 10
DEF INVALID_TIMESTAMP = 32
DEF UNSUPPORTED_COMPRESSION_TYPE = 76
DEF INVALID_RECORD = 87
DEF UNSUPPORTED_FOR_MESSAGE_FORMAT = 43


class InvalidRecordError(ValueError):
    """Batch fails validation; `.code` is the Kafka error code to return."""

    def __init__(self, code, message=""):
        super().__init__(message or f"invalid record batch (error {code})")
        self.code = code


# Zig-zag varint decode; returns -1 on malformed/truncated input (pos untouched), else 0.
cdef inline int _varlong(const uint8_t* buf, Py_ssize_t end, Py_ssize_t* pos, int64_t* out, int max_bytes) nogil:
    cdef uint64_t v = 0
    cdef int shift = 0
    cdef Py_ssize_t p = pos[0]
    cdef uint8_t b
    cdef int i
    for i in range(max_bytes):
        if p >= end:
            return -1
        b = buf[p]
        p += 1
        v |= (<uint64_t>(b & 0x7F)) << shift
        if not (b & 0x80):
            out[0] = <int64_t>((v >> 1) ^ (-(<int64_t>(v & 1))))
            pos[0] = p
            return 0
        shift += 7
    return -1


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli) of data, continuing from crc (the crc32c package, SSE4.2 when available)."""
    return _crc(data, crc)


def encode_varint(int32_t v):
    cdef uint32_t u = (<uint32_t>v << 1) ^ <uint32_t>(v >> 31)
    out = bytearray()
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def encode_varlong(int64_t v):
    cdef uint64_t u = (<uint64_t>v << 1) ^ <uint64_t>(v >> 63)
    out = bytearray()
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def decode_varint(buf, Py_ssize_t pos):
    cdef const uint8_t[:] v = _view(buf)
    cdef int64_t out
    cdef Py_ssize_t p = pos
    if _varlong(&v[0] if len(v) else NULL, len(v), &p, &out, 5) < 0:
        raise InvalidRecordError(CORRUPT_MESSAGE, "malformed varint")
    return <int32_t>out, p


def decode_varlong(buf, Py_ssize_t pos):
    cdef const uint8_t[:] v = _view(buf)
    cdef int64_t out
    cdef Py_ssize_t p = pos
    if _varlong(&v[0] if len(v) else NULL, len(v), &p, &out, 10) < 0:
        raise InvalidRecordError(CORRUPT_MESSAGE, "malformed varlong")
    return out, p


cdef object _view(buf):
    if isinstance(buf, (bytes, bytearray)):
        return buf
    return memoryview(buf).cast("B")


# -- header objects ---------------------------------------------------------------------------------
cdef class BatchHeader:
    cdef public Py_ssize_t position, size
    cdef public int64_t base_offset, last_offset, max_timestamp, first_timestamp, producer_id
    cdef public int32_t partition_leader_epoch, base_sequence, record_count
    cdef public int magic, attributes, producer_epoch
    cdef public uint32_t crc
    cdef public bint is_transactional, is_control

    def __repr__(self):
        return (f"BatchHeader(position={self.position}, size={self.size}, base_offset={self.base_offset}, "
                f"last_offset={self.last_offset}, records={self.record_count}, attributes={self.attributes})")


cdef BatchHeader _header(const uint8_t* p, Py_ssize_t position):
    cdef BatchHeader h = BatchHeader.__new__(BatchHeader)
    h.position = position
    h.size = _i32(p + 8) + 12
    h.base_offset = _i64(p)
    h.last_offset = h.base_offset + _i32(p + 23)
    h.partition_leader_epoch = _i32(p + 12)
    h.magic = <int8_t>p[16]
    h.crc = <uint32_t>_i32(p + 17)
    h.attributes = _i16(p + 21)
    h.first_timestamp = _i64(p + 27)
    h.max_timestamp = _i64(p + 35)
    h.producer_id = _i64(p + 43)
    h.producer_epoch = _i16(p + 51)
    h.base_sequence = _i32(p + 53)
    h.record_count = _i32(p + 57)
    h.is_transactional = (h.attributes & 0x10) != 0
    h.is_control = (h.attributes & 0x20) != 0
    return h


def read_batch_header(buf, Py_ssize_t pos):
    cdef const uint8_t[:] v = _view(buf)
    if pos < 0 or len(v) - pos < HDR:
        raise InvalidRecordError(CORRUPT_MESSAGE, "truncated batch header")
    return _header(&v[pos], pos)


def scan_batches(buf, Py_ssize_t start=0, bint check_crc=True):
    """Walk consecutive batches from start; stop at the first incomplete or corrupt one.
    Returns (headers, valid_bytes_end, error_code)."""
    cdef const uint8_t[:] v = _view(buf)
    cdef Py_ssize_t n = len(v)
    cdef Py_ssize_t pos = start
    cdef Py_ssize_t size
    cdef int32_t blen
    headers = []
    mv = None
    while pos < n:
        if n - pos < HDR:
            return headers, pos, CORRUPT_MESSAGE
        blen = _i32(&v[pos + 8])
        if blen < HDR - 12:
            return headers, pos, CORRUPT_MESSAGE
        size = <Py_ssize_t>blen + 12
        if n - pos < size:
            return headers, pos, CORRUPT_MESSAGE
        if v[pos + 16] != 2:
            return headers, pos, CORRUPT_MESSAGE
        if check_crc:
            if mv is None:
                mv = memoryview(buf).cast("B") if not isinstance(buf, bytes) else buf
            if <uint32_t>_crc(mv[pos + 21:pos + size]) != <uint32_t>_i32(&v[pos + 17]):
                return headers, pos, CORRUPT_MESSAGE
        headers.append(_header(&v[pos], pos))
        pos += size
    return headers, pos, 0


# -- validation -------------------------------------------------------------------------------------
cdef class BatchInfo:
    cdef public int64_t base_offset, last_offset, max_timestamp, offset_of_max_timestamp, first_timestamp
    cdef public int64_t producer_id
    cdef public Py_ssize_t size
    cdef public int32_t batch_count, record_count, base_sequence, last_sequence, partition_leader_epoch
    cdef public int producer_epoch, attributes, compression
    cdef public bint is_transactional, is_control

    def __repr__(self):
        return (f"BatchInfo(batches={self.batch_count}, records={self.record_count}, size={self.size}, "
                f"max_timestamp={self.max_timestamp}, producer_id={self.producer_id})")


cdef int _walk_records(const uint8_t* p, Py_ssize_t end, int32_t count, bint compacted, int64_t base_ts,
                       int64_t* max_ts, int64_t* off_of_max, int* err_kind) nogil:
    """Walk `count` uncompressed records in p[0:end]. Returns 0 if fine; else -1 with err_kind:
    1 malformed (CORRUPT_MESSAGE), 2 null key on compacted topic (INVALID_RECORD),
    3 bad offset delta (INVALID_RECORD)."""
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t rec_end
    cdef int64_t length, ts_delta, off_delta, klen, vlen, hcount, hk, hv
    cdef int32_t i, j
    max_ts[0] = -1
    off_of_max[0] = 0
    for i in range(count):
        if _varlong(p, end, &pos, &length, 5) < 0 or length < 0:
            err_kind[0] = 1
            return -1
        rec_end = pos + length
        if rec_end > end:
            err_kind[0] = 1
            return -1
        pos += 1  # attributes
        if _varlong(p, rec_end, &pos, &ts_delta, 10) < 0 or _varlong(p, rec_end, &pos, &off_delta, 5) < 0:
            err_kind[0] = 1
            return -1
        if off_delta != i:
            err_kind[0] = 3
            return -1
        if base_ts + ts_delta > max_ts[0]:
            max_ts[0] = base_ts + ts_delta
            off_of_max[0] = off_delta
        if _varlong(p, rec_end, &pos, &klen, 5) < 0 or klen < -1:
            err_kind[0] = 1
            return -1
        if klen == -1 and compacted:
            err_kind[0] = 2
            return -1
        if klen > 0:
            pos += klen
        if _varlong(p, rec_end, &pos, &vlen, 5) < 0 or vlen < -1:
            err_kind[0] = 1
            return -1
        if vlen > 0:
            pos += vlen
        if pos > rec_end or _varlong(p, rec_end, &pos, &hcount, 5) < 0 or hcount < 0:
            err_kind[0] = 1
            return -1
        for j in range(hcount):
            if _varlong(p, rec_end, &pos, &hk, 5) < 0 or hk < 0:
                err_kind[0] = 1
                return -1
            pos += hk
            if pos > rec_end or _varlong(p, rec_end, &pos, &hv, 5) < 0 or hv < -1:
                err_kind[0] = 1
                return -1
            if hv > 0:
                pos += hv
        if pos != rec_end:
            err_kind[0] = 1
            return -1
    if pos != end:
        err_kind[0] = 1
        return -1
    return 0


def validate_produce_batches(buf, *, Py_ssize_t max_batch_size, bint compacted, int64_t now_ms,
                             bint timestamp_type_log_append, int64_t timestamp_before_max_ms,
                             int64_t timestamp_after_max_ms):
    """Validate a Produce partition payload (see record_batch.pyi). Raises InvalidRecordError."""
    if buf is None:
        raise InvalidRecordError(INVALID_RECORD, "Produce request has no record batch")
    cdef const uint8_t[:] v = _view(buf)
    cdef Py_ssize_t n = len(v)
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t size
    cdef int32_t blen, count, lod
    cdef int attrs, codec, err_kind = 0
    cdef int64_t base_ts, max_ts, rec_max_ts, off_of_max, first_ts
    cdef const uint8_t* p
    cdef BatchInfo info = BatchInfo.__new__(BatchInfo)
    if n == 0:
        raise InvalidRecordError(INVALID_RECORD, "Produce request must contain at least one record batch")
    info.batch_count = 0
    info.record_count = 0
    info.max_timestamp = -1
    info.offset_of_max_timestamp = -1
    mv = memoryview(buf).cast("B") if not isinstance(buf, bytes) else buf
    cdef int64_t shallow = 0
    while pos < n:
        if n - pos < HDR:
            raise InvalidRecordError(CORRUPT_MESSAGE, f"Record batch at {pos} is truncated ({n - pos} bytes)")
        p = &v[pos]
        if p[16] != 2:
            raise InvalidRecordError(UNSUPPORTED_FOR_MESSAGE_FORMAT if p[16] < 2 else CORRUPT_MESSAGE,
                                     f"Unsupported record batch magic {p[16]} (only magic 2 is supported)")
        blen = _i32(p + 8)
        if blen < HDR - 12:
            raise InvalidRecordError(CORRUPT_MESSAGE, f"Record batch length {blen} is smaller than the header")
        size = <Py_ssize_t>blen + 12
        if size > n - pos:
            raise InvalidRecordError(CORRUPT_MESSAGE, f"Record batch of {size} bytes exceeds the {n - pos} remaining")
        if size > max_batch_size:
            raise InvalidRecordError(MESSAGE_TOO_LARGE,
                                     f"The record batch size {size} exceeds the maximum allowed {max_batch_size}")
        if <uint32_t>_crc(mv[pos + 21:pos + size]) != <uint32_t>_i32(p + 17):
            raise InvalidRecordError(CORRUPT_MESSAGE, "Record batch is corrupt (CRC mismatch)")
        attrs = _i16(p + 21)
        codec = attrs & 0x7
        if codec > 4:
            raise InvalidRecordError(UNSUPPORTED_COMPRESSION_TYPE, f"Unknown compression codec {codec}")
        lod = _i32(p + 23)
        count = _i32(p + 57)
        if count <= 0 or lod != count - 1:
            raise InvalidRecordError(INVALID_RECORD if count <= 0 else CORRUPT_MESSAGE,
                                     f"Record count {count} does not match last offset delta {lod}")
        if attrs & 0x20:
            raise InvalidRecordError(INVALID_RECORD, "Clients cannot write control batches")
        base_ts = _i64(p + 27)
        max_ts = _i64(p + 35)
        if codec == 0:
            if _walk_records(p + HDR, size - HDR, count, compacted, base_ts, &rec_max_ts, &off_of_max, &err_kind) < 0:
                if err_kind == 2:
                    raise InvalidRecordError(INVALID_RECORD, "Compacted topic cannot accept message without key")
                if err_kind == 3:
                    raise InvalidRecordError(INVALID_RECORD, "Invalid record offset deltas in the batch")
                raise InvalidRecordError(CORRUPT_MESSAGE, "Record is corrupt or truncated")
            if not timestamp_type_log_append and rec_max_ts != max_ts and not (attrs & 0x08):
                raise InvalidRecordError(CORRUPT_MESSAGE,
                                         f"Batch max timestamp {max_ts} does not match its records' {rec_max_ts}")
        else:
            # Compressed: stored as sent, never decompressed here. Kafka 3.7+ reports the last
            # offset of the batch holding the max timestamp (KIP-734 follow-up).
            off_of_max = lod
        if not timestamp_type_log_append and not (attrs & 0x08):
            if max_ts >= 0 and (now_ms - max_ts > timestamp_before_max_ms or max_ts - now_ms > timestamp_after_max_ms):
                raise InvalidRecordError(INVALID_TIMESTAMP,
                                         f"Timestamp {max_ts} of the batch is out of range (now {now_ms})")
            if base_ts >= 0 and (now_ms - base_ts > timestamp_before_max_ms or base_ts - now_ms > timestamp_after_max_ms):
                raise InvalidRecordError(INVALID_TIMESTAMP,
                                         f"Timestamp {base_ts} of the batch is out of range (now {now_ms})")
        if info.batch_count == 0:
            info.first_timestamp = base_ts
            info.producer_id = _i64(p + 43)
            info.producer_epoch = _i16(p + 51)
            info.base_sequence = _i32(p + 53)
            info.attributes = attrs
            info.compression = codec
            info.is_transactional = (attrs & 0x10) != 0
            info.is_control = False
            info.partition_leader_epoch = _i32(p + 12)
            info.base_offset = _i64(p)
        if max_ts > info.max_timestamp:
            info.max_timestamp = max_ts
            info.offset_of_max_timestamp = shallow + off_of_max
        info.last_sequence = (_i32(p + 53) + lod) & 0x7FFFFFFF if _i32(p + 53) >= 0 else -1
        info.last_offset = shallow + lod
        shallow += count
        info.batch_count += 1
        info.record_count += count
        pos += size
    info.size = n
    return info


def assign_offsets(buf, int64_t base_offset, int32_t partition_leader_epoch, int64_t log_append_time_ms):
    """In place, for every batch in buf: BaseOffset (consecutive), PartitionLeaderEpoch, and for
    LogAppendTime the attribute bit, MaxTimestamp and a new CRC. Returns the next offset."""
    cdef uint8_t[:] v = memoryview(buf).cast("B")
    cdef Py_ssize_t n = len(v)
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t size
    cdef int64_t off = base_offset
    cdef uint8_t* p
    cdef int16_t attrs
    while pos + HDR <= n:
        p = &v[pos]
        size = <Py_ssize_t>_i32(p + 8) + 12
        if size < HDR or pos + size > n:
            raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt batch while assigning offsets")
        _put_i64(p, off)
        _put_i32(p + 12, partition_leader_epoch)
        if log_append_time_ms >= 0:
            attrs = _i16(p + 21) | 0x08
            _put_i16(p + 21, attrs)
            _put_i64(p + 35, log_append_time_ms)
            _put_i32(p + 17, <int32_t><uint32_t>_crc(v[pos + 21:pos + size]))
        off += _i32(p + 23) + 1
        pos += size
    return off


# -- builder and reader for internal logs ------------------------------------------------------------
cdef class Record:
    cdef public int64_t offset, timestamp
    cdef public object key, value, headers

    def __repr__(self):
        return f"Record(offset={self.offset}, timestamp={self.timestamp}, key={self.key!r}, value={self.value!r})"


cdef class MemoryRecordsBuilder:
    """Builds one uncompressed v2 batch (internal writers and tests; never the produce path)."""
    cdef int64_t base_offset, timestamp_ms, producer_id, max_ts, first_ts
    cdef int producer_epoch
    cdef int32_t base_sequence, partition_leader_epoch, count
    cdef bint is_transactional, is_control
    cdef object body

    def __init__(self, int64_t base_offset=0, int64_t timestamp_ms=-1, int64_t producer_id=-1,
                 int producer_epoch=-1, int32_t base_sequence=-1, bint is_transactional=False,
                 bint is_control=False, int32_t partition_leader_epoch=-1):
        self.base_offset = base_offset
        self.timestamp_ms = timestamp_ms
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self.base_sequence = base_sequence
        self.is_transactional = is_transactional
        self.is_control = is_control
        self.partition_leader_epoch = partition_leader_epoch
        self.count = 0
        self.body = bytearray()
        self.first_ts = -1
        self.max_ts = -1

    def append(self, key, value, headers=None, int64_t timestamp_ms=-1):
        cdef int64_t ts = timestamp_ms if timestamp_ms >= 0 else self.timestamp_ms
        if self.count == 0:
            self.first_ts = ts
        if ts > self.max_ts:
            self.max_ts = ts
        rec = bytearray(b"\x00")
        rec += encode_varlong(ts - self.first_ts if ts >= 0 and self.first_ts >= 0 else 0)
        rec += encode_varint(self.count)
        if key is None:
            rec += encode_varint(-1)
        else:
            rec += encode_varint(len(key)); rec += key
        if value is None:
            rec += encode_varint(-1)
        else:
            rec += encode_varint(len(value)); rec += value
        hs = headers or []
        rec += encode_varint(len(hs))
        for hk, hv in hs:
            kb = hk.encode("utf-8") if isinstance(hk, str) else bytes(hk)
            rec += encode_varint(len(kb)); rec += kb
            if hv is None:
                rec += encode_varint(-1)
            else:
                rec += encode_varint(len(hv)); rec += hv
        self.body += encode_varint(len(rec))
        self.body += rec
        self.count += 1

    def build(self):
        if self.count == 0:
            raise ValueError("an empty batch has no records to build")
        cdef int attrs = (0x10 if self.is_transactional else 0) | (0x20 if self.is_control else 0)
        out = bytearray(HDR)
        out += self.body
        cdef uint8_t[:] v = out
        cdef uint8_t* p = &v[0]
        _put_i64(p, self.base_offset)
        _put_i32(p + 8, len(out) - 12)
        _put_i32(p + 12, self.partition_leader_epoch)
        p[16] = 2
        _put_i16(p + 21, attrs)
        _put_i32(p + 23, self.count - 1)
        _put_i64(p + 27, self.first_ts)
        _put_i64(p + 35, self.max_ts)
        _put_i64(p + 43, self.producer_id)
        _put_i16(p + 51, self.producer_epoch)
        _put_i32(p + 53, self.base_sequence)
        _put_i32(p + 57, self.count)
        _put_i32(p + 17, <int32_t><uint32_t>_crc(v[21:]))
        return bytes(out)


def iter_records(batch):
    """Decode the records of one uncompressed batch (internal logs, control records, tests)."""
    cdef const uint8_t[:] v = _view(batch)
    cdef Py_ssize_t n = len(v)
    if n < HDR:
        raise InvalidRecordError(CORRUPT_MESSAGE, "truncated batch")
    cdef const uint8_t* p = &v[0]
    if _i16(p + 21) & 0x7:
        raise InvalidRecordError(UNSUPPORTED_COMPRESSION_TYPE, "iter_records reads uncompressed batches only")
    cdef Py_ssize_t end = min(n, <Py_ssize_t>_i32(p + 8) + 12)
    cdef int64_t base = _i64(p), base_ts = _i64(p + 27), max_ts = _i64(p + 35)
    cdef bint log_append = (_i16(p + 21) & 0x08) != 0
    cdef int32_t count = _i32(p + 57), i, j
    cdef Py_ssize_t pos = HDR, rec_end
    cdef int64_t length, tsd, offd, klen, vlen, hc, hk, hv
    out = []
    for i in range(count):
        if _varlong(p, end, &pos, &length, 5) < 0 or length < 0 or pos + length > end:
            raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt record")
        rec_end = pos + length
        pos += 1
        if _varlong(p, rec_end, &pos, &tsd, 10) < 0 or _varlong(p, rec_end, &pos, &offd, 5) < 0:
            raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt record")
        r = Record.__new__(Record)
        r.offset = base + offd
        r.timestamp = max_ts if log_append else base_ts + tsd
        if _varlong(p, rec_end, &pos, &klen, 5) < 0 or klen < -1 or pos + max(klen, 0) > rec_end:
            raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt record key")
        r.key = None if klen < 0 else bytes(v[pos:pos + klen])
        pos += max(klen, 0)
        if _varlong(p, rec_end, &pos, &vlen, 5) < 0 or vlen < -1 or pos + max(vlen, 0) > rec_end:
            raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt record value")
        r.value = None if vlen < 0 else bytes(v[pos:pos + vlen])
        pos += max(vlen, 0)
        if _varlong(p, rec_end, &pos, &hc, 5) < 0 or hc < 0:
            raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt record headers")
        hs = []
        for j in range(hc):
            if _varlong(p, rec_end, &pos, &hk, 5) < 0 or hk < 0 or pos + hk > rec_end:
                raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt header key")
            name = bytes(v[pos:pos + hk]).decode("utf-8", "replace")
            pos += hk
            if _varlong(p, rec_end, &pos, &hv, 5) < 0 or hv < -1 or pos + max(hv, 0) > rec_end:
                raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt header value")
            hs.append((name, None if hv < 0 else bytes(v[pos:pos + hv])))
            pos += max(hv, 0)
        r.headers = hs
        pos = rec_end
        out.append(r)
    return out
