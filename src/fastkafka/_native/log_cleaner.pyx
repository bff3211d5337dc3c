# cython: language_level=3
"""Log cleaner hot paths (Kafka's SkimpyOffsetMap, Cleaner.buildOffsetMap and the record filter of
MemoryRecords.filterTo as the Cleaner uses it).

Invariants:
- `OffsetMap` is Kafka's SkimpyOffsetMap: a fixed array of `slots` entries of (16-byte key hash,
  int64 offset), open addressing with Kafka's probe sequence; an all-zero hash marks an empty slot.
  The hash is MurmurHash3 x64-128 (Kafka uses MD5: any 128-bit hash serves; a collision merges two
  keys, the risk Kafka accepts too). The map is owned by one cleaner thread at a time.
- `build_offset_map` and `clean_records` only ever consume whole batches; the per-record loops run
  in C without the GIL. Python is called per batch only for compressed batches (codec) and for
  batches with a producer id (the active-producer lookup).
- A cleaned batch keeps its base offset, last offset delta, producer fields and partition leader
  epoch (so offsets keep gaps and producer state reloads the same); records are re-encoded with
  timestamp deltas against the new base timestamp (the first retained record's, or the delete
  horizon when attribute bit 6 is set).
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset

from fastkafka._native.bigendian cimport _i16, _i32, _i64, _put_i16, _put_i32, _put_i64
from fastkafka._native.includes.crc32c cimport fk_crc32c
from fastkafka._native.record_batch cimport read_varlong

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    static inline uint64_t fk_rotl64(uint64_t x, int8_t r) { return (x << r) | (x >> (64 - r)); }
    static inline uint64_t fk_fmix64(uint64_t k) {
        k ^= k >> 33; k *= 0xff51afd7ed558ccdULL; k ^= k >> 33; k *= 0xc4ceb9fe1a85ec53ULL; k ^= k >> 33;
        return k;
    }
    /* MurmurHash3_x64_128 (public domain, Austin Appleby), seed 0, little-endian block reads. */
    static void fk_murmur3_128(const uint8_t* data, size_t len, uint8_t* out) {
        const size_t nblocks = len / 16;
        uint64_t h1 = 0, h2 = 0;
        const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
        size_t i;
        for (i = 0; i < nblocks; i++) {
            uint64_t k1, k2;
            memcpy(&k1, data + i * 16, 8); memcpy(&k2, data + i * 16 + 8, 8);
            k1 *= c1; k1 = fk_rotl64(k1, 31); k1 *= c2; h1 ^= k1;
            h1 = fk_rotl64(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
            k2 *= c2; k2 = fk_rotl64(k2, 33); k2 *= c1; h2 ^= k2;
            h2 = fk_rotl64(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
        }
        const uint8_t* tail = data + nblocks * 16;
        uint64_t k1 = 0, k2 = 0;
        switch (len & 15) {
        case 15: k2 ^= ((uint64_t)tail[14]) << 48;
        case 14: k2 ^= ((uint64_t)tail[13]) << 40;
        case 13: k2 ^= ((uint64_t)tail[12]) << 32;
        case 12: k2 ^= ((uint64_t)tail[11]) << 24;
        case 11: k2 ^= ((uint64_t)tail[10]) << 16;
        case 10: k2 ^= ((uint64_t)tail[9]) << 8;
        case 9: k2 ^= ((uint64_t)tail[8]);
            k2 *= c2; k2 = fk_rotl64(k2, 33); k2 *= c1; h2 ^= k2;
        case 8: k1 ^= ((uint64_t)tail[7]) << 56;
        case 7: k1 ^= ((uint64_t)tail[6]) << 48;
        case 6: k1 ^= ((uint64_t)tail[5]) << 40;
        case 5: k1 ^= ((uint64_t)tail[4]) << 32;
        case 4: k1 ^= ((uint64_t)tail[3]) << 24;
        case 3: k1 ^= ((uint64_t)tail[2]) << 16;
        case 2: k1 ^= ((uint64_t)tail[1]) << 8;
        case 1: k1 ^= ((uint64_t)tail[0]);
            k1 *= c1; k1 = fk_rotl64(k1, 31); k1 *= c2; h1 ^= k1;
        }
        h1 ^= len; h2 ^= len; h1 += h2; h2 += h1;
        h1 = fk_fmix64(h1); h2 = fk_fmix64(h2); h1 += h2; h2 += h1;
        memcpy(out, &h1, 8); memcpy(out + 8, &h2, 8);
        /* An all-zero hash marks an empty slot: never produce one. */
        if (h1 == 0 && h2 == 0) out[0] = 1;
    }
    """
    void fk_murmur3_128(const uint8_t* data, size_t length, uint8_t* out) noexcept nogil

