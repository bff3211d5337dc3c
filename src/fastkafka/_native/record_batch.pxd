# RecordBatch v2 (magic 2): the C-level surface of record_batch.pyx for other Cython modules, and
# the layouts of its extension types. Python callers use record_batch.pyi.
#
# Batch header, big-endian, offsets from the start of the batch:
#   BaseOffset int64 @0, BatchLength int32 @8 (bytes after this field), PartitionLeaderEpoch int32 @12,
#   Magic int8 @16, CRC uint32 @17 (CRC-32C of bytes 21..end), Attributes int16 @21,
#   LastOffsetDelta int32 @23, BaseTimestamp int64 @27, MaxTimestamp int64 @35, ProducerId int64 @43,
#   ProducerEpoch int16 @51, BaseSequence int32 @53, RecordsCount int32 @57, records @61.
# Attributes: bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd), bit 3 timestamp type
# (1 = LOG_APPEND_TIME), bit 4 transactional, bit 5 control, bit 6 delete horizon set.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t

cdef enum:
    RECORD_BATCH_OVERHEAD_C = 61  # header bytes before the first record
    LOG_OVERHEAD_C = 12           # BaseOffset + BatchLength
    ATTR_COMPRESSION_MASK = 0x07
    ATTR_LOG_APPEND_TIME = 0x08
    ATTR_TRANSACTIONAL = 0x10
    ATTR_CONTROL = 0x20


# Zig-zag varint at buf[pos[0]:end] of at most max_bytes bytes (5 for int32, 10 for int64).
# 0 with pos advanced, or -1 (truncated or too long) with pos untouched. Never reads past end.
cdef int read_varlong(const uint8_t* buf, Py_ssize_t end, Py_ssize_t* pos, int64_t* out,
                      int max_bytes) noexcept nogil


cdef class BatchHeader:
    """One batch's header fields (see record_batch.pyi)."""
    cdef public Py_ssize_t position, size
    cdef public int64_t base_offset, last_offset, max_timestamp, first_timestamp, producer_id
    cdef public int32_t partition_leader_epoch, base_sequence, record_count
    cdef public int magic, attributes, producer_epoch
    cdef public uint32_t crc
    cdef public bint is_transactional, is_control


cdef class BatchInfo:
    """Summary of a validated Produce payload (see record_batch.pyi)."""
    cdef public int64_t base_offset, last_offset, max_timestamp, offset_of_max_timestamp, first_timestamp
    cdef public int64_t producer_id
    cdef public Py_ssize_t size
    cdef public int32_t batch_count, record_count, base_sequence, last_sequence, partition_leader_epoch
    cdef public int producer_epoch, attributes, compression
    cdef public bint is_transactional, is_control


cdef class Record:
    """One decoded record of an uncompressed batch (internal logs and tests only)."""
    cdef public int64_t offset, timestamp
    cdef public object key, value, headers


cdef class MemoryRecordsBuilder:
    """Accumulates records of one uncompressed batch; body holds the encoded records so far."""
    cdef int64_t base_offset, timestamp_ms, producer_id, max_ts, first_ts
    cdef int producer_epoch
    cdef int32_t base_sequence, partition_leader_epoch, count
    cdef bint is_transactional, is_control
    cdef object body
