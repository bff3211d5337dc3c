"""RecordBatch v2 native code against an independent encoder/decoder (kafka-python's
DefaultRecordBatchBuilder / DefaultRecordBatch, the `crc32c` package): validation codes as Kafka's
UnifiedLog.analyzeAndValidateRecords + LogValidator return them (cases from LogValidatorTest and
DefaultRecordBatchTest), offset assignment, scans, builder and reader."""
from __future__ import annotations

import os
import struct
import time

import crc32c
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from fastkafka._native import record_batch as rb

LONG_MAX = 2**63 - 1
HOUR = 3_600_000
DAY = 86_400_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def build(n: int = 5, *, compression: int = 0, key: bytes | None = b"k", ts: int | None = None,
          producer_id: int = -1, base_sequence: int = -1, timestamps: list[int] | None = None) -> bytes:
    t = now_ms() if ts is None else ts
    b = DefaultRecordBatchBuilder(magic=2, compression_type=compression, is_transactional=False,
                                  producer_id=producer_id, producer_epoch=0 if producer_id >= 0 else -1,
                                  base_sequence=base_sequence, batch_size=1 << 24)
    for i in range(n):
        b.append(i, timestamp=timestamps[i] if timestamps else t + i, key=key, value=b"value-%d" % i + b"." * 60,
                 headers=[("h", b"x"), ("n", None)])
    return bytes(b.build())


def reseal(buf: bytearray) -> bytes:
    """Recompute the CRC (with the independent crc32c package) after editing covered bytes."""
    struct.pack_into(">I", buf, 17, crc32c.crc32c(bytes(buf[21:])))
    return bytes(buf)


# -- hand-made records: an encoder independent of record_batch's, for malformed inputs ---------------
def zz(v: int) -> bytes:
    u = (v << 1) ^ (v >> 63)
    u &= (1 << 64) - 1
    out = bytearray()
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def record(offset_delta: int, *, ts_delta: int = 0, key: bytes | None = b"k", key_len: int | None = None,
           value: bytes | None = b"v", headers: list[tuple[bytes, bytes | None]] = (),  # type: ignore[assignment]
           header_count: int | None = None, length_adjust: int = 0, raw_headers: bytes | None = None) -> bytes:
    body = b"\x00" + zz(ts_delta) + zz(offset_delta)
    body += zz(key_len if key_len is not None else (-1 if key is None else len(key))) + (key or b"")
    body += zz(-1 if value is None else len(value)) + (value or b"")
    if raw_headers is not None:
        body += raw_headers
    else:
        body += zz(len(headers) if header_count is None else header_count)
        for hk, hv in headers:
            body += zz(len(hk)) + hk + zz(-1 if hv is None else len(hv)) + (hv or b"")
    return zz(len(body) + length_adjust) + body


def batch(records: list[bytes], *, count: int | None = None, lod: int | None = None, base_ts: int | None = None,
          max_ts: int | None = None, attributes: int = 0, base_offset: int = 0, producer_id: int = -1,
          base_sequence: int = -1) -> bytes:
    n = len(records) if count is None else count
    t = now_ms() if base_ts is None else base_ts
    body = b"".join(records)
    head = struct.pack(">qiib", base_offset, 49 + len(body), -1, 2)
    rest = struct.pack(">hiqqqhii", attributes, (n - 1) if lod is None else lod, t, t if max_ts is None else max_ts,
                       producer_id, 0 if producer_id >= 0 else -1, base_sequence, n) + body
    return head + struct.pack(">I", crc32c.crc32c(rest)) + rest


def validate(buf: bytes, **kw: object) -> rb.BatchInfo:
    args: dict[str, object] = dict(max_batch_size=1 << 20, compacted=False, now_ms=now_ms(),
                                   timestamp_type_log_append=False, timestamp_before_max_ms=LONG_MAX,
                                   timestamp_after_max_ms=HOUR)
    args.update(kw)
    return rb.validate_produce_batches(buf, **args)  # type: ignore[arg-type]


