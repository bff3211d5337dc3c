"""Recompression to a topic's `compression.type` (Kafka's LogValidator
.validateMessagesAndAssignOffsetsCompressed / buildRecordsAndAssignOffsets, BrokerCompressionType).

Invariants:
- A batch is rebuilt only when the topic's `compression.type` is not `producer` and differs from
  the batch's codec (rebuild_for_config); otherwise it is returned unchanged (same object).
  Inner offset deltas other than 0..n-1 are renumbered by that rebuild, as Kafka does; a
  compressed batch kept in its codec with such deltas is refused by the validator (Kafka 4.4
  answers UNKNOWN_SERVER_ERROR). `needs_rebuild` states Kafka's inPlaceAssignment rule.
- The rebuilt batch keeps base offset, partition leader epoch, timestamp type, transactional and
  control bits, baseTimestamp/maxTimestamp, producer id/epoch, base sequence and record count;
  keys, values, headers and timestamp deltas are copied byte for byte (only offset deltas are
  renumbered, in native code). lastOffsetDelta becomes count-1, codec bits the target's.
- Levels are the topic's `compression.gzip.level` / `compression.lz4.level` /
  `compression.zstd.level` (lz4's default level 9 is the fast compressor, as Kafka's); snappy has
  none.
- Codec libraries release the GIL: a rebuild above `inline_rebuild_bytes(cfg)` of records runs
  whole (validation, decompression, renumbering, compression, stamping) on ReplicaManager's worker
  threads before the append (UnifiedLog.prevalidate, its `Prevalidated.records`); only smaller
  ones run on the event loop, in append_as_leader.
- A rebuild streams: records come out of the source codec in bounded chunks, are walked in nogil
  C and fed to the target's streaming compressor; the decompressed records never exist whole
  (only the gapped-offsets fallback, for old clients, renumbers a whole buffer) and no single
  step holds the GIL for long.
- Control batches written uncompressed (transaction markers) are never compressed (Kafka's
  LogValidator keeps them in place).
- A batch this module cannot parse (bad CRC, undecodable payload) is left for the validator to
  refuse with Kafka's error: this module never turns a corrupt batch into a valid one.
"""
from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import cramjam
import crc32c
import lz4.frame  # type: ignore[import-untyped]
import zstandard

from fastkafka._native import record_batch as _rb
from fastkafka._native import recompress as _native
from fastkafka.storage.batch_decompressor import CHUNK, DecompressError, iter_decompressed
from fastkafka.storage.cleaner_codecs import decompress

if TYPE_CHECKING:
    from fastkafka.storage.log_config import LogConfig

NONE, GZIP, SNAPPY, LZ4, ZSTD = 0, 1, 2, 3, 4
CODECS = {"uncompressed": NONE, "gzip": GZIP, "snappy": SNAPPY, "lz4": LZ4, "zstd": ZSTD}
HEADER = 61
_CONTROL = 0x20
LZ4_DEFAULT_LEVEL = 9
# Records (decompressed bytes) rebuilt on the event loop at most, by target codec: about 1-2 ms
# of codec work on this class of machine (gzip 20-45 MB/s, zstd-3 ~150-300 MB/s, lz4 fast / snappy /
# none ~500 MB/s; lz4 HC levels ~5-30 MB/s). Bigger rebuilds run on ReplicaManager's workers.
INLINE_REBUILD_BYTES = {NONE: 1 << 20, SNAPPY: 1 << 20, LZ4: 1 << 20, ZSTD: 256 << 10, GZIP: 32 << 10}
INLINE_REBUILD_BYTES_LZ4_HC = 16 << 10
_XERIAL_HEADER = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)
_XERIAL_BLOCK = 32 * 1024
_I32 = struct.Struct(">i")
_logger = logging.getLogger(__name__)


def target_codec(compression_type: str) -> int | None:
    """The codec id a topic's `compression.type` forces, None for `producer`."""
    return CODECS.get(compression_type)


