"""Contract for record_batch.pyx: RecordBatch v2 (magic 2) hot paths. See
../shared/kafka-protocol/notes/recordbatch.md for the format. Batches stay opaque bytes; this
module is the only place that parses headers or walks records, in native code."""
from collections.abc import Iterator

RECORD_BATCH_OVERHEAD: int  # 61
LOG_OVERHEAD: int  # 12

class InvalidRecordError(ValueError):
    """Batch fails validation. `.code` is the Kafka error code to return, as Kafka 4.x does:
    2 CORRUPT_MESSAGE (CorruptRecordException: bad CRC, batch size below the overhead, invalid
    magic, torn batch), 87 INVALID_RECORD (InvalidRecordException: RecordsCount not matching
    LastOffsetDelta+1, malformed records, offset deltas not 0..n-1, keyless record on a compacted
    topic, control batch or non-zero BaseOffset from a client, magic 0/1, empty payload),
    10 MESSAGE_TOO_LARGE, 32 INVALID_TIMESTAMP, 76 UNSUPPORTED_COMPRESSION_TYPE.
    `.record_errors`: (batch_index, message) per failing record for per-record failures (keys,
    timestamps: ProduceResponse v8+ RecordErrors), else empty."""
    code: int
    record_errors: list[tuple[int, str]]
    def __init__(self, code: int, message: str = "", record_errors: list[tuple[int, str]] | None = None) -> None: ...

def crc32c(data: bytes | bytearray | memoryview, crc: int = 0) -> int: ...
# CRC-32C continuing from a finished crc, in C (crc32c.h): SSE4.2 instruction or slicing-by-8
def encode_varint(v: int) -> bytes: ...  # zig-zag int32
def encode_varlong(v: int) -> bytes: ...  # zig-zag int64
def decode_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]: ...  # (value, new_pos)
def decode_varlong(buf: bytes | memoryview, pos: int) -> tuple[int, int]: ...

class BatchInfo:
    """Summary of one batch or of all batches in a buffer (first/last taken across them)."""
    base_offset: int
    last_offset: int  # base_offset + last_offset_delta of the last batch
    batch_count: int
    record_count: int  # sum of RecordsCount
    size: int  # bytes covered
    max_timestamp: int
    offset_of_max_timestamp: int  # relative to the first batch (the log adds its base offset): Kafka 3.8+'s
    # shallow offset, i.e. the last offset of the batch holding max_timestamp; under LOG_APPEND_TIME the last
    # offset of all, with max_timestamp = now_ms
    first_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    last_sequence: int
    attributes: int
    compression: int
    is_transactional: bool
    is_control: bool
    partition_leader_epoch: int

def validate_produce_batches(
    buf: bytes | bytearray | memoryview,
    *,
    max_batch_size: int,
    compacted: bool,
    now_ms: int,
    timestamp_type_log_append: bool,
    timestamp_before_max_ms: int,
    timestamp_after_max_ms: int,
    client_origin: bool = True,
    topic_partition: str = "",
    compressed_checked: bool = False,
    inline_budget: int = -1,
    rebuild_target: int = -1,
) -> BatchInfo:
    """Validate a Produce partition payload (v3+: exactly one batch is the Kafka rule; the caller
    enforces the count via BatchInfo.batch_count). Checks magic 2, sizes, CRC32C, that
    RecordsCount matches LastOffsetDelta+1 and (uncompressed) that each record parses with
    offset deltas 0..n-1 and (for compacted topics) a non-null key. Timestamps are checked
    against the window for CREATE_TIME, record by record. A compressed batch is always
    decompressed as a bounded stream and walked with the same rules (batch_decompressor; a stream
    the codec cannot read is code -1), unless compressed_checked (the caller validated these bytes
    just before, off the loop); inline_budget >= 0 raises batch_decompressor.InlineBudgetExceeded
    past that many decompressed bytes. Its MaxTimestamp stands for the records. Per-record failures
    raise with `.record_errors` listing every failing record of the batch, with Kafka's messages
    (`topic_partition`, Kafka's "topic-partition", is named in the key one). client_origin=False (Kafka's
    AppendOrigin COORDINATOR/REPLICATION) skips the client-only rules: BaseOffset 0, count vs
    offset range, no control batches, a sequence with every producer id. Raises
    InvalidRecordError with the Kafka code."""