def error_of(buf: bytes, **kw: object) -> rb.InvalidRecordError:
    with pytest.raises(rb.InvalidRecordError) as e:
        validate(buf, **kw)
    return e.value


def code_of(buf: bytes, **kw: object) -> int:
    return error_of(buf, **kw).code


# -- CRC-32C ----------------------------------------------------------------------------------------
def test_crc_matches_independent_implementation_at_every_length_and_alignment() -> None:
    assert rb.crc32c(b"123456789") == 0xE3069283 == crc32c.crc32c(b"123456789")
    assert rb.crc32c(b"") == 0 and rb._crc32c_portable(b"") == 0
    data = os.urandom(1100)
    for start in range(9):
        for length in list(range(0, 40)) + [63, 64, 65, 255, 256, 1000]:
            chunk = data[start:start + length]
            want = crc32c.crc32c(chunk)
            assert rb.crc32c(chunk) == want, (start, length)
            assert rb._crc32c_portable(chunk) == want, (start, length)
            assert rb.crc32c(memoryview(data)[start:start + length]) == want
    # Continuation: crc(a || b) == crc(b, crc(a)), as java.util.zip.CRC32C and the crc32c package.
    assert rb.crc32c(data[500:], rb.crc32c(data[:500])) == crc32c.crc32c(data)
    assert rb._crc32c_portable(data[7:], rb._crc32c_portable(data[:7])) == crc32c.crc32c(data)
    buf = build(3)
    assert struct.unpack_from(">I", buf, 17)[0] == rb.crc32c(buf[21:])


def test_crc_uses_the_sse42_instruction_when_the_cpu_has_it() -> None:
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    if " sse4_2" not in flags:
        pytest.skip("no sse4_2 in /proc/cpuinfo: crc32c uses its software fallback (nothing to check)")
    assert rb._crc32c_uses_hw()


# -- validation: accepted batches ---------------------------------------------------------------------
@pytest.mark.parametrize("compression", [0, 1, 2, 3, 4])
def test_valid_batches_of_every_codec(compression: int) -> None:
    info = validate(build(7, compression=compression, producer_id=9, base_sequence=3))
    assert (info.batch_count, info.record_count, info.compression) == (1, 7, compression)
    assert (info.producer_id, info.base_sequence, info.last_sequence) == (9, 3, 9)
    assert (info.base_offset, info.last_offset) == (0, 6)


def test_last_sequence_wraps_like_kafka() -> None:  # DefaultRecordBatchTest.testIncrementSequence
    info = validate(build(3, producer_id=1, base_sequence=2**31 - 2))
    assert info.last_sequence == 0
    assert validate(build(2)).last_sequence == -1


def test_max_batch_size_is_inclusive() -> None:
    buf = build(10)
    validate(buf, max_batch_size=len(buf))
    err = error_of(buf, max_batch_size=len(buf) - 1)
    assert err.code == 10  # MESSAGE_TOO_LARGE


def test_offset_of_max_timestamp_is_the_last_offset_of_the_batch_holding_it() -> None:
    t = now_ms()
    info = validate(build(5, timestamps=[t, t + 50, t + 3, t + 4, t + 5]))
    assert (info.max_timestamp, info.offset_of_max_timestamp) == (t + 50, 4)  # Kafka 3.8+: shallow offset
    two = build(2, timestamps=[t, t + 1]) + build(3, timestamps=[t + 9, t + 2, t + 3])
    info = validate(two)
    assert (info.batch_count, info.record_count, info.max_timestamp, info.offset_of_max_timestamp) == (2, 5, t + 9, 4)
    lat = validate(build(4, ts=t - 10 * DAY), timestamp_type_log_append=True, now_ms=t)
    assert (lat.max_timestamp, lat.offset_of_max_timestamp) == (t, 3)
    compressed = validate(build(3, compression=1, timestamps=[t + 7, t, t]))
    assert (compressed.max_timestamp, compressed.offset_of_max_timestamp) == (t + 7, 2)