def compress(codec: int, data: bytes, level: int | None = None) -> bytes:
    """`data` in the framing Kafka's clients read (as cleaner_codecs), at the topic's level."""
    if codec == NONE:
        return data
    if codec == GZIP:
        lvl = 6 if level is None or level == -1 else level  # Kafka: -1 is zlib's default (6)
        c = zlib.compressobj(lvl, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return c.compress(data) + c.flush()
    if codec == SNAPPY:
        out = [_XERIAL_HEADER]
        for i in range(0, len(data), _XERIAL_BLOCK):
            block = bytes(cramjam.snappy.compress_raw(data[i:i + _XERIAL_BLOCK]))
            out.append(_I32.pack(len(block)))
            out.append(block)
        return b"".join(out)
    if codec == LZ4:
        # Kafka (Lz4BlockOutputStream): the default level (9) is lz4-java's fast compressor, any
        # other level its high compressor at that level (liblz4's HC from 3 up).
        lvl = 0 if level is None or level == LZ4_DEFAULT_LEVEL else level
        return bytes(lz4.frame.compress(data, compression_level=lvl,
                                        block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=False,
                                        content_checksum=False, store_size=False))
    if codec == ZSTD:
        return bytes(zstandard.ZstdCompressor(level=3 if level is None else level).compress(data))
    raise ValueError(f"unknown compression codec {codec}")


def level_for(cfg: LogConfig, codec: int) -> int | None:
    if codec == GZIP:
        return cfg.compression_gzip_level
    if codec == LZ4:
        return cfg.compression_lz4_level
    if codec == ZSTD:
        return cfg.compression_zstd_level
    return None


def will_rebuild(cfg: LogConfig, records: bytes | bytearray | memoryview | None) -> bool:
    """From the first batch's header only: the topic forces a codec other than the batch's (and
    the batch is not an uncompressed control batch). The gapped-offsets rebuild of a same-codec
    batch is not decided here (Kafka refuses those, see batch_decompressor)."""
    target = target_codec(cfg.compression_type)
    if target is None or records is None or len(records) < HEADER:
        return False
    mv = memoryview(records)
    if mv[16] != 2:
        return False
    attrs = int.from_bytes(mv[21:23], "big")
    source = attrs & 7
    return source != target and not (attrs & _CONTROL and source == NONE)


def inline_rebuild_bytes(cfg: LogConfig) -> int:
    """Decompressed bytes of records this topic's rebuild may take on the event loop."""
    target = target_codec(cfg.compression_type)
    if target is None:
        return 0
    if target == LZ4 and cfg.compression_lz4_level != LZ4_DEFAULT_LEVEL:
        return INLINE_REBUILD_BYTES_LZ4_HC
    return INLINE_REBUILD_BYTES[target]


def rebuild_batch(batch: bytes | bytearray | memoryview, target: int, level: int | None = None) -> bytearray:
    """One v2 batch re-encoded with codec `target` and offset deltas 0..n-1 (see module doc).
    ValueError when the batch cannot be decoded.

    Streams: the records come out of the source codec in CHUNK-sized pieces (batch_decompressor),
    are walked natively (offset deltas) and go straight into the target's streaming compressor,
    so the decompressed records never exist whole and no single step holds the GIL for long (a
    one-shot lz4 decompression of 64 MiB holds it ~50 ms). Records with gapped offset deltas
    (old clients only) take the whole-buffer path that renumbers them."""
    mv = memoryview(batch).cast("B")
    if len(mv) < HEADER or mv[16] != 2:
        raise ValueError("not a v2 record batch")
    attrs = int.from_bytes(mv[21:23], "big")
    count = int.from_bytes(mv[57:61], "big", signed=True)
    source = attrs & 7
    out = bytearray(mv[:HEADER])
    try:
        streamed = _stream_rebuild(mv, source, target, level, count, out)
    except DecompressError as e:
        raise ValueError(str(e)) from None
    if not streamed:
        del out[HEADER:]
        payload = bytes(mv[HEADER:])
        plain = decompress(source, payload) if source != NONE else payload
        if not _native.records_contiguous(plain, count):
            plain = _native.renumber_offset_deltas(plain, count)
        out += compress(target, plain, level)
    out[21:23] = ((attrs & ~7) | target).to_bytes(2, "big")
    out[23:27] = (max(count - 1, 0)).to_bytes(4, "big", signed=True)
    _native.seal_batch(out)
    return out


def _plain_chunks(mv: memoryview, source: int) -> Iterator[bytes | memoryview]:
    if source == NONE:
        for i in range(HEADER, len(mv), CHUNK):
            yield mv[i:i + CHUNK]
    else:
        yield from iter_decompressed(source, mv[HEADER:])


class _Snappy:
    """Kafka's xerial framing (snappy-java SnappyOutputStream) written block by block."""

    def __init__(self) -> None:
        self.pending = bytearray()
        self.out: list[bytes] = [_XERIAL_HEADER]

    def compress(self, chunk: bytes | memoryview) -> bytes:
        self.pending += chunk
        while len(self.pending) >= _XERIAL_BLOCK:
            self._block(self.pending[:_XERIAL_BLOCK])
            del self.pending[:_XERIAL_BLOCK]
        return b""

    def _block(self, data: bytes | bytearray) -> None:
        block = bytes(cramjam.snappy.compress_raw(bytes(data)))
        self.out.append(_I32.pack(len(block)))
        self.out.append(block)

    def flush(self) -> bytes:
        if self.pending:
            self._block(self.pending)
        out, self.out = b"".join(self.out), []
        return out


def _compressor(target: int, level: int | None) -> object:
    if target == GZIP:
        lvl = 6 if level is None or level == -1 else level
        return zlib.compressobj(lvl, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    if target == ZSTD:
        return zstandard.ZstdCompressor(level=3 if level is None else level).compressobj()
    if target == LZ4:
        c = lz4.frame.LZ4FrameCompressor(
            block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=False, content_checksum=False,
            compression_level=0 if level is None or level == LZ4_DEFAULT_LEVEL else level)
        return c
    if target == SNAPPY:
        return _Snappy()
    raise ValueError(f"unknown compression codec {target}")


def _stream_rebuild(mv: memoryview, source: int, target: int, level: int | None, count: int,
                    out: bytearray) -> bool:
    """Append the target's payload to `out` piece by piece (each append a short GIL hold; a
    growing bytearray is realloc'd, not copied whole); False when the offset deltas are gapped."""
    walker = _rb.RecordStreamWalker(
        count=count, base_offset=0, base_timestamp=0, max_timestamp=0, batch_log_append=False,
        compacted=False, now_ms=0, timestamp_type_log_append=True, timestamp_before_max_ms=0,
        timestamp_after_max_ms=0, offset_gaps_allowed=True)
    comp: Any = None
    if target == LZ4:
        comp = _compressor(target, level)
        out += comp.begin()
    elif target != NONE:
        comp = _compressor(target, level)
    try:
        for chunk in _plain_chunks(mv, source):
            walker.feed(chunk)
            if walker.gapped:
                return False
            out += chunk if comp is None else comp.compress(chunk)
        walker.finish()
    except _rb.InvalidRecordError as e:
        raise ValueError(str(e)) from None
    if walker.gapped:
        return False
    if comp is not None:
        out += comp.flush()
    return True


def needs_rebuild(batch: bytes | bytearray | memoryview, target: int | None) -> bool:
    """Kafka's rule for one v2 batch: a forced codec differing from the batch's, or (compressed
    result) inner offsets not 0..n-1. ValueError when the records cannot be decoded."""
    mv = memoryview(batch)
    attrs = int.from_bytes(mv[21:23], "big")
    source = attrs & 7
    if attrs & _CONTROL and source == NONE:
        return False
    if target is not None and source != target:
        return True
    final = source if target is None else target
    if final == NONE:
        return False  # uncompressed batches get offsets assigned in place, gaps or not
    count = int.from_bytes(mv[57:61], "big", signed=True)
    plain = decompress(source, bytes(mv[HEADER:]))
    return not _native.records_contiguous(plain, count)


def _crc_ok(mv: memoryview) -> bool:
    return crc32c.crc32c(mv[21:]) == int.from_bytes(mv[17:21], "big")


def rebuild_for_config(cfg: LogConfig, records: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
    """`records` (one Produce partition's v2 batches) with each batch rebuilt as the topic's
    `compression.type` requires; the same object when nothing changes. Only a forced codec
    triggers work here: with `producer`, batches are stored as sent (the offset-delta rebuild
    for `producer` topics is left to the validator, which decompresses anyway)."""
    target = target_codec(cfg.compression_type)
    if target is None:
        return records
    mv = memoryview(records)
    pos, out, changed = 0, [], False
    while pos + HEADER <= len(mv):
        size = 12 + int.from_bytes(mv[pos + 8:pos + 12], "big", signed=True)
        batch = mv[pos:pos + size]
        pos += size
        attrs = int.from_bytes(batch[21:23], "big") if len(batch) >= HEADER else 0
        if len(batch) < HEADER or batch[16] != 2 or (attrs & 7) == target or attrs & _CONTROL and not attrs & 7:
            # Kafka does not compress control batches written uncompressed (transaction markers).
            out.append(batch)
            continue
        if not _crc_ok(batch):
            return records  # the validator refuses it with CORRUPT_MESSAGE
        try:
            out.append(rebuild_batch(batch, target, level_for(cfg, target)))
        except (ValueError, zlib.error, RuntimeError, zstandard.ZstdError, DecompressError):
            return records
        changed = True
    if not changed:
        return records
    if pos < len(mv):
        out.append(mv[pos:])
    if len(out) == 1:
        return out[0]  # the rebuilt bytearray itself: a join would copy it whole holding the GIL
    return b"".join(out)


class RebuiltInfo:
    """The validator's BatchInfo of the batch as sent, seen through the rebuilt batch: size,
    codec and (when offset deltas were renumbered) last offset / last sequence / shallow offset
    of the max timestamp come from the rebuilt header; every other field is unchanged."""

    def __init__(self, info: object, rebuilt: bytes | bytearray | memoryview) -> None:
        self._info = info
        self.size = len(rebuilt)
        mv = memoryview(rebuilt)
        old_last = getattr(info, "last_offset")
        if getattr(info, "batch_count") == 1:
            self.compression = int.from_bytes(mv[21:23], "big") & 7
            self.attributes = int.from_bytes(mv[21:23], "big")
            self.last_offset = getattr(info, "base_offset") + int.from_bytes(mv[23:27], "big", signed=True)
            delta = self.last_offset - old_last
            seq = getattr(info, "last_sequence")
            self.last_sequence = seq if seq < 0 else (seq + delta) % (1 << 31)
            om = getattr(info, "offset_of_max_timestamp")
            self.offset_of_max_timestamp = om + delta if om == old_last else om

    def __getattr__(self, name: str) -> object:
        return getattr(self._info, name)


def check_rebuilt_size(cfg: LogConfig, records: bytes | bytearray | memoryview, topic_partition: object) -> None:
    """Kafka's re-check after recompression (UnifiedLog.append, messageSizeMaybeChanged): each
    rebuilt batch against max.message.bytes -> MESSAGE_TOO_LARGE (RecordTooLargeException).
    Kafka 4.4's ReplicaManager answers it without an error message (hasCustomErrorMessage is
    false; checked against Apache 4.4 in tests/interop/test_topic_compression_type.py): Kafka's
    text, missing space included, goes to our log only."""
    from fastkafka.protocol.errors import Errors, KafkaError
    mv = memoryview(records)
    pos = 0
    while pos + HEADER <= len(mv):
        size = 12 + int.from_bytes(mv[pos + 8:pos + 12], "big", signed=True)
        if size > cfg.max_message_bytes:
            _logger.debug("Message batch size is %d bytes in append topartition %s which exceeds the maximum "
                          "configured size of %d.", size, topic_partition, cfg.max_message_bytes)
            err = KafkaError(Errors.MESSAGE_TOO_LARGE)
            err.message = None  # type: ignore[assignment]
            raise err
        pos += size
