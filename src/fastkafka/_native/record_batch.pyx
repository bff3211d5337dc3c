# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""RecordBatch v2 (magic 2) hot paths: header parsing, produce validation (sizes, CRC-32C, record
walk, timestamps), in-place offset assignment, batch scans for recovery, and a builder/reader for
the low-rate internal writers. Layout and attribute bits: record_batch.pxd.

Batches stay opaque bytes everywhere else; this module is the only place that looks inside them.
Nothing here allocates a Python object per record on the produce path: records are walked by C
code over the request buffer, and Python objects are made per batch (or on the error path).
Batches of NOGIL_BYTES (64 KiB) or more are CRC-checked, walked and timestamp-stamped without the
GIL: big produce payloads are validated on worker threads (ReplicaManager.validate_off_loop) and
the event loop keeps running meanwhile.

Validation follows Kafka's UnifiedLog.analyzeAndValidateRecords + LogValidator (4.x) with its error
codes: framing/size/CRC problems are CorruptRecordException (CORRUPT_MESSAGE); batch and record
rule violations are InvalidRecordException (INVALID_RECORD); window violations INVALID_TIMESTAMP.
"""
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from fastkafka._native.bigendian cimport _i16, _i32, _i64, _put_i16, _put_i32, _put_i64
from fastkafka._native.includes.crc32c cimport fk_crc32c, fk_crc32c_portable, fk_crc32c_uses_hw

RECORD_BATCH_OVERHEAD = RECORD_BATCH_OVERHEAD_C
LOG_OVERHEAD = LOG_OVERHEAD_C

cdef enum:
    HDR = 61
    # Batches from this size on are CRC-checked, walked and stamped without the GIL (they are
    # handled on worker threads; below it the GIL round trip costs more than the work).
    NOGIL_BYTES = 65536
    # Failing records listed in an uncompressed batch's record_errors (the stream walker's
    # STREAM_BAD_CAP for compressed ones).
    RECORD_ERRORS_CAP = 1000
    HEADER_SIZE_UP_TO_MAGIC = 17
    RECORD_OVERHEAD_V0 = 14  # the smallest legal BatchLength of any magic (Kafka's first size check)
    NO_TIMESTAMP = -1

cdef extern from "<stdint.h>":
    const int64_t INT64_MAX_C "INT64_MAX"

# Kafka error codes raised from here.
cdef enum:
    CORRUPT_MESSAGE = 2
    MESSAGE_TOO_LARGE = 10
    INVALID_TIMESTAMP = 32
    UNSUPPORTED_COMPRESSION_TYPE = 76
    INVALID_RECORD = 87

# Why a record walk stopped (structural problems: Kafka's InvalidRecordException from DefaultRecord.readFrom
# and the batch's record iterator).
cdef enum:
    W_OK = 0
    W_PREMATURE_EOF = 1      # record length runs past the batch, or fewer records than RecordsCount
    W_STRUCTURE = 2          # a varint or field does not fit its record
    W_HEADER_COUNT = 3       # negative or impossible header count
    W_HEADER_KEY = 4         # negative header key size
    W_SIZE_MISMATCH = 5      # the fields do not fill the record's declared length exactly
    W_REMAINING = 6          # bytes left after RecordsCount records
    W_OFFSET_DELTA = 7       # offset deltas not 0..n-1
    W_RECORD_SIZE = 8        # negative record length

# Per-record rule violations (Kafka's ApiRecordError: the batch fails, every failing record is listed).
cdef enum:
    BAD_KEY = 1        # keyless record on a compacted topic
    BAD_TS_RANGE = 2   # CreateTime outside [now - before.max, now + after.max]
    BAD_TS_TYPE = 3    # producer set the LogAppendTime attribute


class InvalidRecordError(ValueError):
    """Batch fails validation. `.code` is the Kafka error code to return; `.record_errors` lists
    (batch_index, message) of the failing records when the failure is per record (ProduceResponse
    v8+ RecordErrors), else is empty."""

    def __init__(self, code, message="", record_errors=None):
        super().__init__(message or f"invalid record batch (error {code})")
        self.code = code
        self.record_errors = record_errors if record_errors is not None else []


cdef int read_varlong(const uint8_t* buf, Py_ssize_t end, Py_ssize_t* pos, int64_t* out,
                      int max_bytes) noexcept nogil:
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


cdef inline int _varint(const uint8_t* buf, Py_ssize_t end, Py_ssize_t* pos, int64_t* out) noexcept nogil:
    """A zig-zag int32 (Kafka's ByteUtils.readVarint), widened to int64 for the callers' arithmetic."""
    if read_varlong(buf, end, pos, out, 5) < 0:
        return -1
    out[0] = <int32_t>out[0]
    return 0


cdef object _view(buf):
    if isinstance(buf, (bytes, bytearray)):
        return buf
    return memoryview(buf).cast("B")


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli) of data, continuing from a finished crc (0 to start): the C code in
    crc32c.h (SSE4.2 instruction when the CPU has it, slicing-by-8 otherwise)."""
    cdef const uint8_t[:] v = _view(data)
    cdef Py_ssize_t n = len(v)
    return fk_crc32c(<uint32_t>crc, &v[0] if n else NULL, <size_t>n)


def _crc32c_portable(data, crc=0):
    """The slicing-by-8 path whatever the CPU (tests compare it with the instruction path)."""
    cdef const uint8_t[:] v = _view(data)
    cdef Py_ssize_t n = len(v)
    return fk_crc32c_portable(<uint32_t>crc, &v[0] if n else NULL, <size_t>n)


def _crc32c_uses_hw():
    """True when crc32c() runs on the SSE4.2 `crc32` instruction."""
    return fk_crc32c_uses_hw() != 0


cdef inline uint32_t _batch_crc(const uint8_t* p, Py_ssize_t size) noexcept nogil:
    """CRC-32C a v2 batch should carry: bytes 21..size (attributes onward)."""
    return fk_crc32c(0, p + 21, <size_t>(size - 21))


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
    if pos < 0 or _varint(&v[0] if len(v) else NULL, len(v), &p, &out) < 0:
        raise InvalidRecordError(CORRUPT_MESSAGE, "malformed varint")
    return out, p


def decode_varlong(buf, Py_ssize_t pos):
    cdef const uint8_t[:] v = _view(buf)
    cdef int64_t out
    cdef Py_ssize_t p = pos
    if pos < 0 or read_varlong(&v[0] if len(v) else NULL, len(v), &p, &out, 10) < 0:
        raise InvalidRecordError(CORRUPT_MESSAGE, "malformed varlong")
    return out, p


# -- header objects ---------------------------------------------------------------------------------
cdef class BatchHeader:
    def __repr__(self):
        return (f"BatchHeader(position={self.position}, size={self.size}, base_offset={self.base_offset}, "
                f"last_offset={self.last_offset}, records={self.record_count}, attributes={self.attributes})")


cdef BatchHeader _header(const uint8_t* p, Py_ssize_t position):
    cdef BatchHeader h = BatchHeader.__new__(BatchHeader)
    h.position = position
    h.size = <Py_ssize_t>_i32(p + 8) + LOG_OVERHEAD_C
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
    h.is_transactional = (h.attributes & ATTR_TRANSACTIONAL) != 0
    h.is_control = (h.attributes & ATTR_CONTROL) != 0
    return h


def read_batch_header(buf, Py_ssize_t pos):
    cdef const uint8_t[:] v = _view(buf)
    if pos < 0 or len(v) - pos < HDR:
        raise InvalidRecordError(CORRUPT_MESSAGE, "truncated batch header")
    return _header(&v[pos], pos)


def scan_batches(buf, Py_ssize_t start=0, bint check_crc=True):
    """Walk consecutive batches from start; stop at the first incomplete or corrupt one (Kafka's
    LogSegment.recover: FileLogInputStream size/magic checks, then batch.ensureValid()).
    Returns (headers, valid_bytes_end, error_code)."""
    cdef const uint8_t[:] v = _view(buf)
    cdef Py_ssize_t n = len(v)
    cdef Py_ssize_t pos = start
    cdef Py_ssize_t size
    cdef int32_t blen
    cdef const uint8_t* p
    headers = []
    if start < 0 or start > n:
        raise ValueError(f"scan start {start} outside the buffer of {n} bytes")
    while pos < n:
        if n - pos < HDR:
            return headers, pos, CORRUPT_MESSAGE
        p = &v[pos]
        blen = _i32(p + 8)
        if blen < HDR - LOG_OVERHEAD_C or p[16] != 2:
            return headers, pos, CORRUPT_MESSAGE
        size = <Py_ssize_t>blen + LOG_OVERHEAD_C
        if n - pos < size:
            return headers, pos, CORRUPT_MESSAGE
        if check_crc and _batch_crc(p, size) != <uint32_t>_i32(p + 17):
            return headers, pos, CORRUPT_MESSAGE
        headers.append(_header(p, pos))
        pos += size
    return headers, pos, 0


# -- validation -------------------------------------------------------------------------------------
cdef class BatchInfo:
    def __repr__(self):
        return (f"BatchInfo(batches={self.batch_count}, records={self.record_count}, size={self.size}, "
                f"max_timestamp={self.max_timestamp}, producer_id={self.producer_id})")


cdef struct _Rules:
    int64_t now_ms
    int64_t before_max_ms
    int64_t after_max_ms
    bint create_time      # the topic's message.timestamp.type is CreateTime
    bint compacted
    bint gaps_ok          # offset deltas other than 0..n-1 allowed (the batch is rebuilt: Kafka renumbers)


cdef struct _BadRecord:
    int32_t index
    int32_t kind
    int64_t timestamp
    int64_t key_size      # for Kafka's DefaultRecord.toString in the LogAppendTime message
    int64_t value_size


cdef struct _Walk:
    int64_t max_ts          # largest record timestamp (NO_TIMESTAMP if none)
    int32_t bad_records     # records failing a per-record rule
    bint any_bad_ts         # one of them is a timestamp failure (decides the batch's error code)
    int why                 # W_OK, or the structural problem that stopped the walk
    int32_t at              # record index where it stopped
    bint gapped             # an offset delta other than its index was seen (rules.gaps_ok)


cdef inline bint _ts_out_of_range(int64_t ts, const _Rules* r) noexcept nogil:
    """Kafka's recordHasInvalidTimestamp, with Java's wrapping long arithmetic."""
    cdef int64_t diff = <int64_t>(<uint64_t>r.now_ms - <uint64_t>ts)
    return diff > r.before_max_ms or <int64_t>(<uint64_t>0 - <uint64_t>diff) > r.after_max_ms


cdef inline int _record_rule(int64_t ts, bint has_key, bint batch_log_append, const _Rules* r) noexcept nogil:
    """Kafka's validateKey then validateTimestamp for one record: 0 or a BAD_* kind."""
    if r.compacted and not has_key:
        return BAD_KEY
    if r.create_time and ts != NO_TIMESTAMP:
        return BAD_TS_RANGE if _ts_out_of_range(ts, r) else 0
    if batch_log_append:
        return BAD_TS_TYPE
    return 0


cdef int _walk_records(const uint8_t* p, Py_ssize_t end, int32_t count, int64_t base_ts, int64_t header_max_ts,
                       bint batch_log_append, const _Rules* rules, _Walk* w,
                       _BadRecord* bad, int32_t bad_cap) noexcept nogil:
    """Walk the `count` records of an uncompressed batch body p[0:end] the way Kafka's
    DefaultRecord.readFrom does, applying the per-record rules. Returns 0 when the records parse
    (rule failures counted in w, the first bad_cap of them stored in bad), -1 with w.why/w.at set
    when they do not. A record's timestamp is the batch MaxTimestamp under LOG_APPEND_TIME."""
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t rec_end
    cdef int64_t length, ts_delta, off_delta, klen, vlen, hcount, hk, hv, ts
    cdef int32_t i, j
    cdef int kind
    w.max_ts = NO_TIMESTAMP
    w.bad_records = 0
    w.any_bad_ts = False
    w.why = W_OK
    w.at = 0
    w.gapped = False
    for i in range(count):
        w.at = i
        if _varint(p, end, &pos, &length) < 0:
            w.why = W_PREMATURE_EOF if pos >= end else W_STRUCTURE
            return -1
        if length < 0:
            w.why = W_RECORD_SIZE
            return -1
        rec_end = pos + length
        if rec_end > end:
            w.why = W_PREMATURE_EOF
            return -1
        if pos >= rec_end:  # no room for the attributes byte
            w.why = W_STRUCTURE
            return -1
        pos += 1
        if read_varlong(p, rec_end, &pos, &ts_delta, 10) < 0 or _varint(p, rec_end, &pos, &off_delta) < 0:
            w.why = W_STRUCTURE
            return -1
        if off_delta != i:
            if not rules.gaps_ok:
                w.why = W_OFFSET_DELTA
                return -1
            w.gapped = True
        ts = header_max_ts if batch_log_append else <int64_t>(<uint64_t>base_ts + <uint64_t>ts_delta)
        # Negative sizes other than -1 read as null, as Kafka's readFrom does.
        if _varint(p, rec_end, &pos, &klen) < 0 or (klen > 0 and klen > rec_end - pos):
            w.why = W_STRUCTURE
            return -1
        if klen > 0:
            pos += klen
        if _varint(p, rec_end, &pos, &vlen) < 0 or (vlen > 0 and vlen > rec_end - pos):
            w.why = W_STRUCTURE
            return -1
        if vlen > 0:
            pos += vlen
        if _varint(p, rec_end, &pos, &hcount) < 0:
            w.why = W_STRUCTURE
            return -1
        if hcount < 0 or hcount > rec_end - pos:
            w.why = W_HEADER_COUNT
            return -1
        for j in range(hcount):
            if _varint(p, rec_end, &pos, &hk) < 0:
                w.why = W_STRUCTURE
                return -1
            if hk < 0:
                w.why = W_HEADER_KEY
                return -1
            if hk > rec_end - pos:
                w.why = W_STRUCTURE
                return -1
            pos += hk
            if _varint(p, rec_end, &pos, &hv) < 0 or (hv > 0 and hv > rec_end - pos):
                w.why = W_STRUCTURE
                return -1
            if hv > 0:
                pos += hv
        if pos != rec_end:
            w.why = W_SIZE_MISMATCH
            return -1
        kind = _record_rule(ts, klen >= 0, batch_log_append, rules)
        if kind:
            if w.bad_records < bad_cap:
                bad[w.bad_records].index = i
                bad[w.bad_records].kind = kind
                bad[w.bad_records].timestamp = ts
                bad[w.bad_records].key_size = klen if klen > 0 else 0
                bad[w.bad_records].value_size = vlen if vlen > 0 else 0
            w.bad_records += 1
            if kind != BAD_KEY:
                w.any_bad_ts = True
        elif ts > w.max_ts:
            w.max_ts = ts
    if pos != end:
        w.at = count
        w.why = W_REMAINING
        return -1
    return 0


cdef str _why_message(int why, int32_t at, int32_t count):
    if why == W_PREMATURE_EOF:
        return f"Incorrect declared batch size, premature EOF reached (record {at} of {count})"
    if why == W_REMAINING:
        return "Incorrect declared batch size, records still remaining in file"
    if why == W_HEADER_COUNT:
        return f"Found invalid number of record headers (record {at})"
    if why == W_HEADER_KEY:
        return f"Invalid negative header key size (record {at})"
    if why == W_SIZE_MISMATCH:
        return f"Invalid record size: record {at} does not fill its declared length exactly"
    if why == W_OFFSET_DELTA:
        return f"Record {at} has offset delta other than {at}: inner offsets must be 0..RecordsCount-1"
    if why == W_RECORD_SIZE:
        return f"Invalid record size: record {at} has a negative length"
    return f"Found invalid record structure (record {at})"


cdef tuple _record_error(const _BadRecord* bad, int64_t base_offset, const _Rules* r, str tp):
    """(batch_index, message) of one failing record, with Kafka's LogValidator messages
    (validateKey, validateTimestamp; `tp` is the TopicPartition's toString, "topic-partition")."""
    if bad.kind == BAD_KEY:
        msg = f"Compacted topic cannot accept message without key in topic partition {tp}"
    elif bad.kind == BAD_TS_RANGE:
        msg = (f"Timestamp {bad.timestamp} of message with offset {base_offset + bad.index} is out of "
               f"range. The timestamp should be within [{r.now_ms - r.before_max_ms}, "
               f"{r.now_ms + r.after_max_ms}]")
    else:
        msg = (f"Invalid timestamp type in message DefaultRecord(offset={base_offset + bad.index}, "
               f"timestamp={bad.timestamp}, key={bad.key_size} bytes, value={bad.value_size} bytes). "
               f"Producer should not set timestamp type to LogAppendTime.")
    return (bad.index, msg)


cdef object _record_errors_list(const _BadRecord* bad, int32_t n, int64_t base_offset, const _Rules* r, str tp):
    """(batch_index, message) per failing record (see _record_error)."""
    out = []
    cdef int32_t i
    for i in range(n):
        out.append(_record_error(&bad[i], base_offset, r, tp))
    return out


cdef class RecordErrors:
    """The failing records of a batch as a read-only sequence of (batch_index, message), each
    pair made when it is read. A 64 MB batch of 8-byte records can fail 8 million records: the
    validation then costs one C array, and whoever needs every message (the ProduceResponse,
    encoded off the event loop when it is that big) pays for them there."""
    cdef _BadRecord* bad
    cdef Py_ssize_t n
    cdef int64_t base_offset
    cdef _Rules r
    cdef str tp

    def __dealloc__(self):
        PyMem_Free(self.bad)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        cdef Py_ssize_t k = i
        if k < 0:
            k += self.n
        if k < 0 or k >= self.n:
            raise IndexError("record error index out of range")
        return _record_error(&self.bad[k], self.base_offset, &self.r, self.tp)

    def __iter__(self):
        cdef Py_ssize_t k
        for k in range(self.n):
            yield _record_error(&self.bad[k], self.base_offset, &self.r, self.tp)

    def __eq__(self, other):
        return list(self) == list(other) if isinstance(other, (list, tuple, RecordErrors)) else NotImplemented

    def __repr__(self):
        return f"RecordErrors({self.n} records)"


cdef str _java_record_errors(list errors):
    """Java's List<RecordError>.toString, as Kafka's processRecordErrors puts it in the message."""
    return "[" + ", ".join([f"RecordError(batchIndex={i}, message='{m}')" for i, m in errors]) + "]"


cdef object _raise_record_errors(const uint8_t* body, Py_ssize_t body_size, const uint8_t* p, int32_t count,
                                 bint log_append, const _Rules* rules, const _Walk* first, str tp):
    """Error path of one batch whose records (body: the batch's records, decompressed if need be)
    broke a per-record rule: walk again with room for every failing record, then raise as
    Kafka's processRecordErrors does (INVALID_TIMESTAMP if any timestamp failed, else
    INVALID_RECORD), every failing record listed by its index in the batch."""
    cdef _Walk w
    cdef RecordErrors errors = RecordErrors.__new__(RecordErrors)
    # As for compressed batches (STREAM_BAD_CAP): the first RECORD_ERRORS_CAP failing records are
    # listed (Kafka lists all: a 64 MB batch of tiny records would be a 67 MB response of millions
    # of entries); the count in the message stays the true one.
    cdef int32_t cap = first.bad_records if first.bad_records < RECORD_ERRORS_CAP else RECORD_ERRORS_CAP
    cdef _BadRecord* bad = <_BadRecord*>PyMem_Malloc(sizeof(_BadRecord) * cap)
    if bad == NULL:
        raise MemoryError()
    errors.bad = bad  # owned (freed) by `errors` from here on
    if body_size >= NOGIL_BYTES:
        with nogil:
            _walk_records(body, body_size, count, _i64(p + 27), _i64(p + 35), log_append, rules, &w,
                          bad, cap)
    else:
        _walk_records(body, body_size, count, _i64(p + 27), _i64(p + 35), log_append, rules, &w,
                      bad, cap)
    errors.n = w.bad_records if w.bad_records < cap else cap
    errors.base_offset = _i64(p)
    errors.r = rules[0]
    errors.tp = tp
    if w.any_bad_ts:
        raise InvalidRecordError(INVALID_TIMESTAMP,
                                 "One or more records have been rejected due to invalid timestamp", errors)
    raise InvalidRecordError(INVALID_RECORD,
                             f"One or more records have been rejected due to {w.bad_records} record errors in total, "
                             f"and only showing the first three errors at most: {_java_record_errors(errors[:3])}",
                             errors)


cdef int _check_framing(const uint8_t* p, Py_ssize_t remaining, Py_ssize_t pos, Py_ssize_t max_batch_size,
                        bint client_origin, Py_ssize_t* size_out) except -1:
    """Kafka's batch iteration (ByteBufferLogInputStream) and analyzeAndValidateRecords for the batch
    at p: framing, magic, base offset, size limit, CRC, codec. Sets size_out."""
    cdef int32_t blen
    cdef int magic
    cdef Py_ssize_t size
    cdef int codec
    if remaining < HEADER_SIZE_UP_TO_MAGIC:
        # Kafka's iterator ignores a partial trailing batch and UnifiedLog then trims it; here the
        # caller would append the whole buffer, so a torn payload is refused instead.
        raise InvalidRecordError(CORRUPT_MESSAGE, f"Record batch at byte {pos} is truncated ({remaining} bytes)")
    blen = _i32(p + 8)
    if blen < RECORD_OVERHEAD_V0:
        raise InvalidRecordError(CORRUPT_MESSAGE,
                                 f"Record size {blen} is less than the minimum record overhead ({RECORD_OVERHEAD_V0})")
    magic = <int8_t>p[16]
    if magic < 0 or magic > 2:
        raise InvalidRecordError(CORRUPT_MESSAGE, f"Invalid magic found in record: {magic}")
    if magic != 2:
        raise InvalidRecordError(INVALID_RECORD, "Produce requests with version 3 and above are only allowed to "
                                                 "contain record batches with magic version 2")
    size = <Py_ssize_t>blen + LOG_OVERHEAD_C
    if size > remaining:
        raise InvalidRecordError(CORRUPT_MESSAGE, f"Record batch at byte {pos} of {size} bytes is truncated "
                                                  f"({remaining} bytes present)")
    if client_origin and remaining >= HDR and _i64(p) != 0:
        raise InvalidRecordError(INVALID_RECORD, f"The baseOffset of the record batch should be 0, but it is {_i64(p)}")
    if size > max_batch_size:
        raise InvalidRecordError(MESSAGE_TOO_LARGE, f"The record batch size is {size} bytes which exceeds the "
                                                    f"maximum configured value of {max_batch_size}.")
    if size < HDR:
        raise InvalidRecordError(CORRUPT_MESSAGE, f"Record batch is corrupt (the size {size} is smaller than the "
                                                  f"minimum allowed overhead {HDR})")
    cdef uint32_t crc
    if size >= NOGIL_BYTES:
        # A big batch is validated on a worker thread (ReplicaManager.validate_off_loop): the
        # event loop and the other workers run while its CRC is computed.
        with nogil:
            crc = _batch_crc(p, size)
    else:
        crc = _batch_crc(p, size)
    if crc != <uint32_t>_i32(p + 17):
        raise InvalidRecordError(CORRUPT_MESSAGE, f"Record is corrupt (stored crc = {<uint32_t>_i32(p + 17)})")
    codec = _i16(p + 21) & ATTR_COMPRESSION_MASK
    if codec > 4:
        raise InvalidRecordError(UNSUPPORTED_COMPRESSION_TYPE, f"Unknown compression type id {codec}")
    size_out[0] = size
    return 0


cdef int _check_batch(const uint8_t* p, bint client_origin) except -1:
    """Kafka's LogValidator.validateBatch for a client's v2 batch."""
    cdef int32_t lod = _i32(p + 23)
    cdef int32_t count = _i32(p + 57)
    cdef int attrs = _i16(p + 21)
    if not client_origin:
        return 0
    if lod < 0:
        raise InvalidRecordError(INVALID_RECORD, f"Batch has an invalid offset range: [{_i64(p)}, {_i64(p) + lod}]")
    if count <= 0:
        raise InvalidRecordError(INVALID_RECORD, f"Invalid reported count for record batch: {count}")
    if <int64_t>lod + 1 != count:
        raise InvalidRecordError(INVALID_RECORD, f"Inconsistent batch offset range [{_i64(p)}, {_i64(p) + lod}] "
                                                 f"and count of records {count}")
    if attrs & ATTR_CONTROL:
        raise InvalidRecordError(INVALID_RECORD, "Clients are not allowed to write control records")
    if _i64(p + 43) >= 0 and _i32(p + 53) < 0:
        raise InvalidRecordError(INVALID_RECORD, f"Invalid sequence number {_i32(p + 53)} in record batch with "
                                                 f"producerId {_i64(p + 43)}")
    return 0


cdef inline int32_t _last_sequence(int32_t base_sequence, int32_t lod) noexcept nogil:
    """Kafka's DefaultRecordBatch.lastSequence: sequences wrap from Integer.MAX_VALUE to 0."""
    if base_sequence < 0:
        return -1
    return <int32_t>((<int64_t>base_sequence + lod) & 0x7FFFFFFF)


def validate_produce_batches(buf, *, Py_ssize_t max_batch_size, bint compacted, int64_t now_ms,
                             bint timestamp_type_log_append, int64_t timestamp_before_max_ms,
                             int64_t timestamp_after_max_ms, bint client_origin=True, str topic_partition="",
                             bint compressed_checked=False, Py_ssize_t inline_budget=-1,
                             int rebuild_target=-1):
    """Validate a Produce partition payload (record_batch.pyi). Raises InvalidRecordError.

    client_origin=False (coordinator/internal writers, Kafka's AppendOrigin other than CLIENT)
    skips the client-only rules: BaseOffset 0, count/offset-range consistency, no control
    batches, a sequence with every producer id.

    Uncompressed batches are walked record by record in C (structure, offset deltas 0..n-1, keys
    on compacted topics, CreateTime window per record). Compressed batches are stored as sent, and
    always decompressed as a bounded stream and walked with the same rules, as Kafka's
    LogValidator does (fastkafka.storage.batch_decompressor; garbage the codec cannot read is
    UNKNOWN_SERVER_ERROR, code -1, as Kafka answers it). compressed_checked=True skips that walk:
    the caller ran this same validation just before (big batches: off the event loop).
    inline_budget >= 0: batch_decompressor.InlineBudgetExceeded once a compressed batch has
    decompressed to more than that many bytes (the caller then validates it off the loop).
    rebuild_target >= 0: the topic's compression.type codec; a batch in another codec is rebuilt
    after validation (Kafka's buildRecordsAndAssignOffsets), so its offset deltas may be other
    than 0..n-1 (renumbered by the rebuild, as Kafka does); -1 for `producer`.

    A per-record failure raises with `record_errors`, every failing record of the batch by its
    index, and Kafka's messages (`topic_partition`, "topic-partition", goes in the key one).

    offset_of_max_timestamp follows Kafka 3.8+ (KIP-734 follow-up, shallowOffsetOfMaxTimestamp):
    the last offset, relative to the first batch, of the batch holding the max timestamp, for
    compressed and uncompressed batches alike; under LOG_APPEND_TIME the last offset of all."""
    if buf is None:
        raise InvalidRecordError(INVALID_RECORD, "Produce requests must have at least one record batch per partition")
    cdef const uint8_t[:] v = _view(buf)
    cdef Py_ssize_t n = len(v)
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t size = 0
    cdef int32_t count, lod
    cdef int attrs, codec
    cdef bint batch_log_append
    cdef int64_t base_ts, header_max_ts, batch_max_ts, shallow = 0
    cdef const uint8_t* p
    cdef _Rules rules
    cdef _Walk w
    cdef BatchInfo info = BatchInfo.__new__(BatchInfo)
    cdef int walked
    if n == 0:
        raise InvalidRecordError(INVALID_RECORD, "Produce requests must have at least one record batch per partition")
    rules.now_ms = now_ms
    rules.before_max_ms = timestamp_before_max_ms
    rules.after_max_ms = timestamp_after_max_ms
    rules.create_time = not timestamp_type_log_append
    rules.compacted = compacted
    rules.gaps_ok = False

    # Pass 1, Kafka's analyzeAndValidateRecords over every batch: framing, size, CRC.
    while pos < n:
        _check_framing(&v[pos], n - pos, pos, max_batch_size, client_origin, &size)
        pos += size

    # Pass 2, Kafka's LogValidator: batch rules, then records.
    info.batch_count = 0
    info.record_count = 0
    info.max_timestamp = NO_TIMESTAMP
    info.offset_of_max_timestamp = -1
    pos = 0
    while pos < n:
        p = &v[pos]
        size = <Py_ssize_t>_i32(p + 8) + LOG_OVERHEAD_C
        _check_batch(p, client_origin)
        attrs = _i16(p + 21)
        codec = attrs & ATTR_COMPRESSION_MASK
        batch_log_append = (attrs & ATTR_LOG_APPEND_TIME) != 0
        lod = _i32(p + 23)
        count = _i32(p + 57)
        base_ts = _i64(p + 27)
        header_max_ts = _i64(p + 35)
        rules.gaps_ok = rebuild_target >= 0 and codec != rebuild_target
        if codec == 0:
            if size >= NOGIL_BYTES:
                with nogil:
                    walked = _walk_records(p + HDR, size - HDR, count, base_ts, header_max_ts, batch_log_append,
                                           &rules, &w, NULL, 0)
            else:
                walked = _walk_records(p + HDR, size - HDR, count, base_ts, header_max_ts, batch_log_append,
                                       &rules, &w, NULL, 0)
            if walked < 0:
                raise InvalidRecordError(INVALID_RECORD, _why_message(w.why, w.at, count))
            if w.bad_records:
                _raise_record_errors(p + HDR, size - HDR, p, count, batch_log_append, &rules, &w, topic_partition)
            batch_max_ts = w.max_ts
        else:
            batch_max_ts = header_max_ts
            if not compressed_checked:
                if _check_compressed is None:
                    _load_check_compressed()
                _check_compressed(memoryview(buf).cast("B")[pos:pos + size], codec, compacted=compacted, now_ms=now_ms,
                                  timestamp_type_log_append=timestamp_type_log_append,
                                  timestamp_before_max_ms=timestamp_before_max_ms,
                                  timestamp_after_max_ms=timestamp_after_max_ms, topic_partition=topic_partition,
                                  budget=inline_budget, offset_gaps_allowed=rules.gaps_ok)
        if info.batch_count == 0:
            info.base_offset = _i64(p)
            info.first_timestamp = base_ts
            info.producer_id = _i64(p + 43)
            info.producer_epoch = _i16(p + 51)
            info.base_sequence = _i32(p + 53)
            info.attributes = attrs
            info.compression = codec
            info.is_transactional = (attrs & ATTR_TRANSACTIONAL) != 0
            info.is_control = (attrs & ATTR_CONTROL) != 0
            info.partition_leader_epoch = _i32(p + 12)
        if batch_max_ts > info.max_timestamp:
            info.max_timestamp = batch_max_ts
            info.offset_of_max_timestamp = shallow + lod
        info.last_sequence = _last_sequence(_i32(p + 53), lod)
        info.last_offset = _i64(p) + lod
        shallow += <int64_t>lod + 1
        info.batch_count += 1
        info.record_count += count
        pos += size
    if timestamp_type_log_append:
        # Kafka's ValidationResult under LOG_APPEND_TIME: now, at the last offset.
        info.max_timestamp = now_ms
        info.offset_of_max_timestamp = shallow - 1
    info.size = n
    return info


_check_compressed = None


def _load_check_compressed():
    """batch_decompressor imports this module: bind its walker entry point on first use."""
    global _check_compressed
    from fastkafka.storage.batch_decompressor import check_compressed_batch
    _check_compressed = check_compressed_batch


cdef int64_t _records_max_timestamp(const uint8_t* p, Py_ssize_t size, bint* ok) noexcept nogil:
    """Largest record timestamp of an uncompressed batch (timestamps only; ok=False if the records
    do not parse, which validation has already excluded)."""
    cdef Py_ssize_t pos = HDR
    cdef Py_ssize_t rec_end
    cdef int64_t length, ts_delta, ts
    cdef int64_t base_ts = _i64(p + 27)
    cdef int64_t max_ts = NO_TIMESTAMP
    cdef int32_t count = _i32(p + 57)
    cdef int32_t i
    ok[0] = False
    for i in range(count):
        if _varint(p, size, &pos, &length) < 0 or length < 1 or length > size - pos:
            return NO_TIMESTAMP
        rec_end = pos + length
        pos += 1
        if read_varlong(p, rec_end, &pos, &ts_delta, 10) < 0:
            return NO_TIMESTAMP
        ts = <int64_t>(<uint64_t>base_ts + <uint64_t>ts_delta)
        if ts > max_ts:
            max_ts = ts
        pos = rec_end
    ok[0] = True
    return max_ts


cdef void _stamp_timestamps(uint8_t* p, Py_ssize_t size, int64_t log_append_time_ms) noexcept nogil:
    """Kafka's setMaxTimestamp for the batch at p: with log_append_time_ms >= 0 the LOG_APPEND_TIME
    attribute and MaxTimestamp = log_append_time_ms; otherwise CREATE_TIME with MaxTimestamp = the
    records' largest timestamp (header value kept for compressed batches). The CRC is recomputed
    only when those changed."""
    cdef int16_t attrs = _i16(p + 21)
    cdef int16_t new_attrs
    cdef int64_t max_ts = _i64(p + 35)
    cdef bint ok = False
    if log_append_time_ms >= 0:
        new_attrs = attrs | ATTR_LOG_APPEND_TIME
        max_ts = log_append_time_ms
    else:
        new_attrs = attrs & ~ATTR_LOG_APPEND_TIME
        if (attrs & ATTR_COMPRESSION_MASK) == 0 and not (attrs & ATTR_LOG_APPEND_TIME):
            max_ts = _records_max_timestamp(p, size, &ok)
            if not ok:
                max_ts = _i64(p + 35)
        # Under the LogAppendTime attribute every record's timestamp is MaxTimestamp: kept.
    if new_attrs != attrs or max_ts != _i64(p + 35):
        _put_i16(p + 21, new_attrs)
        _put_i64(p + 35, max_ts)
        _put_i32(p + 17, <int32_t>_batch_crc(p, size))


cdef Py_ssize_t _checked_batch_size(const uint8_t* p, Py_ssize_t remaining) except -1:
    cdef Py_ssize_t size
    if remaining < HDR:
        raise InvalidRecordError(CORRUPT_MESSAGE, "truncated batch while assigning offsets")
    size = <Py_ssize_t>_i32(p + 8) + LOG_OVERHEAD_C
    if size < HDR or size > remaining:
        raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt batch while assigning offsets")
    return size


def stamp_timestamps(buf, int64_t log_append_time_ms):
    """In place, for every batch in buf: the part of assign_offsets covered by the CRC (the
    timestamp type attribute, MaxTimestamp, and the CRC when they changed), without the GIL for
    big batches. A caller that ran this on a worker thread (a big produce payload, with the
    log_append_time_ms the append will use) then calls assign_offsets(..., stamped=True), which
    only writes BaseOffset and PartitionLeaderEpoch: O(batches) on the event loop."""
    cdef uint8_t[:] v = memoryview(buf).cast("B")
    cdef Py_ssize_t n = len(v)
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t size
    cdef uint8_t* p
    while pos < n:
        p = &v[pos]
        size = _checked_batch_size(p, n - pos)
        if size >= NOGIL_BYTES:
            with nogil:
                _stamp_timestamps(p, size, log_append_time_ms)
        else:
            _stamp_timestamps(p, size, log_append_time_ms)
        pos += size


def assign_offsets(buf, int64_t base_offset, int32_t partition_leader_epoch, int64_t log_append_time_ms,
                   bint stamped=False):
    """In place, for every batch in buf (Kafka's LogValidator in-place assignment): BaseOffset
    (consecutive across batches) and PartitionLeaderEpoch, neither covered by the CRC. Then
    setMaxTimestamp: with log_append_time_ms >= 0 the LOG_APPEND_TIME attribute and MaxTimestamp =
    log_append_time_ms; otherwise CREATE_TIME with MaxTimestamp = the records' largest timestamp
    (header value kept for compressed batches). The CRC is recomputed only when those changed.
    stamped=True: stamp_timestamps(buf, log_append_time_ms) already ran on these bytes, so the
    timestamps and CRC are left as they are. Returns the next offset after the last batch."""
    cdef uint8_t[:] v = memoryview(buf).cast("B")
    cdef Py_ssize_t n = len(v)
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t size
    cdef int64_t off = base_offset
    cdef uint8_t* p
    while pos < n:
        p = &v[pos]
        size = _checked_batch_size(p, n - pos)
        _put_i64(p, off)
        _put_i32(p + 12, partition_leader_epoch)
        if not stamped:
            _stamp_timestamps(p, size, log_append_time_ms)
        off += <int64_t>_i32(p + 23) + 1
        pos += size
    return off


# -- builder and reader for internal logs ------------------------------------------------------------
cdef class Record:
    def __repr__(self):
        return f"Record(offset={self.offset}, timestamp={self.timestamp}, key={self.key!r}, value={self.value!r})"


cdef class MemoryRecordsBuilder:
    """Builds one uncompressed v2 batch (internal writers and tests; never the produce path).
    Timestamps as Kafka's MemoryRecordsBuilder: BaseTimestamp is the first record's, each record
    stores its delta from it, MaxTimestamp the largest."""

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
        self.first_ts = NO_TIMESTAMP
        self.max_ts = NO_TIMESTAMP

    def append(self, key, value, headers=None, int64_t timestamp_ms=-1):
        cdef int64_t ts = timestamp_ms if timestamp_ms >= 0 else self.timestamp_ms
        if self.count == 0:
            self.first_ts = ts
        if ts > self.max_ts:
            self.max_ts = ts
        rec = bytearray(b"\x00")  # record attributes: unused in v2
        rec += encode_varlong(ts - self.first_ts)
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
        cdef int attrs = (ATTR_TRANSACTIONAL if self.is_transactional else 0) | (ATTR_CONTROL if self.is_control else 0)
        out = bytearray(HDR)
        out += self.body
        cdef uint8_t[:] v = out
        cdef uint8_t* p = &v[0]
        _put_i64(p, self.base_offset)
        _put_i32(p + 8, <int32_t>(len(out) - LOG_OVERHEAD_C))
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
        _put_i32(p + 17, <int32_t>_batch_crc(p, len(out)))
        return bytes(out)


def iter_records(batch):
    """Decode the records of one uncompressed batch (internal logs, control records, tests)."""
    cdef const uint8_t[:] v = _view(batch)
    cdef Py_ssize_t n = len(v)
    if n < HDR:
        raise InvalidRecordError(CORRUPT_MESSAGE, "truncated batch")
    cdef const uint8_t* p = &v[0]
    if _i16(p + 21) & ATTR_COMPRESSION_MASK:
        raise InvalidRecordError(UNSUPPORTED_COMPRESSION_TYPE, "iter_records reads uncompressed batches only")
    cdef Py_ssize_t end = min(n, <Py_ssize_t>_i32(p + 8) + LOG_OVERHEAD_C)
    cdef int64_t base = _i64(p), base_ts = _i64(p + 27), max_ts = _i64(p + 35)
    cdef bint log_append = (_i16(p + 21) & ATTR_LOG_APPEND_TIME) != 0
    cdef int32_t count = _i32(p + 57), i, j
    cdef Py_ssize_t pos = HDR, rec_end
    cdef int64_t length, tsd, offd, klen, vlen, hc, hk, hv
    out = []
    for i in range(count):
        if _varint(p, end, &pos, &length) < 0 or length < 1 or length > end - pos:
            raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt record")
        rec_end = pos + length
        pos += 1
        if read_varlong(p, rec_end, &pos, &tsd, 10) < 0 or _varint(p, rec_end, &pos, &offd) < 0:
            raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt record")
        r = Record.__new__(Record)
        r.offset = base + offd
        r.timestamp = max_ts if log_append else base_ts + tsd
        if _varint(p, rec_end, &pos, &klen) < 0 or klen > rec_end - pos:
            raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt record key")
        r.key = None if klen < 0 else bytes(v[pos:pos + klen])
        pos += max(klen, 0)
        if _varint(p, rec_end, &pos, &vlen) < 0 or vlen > rec_end - pos:
            raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt record value")
        r.value = None if vlen < 0 else bytes(v[pos:pos + vlen])
        pos += max(vlen, 0)
        if _varint(p, rec_end, &pos, &hc) < 0 or hc < 0 or hc > rec_end - pos:
            raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt record headers")
        hs = []
        for j in range(hc):
            if _varint(p, rec_end, &pos, &hk) < 0 or hk < 0 or hk > rec_end - pos:
                raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt header key")
            name = bytes(v[pos:pos + hk]).decode("utf-8", "replace")
            pos += hk
            if _varint(p, rec_end, &pos, &hv) < 0 or hv > rec_end - pos:
                raise InvalidRecordError(CORRUPT_MESSAGE, "corrupt header value")
            hs.append((name, None if hv < 0 else bytes(v[pos:pos + hv])))
            pos += max(hv, 0)
        r.headers = hs
        pos = rec_end
        out.append(r)
    return out


# ---------------------------------------------------------------- streaming record walk
# The records of a compressed batch arrive as decompressed chunks of any size (see
# fastkafka.storage.batch_decompressor); this walker keeps the parse state of one record between
# chunks (a partial varint, bytes of a key/value/header still to skip), so no record and no batch
# is ever held whole: memory is O(1) in the decompressed size. Same rules and messages as
# _walk_records (Kafka's DefaultRecord.readFrom through the batch's streaming iterator).
cdef enum:
    S_LEN = 0
    S_ATTR = 1
    S_TS = 2
    S_OFF = 3
    S_KLEN = 4
    S_KEY = 5
    S_VLEN = 6
    S_VAL = 7
    S_HCOUNT = 8
    S_HK = 9
    S_HKEY = 10
    S_HV = 11
    S_HVAL = 12
    STREAM_BAD_CAP = 1000   # failing records kept for record_errors (the count goes on)


cdef struct _Stream:
    int state
    uint64_t vacc        # varint being read
    int vshift
    int vbytes
    int64_t rec_left     # bytes of the current record not yet consumed
    int64_t skip         # bytes of a key/value/header still to skip
    int64_t ts
    int64_t klen
    int64_t vlen
    int64_t hleft
    int32_t i            # index of the current record
    int32_t count
    int64_t base_ts
    int64_t header_max_ts
    bint log_append


cdef int _end_record(_Stream* s, const _Rules* r, _Walk* w, _BadRecord* bad) noexcept nogil:
    cdef int kind
    if s.rec_left != 0:
        w.why = W_SIZE_MISMATCH
        return -1
    kind = _record_rule(s.ts, s.klen >= 0, s.log_append, r)
    if kind:
        if w.bad_records < STREAM_BAD_CAP:
            bad[w.bad_records].index = s.i
            bad[w.bad_records].kind = kind
            bad[w.bad_records].timestamp = s.ts
            bad[w.bad_records].key_size = s.klen if s.klen > 0 else 0
            bad[w.bad_records].value_size = s.vlen if s.vlen > 0 else 0
        w.bad_records += 1
        if kind != BAD_KEY:
            w.any_bad_ts = True
    elif s.ts > w.max_ts:
        w.max_ts = s.ts
    s.i += 1
    s.state = S_LEN
    return 0


cdef int _stream_field(_Stream* s, int64_t v, const _Rules* r, _Walk* w, _BadRecord* bad) noexcept nogil:
    """A varint field of the current record is complete: check it and move to the next state."""
    cdef int st = s.state
    if st == S_LEN:
        if v < 0:
            w.why = W_RECORD_SIZE
            return -1
        s.rec_left = v
        s.state = S_ATTR
    elif st == S_TS:
        s.ts = s.header_max_ts if s.log_append else <int64_t>(<uint64_t>s.base_ts + <uint64_t>v)
        s.state = S_OFF
    elif st == S_OFF:
        if v != s.i:
            if not r.gaps_ok:
                w.why = W_OFFSET_DELTA
                return -1
            w.gapped = True
        s.state = S_KLEN
    elif st == S_KLEN or st == S_VLEN:
        if v > 0 and v > s.rec_left:
            w.why = W_STRUCTURE
            return -1
        if st == S_KLEN:
            s.klen = v
        else:
            s.vlen = v
        if v > 0:
            s.skip = v
            s.state = st + 1
        else:
            s.state = st + 2
    elif st == S_HCOUNT:
        if v < 0 or v > s.rec_left:
            w.why = W_HEADER_COUNT
            return -1
        s.hleft = v
        if v == 0:
            return _end_record(s, r, w, bad)
        s.state = S_HK
    elif st == S_HK:
        if v < 0:
            w.why = W_HEADER_KEY
            return -1
        if v > s.rec_left:
            w.why = W_STRUCTURE
            return -1
        if v > 0:
            s.skip = v
            s.state = S_HKEY
        else:
            s.state = S_HV
    elif st == S_HV:
        if v > 0 and v > s.rec_left:
            w.why = W_STRUCTURE
            return -1
        if v > 0:
            s.skip = v
            s.state = S_HVAL
        else:
            s.hleft -= 1
            if s.hleft == 0:
                return _end_record(s, r, w, bad)
            s.state = S_HK
    return 0


cdef int _stream_whole_record(_Stream* s, const uint8_t* p, Py_ssize_t pos, Py_ssize_t rec_end,
                              const _Rules* r, _Walk* w, _BadRecord* bad) noexcept nogil:
    """Fast path of _stream_feed: record s.i lies whole in p[pos:rec_end] (its length varint read):
    the checks of _walk_records, in the buffer, then _end_record."""
    cdef int64_t ts_delta, off_delta, hcount, hk, hv
    if pos >= rec_end:
        w.why = W_STRUCTURE
        return -1
    pos += 1
    if read_varlong(p, rec_end, &pos, &ts_delta, 10) < 0 or _varint(p, rec_end, &pos, &off_delta) < 0:
        w.why = W_STRUCTURE
        return -1
    if off_delta != s.i:
        if not r.gaps_ok:
            w.why = W_OFFSET_DELTA
            return -1
        w.gapped = True
    s.ts = s.header_max_ts if s.log_append else <int64_t>(<uint64_t>s.base_ts + <uint64_t>ts_delta)
    if _varint(p, rec_end, &pos, &s.klen) < 0 or (s.klen > 0 and s.klen > rec_end - pos):
        w.why = W_STRUCTURE
        return -1
    if s.klen > 0:
        pos += s.klen
    if _varint(p, rec_end, &pos, &s.vlen) < 0 or (s.vlen > 0 and s.vlen > rec_end - pos):
        w.why = W_STRUCTURE
        return -1
    if s.vlen > 0:
        pos += s.vlen
    if _varint(p, rec_end, &pos, &hcount) < 0:
        w.why = W_STRUCTURE
        return -1
    if hcount < 0 or hcount > rec_end - pos:
        w.why = W_HEADER_COUNT
        return -1
    while hcount > 0:
        hcount -= 1
        if _varint(p, rec_end, &pos, &hk) < 0:
            w.why = W_STRUCTURE
            return -1
        if hk < 0:
            w.why = W_HEADER_KEY
            return -1
        if hk > rec_end - pos:
            w.why = W_STRUCTURE
            return -1
        pos += hk
        if _varint(p, rec_end, &pos, &hv) < 0 or (hv > 0 and hv > rec_end - pos):
            w.why = W_STRUCTURE
            return -1
        if hv > 0:
            pos += hv
    s.rec_left = rec_end - pos
    return _end_record(s, r, w, bad)


cdef int _stream_feed(_Stream* s, const uint8_t* p, Py_ssize_t n, const _Rules* r, _Walk* w,
                      _BadRecord* bad) noexcept nogil:
    """Consume p[0:n]; -1 with w.why/w.at set at the first structural problem. Records lying
    whole in the chunk take the in-buffer fast path; the byte state machine carries the rest."""
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t take, q
    cdef uint8_t b
    cdef int st
    cdef int64_t v
    while pos < n:
        st = s.state
        w.at = s.i
        if st == S_LEN and s.i < s.count and s.vbytes == 0:
            q = pos
            if _varint(p, n, &q, &v) == 0 and 0 <= v <= n - q:
                if _stream_whole_record(s, p, q, q + v, r, w, bad) < 0:
                    return -1
                pos = q + v
                continue
        if st == S_KEY or st == S_VAL or st == S_HKEY or st == S_HVAL:
            take = n - pos
            if take > s.skip:
                take = <Py_ssize_t>s.skip
            pos += take
            s.skip -= take
            s.rec_left -= take
            if s.skip == 0:
                if st == S_HKEY:
                    s.state = S_HV
                elif st == S_HVAL:
                    s.hleft -= 1
                    if s.hleft == 0:
                        if _end_record(s, r, w, bad) < 0:
                            return -1
                    else:
                        s.state = S_HK
                else:
                    s.state = st + 1
            continue
        if st == S_LEN:
            if s.i >= s.count:
                w.at = s.count
                w.why = W_REMAINING
                return -1
        elif s.rec_left <= 0:   # a field past the record's declared length
            w.why = W_STRUCTURE
            return -1
        else:
            s.rec_left -= 1
        b = p[pos]
        pos += 1
        if st == S_ATTR:
            s.state = S_TS
            continue
        s.vacc |= (<uint64_t>(b & 0x7F)) << s.vshift
        s.vbytes += 1
        if b & 0x80:
            s.vshift += 7
            if s.vbytes >= (10 if st == S_TS else 5):
                w.why = W_STRUCTURE
                return -1
            continue
        v = <int64_t>((s.vacc >> 1) ^ (-(<int64_t>(s.vacc & 1))))
        if st != S_TS:
            v = <int32_t>v
        s.vacc = 0
        s.vshift = 0
        s.vbytes = 0
        if _stream_field(s, v, r, w, bad) < 0:
            return -1
    return 0


cdef class RecordStreamWalker:
    """Kafka's record iteration over one compressed batch's decompressed records, fed in chunks
    (feed releases the GIL). Raises InvalidRecordError as validate_produce_batches does: a
    structural problem at once, per-record rule failures (record_errors, the first 1000 listed)
    from finish()."""
    cdef _Stream s
    cdef _Rules r
    cdef _Walk w
    cdef _BadRecord* bad
    cdef int64_t base_offset
    cdef readonly int64_t fed

    def __cinit__(self, *, int32_t count, int64_t base_offset, int64_t base_timestamp, int64_t max_timestamp,
                  bint batch_log_append, bint compacted, int64_t now_ms, bint timestamp_type_log_append,
                  int64_t timestamp_before_max_ms, int64_t timestamp_after_max_ms,
                  bint offset_gaps_allowed=False):
        self.bad = <_BadRecord*>PyMem_Malloc(sizeof(_BadRecord) * STREAM_BAD_CAP)
        if self.bad == NULL:
            raise MemoryError()
        self.s.state = S_LEN
        self.s.vacc = 0
        self.s.vshift = 0
        self.s.vbytes = 0
        self.s.rec_left = 0
        self.s.skip = 0
        self.s.i = 0
        self.s.count = count
        self.s.base_ts = base_timestamp
        self.s.header_max_ts = max_timestamp
        self.s.log_append = batch_log_append
        self.r.now_ms = now_ms
        self.r.before_max_ms = timestamp_before_max_ms
        self.r.after_max_ms = timestamp_after_max_ms
        self.r.create_time = not timestamp_type_log_append
        self.r.compacted = compacted
        self.r.gaps_ok = offset_gaps_allowed
        self.w.gapped = False
        self.w.max_ts = NO_TIMESTAMP
        self.w.bad_records = 0
        self.w.any_bad_ts = False
        self.w.why = W_OK
        self.w.at = 0
        self.base_offset = base_offset
        self.fed = 0

    def __dealloc__(self):
        PyMem_Free(self.bad)

    @property
    def records(self):
        """Records fully walked so far."""
        return self.s.i

    @property
    def max_timestamp(self):
        return self.w.max_ts

    @property
    def gapped(self):
        """An offset delta other than its record's index was walked (offset_gaps_allowed)."""
        return self.w.gapped

    def feed(self, data):
        cdef const uint8_t[:] v = _view(data)
        cdef Py_ssize_t n = len(v)
        cdef int rc
        if n == 0:
            return
        if self.w.why != W_OK:
            raise InvalidRecordError(INVALID_RECORD, _why_message(self.w.why, self.w.at, self.s.count))
        with nogil:
            rc = _stream_feed(&self.s, &v[0], n, &self.r, &self.w, self.bad)
        self.fed += n
        if rc < 0:
            raise InvalidRecordError(INVALID_RECORD, _why_message(self.w.why, self.w.at, self.s.count))

    def finish(self, str topic_partition=""):
        """The stream ended: fewer records than RecordsCount is a premature EOF; then the
        per-record rule failures, as Kafka's processRecordErrors."""
        if self.w.why != W_OK:
            raise InvalidRecordError(INVALID_RECORD, _why_message(self.w.why, self.w.at, self.s.count))
        if self.s.i < self.s.count or self.s.state != S_LEN:
            raise InvalidRecordError(INVALID_RECORD, _why_message(W_PREMATURE_EOF, self.s.i, self.s.count))
        if not self.w.bad_records:
            return
        n = self.w.bad_records if self.w.bad_records < STREAM_BAD_CAP else STREAM_BAD_CAP
        errors = _record_errors_list(self.bad, n, self.base_offset, &self.r, topic_partition)
        if self.w.any_bad_ts:
            raise InvalidRecordError(INVALID_TIMESTAMP,
                                     "One or more records have been rejected due to invalid timestamp", errors)
        raise InvalidRecordError(INVALID_RECORD,
                                 f"One or more records have been rejected due to {self.w.bad_records} record errors "
                                 f"in total, and only showing the first three errors at most: "
                                 f"{_java_record_errors(errors[:3])}", errors)
