"""Recompression to a topic's compression.type (fastkafka.storage.recompression), with
kafka-python's DefaultRecordBatch as an independent decoder (the oracle)."""
from __future__ import annotations

import itertools
import struct

import pytest
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from fastkafka.storage import recompression as rc
from fastkafka.storage.log_config import LogConfig

NAMES = ["uncompressed", "gzip", "snappy", "lz4", "zstd"]
TS = 1_700_000_000_000


def build(codec, n=5, *, offsets=None, pid=-1, epoch=-1, seq=-1, transactional=False, headers=True,
          value=b"value-"):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=transactional,
                                  producer_id=pid, producer_epoch=epoch, base_sequence=seq, batch_size=1 << 30)
    for i in range(n):
        off = i if offsets is None else offsets[i]
        hdrs = [("h", b"x" * i), ("idx", str(i).encode())] if headers else []
        key = None if i == 1 else b"k%d" % i
        b.append(off, timestamp=TS + 7 * i, key=key, value=value + str(i).encode() * (i + 1), headers=hdrs)
    return bytes(b.build())


def decode(data):
    b = DefaultRecordBatch(bytes(data))
    assert b.validate_crc()
    recs = [(r.offset, r.timestamp, r.key, r.value, list(r.headers)) for r in b]
    return b, recs


@pytest.mark.parametrize("src,dst", [(s, d) for s, d in itertools.product(range(5), range(5)) if s != d])
def test_every_codec_pair_keeps_records_and_fields(src, dst):
    data = build(src, pid=4242, epoch=3, seq=17, transactional=True)
    out = rc.rebuild_batch(data, dst, None)
    ob, orecs = decode(data)
    nb, nrecs = decode(out)
    assert nb.compression_type == dst
    assert nrecs == orecs
    assert (nb.producer_id, nb.producer_epoch, nb.base_sequence, nb.is_transactional) == (4242, 3, 17, True)
    assert (nb.first_timestamp, nb.max_timestamp, nb.timestamp_type) == (ob.first_timestamp, ob.max_timestamp, ob.timestamp_type)
    assert nb.last_offset_delta == 4 and len(nrecs) == 5
    assert struct.unpack_from(">i", out, 8)[0] == len(out) - 12


@pytest.mark.parametrize("src,dst", [(s, d) for s, d in itertools.product(range(5), range(5)) if s != d])
def test_multi_chunk_streaming_rebuild(src, dst):
    """Records spanning many decompression chunks (and snappy blocks, lz4 frame blocks): the
    streamed rebuild decodes identically with kafka-python; gapped deltas take the fallback."""
    import random
    rnd = random.Random(src * 5 + dst)
    value = bytes(rnd.choice(b"abcdefgh") for _ in range(7000))
    data = build(src, n=120, value=value)
    out = rc.rebuild_batch(data, dst, None)
    nb, nrecs = decode(out)
    assert nb.compression_type == dst and nrecs == decode(data)[1]
    gapped = build(src, n=120, value=value, offsets=[i * 2 for i in range(120)])
    g_recs = decode(rc.rebuild_batch(gapped, dst, None))[1]
    assert [r[0] for r in g_recs] == list(range(120)) and [r[3] for r in g_recs] == [r[3] for r in nrecs]


@pytest.mark.parametrize("level", [1, 9])
def test_gzip_zstd_levels_apply(level):
    data = build(4, n=200, value=b"a" * 300)
    out = rc.rebuild_batch(data, 1, level)
    assert decode(out)[1] == decode(data)[1]
    z = rc.rebuild_batch(data, 4, 19 if level == 9 else 1)
    assert decode(z)[1] == decode(data)[1]
    lz = rc.rebuild_batch(data, 3, 1 if level == 1 else 12)
    assert decode(lz)[1] == decode(data)[1]


def test_gzip_level_changes_output_size():
    import os
    data = build(0, n=100, value=os.urandom(50) * 20)
    assert len(rc.rebuild_batch(data, 1, 1)) >= len(rc.rebuild_batch(data, 1, 9))