def test_null_timestamps_are_accepted_under_create_time() -> None:
    buf = batch([record(i, key=b"k") for i in range(3)], base_ts=-1, max_ts=-1)
    info = validate(buf, timestamp_before_max_ms=1)
    assert info.max_timestamp == -1


def test_negative_key_length_other_than_minus_one_reads_as_null_like_kafka() -> None:
    buf = batch([record(0, key=None, key_len=-5)])
    validate(buf)
    assert code_of(buf, compacted=True) == 87


def test_internal_origin_skips_client_only_rules() -> None:
    m = rb.MemoryRecordsBuilder(base_offset=40, timestamp_ms=now_ms(), is_control=True, producer_id=5,
                                producer_epoch=0, is_transactional=True)
    m.append(b"\x00\x00\x00\x00", b"\x00\x00\x00\x00\x00\x07")
    marker = m.build()
    assert code_of(marker) == 87  # base offset 40, and a control batch: both refused from clients
    info = validate(marker, client_origin=False)
    assert info.is_control and info.base_offset == 40 and info.last_offset == 40


# -- validation: Kafka's codes for broken batches ------------------------------------------------------
@pytest.mark.parametrize("damage,code", [
    ("crc", 2),                # Record is corrupt (stored crc = ...)
    ("magic1", 87),            # Produce v3+: magic 2 only
    ("magic3", 2),             # Invalid magic found in record
    ("truncated", 2),
    ("length_below_v0", 2),    # Record size is less than the minimum record overhead
    ("length_below_v2", 2),    # smaller than RECORD_BATCH_OVERHEAD
    ("count", 87),             # Inconsistent batch offset range and count of records
    ("count_zero", 87),        # Invalid reported count for record batch
    ("negative_lod", 87),      # Batch has an invalid offset range
    ("codec", 76),
    ("base_offset", 87),       # The baseOffset of the record batch should be 0
    ("control", 87),           # Clients are not allowed to write control records
    ("sequence", 87),          # Invalid sequence number with a producer id
])
def test_corruptions_get_kafkas_codes(damage: str, code: int) -> None:
    buf = bytearray(build(4))
    if damage == "crc":
        buf[-1] ^= 0xFF
    elif damage == "magic1":
        buf[16] = 1
    elif damage == "magic3":
        buf[16] = 3
    elif damage == "truncated":
        buf = buf[:-5]
    elif damage == "length_below_v0":
        struct.pack_into(">i", buf, 8, 13)
    elif damage == "length_below_v2":
        struct.pack_into(">i", buf, 8, 20)
    elif damage == "count":
        struct.pack_into(">i", buf, 57, 9)
    elif damage == "count_zero":
        struct.pack_into(">ii", buf, 53, -1, 0)
        struct.pack_into(">i", buf, 23, -1)
    elif damage == "negative_lod":
        struct.pack_into(">i", buf, 23, -2)
    elif damage == "codec":
        struct.pack_into(">h", buf, 21, 6)
    elif damage == "base_offset":
        struct.pack_into(">q", buf, 0, 17)
    elif damage == "control":
        struct.pack_into(">h", buf, 21, 0x20)
    elif damage == "sequence":
        struct.pack_into(">q", buf, 43, 77)
    if damage not in ("crc", "truncated", "magic3", "length_below_v0", "length_below_v2"):
        reseal(buf)
    assert code_of(bytes(buf)) == code


def test_empty_payload_is_invalid_record() -> None:
    assert code_of(b"") == 87
    with pytest.raises(rb.InvalidRecordError) as e:
        rb.validate_produce_batches(None, max_batch_size=100, compacted=False, now_ms=0,
                                    timestamp_type_log_append=False, timestamp_before_max_ms=1,
                                    timestamp_after_max_ms=1)
    assert e.value.code == 87


