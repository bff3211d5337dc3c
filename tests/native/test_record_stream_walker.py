"""RecordStreamWalker: the streaming record walk of compressed batches gives the same answers as
the in-buffer walk of uncompressed ones, whatever the chunking of its input."""
from __future__ import annotations

import random
import time

import pytest

from fastkafka._native import record_batch as rb
from fastkafka._native.record_batch import encode_varint, encode_varlong

INT64_MAX = (1 << 63) - 1


def _record(i: int, *, key: bytes | None = b"k", value: bytes = b"v", off: int | None = None, ts: int = 0,
            headers: list[tuple[bytes, bytes | None]] = ()) -> bytes:  # type: ignore[assignment]
    body = b"\x00" + encode_varlong(ts) + encode_varint(i if off is None else off)
    body += encode_varint(-1) if key is None else encode_varint(len(key)) + key
    body += encode_varint(len(value)) + value + encode_varint(len(headers))
    for hk, hv in headers:
        body += encode_varint(len(hk)) + hk + (encode_varint(-1) if hv is None else encode_varint(len(hv)) + hv)
    return encode_varint(len(body)) + body


def _walker(count: int, *, compacted: bool = False, before: int = INT64_MAX, now: int | None = None) -> rb.RecordStreamWalker:
    now = int(time.time() * 1000) if now is None else now
    return rb.RecordStreamWalker(count=count, base_offset=0, base_timestamp=now, max_timestamp=now,
                                 batch_log_append=False, compacted=compacted, now_ms=now,
                                 timestamp_type_log_append=False, timestamp_before_max_ms=before,
                                 timestamp_after_max_ms=INT64_MAX)


def _run(data: bytes, count: int, chunks: list[int] | None = None, **kw: object) -> rb.RecordStreamWalker:
    w = _walker(count, **kw)  # type: ignore[arg-type]
    pos = 0
    for n in chunks or [len(data)]:
        w.feed(data[pos:pos + n])
        pos += n
    w.feed(data[pos:])
    w.finish("t-0")
    return w


def _splits(n: int, rng: random.Random) -> list[int]:
    out = []
    while n > 0:
        k = rng.randint(1, 7)
        out.append(k)
        n -= k
    return out


RECS = b"".join(_record(i, key=b"key%d" % i, value=b"x" * (i * 37), headers=[(b"h", b"v"), (b"", None)])
                for i in range(20))


def test_valid_records_any_chunking() -> None:
    rng = random.Random(1)
    for _ in range(50):
        w = _run(RECS, 20, _splits(len(RECS), rng))
        assert w.records == 20 and w.fed == len(RECS)
    w = _walker(20)
    for b in RECS:
        w.feed(bytes([b]))
    w.finish()


@pytest.mark.parametrize("count,msg", [(21, "premature EOF"), (19, "records still remaining")])
def test_count_mismatch(count: int, msg: str) -> None:
    with pytest.raises(rb.InvalidRecordError, match=msg) as e:
        _run(RECS, count, _splits(len(RECS), random.Random(2)))
    assert e.value.code == 87


def test_truncated_stream_is_premature_eof() -> None:
    with pytest.raises(rb.InvalidRecordError, match="premature EOF"):
        _run(RECS[:-3], 20)


def test_offset_delta() -> None:
    data = _record(0) + _record(1, off=5)
    with pytest.raises(rb.InvalidRecordError, match="offset delta") as e:
        _run(data, 2, [1] * len(data))
    assert e.value.code == 87


def test_structure_errors_match_the_buffer_walk() -> None:
    """The same bytes give the same message uncompressed (validate_produce_batches) and streamed."""
    cases = [
        encode_varint(-5),                                     # negative record length
        encode_varint(3) + b"\x00\x00\x00\x00",                  # fields past the record
        encode_varint(8) + _record(0)[1:] + b"\x00\x00",         # record longer than its fields
    ]
    from tests.native.test_record_batch import build  # the uncompressed reference
    for data in cases:
        with pytest.raises(rb.InvalidRecordError) as streamed:
            _run(data, 1)
        buf = bytearray(build(1, compression=0))
        # Swap the records section and fix size and CRC.
        import struct
        body = bytes(buf[:61]) + data
        body = body[:8] + struct.pack(">i", len(body) - 12) + body[12:]
        crc = rb.crc32c(body[21:])
        body = body[:17] + struct.pack(">I", crc) + body[21:]
        with pytest.raises(rb.InvalidRecordError) as whole:
            rb.validate_produce_batches(body, max_batch_size=1 << 20, compacted=False, now_ms=int(time.time() * 1000),
                                        timestamp_type_log_append=False, timestamp_before_max_ms=INT64_MAX,
                                        timestamp_after_max_ms=INT64_MAX)
        assert str(streamed.value) == str(whole.value)


def test_keyless_records_listed_on_compacted_topic() -> None:
    data = b"".join(_record(i, key=None if i % 3 == 0 else b"k") for i in range(9))
    with pytest.raises(rb.InvalidRecordError) as e:
        _run(data, 9, [2] * (len(data) // 2), compacted=True)
    assert e.value.code == 87
    assert [i for i, _m in e.value.record_errors] == [0, 3, 6]
    assert "Compacted topic cannot accept message without key in topic partition t-0" in e.value.record_errors[0][1]


def test_old_timestamp_is_invalid_timestamp() -> None:
    now = int(time.time() * 1000)
    data = _record(0) + _record(1, ts=-10 * 86_400_000)
    with pytest.raises(rb.InvalidRecordError) as e:
        _run(data, 2, now=now, before=86_400_000)
    assert e.value.code == 32 and [i for i, _ in e.value.record_errors] == [1]