def test_non_contiguous_inner_offsets_renumbered():
    data = build(1, n=4, offsets=[0, 3, 7, 9])
    assert rc.needs_rebuild(data, None)
    out = rc.rebuild_batch(data, 1, None)
    nb, nrecs = decode(out)
    assert [r[0] for r in nrecs] == [0, 1, 2, 3]
    assert [r[3] for r in nrecs] == [r[3] for r in decode(data)[1]]
    assert nb.last_offset_delta == 3
    assert not rc.needs_rebuild(out, None)


def test_needs_rebuild_rules():
    g = build(1)
    assert not rc.needs_rebuild(g, None)
    assert not rc.needs_rebuild(g, 1)
    assert rc.needs_rebuild(g, 4)
    assert not rc.needs_rebuild(build(0, offsets=[0, 2, 4, 6, 8]), None)


def cfg(ct, **kw):
    return LogConfig(compression_type=ct, **kw)


def test_rebuild_for_config_producer_and_same_codec_return_same_object():
    g = build(1)
    assert rc.rebuild_for_config(cfg("producer"), g) is g
    assert rc.rebuild_for_config(cfg("gzip"), g) is g


def test_rebuild_for_config_uses_topic_level():
    data = build(4, n=300, value=b"b" * 200)
    lo = rc.rebuild_for_config(cfg("gzip", compression_gzip_level=1), data)
    hi = rc.rebuild_for_config(cfg("gzip", compression_gzip_level=9), data)
    assert decode(lo)[0].compression_type == 1 and decode(hi)[1] == decode(data)[1]


def test_uncompressed_control_batch_is_never_compressed():
    """Kafka keeps transaction markers written uncompressed in place whatever the topic's codec."""
    from fastkafka.cluster.replication.txn_markers import end_transaction_marker_batch
    marker = end_transaction_marker_batch(producer_id=5, producer_epoch=0, committed=True, coordinator_epoch=0,
                                          timestamp_ms=TS)
    assert rc.rebuild_for_config(cfg("zstd"), marker) is marker
    assert not rc.needs_rebuild(marker, 4)


def test_corrupt_batch_left_for_the_validator():
    data = bytearray(build(4))
    data[-3] ^= 0xFF
    assert rc.rebuild_for_config(cfg("gzip"), data) is data
    garbage = bytearray(build(4))
    garbage[61:] = b"\x00" * (len(garbage) - 61)
    struct.pack_into(">I", garbage, 17, __import__("crc32c").crc32c(bytes(garbage[21:])))
    assert rc.rebuild_for_config(cfg("gzip"), garbage) is garbage


def test_lz4_default_level_is_the_fast_compressor():
    """Kafka: compression.lz4.level 9 (the default) is lz4-java's fast compressor, other levels HC."""
    import os
    data = build(0, n=200, value=os.urandom(20) * 30)
    fast = rc.rebuild_batch(data, 3, 9)
    assert fast == rc.rebuild_batch(data, 3, None)
    hc = rc.rebuild_batch(data, 3, 12)
    assert decode(fast)[1] == decode(hc)[1] == decode(data)[1]
    assert len(hc) <= len(fast)


def test_will_rebuild_and_inline_budget():
    g = build(1)
    assert not rc.will_rebuild(cfg("producer"), g) and not rc.will_rebuild(cfg("gzip"), g)
    assert rc.will_rebuild(cfg("zstd"), g) and rc.will_rebuild(cfg("uncompressed"), g)
    assert rc.inline_rebuild_bytes(cfg("gzip")) < rc.inline_rebuild_bytes(cfg("zstd")) < rc.inline_rebuild_bytes(cfg("lz4"))
    assert rc.inline_rebuild_bytes(cfg("lz4", compression_lz4_level=12)) < rc.inline_rebuild_bytes(cfg("lz4"))


# --- through UnifiedLog.append_as_leader ----------------------------------------------------

from fastkafka.protocol.errors import Errors, KafkaError  # noqa: E402
from fastkafka.storage.topic_partition import TopicPartition  # noqa: E402
from fastkafka.storage.unified_log import UnifiedLog  # noqa: E402


def _stored(log):
    out = []
    for seg in log.segments:
        data = seg.log.read_bytes(0)
        pos = 0
        while pos + 61 <= len(data):
            size = struct.unpack_from(">i", data, pos + 8)[0] + 12
            out.append(decode(data[pos:pos + size]))
            pos += size
    return out