@pytest.mark.parametrize("records,count", [
    ([record(0), record(0)], None),                              # offset deltas must be 0..n-1
    ([record(1), record(2)], None),
    ([record(0), record(1)], 3),                                 # RecordsCount too many: premature EOF
    ([record(0), record(1), record(2)], 2),                      # too few: records still remaining
    ([record(0, length_adjust=4)], None),                        # length past the batch end
    ([record(0, length_adjust=-1), b"\x00"], None),              # fields overrun the declared length
    ([record(0, length_adjust=2) + b"\x00\x00"], None),          # declared length longer than the fields
    ([record(0, header_count=-1)], None),                        # negative header count
    ([record(0, header_count=50)], None),                        # more headers than bytes left
    ([record(0, raw_headers=zz(1) + zz(-1) + zz(-1))], None),    # negative header key size
    ([record(0, key_len=100)], None),                            # key longer than the record
    ([zz(-3)], None),                                            # negative record length
])
def test_malformed_records_are_invalid_record(records: list[bytes], count: int | None) -> None:
    err = error_of(batch(records, count=count))
    assert err.code == 87, str(err)


def test_keyless_records_on_compacted_topics_list_every_failing_record() -> None:
    recs = [record(0, key=b"a"), record(1, key=None), record(2, key=b"c"), record(3, key=None)]
    err = error_of(batch(recs), compacted=True)
    assert err.code == 87
    assert [i for i, _m in err.record_errors] == [1, 3]
    validate(batch(recs))  # fine on a delete-policy topic
    assert code_of(build(3, key=None), compacted=True) == 87


def test_timestamp_window_is_checked_per_record() -> None:
    t = now_ms()
    # Base and max in range, the middle record 10 days old: only a per-record walk finds it.
    buf = batch([record(0), record(1, ts_delta=-10 * DAY), record(2, ts_delta=5)], base_ts=t, max_ts=t + 5)
    err = error_of(buf, now_ms=t, timestamp_before_max_ms=DAY)
    assert err.code == 32 and [i for i, _m in err.record_errors] == [1]
    validate(buf, now_ms=t, timestamp_before_max_ms=11 * DAY)
    assert code_of(build(2, ts=t + 2 * HOUR), now_ms=t) == 32  # beyond after.max.ms (1 h)
    old = build(2, ts=t - 10 * DAY)
    assert code_of(old, now_ms=t, timestamp_before_max_ms=DAY) == 32
    validate(old, now_ms=t, timestamp_before_max_ms=DAY, timestamp_type_log_append=True)


def test_timestamp_errors_win_over_key_errors_like_processRecordErrors() -> None:
    t = now_ms()
    buf = batch([record(0, key=None), record(1, ts_delta=3 * HOUR)], base_ts=t, max_ts=t + 3 * HOUR)
    err = error_of(buf, now_ms=t, compacted=True)
    assert err.code == 32 and [i for i, _m in err.record_errors] == [0, 1]


def test_producer_set_log_append_time_attribute() -> None:
    t = now_ms()
    buf = batch([record(0), record(1)], base_ts=t, max_ts=t, attributes=0x08)
    validate(buf, now_ms=t)  # CreateTime topic: the records carry MaxTimestamp, which is in range
    assert code_of(buf, now_ms=t, timestamp_type_log_append=True) == 32
    no_ts = batch([record(0)], base_ts=-1, max_ts=-1, attributes=0x08)
    assert code_of(no_ts, now_ms=t) == 32


@pytest.mark.parametrize("compression", [1, 2, 3, 4])
def test_compressed_batches_are_checked_on_their_header(compression: int) -> None:
    t = now_ms()
    buf = build(3, compression=compression, ts=t - 10 * DAY)
    assert code_of(buf, now_ms=t, timestamp_before_max_ms=DAY) == 32
    future = build(3, compression=compression, ts=t + 2 * HOUR)
    assert code_of(future, now_ms=t) == 32
    bad = bytearray(build(3, compression=compression))
    struct.pack_into(">i", bad, 57, 5)
    assert code_of(reseal(bad)) == 87
    info = validate(build(3, compression=compression))
    assert rb.read_batch_header(build(3, compression=compression), 0).attributes & 7 == compression
    assert info.record_count == 3 and info.compression == compression


