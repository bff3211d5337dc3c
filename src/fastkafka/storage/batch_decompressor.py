"""Bounded streaming decompression of a produced batch's records, walked as they come out.

Kafka's LogValidator decompresses every compressed batch of a produce request through a stream
(DefaultRecordBatch.streamingIterator / skipKeyValueIterator) and checks each record: count, offset
deltas 0..n-1, keys on compacted topics, timestamps, nothing left over. This module does the same:

- `iter_decompressed(codec, data)` yields the records bytes in chunks of at most CHUNK bytes,
  reading the compressed input in slices of at most IN_SLICE bytes. Memory is bounded by those
  two sizes and the codec's window, whatever the decompressed size (a 4 GB batch never exists
  whole). Invariant: no call here allocates in proportion to the decompressed size.
- `check_compressed_batch(...)` feeds the chunks to the native RecordStreamWalker
  (record_batch.pyx, GIL released while walking; zlib/lz4/zstd release it while decompressing).

Errors as Kafka 4.4 answers them: a stream the codec cannot read (garbage, bad header, bad
checksum) is Kafka's KafkaException("Failed to decompress record stream") -> UNKNOWN_SERVER_ERROR
(-1) without an error message (raised here as InvalidRecordError(DECOMPRESS_FAILED)); a stream
that ends early is EOF -> INVALID_RECORD "premature EOF"; records left over and the like are
INVALID_RECORD, also without a message in the response (`response_message = None`); offset deltas
other than 0..n-1 are UNKNOWN_SERVER_ERROR (Kafka 4.4 fails while formatting that record error),
unless the batch is rebuilt for the topic's compression.type (`offset_gaps_allowed`: Kafka then
renumbers them).
Per-record rule failures (keys, timestamps) keep their messages and record_errors. Bytes after the end of the compressed
stream are ignored, as Java's GZIPInputStream/KafkaLZ4BlockInputStream/ZstdInputStream do.

Snappy: Kafka (snappy-java SnappyInputStream) reads the xerial framing; raw snappy is accepted as
the cleaner does. Each xerial block's declared length is checked before it is decompressed; a
raw snappy stream is one block, refused beyond RAW_SNAPPY_MAX decompressed bytes.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

import cramjam
import lz4.frame  # type: ignore[import-untyped]
import zstandard

from fastkafka._native import record_batch as _rb

GZIP, SNAPPY, LZ4, ZSTD = 1, 2, 3, 4
CHUNK = 256 * 1024
IN_SLICE = 64 * 1024
RAW_SNAPPY_MAX = 64 * 1024 * 1024
XERIAL_BLOCK_MAX = 64 * 1024 * 1024   # snappy-java writes 32 KiB blocks; far above any real one
DECOMPRESS_FAILED = -1                  # Errors.UNKNOWN_SERVER_ERROR
_XERIAL_MAGIC = b"\x82SNAPPY\x00"
_I32 = struct.Struct(">i")
_HDR = 61


class InlineBudgetExceeded(Exception):
    """The records decompress to more than the caller's inline budget: validate off the loop."""


class DecompressError(Exception):
    """The codec cannot read the stream (Kafka: "Failed to decompress record stream")."""


def _gzip(data: memoryview) -> Iterator[bytes]:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for i in range(0, len(data), IN_SLICE):
        buf: bytes | memoryview = data[i:i + IN_SLICE]
        while buf and not d.eof:
            out = d.decompress(buf, CHUNK)
            if out:
                yield out
            buf = d.unconsumed_tail
        if d.eof:
            return


def _lz4(data: memoryview) -> Iterator[bytes]:
    # Kafka's KafkaLZ4BlockInputStream reads independent blocks only ("Dependent block stream is
    # unsupported"): a frame with linked blocks is refused as Kafka refuses it.
    if len(data) >= 5 and bytes(data[:4]) == b"\x04\x22\x4d\x18" and not data[4] & 0x20:
        raise DecompressError("Dependent block stream is unsupported")
    d = lz4.frame.LZ4FrameDecompressor()
    for i in range(0, len(data), IN_SLICE):
        buf: bytes | memoryview = data[i:i + IN_SLICE]
        while True:
            out = d.decompress(buf, max_length=CHUNK)
            buf = b""
            if out:
                yield out
            if d.eof or d.needs_input:
                break
        if d.eof:
            return


def _zstd(data: memoryview) -> Iterator[bytes]:
    with zstandard.ZstdDecompressor().stream_reader(data, read_size=IN_SLICE, closefd=False) as r:
        while True:
            out = r.read(CHUNK)
            if not out:
                return
            yield out