cdef enum:
    HASH_SIZE = 16
    ENTRY_SIZE = 24          # hash + int64 offset
    BATCH_OVERHEAD = 61
    LOG_OVERHEAD = 12
    ATTR_COMPRESSION = 0x07
    ATTR_LOG_APPEND = 0x08
    ATTR_TXN = 0x10
    ATTR_CONTROL = 0x20
    ATTR_DELETE_HORIZON = 0x40

# Batch retention decisions (Kafka's RecordFilter.BatchRetention).
cdef enum:
    DELETE = 0
    DELETE_EMPTY = 1
    RETAIN_EMPTY = 2


class CorruptRecordError(ValueError):
    """A batch or record in a segment does not parse (the cleaner aborts that log)."""


cdef class OffsetMap:
    """Kafka's SkimpyOffsetMap: key hash -> latest offset, at most `slots` entries."""
    cdef uint8_t* _bytes
    cdef readonly Py_ssize_t slots
    cdef readonly Py_ssize_t memory
    cdef Py_ssize_t _entries
    cdef int64_t _latest_offset
    cdef public int64_t lookups, probes

    def __cinit__(self, Py_ssize_t memory):
        if memory < ENTRY_SIZE:
            raise ValueError(f"offset map memory {memory} is smaller than one entry")
        self.slots = memory // ENTRY_SIZE
        self.memory = memory
        self._bytes = <uint8_t*>calloc(self.slots, ENTRY_SIZE)
        if self._bytes == NULL:
            raise MemoryError()
        self._latest_offset = -1

    def __dealloc__(self):
        free(self._bytes)

    cdef inline Py_ssize_t _position_of(self, const uint8_t* h, int attempt) noexcept nogil:
        # Kafka: probe = readInt(hash, min(attempt, hashSize - 4)) + max(0, attempt - hashSize + 4)
        cdef int at = attempt if attempt < HASH_SIZE - 4 else HASH_SIZE - 4
        cdef int64_t probe = <int64_t>_i32(h + at) + (attempt - HASH_SIZE + 4 if attempt > HASH_SIZE - 4 else 0)
        if probe < 0:
            probe = -probe
        return <Py_ssize_t>(probe % self.slots) * ENTRY_SIZE

    cdef int put_hash(self, const uint8_t* h, int64_t offset) noexcept nogil:
        """1 if a new key was added, 0 if updated, -1 if the map is full."""
        cdef int attempt = 0
        cdef Py_ssize_t pos
        cdef uint8_t* e
        if self._entries >= self.slots:
            return -1
        self.lookups += 1
        while True:
            pos = self._position_of(h, attempt)
            e = self._bytes + pos
            if _is_empty(e):
                memcpy(e, h, HASH_SIZE)
                _put_i64(e + HASH_SIZE, offset)
                self._entries += 1
                self._latest_offset = offset if offset > self._latest_offset else self._latest_offset
                return 1
            if memcmp16(e, h):
                _put_i64(e + HASH_SIZE, offset)
                self._latest_offset = offset if offset > self._latest_offset else self._latest_offset
                return 0
            attempt += 1
            self.probes += 1

    cdef int64_t get_hash(self, const uint8_t* h) noexcept nogil:
        cdef int attempt = 0
        cdef Py_ssize_t pos
        cdef uint8_t* e
        cdef int64_t n = 0
        self.lookups += 1
        while n < self.slots:
            pos = self._position_of(h, attempt)
            e = self._bytes + pos
            if _is_empty(e):
                return -1
            if memcmp16(e, h):
                return _i64(e + HASH_SIZE)
            attempt += 1
            n += 1
            self.probes += 1
        return -1

    def put(self, key, int64_t offset):
        cdef const uint8_t[::1] k = memoryview(key).cast("B")
        cdef uint8_t h[16]
        fk_murmur3_128(&k[0] if k.shape[0] else <const uint8_t*>b"", <size_t>k.shape[0], h)
        if self.put_hash(h, offset) < 0:
            raise ValueError("Attempt to add a new entry to a full offset map.")

    def get(self, key):
        """The latest offset put for `key`, or -1."""
        cdef const uint8_t[::1] k = memoryview(key).cast("B")
        cdef uint8_t h[16]
        fk_murmur3_128(&k[0] if k.shape[0] else <const uint8_t*>b"", <size_t>k.shape[0], h)
        return self.get_hash(h)

    def clear(self):
        # A fresh calloc of a large block is fresh mmap'd zero pages: memory is only touched
        # where keys land, instead of zeroing (and keeping resident) the whole dedupe buffer.
        cdef uint8_t* fresh
        if self._entries:
            fresh = <uint8_t*>calloc(self.slots, ENTRY_SIZE)
            if fresh == NULL:
                memset(self._bytes, 0, self.slots * ENTRY_SIZE)
            else:
                free(self._bytes)
                self._bytes = fresh
        self._entries = 0
        self._latest_offset = -1
        self.lookups = 0
        self.probes = 0

    @property
    def size(self):
        return self._entries

    @property
    def latest_offset(self):
        return self._latest_offset

    def update_latest_offset(self, int64_t offset):
        self._latest_offset = offset

    @property
    def utilization(self):
        return self._entries / self.slots