def _now():
    import time
    return time.time_ns() // 1_000_000


def test_log_stores_topic_codec_and_assigns_offsets(tmp_path):
    log = UnifiedLog.open(str(tmp_path / "t-0"), LogConfig(compression_type="gzip"), topic_partition=TopicPartition("t", 0))
    data = build(4, n=3, pid=7, epoch=0, seq=0)
    sent = decode(data)[1]
    log.append_as_leader(build(0, n=2), 0, now_ms=_now())
    info = log.append_as_leader(data, 0, now_ms=_now())
    assert (info.first_offset, info.last_offset) == (2, 4)
    batches = _stored(log)
    assert [b.compression_type for b, _ in batches] == [1, 1]
    b, recs = batches[1]
    assert [r[0] for r in recs] == [2, 3, 4]
    assert [r[1:] for r in recs] == [r[1:] for r in sent]
    assert (b.producer_id, b.base_sequence) == (7, 0)
    # the idempotent retry of the same batch is still recognised
    dup = log.append_as_leader(data, 0, now_ms=_now())
    assert dup.duplicate and dup.first_offset == 2


def test_log_renumbers_gapped_offsets_and_sequences(tmp_path):
    log = UnifiedLog.open(str(tmp_path / "t-0"), LogConfig(compression_type="zstd"), topic_partition=TopicPartition("t", 0))
    info = log.append_as_leader(build(1, n=3, offsets=[0, 7, 2], pid=9, epoch=0, seq=0, value=b"v" * 300), 0, now_ms=_now())
    assert (info.first_offset, info.last_offset) == (0, 2)
    assert log.log_end_offset == 3
    nxt = log.append_as_leader(build(1, n=2, pid=9, epoch=0, seq=3), 0, now_ms=_now())
    assert nxt.first_offset == 3
    assert [[r[0] for r in recs] for _b, recs in _stored(log)] == [[0, 1, 2], [3, 4]]


def test_log_refuses_gapped_offsets_without_rebuild(tmp_path):
    """Kafka 4.4: a compressed batch with gapped offsets in the topic's own codec (or `producer`)
    is UNKNOWN_SERVER_ERROR (it fails building the rebuilt batch from key-less records)."""
    for ct in ("producer", "gzip"):
        log = UnifiedLog.open(str(tmp_path / ct), LogConfig(compression_type=ct), topic_partition=TopicPartition("t", 0))
        with pytest.raises(KafkaError) as e:
            log.append_as_leader(build(1, n=3, offsets=[0, 7, 2], value=b"v" * 300), 0, now_ms=_now())
        assert e.value.code == Errors.UNKNOWN_SERVER_ERROR


def test_log_append_time_applies_to_rebuilt_batch(tmp_path):
    cfg = LogConfig(compression_type="lz4", message_timestamp_type="LogAppendTime")
    log = UnifiedLog.open(str(tmp_path / "t-0"), cfg, topic_partition=TopicPartition("t", 0))
    now = _now()
    log.append_as_leader(build(4, n=2), 0, now_ms=now)
    b, recs = _stored(log)[0]
    assert b.compression_type == 3 and b.timestamp_type == 1 and b.max_timestamp == now
    assert all(r[1] == now for r in recs)


def test_rebuilt_batch_over_max_message_bytes_is_refused(tmp_path):
    import os
    data = build(4, n=50, value=b"z" * 2000)  # zstd-compressible: small as sent
    big = len(rc.rebuild_batch(data, 0))
    cfg = LogConfig(compression_type="uncompressed", max_message_bytes=len(data) + 100)
    assert big > len(data) + 100
    log = UnifiedLog.open(str(tmp_path / "t-0"), cfg, topic_partition=TopicPartition("t", 0))
    with pytest.raises(KafkaError) as e:
        log.append_as_leader(data, 0, now_ms=_now())
    assert e.value.code == Errors.MESSAGE_TOO_LARGE
    assert e.value.message is None  # Kafka 4.4 answers RecordTooLargeException without a message
    assert log.log_end_offset == 0
    del os