def assign_offsets(
    buf: bytearray | memoryview,
    base_offset: int,
    partition_leader_epoch: int,
    log_append_time_ms: int,
    stamped: bool = False,
) -> int:
    """In place, for every batch in buf: set BaseOffset (consecutive across batches) and
    PartitionLeaderEpoch; when log_append_time_ms >= 0, set the LOG_APPEND_TIME attribute bit and
    MaxTimestamp, else (CREATE_TIME) clear that bit and set MaxTimestamp to the largest record
    timestamp of uncompressed batches (Kafka's setMaxTimestamp); the CRC is recomputed when
    attributes or MaxTimestamp changed. stamped=True: stamp_timestamps(buf, log_append_time_ms)
    already did the timestamp part (on a worker thread): only BaseOffset and PartitionLeaderEpoch
    are written. Returns the next offset after the last batch."""

def stamp_timestamps(buf: bytearray | memoryview, log_append_time_ms: int) -> None:
    """The timestamp part of assign_offsets (attribute, MaxTimestamp, CRC when changed), in place,
    without the GIL for batches of 64 KiB or more: for a worker thread."""

class BatchHeader:
    position: int  # byte offset of the batch within the scanned buffer/file region
    size: int  # total bytes (BatchLength + 12)
    base_offset: int
    last_offset: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    max_timestamp: int
    first_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int
    is_transactional: bool
    is_control: bool

def scan_batches(
    buf: bytes | bytearray | memoryview, start: int = 0, check_crc: bool = True
) -> tuple[list[BatchHeader], int, int]:
    """Walk consecutive batches from `start`. Stops at the first incomplete, corrupt (CRC, magic,
    size) batch. Returns (headers, valid_bytes_end, error_code) where error_code is 0 if the buffer
    ended cleanly at a batch boundary, else the Kafka code of what stopped the scan. Used by log
    recovery (truncate at valid_bytes_end) and by index rebuilds."""

def read_batch_header(buf: bytes | bytearray | memoryview, pos: int) -> BatchHeader: ...

class MemoryRecordsBuilder:
    """Builds one uncompressed v2 batch from Python values. For the low-rate internal writers
    (KRaft metadata records, coordinator records, control markers, tests); never the produce path."""
    def __init__(
        self,
        base_offset: int = 0,
        timestamp_ms: int = -1,
        producer_id: int = -1,
        producer_epoch: int = -1,
        base_sequence: int = -1,
        is_transactional: bool = False,
        is_control: bool = False,
        partition_leader_epoch: int = -1,
    ) -> None: ...
    def append(
        self,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes | None]] | None = None,
        timestamp_ms: int = -1,
    ) -> None: ...
    def build(self) -> bytes: ...

class Record:
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]

def iter_records(batch: bytes | bytearray | memoryview) -> list[Record]:
    """Decode the records of one uncompressed batch (for internal logs, control records,
    compaction and tests). Raises InvalidRecordError(76) if the batch is compressed."""


class RecordStreamWalker:
    """Walks one compressed batch's decompressed records fed in chunks (bounded memory)."""
    fed: int
    records: int
    max_timestamp: int
    gapped: bool
    def __init__(self, *, count: int, base_offset: int, base_timestamp: int, max_timestamp: int,
                 batch_log_append: bool, compacted: bool, now_ms: int, timestamp_type_log_append: bool,
                 timestamp_before_max_ms: int, timestamp_after_max_ms: int,
                 offset_gaps_allowed: bool = False) -> None: ...
    def feed(self, data: bytes | bytearray | memoryview) -> None: ...
    def finish(self, topic_partition: str = "") -> None: ...

class RecordErrors:
    """The failing records of a batch, (batch_index, message) pairs made when read (an
    uncompressed batch's InvalidRecordError.record_errors): len() is cheap, the messages are not."""
    def __len__(self) -> int: ...
    def __getitem__(self, i: int) -> tuple[int, str]: ...
    def __iter__(self) -> Iterator[tuple[int, str]]: ...