cdef inline bint _is_empty(const uint8_t* e) noexcept nogil:
    cdef int i
    for i in range(HASH_SIZE):
        if e[i] != 0:
            return False
    return True


cdef inline bint memcmp16(const uint8_t* a, const uint8_t* b) noexcept nogil:
    cdef int i
    for i in range(HASH_SIZE):
        if a[i] != b[i]:
            return False
    return True


# ------------------------------------------------------------------------------ record parsing
cdef struct _Rec:
    Py_ssize_t start        # first byte after the length varint
    Py_ssize_t end          # one past the record
    int8_t attributes
    int64_t ts_delta
    int64_t offset_delta
    Py_ssize_t after_offset_delta  # key length starts here
    Py_ssize_t key_pos
    int64_t key_len         # -1: null
    int64_t value_len       # -1: null (tombstone)


cdef int _parse_record(const uint8_t* p, Py_ssize_t end, Py_ssize_t* pos, _Rec* r) noexcept nogil:
    """Parse one record at p[pos]; 0 and pos past it, or -1 if malformed."""
    cdef int64_t length, v
    cdef Py_ssize_t q = pos[0]
    if read_varlong(p, end, &q, &length, 5) < 0 or length < 0 or q + length > end:
        return -1
    r.start = q
    r.end = q + length
    if q >= r.end:
        return -1
    r.attributes = <int8_t>p[q]
    q += 1
    if read_varlong(p, r.end, &q, &r.ts_delta, 10) < 0:
        return -1
    if read_varlong(p, r.end, &q, &r.offset_delta, 5) < 0:
        return -1
    r.after_offset_delta = q
    if read_varlong(p, r.end, &q, &r.key_len, 5) < 0:
        return -1
    r.key_pos = q
    if r.key_len >= 0:
        q += r.key_len
        if q > r.end:
            return -1
    if read_varlong(p, r.end, &q, &r.value_len, 5) < 0:
        return -1
    if r.value_len > 0:
        q += r.value_len
        if q > r.end:
            return -1
    pos[0] = r.end
    return 0


cdef inline int _zigzag_size(int64_t v) noexcept nogil:
    cdef uint64_t u = (<uint64_t>v << 1) ^ <uint64_t>(v >> 63)
    cdef int n = 1
    while u >= 0x80:
        u >>= 7
        n += 1
    return n


cdef inline Py_ssize_t _put_zigzag(uint8_t* out, int64_t v) noexcept nogil:
    cdef uint64_t u = (<uint64_t>v << 1) ^ <uint64_t>(v >> 63)
    cdef Py_ssize_t n = 0
    while u >= 0x80:
        out[n] = <uint8_t>((u & 0x7f) | 0x80)
        u >>= 7
        n += 1
    out[n] = <uint8_t>u
    return n + 1