def test_record_errors_carry_kafkas_messages() -> None:
    """LogValidator's texts: validateKey names the partition, processRecordErrors quotes the first
    three as Java's List<RecordError>.toString."""
    recs = [record(i, key=None if i % 10 == 3 else b"k") for i in range(100)]
    err = error_of(batch(recs), compacted=True, topic_partition="t-0")
    assert err.code == 87
    assert [i for i, _m in err.record_errors] == list(range(3, 100, 10))
    assert {m for _i, m in err.record_errors} == {"Compacted topic cannot accept message without key in topic partition t-0"}
    m = "Compacted topic cannot accept message without key in topic partition t-0"
    assert str(err) == ("One or more records have been rejected due to 10 record errors in total, and only showing the "
                        f"first three errors at most: [RecordError(batchIndex=3, message='{m}'), "
                        f"RecordError(batchIndex=13, message='{m}'), RecordError(batchIndex=23, message='{m}')]")
    t = now_ms()
    lat = batch([record(0, key=b"ab", value=b"xyz")], base_ts=t, max_ts=t, attributes=0x08)
    err = error_of(lat, now_ms=t, timestamp_type_log_append=True)
    assert err.record_errors == [(0, f"Invalid timestamp type in message DefaultRecord(offset=0, timestamp={t}, key=2 "
                                     "bytes, value=3 bytes). Producer should not set timestamp type to LogAppendTime.")]
    assert str(err) == "One or more records have been rejected due to invalid timestamp"


@pytest.mark.parametrize("compression", [1, 2, 3, 4])
def test_compressed_batches_list_every_failing_record(compression: int) -> None:
    """Kafka walks a compressed batch's records: the records breaking the window are named by
    their index, not the batch as a whole."""
    t = now_ms()
    ts = [t, t - 10 * DAY, t + 1, t - 11 * DAY, t + 2]
    buf = build(5, compression=compression, timestamps=ts)
    err = error_of(buf, now_ms=t, timestamp_before_max_ms=DAY)
    assert err.code == 32 and [i for i, _m in err.record_errors] == [1, 3]
    assert err.record_errors[0][1] == (f"Timestamp {t - 10 * DAY} of message with offset 1 is out of range. "
                                       f"The timestamp should be within [{t - DAY}, {t + HOUR}]")
    future = build(4, compression=compression, timestamps=[t, t + 2 * HOUR, t, t + 3 * HOUR])
    assert [i for i, _m in error_of(future, now_ms=t).record_errors] == [1, 3]
    keyless = build(4, compression=compression, key=None)
    err = error_of(keyless, compacted=True, topic_partition="c-3")
    assert err.code == 87 and [i for i, _m in err.record_errors] == [0, 1, 2, 3]
    assert err.record_errors[0][1].endswith("in topic partition c-3")


# -- assign_offsets -----------------------------------------------------------------------------------
def test_assign_offsets_in_place_keeps_crc_valid() -> None:  # testSetLastOffset / testSetPartitionLeaderEpoch
    a, b = build(3), build(2)
    two = bytearray(a + b)
    assert rb.assign_offsets(two, 100, 7, -1) == 105
    first = DefaultRecordBatch(bytes(two[:len(a)]))
    assert first.validate_crc() and first.base_offset == 100 and [r.offset for r in first] == [100, 101, 102]
    assert first.leader_epoch == 7
    assert two[17:21] == a[17:21]  # nothing the CRC covers changed: the CRC is left alone
    hs, end, err = rb.scan_batches(bytes(two))
    assert (end, err) == (len(two), 0)
    assert [(h.base_offset, h.last_offset, h.partition_leader_epoch) for h in hs] == [(100, 102, 7), (103, 104, 7)]


