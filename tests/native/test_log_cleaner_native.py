"""Native log-cleaner pieces: the OffsetMap, the record filter on raw batches, and the produce-time
key check of compressed batches on compacted topics (Kafka's LogValidator decompresses them)."""
import time

import pytest
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from fastkafka._native import log_cleaner as lc
from fastkafka._native.record_batch import InvalidRecordError, validate_produce_batches
from fastkafka.storage import cleaner_codecs
from fastkafka.storage.log_cleaner import CleanedTransactionMetadata

CODECS = [1, 2, 3, 4]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def kp_batch(pairs, compression=0, base_offset=0):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=compression, is_transactional=False,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=1 << 30)
    for i, (k, v) in enumerate(pairs):
        b.append(i, timestamp=now_ms(), key=k, value=v, headers=[])
    out = bytearray(b.build())
    out[0:8] = base_offset.to_bytes(8, "big")
    return bytes(out)


def validate(buf, compacted):
    return validate_produce_batches(buf, max_batch_size=1 << 20, compacted=compacted, now_ms=now_ms(),
                                    timestamp_type_log_append=False, timestamp_before_max_ms=2**63 - 1,
                                    timestamp_after_max_ms=3600_000)


@pytest.mark.parametrize("codec", CODECS, ids=["gzip", "snappy", "lz4", "zstd"])
def test_keyless_record_in_compressed_batch_rejected_on_compacted_topic(codec):
    buf = kp_batch([(b"a", b"1"), (None, b"2"), (b"c", b"3")], codec)
    with pytest.raises(InvalidRecordError) as e:
        validate(buf, compacted=True)
    assert e.value.code == 87
    assert [i for i, _m in e.value.record_errors] == [1]
    assert "Compacted topic cannot accept message without key" in e.value.record_errors[0][1]
    validate(buf, compacted=False)  # not decompressed on delete-policy topics
    validate(kp_batch([(b"a", b"1"), (b"b", None)], codec), compacted=True)  # keyed tombstones are fine


@pytest.mark.parametrize("codec", CODECS, ids=["gzip", "snappy", "lz4", "zstd"])
def test_codecs_round_trip_and_read_by_kafka_python(codec):
    plain = bytes(range(256)) * 1000
    packed = cleaner_codecs.compress(codec, plain)
    assert cleaner_codecs.decompress(codec, packed) == plain
    # A batch whose records we recompressed is readable by an independent decoder.
    m = lc.OffsetMap(24 * 100)
    m.put(b"k", 1)
    buf = kp_batch([(b"k", b"old" * 100), (b"k", b"new" * 100), (b"other", b"x" * 300)], codec, base_offset=0)
    assert buf[22] & 7 == codec
    m.update_latest_offset(2)
    m.put(b"other", 2)
    used, out, st = lc.clean_records(m, buf, now=now_ms(), delete_retention_ms=1000, upper_bound_offset=100,
                                     txn=CleanedTransactionMetadata([]), last_records_of_active_producers={},
                                     decompress=cleaner_codecs.decompress, compress=cleaner_codecs.compress)
    assert used == len(buf) and st == {"messages_read": 3, "messages_retained": 2}
    b = DefaultRecordBatch(out)
    assert b.validate_crc() and b.compression_type == codec
    assert [(r.offset, r.key, r.value) for r in b] == [(1, b"k", b"new" * 100), (2, b"other", b"x" * 300)]
    assert b.last_offset_delta == 2  # the original last offset is kept


def test_clean_records_writes_original_batch_when_all_retained_and_handles_partial_buffers():
    m = lc.OffsetMap(24 * 100)
    b1 = kp_batch([(b"a", b"1")], base_offset=0)
    b2 = kp_batch([(b"b", b"2")], base_offset=1)
    m.put(b"a", 0)
    m.put(b"b", 1)
    used, out, _ = lc.clean_records(m, b1 + b2[:30], now=0, delete_retention_ms=0, upper_bound_offset=10,
                                    txn=CleanedTransactionMetadata([]), last_records_of_active_producers={},
                                    decompress=cleaner_codecs.decompress, compress=cleaner_codecs.compress)
    assert used == len(b1) and out == b1


def test_build_offset_map_skips_records_below_start_and_reports_full():
    m = lc.OffsetMap(24 * 10)
    buf = kp_batch([(b"k%d" % i, b"v") for i in range(20)], base_offset=100)
    used, full = lc.build_offset_map(m, buf, 105, 9, set(), cleaner_codecs.decompress)
    assert full and used == 0 and m.size == 9
    assert m.get(b"k4") == -1 and m.get(b"k5") == 105
    m.clear()
    used, full = lc.build_offset_map(m, buf, 0, 9, {100}, cleaner_codecs.decompress)
    assert full and m.size == 9  # not transactional: `aborted` does not apply  # not transactional: `aborted` does not apply


def test_build_offset_map_stops_at_the_first_uncleanable_offset():
    # A record at or past the first uncleanable offset (e.g. inside an open transaction) must not
    # shadow an older value of its key: the transaction may still abort.
    m = lc.OffsetMap(24 * 100)
    buf = kp_batch([(b"k%d" % (i % 3), b"v") for i in range(9)], base_offset=10)
    used, full = lc.build_offset_map(m, buf, 0, 100, set(), cleaner_codecs.decompress, 15)
    assert not full and used == len(buf)
    assert (m.get(b"k0"), m.get(b"k1"), m.get(b"k2")) == (13, 14, 12)
    assert m.latest_offset == 14