# ------------------------------------------------------------------------------ growable buffer
cdef struct _Buf:
    uint8_t* data
    Py_ssize_t size
    Py_ssize_t cap


cdef int _reserve(_Buf* b, Py_ssize_t extra) noexcept nogil:
    cdef Py_ssize_t want = b.size + extra
    cdef Py_ssize_t cap
    cdef uint8_t* d
    if want <= b.cap:
        return 0
    cap = b.cap * 2 if b.cap else 65536
    while cap < want:
        cap *= 2
    d = <uint8_t*>realloc(b.data, cap)
    if d == NULL:
        return -1
    b.data = d
    b.cap = cap
    return 0


# ------------------------------------------------------------------------------ offset map build
cdef int _map_records(OffsetMap m, const uint8_t* p, Py_ssize_t end, int32_t count, int64_t base_offset,
                      int64_t start_offset, int64_t stop_offset, Py_ssize_t max_entries, bint* full) noexcept nogil:
    """Put every keyed record with start_offset <= offset < stop_offset; stop (full=1) when the
    map holds max_entries. 0, or -1 if a record is malformed."""
    cdef Py_ssize_t pos = 0
    cdef _Rec r
    cdef int32_t i
    cdef uint8_t h[16]
    for i in range(count):
        if _parse_record(p, end, &pos, &r) < 0:
            return -1
        if base_offset + r.offset_delta >= stop_offset:
            return 0
        if r.key_len >= 0 and base_offset + r.offset_delta >= start_offset:
            if m._entries < max_entries:
                fk_murmur3_128(p + r.key_pos, <size_t>r.key_len, h)
                m.put_hash(h, base_offset + r.offset_delta)
            else:
                full[0] = True
                return 0
    return 0


def build_offset_map(OffsetMap m, buf, int64_t start_offset, Py_ssize_t max_entries, aborted, decompress,
                     int64_t stop_offset=0x7FFFFFFFFFFFFFFF):
    """Cleaner.buildOffsetMapForSegment over the whole batches in `buf`: control batches and
    aborted transactional batches (base offset in `aborted`) are skipped; `decompress(codec,
    payload)` returns a compressed batch's records. Nothing at or past `stop_offset` (the first
    uncleanable offset) enters the map. Returns (bytes consumed, map full)."""
    cdef const uint8_t[::1] v = memoryview(buf).cast("B")
    cdef Py_ssize_t n = v.shape[0], pos = 0, size
    cdef const uint8_t* p = &v[0] if n else NULL
    cdef const uint8_t* b
    cdef int64_t base_offset, last_offset
    cdef int attrs, codec, rc
    cdef int32_t count
    cdef bint full = False
    cdef bytes plain
    cdef const uint8_t* rp
    cdef Py_ssize_t rn
    while pos + BATCH_OVERHEAD <= n:
        b = p + pos
        size = <Py_ssize_t>_i32(b + 8) + LOG_OVERHEAD
        if size < BATCH_OVERHEAD:
            raise CorruptRecordError(f"invalid batch size {size} at position {pos}")
        if pos + size > n:
            break
        if b[16] != 2:
            raise CorruptRecordError(f"unsupported record batch magic {b[16]} at position {pos}")
        base_offset = _i64(b)
        last_offset = base_offset + _i32(b + 23)
        attrs = _i16(b + 21)
        count = _i32(b + 57)
        if base_offset >= stop_offset:
            return pos, False
        if not (attrs & ATTR_CONTROL) and not ((attrs & ATTR_TXN) and base_offset in aborted):
            codec = attrs & ATTR_COMPRESSION
            if codec:
                plain = decompress(codec, bytes(v[pos + BATCH_OVERHEAD:pos + size]))
                rp = <const uint8_t*>PyBytes_AS_STRING(plain)
                rn = len(plain)
                with nogil:
                    rc = _map_records(m, rp, rn, count, base_offset, start_offset, stop_offset, max_entries, &full)
            else:
                with nogil:
                    rc = _map_records(m, b + BATCH_OVERHEAD, size - BATCH_OVERHEAD, count, base_offset,
                                      start_offset, stop_offset, max_entries, &full)
            if rc < 0:
                raise CorruptRecordError(f"malformed record in batch at offset {base_offset}")
            if full:
                return pos, True
        if last_offset >= start_offset:
            m._latest_offset = last_offset if last_offset < stop_offset else stop_offset - 1
        pos += size
    return pos, False