@pytest.mark.parametrize("compression", [0, 1, 3])
def test_assign_offsets_stamps_log_append_time(compression: int) -> None:  # testSetLogAppendTime
    one = bytearray(build(2, compression=compression))
    rb.assign_offsets(one, 0, 1, 1_700_000_000_000)
    d = DefaultRecordBatch(bytes(one))
    assert d.validate_crc() and d.timestamp_type == 1 and d.max_timestamp == 1_700_000_000_000
    assert [r.timestamp for r in d] == [1_700_000_000_000] * 2
    if compression == 0:
        assert [r.timestamp for r in rb.iter_records(bytes(one))] == [1_700_000_000_000] * 2


def test_assign_offsets_sets_max_timestamp_from_the_records() -> None:
    t = now_ms()
    wrong = bytearray(batch([record(0), record(1, ts_delta=40), record(2, ts_delta=7)], base_ts=t, max_ts=t + 1))
    validate(bytes(wrong))  # Kafka accepts and rewrites the header's MaxTimestamp
    rb.assign_offsets(wrong, 10, 0, -1)
    d = DefaultRecordBatch(bytes(wrong))
    assert d.validate_crc() and d.max_timestamp == t + 40
    lat = bytearray(batch([record(0), record(1)], base_ts=t, max_ts=t + 3, attributes=0x08))
    rb.assign_offsets(lat, 0, 0, -1)  # CreateTime topic: the producer's LogAppendTime bit is cleared
    d = DefaultRecordBatch(bytes(lat))
    assert d.validate_crc() and d.timestamp_type == 0 and d.max_timestamp == t + 3


# -- scans --------------------------------------------------------------------------------------------
def test_scan_stops_at_torn_or_corrupt_tail() -> None:
    a, b = build(2), build(3)
    hs, end, err = rb.scan_batches(a + b[:-1])
    assert (len(hs), end, err) == (1, len(a), 2)
    bad = bytearray(a + b)
    bad[-2] ^= 1
    hs, end, err = rb.scan_batches(bytes(bad))
    assert (len(hs), end, err) == (1, len(a), 2)
    assert rb.scan_batches(bytes(bad), check_crc=False)[2] == 0
    hs, end, err = rb.scan_batches(a + b, len(a))
    assert (len(hs), hs[0].position, end, err) == (1, len(a), len(a) + len(b), 0)
    small = bytearray(a + b)
    struct.pack_into(">i", small, len(a) + 8, 30)
    assert rb.scan_batches(bytes(small))[1:] == (len(a), 2)
    assert rb.scan_batches(b"") == ([], 0, 0)


def test_read_batch_header_fields() -> None:
    buf = build(4, producer_id=12, base_sequence=8)
    h = rb.read_batch_header(b"xx" + buf, 2)
    d = DefaultRecordBatch(buf)
    assert (h.position, h.size, h.base_offset, h.last_offset, h.record_count) == (2, len(buf), 0, 3, 4)
    assert (h.producer_id, h.base_sequence, h.max_timestamp, h.first_timestamp) == (
        12, 8, d.max_timestamp, d.first_timestamp)
    assert h.magic == 2 and h.crc == d.crc and not h.is_control and not h.is_transactional
    with pytest.raises(rb.InvalidRecordError):
        rb.read_batch_header(buf[:60], 0)


