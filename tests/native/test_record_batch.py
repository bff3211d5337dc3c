"""RecordBatch v2 native code against an independent encoder/decoder (kafka-python's
DefaultRecordBatchBuilder / DefaultRecordBatch): validation codes, offset assignment, scans."""
from __future__ import annotations

import struct
import time

import crc32c
import pytest
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from fastkafka._native import record_batch as rb

LONG_MAX = 2**63 - 1


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def build(n: int = 5, *, compression: int = 0, key: bytes | None = b"k", ts: int | None = None,
          producer_id: int = -1, base_sequence: int = -1) -> bytes:
    t = now_ms() if ts is None else ts
    b = DefaultRecordBatchBuilder(magic=2, compression_type=compression, is_transactional=False,
                                  producer_id=producer_id, producer_epoch=0 if producer_id >= 0 else -1,
                                  base_sequence=base_sequence, batch_size=1 << 24)
    for i in range(n):
        b.append(i, timestamp=t + i, key=key, value=b"value-%d" % i, headers=[("h", b"x"), ("n", None)])
    return bytes(b.build())


def validate(buf: bytes, **kw: object) -> rb.BatchInfo:
    args: dict[str, object] = dict(max_batch_size=1 << 20, compacted=False, now_ms=now_ms(),
                                   timestamp_type_log_append=False, timestamp_before_max_ms=LONG_MAX,
                                   timestamp_after_max_ms=3_600_000)
    args.update(kw)
    return rb.validate_produce_batches(buf, **args)  # type: ignore[arg-type]


def code_of(buf: bytes, **kw: object) -> int:
    with pytest.raises(rb.InvalidRecordError) as e:
        validate(buf, **kw)
    return e.value.code


@pytest.mark.parametrize("compression", [0, 1, 2, 3, 4])
def test_valid_batches_of_every_codec(compression: int) -> None:
    info = validate(build(7, compression=compression, producer_id=9, base_sequence=3))
    assert (info.batch_count, info.record_count, info.compression) == (1, 7, compression)
    assert (info.producer_id, info.base_sequence, info.last_sequence) == (9, 3, 9)


def test_crc_matches_independent_implementation() -> None:
    assert rb.crc32c(b"123456789") == 0xE3069283 == crc32c.crc32c(b"123456789")
    buf = build(3)
    assert struct.unpack_from(">I", buf, 17)[0] == rb.crc32c(buf[21:])


@pytest.mark.parametrize("damage,code", [
    ("crc", 2), ("magic", 43), ("truncated", 2), ("count", 2), ("codec", 76), ("length", 2),
])
def test_corruptions_get_kafkas_codes(damage: str, code: int) -> None:
    buf = bytearray(build(4))
    if damage == "crc":
        buf[-1] ^= 0xFF
    elif damage == "magic":
        buf[16] = 1
    elif damage == "truncated":
        buf = buf[:-5]
    elif damage == "count":
        struct.pack_into(">i", buf, 57, 9)
        struct.pack_into(">I", buf, 17, crc32c.crc32c(bytes(buf[21:])))
    elif damage == "codec":
        struct.pack_into(">h", buf, 21, 6)
        struct.pack_into(">I", buf, 17, crc32c.crc32c(bytes(buf[21:])))
    elif damage == "length":
        struct.pack_into(">i", buf, 8, 20)
    assert code_of(bytes(buf)) == code


def test_size_compaction_and_timestamp_rules() -> None:
    assert code_of(build(50), max_batch_size=200) == 10  # MESSAGE_TOO_LARGE
    assert code_of(build(3, key=None), compacted=True) == 87  # INVALID_RECORD: keyless on compacted
    validate(build(3, key=None))  # fine on a delete-policy topic
    old = build(2, ts=now_ms() - 10 * 86_400_000)
    assert code_of(old, timestamp_before_max_ms=86_400_000) == 32  # INVALID_TIMESTAMP
    assert code_of(build(2, ts=now_ms() + 7_200_000)) == 32  # beyond after.max.ms (1 h)
    validate(old, timestamp_type_log_append=True)  # LogAppendTime topics ignore client timestamps
    assert code_of(b"") == 87


def test_assign_offsets_in_place_keeps_crc_valid_and_stamps_log_append_time() -> None:
    two = bytearray(build(3) + build(2))
    assert rb.assign_offsets(two, 100, 7, -1) == 105
    first = DefaultRecordBatch(bytes(two[:len(build(3))]))
    assert first.validate_crc() and first.base_offset == 100 and [r.offset for r in first] == [100, 101, 102]
    hs, end, err = rb.scan_batches(bytes(two))
    assert (end, err) == (len(two), 0)
    assert [(h.base_offset, h.last_offset, h.partition_leader_epoch) for h in hs] == [(100, 102, 7), (103, 104, 7)]
    one = bytearray(build(2))
    rb.assign_offsets(one, 0, 1, 1_700_000_000_000)
    d = DefaultRecordBatch(bytes(one))
    assert d.validate_crc() and d.timestamp_type == 1
    assert [r.timestamp for r in rb.iter_records(bytes(one))] == [1_700_000_000_000] * 2


def test_scan_stops_at_torn_or_corrupt_tail() -> None:
    a, b = build(2), build(3)
    hs, end, err = rb.scan_batches(a + b[:-1])
    assert (len(hs), end, err) == (1, len(a), 2)
    bad = bytearray(a + b)
    bad[-2] ^= 1
    hs, end, err = rb.scan_batches(bytes(bad))
    assert (len(hs), end, err) == (1, len(a), 2)
    assert rb.scan_batches(bytes(bad), check_crc=False)[2] == 0


def test_builder_and_reader_round_trip_through_kafka_python() -> None:
    m = rb.MemoryRecordsBuilder(base_offset=5, timestamp_ms=1_700_000_000_000, producer_id=3, producer_epoch=1,
                                base_sequence=0)
    m.append(b"a", None, [("x", b"1"), ("y", None)])
    m.append(None, b"b", timestamp_ms=1_700_000_000_009)
    data = m.build()
    d = DefaultRecordBatch(data)
    assert d.validate_crc() and d.producer_id == 3
    assert [(r.offset, r.key, r.value, r.timestamp) for r in d] == [
        (5, b"a", None, 1_700_000_000_000), (6, None, b"b", 1_700_000_000_009)]
    got = rb.iter_records(data)
    assert [(r.offset, r.key, r.value, r.headers) for r in got] == [
        (5, b"a", None, [("x", b"1"), ("y", None)]), (6, None, b"b", [])]


@pytest.mark.parametrize("v", [0, 1, -1, 63, -64, 2**31 - 1, -(2**31)])
def test_zigzag_varints(v: int) -> None:
    assert rb.decode_varint(rb.encode_varint(v), 0) == (v, len(rb.encode_varint(v)))
    assert rb.decode_varlong(rb.encode_varlong(v * 2**20), 0)[0] == v * 2**20
    assert rb.encode_varint(-1) == b"\x01" and rb.encode_varint(1) == b"\x02"