# ------------------------------------------------------------------------------ cleaning
cdef struct _Filter:
    int64_t now
    int64_t map_latest
    int64_t base_offset
    int64_t base_ts
    int64_t max_ts
    bint log_append
    bint discard_records
    bint is_control
    bint retain_deletes       # v2: no delete horizon yet, or now < horizon
    # results
    int32_t retained
    bint tombstones
    int64_t first_ts
    int64_t out_max_ts
    int64_t out_offset_of_max_ts


cdef int _filter_records(OffsetMap m, const uint8_t* p, Py_ssize_t end, int32_t count, _Filter* f,
                         _Buf* kept) noexcept nogil:
    """Kafka's shouldRetainRecord over one batch's records: the retained records are copied
    (unchanged bytes from the attributes on) into `kept` as (int64 timestamp, int32 size, bytes
    after the timestamp delta). 0 or -1 (malformed / out of memory)."""
    cdef Py_ssize_t pos = 0
    cdef _Rec r
    cdef int32_t i
    cdef uint8_t h[16]
    cdef int64_t offset, ts, found
    cdef bint keep
    cdef Py_ssize_t tail
    f.retained = 0
    f.tombstones = False
    f.first_ts = -1
    f.out_max_ts = -1
    f.out_offset_of_max_ts = -1
    for i in range(count):
        if _parse_record(p, end, &pos, &r) < 0:
            return -1
        offset = f.base_offset + r.offset_delta
        ts = f.max_ts if f.log_append else f.base_ts + r.ts_delta
        if f.discard_records:
            keep = False
        elif f.is_control:
            keep = True
        elif offset > f.map_latest:
            keep = True
        elif r.key_len < 0:
            keep = False
        else:
            fk_murmur3_128(p + r.key_pos, <size_t>r.key_len, h)
            found = m.get_hash(h)
            keep = offset >= found and (r.value_len >= 0 or f.retain_deletes)
        if not keep:
            continue
        if r.value_len < 0:
            f.tombstones = True
        if f.retained == 0:
            f.first_ts = ts
        if ts > f.out_max_ts:
            f.out_max_ts = ts
            f.out_offset_of_max_ts = offset
        f.retained += 1
        # (ts int64, offset delta int64, attributes byte, tail length int32, tail bytes)
        tail = r.end - r.after_offset_delta
        if _reserve(kept, 21 + tail) < 0:
            return -1
        _put_i64(kept.data + kept.size, ts)
        _put_i64(kept.data + kept.size + 8, r.offset_delta)
        kept.data[kept.size + 16] = <uint8_t>r.attributes
        _put_i32(kept.data + kept.size + 17, <int32_t>tail)
        memcpy(kept.data + kept.size + 21, p + r.after_offset_delta, tail)
        kept.size += 21 + tail
    return 0


cdef int _encode_records(const _Buf* kept, int64_t base_ts, _Buf* out) noexcept nogil:
    """Re-encode the kept records with timestamp deltas against base_ts, appended to out."""
    cdef Py_ssize_t pos = 0, tail, body
    cdef int64_t ts, od
    cdef uint8_t attr
    cdef uint8_t* w
    while pos < kept.size:
        ts = _i64(kept.data + pos)
        od = _i64(kept.data + pos + 8)
        attr = kept.data[pos + 16]
        tail = _i32(kept.data + pos + 17)
        body = 1 + _zigzag_size(ts - base_ts) + _zigzag_size(od) + tail
        if _reserve(out, 10 + body) < 0:
            return -1
        w = out.data + out.size
        w += _put_zigzag(w, body)
        w[0] = attr
        w += 1
        w += _put_zigzag(w, ts - base_ts)
        w += _put_zigzag(w, od)
        memcpy(w, kept.data + pos + 21, tail)
        w += tail
        out.size = w - out.data
        pos += 21 + tail
    return 0


cdef int _append(_Buf* out, const uint8_t* p, Py_ssize_t n) except -1:
    if _reserve(out, n) < 0:
        raise MemoryError()
    memcpy(out.data + out.size, p, n)
    out.size += n
    return 0