def _raw_snappy_len(block: memoryview | bytes) -> int:
    n = shift = 0
    for i in range(min(5, len(block))):
        b = block[i]
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n
        shift += 7
    raise DecompressError("bad snappy length")


def _snappy_block(block: memoryview | bytes, limit: int) -> bytes:
    if _raw_snappy_len(block) > limit:
        raise DecompressError("snappy block too large")
    return bytes(cramjam.snappy.decompress_raw(bytes(block)))


def _snappy(data: memoryview) -> Iterator[bytes]:
    if bytes(data[:8]) != _XERIAL_MAGIC:
        yield _snappy_block(data, RAW_SNAPPY_MAX)
        return
    pos = 16
    while pos + 4 <= len(data):
        (n,) = _I32.unpack_from(data, pos)
        pos += 4
        if n < 0 or pos + n > len(data):
            return  # a torn block: the stream ends (EOF), the walker decides
        yield _snappy_block(data[pos:pos + n], XERIAL_BLOCK_MAX)
        pos += n


_CODECS = {GZIP: _gzip, SNAPPY: _snappy, LZ4: _lz4, ZSTD: _zstd}


def iter_decompressed(codec: int, data: bytes | bytearray | memoryview) -> Iterator[bytes]:
    """The records bytes of a batch whose attributes name `codec`, in bounded chunks.
    Raises DecompressError when the codec cannot read the stream."""
    gen = _CODECS[codec](memoryview(data).cast("B"))
    while True:
        try:
            chunk = next(gen)
        except StopIteration:
            return
        except DecompressError:
            raise
        except Exception as e:  # zlib.error, RuntimeError (lz4), ZstdError, cramjam's errors
            raise DecompressError(str(e)) from e
        yield chunk


def check_compressed_batch(batch: memoryview, codec: int, *, compacted: bool, now_ms: int,
                           timestamp_type_log_append: bool, timestamp_before_max_ms: int,
                           timestamp_after_max_ms: int, topic_partition: str, budget: int = -1,
                           offset_gaps_allowed: bool = False) -> None:
    """Walk one compressed v2 batch (header already validated) as Kafka's LogValidator does.
    Raises record_batch.InvalidRecordError with Kafka's code; InlineBudgetExceeded as soon as
    more than `budget` bytes (>= 0) came out of the codec."""
    hdr = bytes(batch[:_HDR])
    base_offset, = struct.unpack_from(">q", hdr, 0)
    attrs, = struct.unpack_from(">h", hdr, 21)
    base_ts, max_ts = struct.unpack_from(">qq", hdr, 27)
    count, = struct.unpack_from(">i", hdr, 57)
    walker = _rb.RecordStreamWalker(
        count=count, base_offset=base_offset, base_timestamp=base_ts, max_timestamp=max_ts,
        batch_log_append=bool(attrs & 0x08), compacted=compacted, now_ms=now_ms,
        timestamp_type_log_append=timestamp_type_log_append,
        timestamp_before_max_ms=timestamp_before_max_ms, timestamp_after_max_ms=timestamp_after_max_ms,
        offset_gaps_allowed=offset_gaps_allowed)
    try:
        for chunk in iter_decompressed(codec, batch[_HDR:]):
            walker.feed(chunk)
            if 0 <= budget < walker.fed:
                raise InlineBudgetExceeded()
        walker.finish(topic_partition)
    except DecompressError as e:
        raise _no_message(_rb.InvalidRecordError(DECOMPRESS_FAILED, f"Failed to decompress record stream: {e}")) from None
    except _rb.InvalidRecordError as e:
        if e.record_errors:
            raise  # Kafka's RecordValidationException: code, message and record errors answered
        if "offset delta" in str(e):
            # Kafka 4.4 collects the offset mismatch as a record error, then fails formatting it
            # (the in-place path's PartialDefaultRecord has no key: UnsupportedOperationException),
            # so the client gets UNKNOWN_SERVER_ERROR.
            e.code = DECOMPRESS_FAILED
        raise _no_message(e) from None


def _no_message(e: Exception) -> Exception:
    """Kafka answers an InvalidRecordException thrown while iterating a compressed batch (and any
    unexpected error) with the code only: ProduceResponse's ErrorMessage is null. The exception
    keeps its text for the broker's log; `response_message` is what the client gets."""
    e.response_message = None  # type: ignore[attr-defined]
    return e