# -- builder and reader ---------------------------------------------------------------------------------
def test_builder_and_reader_round_trip_through_kafka_python() -> None:
    m = rb.MemoryRecordsBuilder(base_offset=5, timestamp_ms=1_700_000_000_000, producer_id=3, producer_epoch=1,
                                base_sequence=0)
    m.append(b"a", None, [("x", b"1"), ("y", None)])
    m.append(None, b"b", timestamp_ms=1_700_000_000_009)
    m.append(b"", b"", timestamp_ms=1_699_999_999_000)  # earlier than the first: negative delta
    data = m.build()
    d = DefaultRecordBatch(data)
    assert d.validate_crc() and d.producer_id == 3 and d.max_timestamp == 1_700_000_000_009
    assert [(r.offset, r.key, r.value, r.timestamp) for r in d] == [
        (5, b"a", None, 1_700_000_000_000), (6, None, b"b", 1_700_000_000_009), (7, b"", b"", 1_699_999_999_000)]
    got = rb.iter_records(data)
    assert [(r.offset, r.key, r.value, r.headers, r.timestamp) for r in got] == [
        (5, b"a", None, [("x", b"1"), ("y", None)], 1_700_000_000_000), (6, None, b"b", [], 1_700_000_000_009),
        (7, b"", b"", [], 1_699_999_999_000)]
    validate(data, client_origin=False)


def test_control_batch_built_and_read() -> None:  # testReadAndWriteControlBatch
    m = rb.MemoryRecordsBuilder(base_offset=0, timestamp_ms=1, producer_id=4, producer_epoch=2,
                                is_transactional=True, is_control=True)
    m.append(struct.pack(">hh", 0, 1), struct.pack(">hi", 0, 9))
    d = DefaultRecordBatch(m.build())
    assert d.is_control_batch and d.is_transactional and d.validate_crc()
    with pytest.raises(ValueError):
        rb.MemoryRecordsBuilder().build()


def test_iter_records_refuses_compressed_batches() -> None:
    with pytest.raises(rb.InvalidRecordError) as e:
        rb.iter_records(build(2, compression=1))
    assert e.value.code == 76


@pytest.mark.parametrize("v", [0, 1, -1, 63, -64, 2**31 - 1, -(2**31)])
def test_zigzag_varints(v: int) -> None:
    assert rb.decode_varint(rb.encode_varint(v), 0) == (v, len(rb.encode_varint(v)))
    assert rb.decode_varlong(rb.encode_varlong(v * 2**20), 0)[0] == v * 2**20
    assert rb.encode_varint(-1) == b"\x01" and rb.encode_varint(1) == b"\x02"
    assert rb.encode_varlong(v) == zz(v)
    with pytest.raises(rb.InvalidRecordError):
        rb.decode_varint(b"\xff\xff", 0)


_rec = st.tuples(st.none() | st.binary(max_size=40), st.none() | st.binary(max_size=200),
                 st.lists(st.tuples(st.text(max_size=8), st.none() | st.binary(max_size=20)), max_size=3),
                 st.integers(-5000, 5000))


@settings(max_examples=60, deadline=None)
@given(st.lists(_rec, min_size=1, max_size=12), st.sampled_from([0, 1, 2, 3, 4]))
def test_any_batch_kafka_python_writes_validates_and_reads_back(recs: list, compression: int) -> None:  # type: ignore[type-arg]
    t = now_ms()
    b = DefaultRecordBatchBuilder(magic=2, compression_type=compression, is_transactional=False, producer_id=-1,
                                  producer_epoch=-1, base_sequence=-1, batch_size=1 << 24)
    for i, (k, v, hs, dt) in enumerate(recs):
        b.append(i, timestamp=t + dt, key=k, value=v, headers=hs)
    buf = bytearray(b.build())
    info = validate(bytes(buf), now_ms=t)
    assert info.record_count == len(recs)
    assert info.max_timestamp == (max(t + r[3] for r in recs) if compression == 0 else DefaultRecordBatch(bytes(buf)).max_timestamp)
    rb.assign_offsets(buf, 1000, 3, -1)
    d = DefaultRecordBatch(bytes(buf))
    assert d.validate_crc() and d.base_offset == 1000
    if compression == 0:
        got = rb.iter_records(bytes(buf))
        assert [(r.offset, r.key, r.value, r.timestamp, r.headers) for r in got] == [
            (1000 + i, k, v, t + dt, hs) for i, (k, v, hs, dt) in enumerate(recs)]