cdef void _finish_header(uint8_t* h, Py_ssize_t total) noexcept nogil:
    _put_i32(h + 8, <int32_t>(total - LOG_OVERHEAD))
    _put_i32(h + 17, <int32_t>fk_crc32c(0, h + 21, <size_t>(total - 21)))


def clean_records(OffsetMap m, buf, *, int64_t now, int64_t delete_retention_ms, int64_t upper_bound_offset,
                  txn, last_records_of_active_producers, decompress, compress):
    """Kafka's Cleaner.cleanInto over the whole batches in `buf` (MemoryRecords.filterTo with the
    cleaner's RecordFilter). `txn`: the cleaning's CleanedTransactionMetadata
    (on_batch_read(pid, last_offset) -> aborted, on_control_batch_read(pid, last_offset, type)
    -> discardable; type 0 abort, 1 commit, -1 other, -2 no record);
    `last_records_of_active_producers`: producer id -> (last data offset or -1, producer epoch).
    Returns (bytes consumed, retained bytes, stats dict)."""
    cdef const uint8_t[::1] v = memoryview(buf).cast("B")
    cdef Py_ssize_t n = v.shape[0], pos = 0, size, start
    cdef const uint8_t* p = &v[0] if n else NULL
    cdef const uint8_t* b
    cdef int64_t base_offset, last_offset, pid, horizon, new_base_ts
    cdef int attrs, codec, rc, retention, pepoch
    cdef int32_t count
    cdef bint can_discard, discard_records, has_horizon, need_horizon
    cdef _Filter f
    cdef _Buf kept
    cdef _Buf out
    cdef _Buf recs
    cdef bytes plain, packed
    cdef const uint8_t* rp
    cdef Py_ssize_t rn
    cdef uint8_t* h
    cdef int64_t messages_read = 0, messages_retained = 0
    kept.data = NULL; kept.size = 0; kept.cap = 0
    out.data = NULL; out.size = 0; out.cap = 0
    recs.data = NULL; recs.size = 0; recs.cap = 0
    try:
        while pos + BATCH_OVERHEAD <= n:
            b = p + pos
            size = <Py_ssize_t>_i32(b + 8) + LOG_OVERHEAD
            if size < BATCH_OVERHEAD:
                raise CorruptRecordError(f"invalid batch size {size} at position {pos}")
            if pos + size > n:
                break
            if b[16] != 2:
                raise CorruptRecordError(f"unsupported record batch magic {b[16]} at position {pos}")
            base_offset = _i64(b)
            last_offset = base_offset + _i32(b + 23)
            attrs = _i16(b + 21)
            count = _i32(b + 57)
            pid = _i64(b + 43)
            pepoch = _i16(b + 51)
            has_horizon = (attrs & ATTR_DELETE_HORIZON) != 0
            horizon = _i64(b + 27) if has_horizon else -1
            f.is_control = (attrs & ATTR_CONTROL) != 0
            # checkBatchRetention with Kafka's CleanedTransactionMetadata (`txn`, called only for
            # transactional and control batches): aborted data is discarded; a marker whose
            # transaction has no batch left gets a delete horizon and goes once it has passed.
            can_discard = False
            if f.is_control:
                can_discard = txn.on_control_batch_read(pid, last_offset, _control_type(b, size, count))
                discard_records = can_discard and has_horizon and horizon <= now
            else:
                if attrs & ATTR_TXN:
                    can_discard = txn.on_batch_read(pid, last_offset)
                discard_records = can_discard
            retention = DELETE_EMPTY
            if pid >= 0 and _is_last_record_of_producer(last_records_of_active_producers, pid, last_offset,
                                                        f.is_control, pepoch):
                retention = RETAIN_EMPTY
            elif last_offset + 1 == upper_bound_offset:
                retention = RETAIN_EMPTY
            elif discard_records:
                retention = DELETE
            messages_read += count
            if retention == DELETE:
                pos += size
                continue
            f.now = now
            f.map_latest = m._latest_offset
            f.base_offset = base_offset
            f.base_ts = _i64(b + 27)
            f.max_ts = _i64(b + 35)
            f.log_append = (attrs & ATTR_LOG_APPEND) != 0
            f.discard_records = discard_records
            f.retain_deletes = (not has_horizon) or now < horizon
            kept.size = 0
            codec = attrs & ATTR_COMPRESSION
            if codec:
                plain = decompress(codec, bytes(v[pos + BATCH_OVERHEAD:pos + size]))
                rp = <const uint8_t*>PyBytes_AS_STRING(plain)
                rn = len(plain)
                with nogil:
                    rc = _filter_records(m, rp, rn, count, &f, &kept)
            else:
                with nogil:
                    rc = _filter_records(m, b + BATCH_OVERHEAD, size - BATCH_OVERHEAD, count, &f, &kept)
            if rc < 0:
                raise CorruptRecordError(f"malformed record in batch at offset {base_offset}")
            messages_retained += f.retained
            if f.retained == 0:
                if retention == RETAIN_EMPTY:
                    # DefaultRecordBatch.writeEmptyHeader: no records, no compression, the
                    # original offsets/producer fields, both timestamps = the batch's max.
                    start = out.size
                    _append(&out, b, BATCH_OVERHEAD)
                    h = out.data + start
                    _put_i32(h + 57, 0)
                    _put_i16(h + 21, <int16_t>(attrs & (ATTR_LOG_APPEND | ATTR_TXN | ATTR_CONTROL)))
                    _put_i64(h + 27, f.max_ts)
                    _finish_header(h, BATCH_OVERHEAD)
                pos += size
                continue
            need_horizon = (f.tombstones or (can_discard and f.is_control)) and not has_horizon
            if f.retained == count and not need_horizon:
                _append(&out, b, size)  # writeOriginalBatch
                pos += size
                continue
            # buildRetainedRecordsInto: the same base offset, last offset, producer fields and
            # codec; the base timestamp is the delete horizon if one is set, else the first
            # retained record's timestamp.
            if need_horizon:
                horizon = now + delete_retention_ms
                has_horizon = True
            new_base_ts = horizon if has_horizon else f.first_ts
            recs.size = 0
            with nogil:
                rc = _encode_records(&kept, new_base_ts, &recs)
            if rc < 0:
                raise MemoryError()
            start = out.size
            _append(&out, b, BATCH_OVERHEAD)
            if codec:
                packed = compress(codec, PyBytes_FromStringAndSize(<char*>recs.data, recs.size))
                _append(&out, <const uint8_t*>PyBytes_AS_STRING(packed), len(packed))
            else:
                _append(&out, recs.data, recs.size)
            h = out.data + start
            _put_i16(h + 21, <int16_t>((attrs & ~ATTR_DELETE_HORIZON) | (ATTR_DELETE_HORIZON if has_horizon else 0)))
            _put_i64(h + 27, new_base_ts)
            _put_i64(h + 35, f.max_ts if f.log_append else f.out_max_ts)
            _put_i32(h + 57, f.retained)
            _finish_header(h, out.size - start)
            pos += size
        result = PyBytes_FromStringAndSize(<char*>out.data, out.size) if out.size else b""
        return pos, result, {"messages_read": messages_read, "messages_retained": messages_retained}
    finally:
        free(kept.data)
        free(out.data)
        free(recs.data)


cdef int _control_type(const uint8_t* b, Py_ssize_t size, int32_t count):
    """ControlRecordType of a control batch's first record key (version int16, type int16):
    0 ABORT, 1 COMMIT, -1 other/unparsable, -2 an empty (already cleaned) control batch."""
    cdef Py_ssize_t pos = 0
    cdef _Rec r
    if count <= 0:
        return -2
    if _parse_record(b + BATCH_OVERHEAD, size - BATCH_OVERHEAD, &pos, &r) < 0 or r.key_len < 4:
        return -1
    cdef int t = _i16(b + BATCH_OVERHEAD + r.key_pos + 2)
    return t if t in (0, 1) else -1


cdef bint _is_last_record_of_producer(dict last_records, int64_t pid, int64_t last_offset, bint is_control,
                                      int producer_epoch) except -1:
    """Kafka's isBatchLastRecordOfProducer: the batch holding an active producer's last data
    offset, or (no data offset) its last marker of the current epoch."""
    rec = last_records.get(pid)
    if rec is None:
        return False
    last_data_offset, epoch = rec
    if last_data_offset >= 0:
        return last_offset == last_data_offset
    return is_control and producer_epoch == epoch
