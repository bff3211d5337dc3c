import os
import struct

import pytest

from batches import batch, now_ms, read_values
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import UnifiedLog

TP = TopicPartition("topic", 0)
MiB = 1024 * 1024


@pytest.fixture
def logdir(tmp_path):
    return str(tmp_path / "topic-0")


def open_log(logdir, config=None, **kw):
    return UnifiedLog.open(logdir, config or LogConfig(), topic_partition=TP, **kw)


def append(log, n=1, now=None, **kw):
    return log.append_as_leader(batch(n, **kw), 0, now_ms=now or kw.get("ts") or now_ms())


def read_all(log, start=0, max_offset=None):
    """Everything from `start` to max_offset, fetch after fetch (one read covers one segment, as in Kafka)."""
    max_offset = log.log_end_offset if max_offset is None else max_offset
    out = b""
    while start < max_offset:
        info = log.read(start, 10**9, max_offset=max_offset, min_one_message=True)
        if info.records is None or info.records.size == 0:
            break
        data = info.records.read_bytes()
        out += data
        start = read_values(data)[-1][0] + 1
    return out


def code_of(fn):
    with pytest.raises(KafkaError) as ei:
        fn()
    return ei.value.error


def test_append_assigns_offsets_and_reads_back(logdir):
    log = open_log(logdir)
    i1 = append(log, 3)
    i2 = append(log, 2)
    assert (i1.first_offset, i1.last_offset, i1.record_count) == (0, 2, 3)
    assert (i2.first_offset, i2.last_offset) == (3, 4)
    assert i1.log_append_time == -1 and not i1.duplicate
    assert log.log_end_offset == 5
    assert [o for o, _ in read_values(read_all(log))] == [0, 1, 2, 3, 4]
    # reads start at the batch holding the offset
    assert [o for o, _ in read_values(read_all(log, 4))] == [3, 4]
    log.close()


def test_log_append_time_is_stamped(logdir):
    log = open_log(logdir, LogConfig(message_timestamp_type="LogAppendTime"))
    t = now_ms()
    info = log.append_as_leader(batch(2, ts=1), 0, now_ms=t)
    assert info.log_append_time == t
    data = read_all(log)
    import struct
    assert struct.unpack_from(">q", data, 35)[0] == t
    assert struct.unpack_from(">h", data, 21)[0] & 0x08
    log.close()


def test_read_bounds(logdir):
    log = open_log(logdir)
    append(log, 2)
    append(log, 2)
    assert code_of(lambda: log.read(5, 100, max_offset=4, min_one_message=True)) == Errors.OFFSET_OUT_OF_RANGE
    assert code_of(lambda: log.read(-1, 100, max_offset=4, min_one_message=True)) == Errors.OFFSET_OUT_OF_RANGE
    empty = log.read(4, 100, max_offset=4, min_one_message=True)  # at LEO
    assert empty.records is None or empty.records.size == 0
    log.update_high_watermark(2)
    assert log.high_watermark == 2
    # consumers stop at the HW
    assert [o for o, _ in read_values(read_all(log, 0, max_offset=log.high_watermark))] == [0, 1]
    assert log.read(2, 100, max_offset=2, min_one_message=True).records is None
    # HW is clamped to [log start, LEO]
    assert log.update_high_watermark(100) == 4
    log.close()


def test_min_one_message_returns_whole_first_batch(logdir):
    log = open_log(logdir)
    append(log, 5, value=b"x" * 100)
    info = log.read(0, 10, max_offset=5, min_one_message=True)
    assert len(read_values(info.records.read_bytes())) == 5
    info = log.read(0, 10, max_offset=5, min_one_message=False)
    assert info.records.size == 10 and info.first_entry_incomplete
    log.close()


def test_validation_errors(logdir):
    log = open_log(logdir, LogConfig(max_message_bytes=200))
    assert code_of(lambda: append(log, 1, value=b"x" * 500)) == Errors.MESSAGE_TOO_LARGE
    b = bytearray(batch(1))
    b[-1] ^= 0xFF
    assert code_of(lambda: log.append_as_leader(bytes(b), 0, now_ms=now_ms())) == Errors.CORRUPT_MESSAGE
    two = batch(1) + batch(1)
    assert code_of(lambda: log.append_as_leader(two, 0, now_ms=now_ms())) == Errors.INVALID_RECORD
    assert code_of(lambda: append(log, 1, now=now_ms(), ts=now_ms() + 2 * 3600_000)) == Errors.INVALID_TIMESTAMP
    # idempotent batch without a sequence
    assert code_of(lambda: append(log, 1, producer_id=5, producer_epoch=0, base_sequence=-1)) == Errors.INVALID_RECORD
    assert log.log_end_offset == 0 and log.size == 0
    # multiple batches are fine for internal writers
    info = log.append_as_leader(two, 0, now_ms=now_ms(), require_single_batch=False)
    assert (info.first_offset, info.last_offset) == (0, 1)
    log.close()


def test_idempotent_duplicate_returns_original_offsets(logdir):
    log = open_log(logdir)
    b0 = batch(2, producer_id=7, producer_epoch=0, base_sequence=0)
    i0 = log.append_as_leader(b0, 0, now_ms=now_ms())
    i1 = log.append_as_leader(batch(2, producer_id=7, producer_epoch=0, base_sequence=2), 0, now_ms=now_ms())
    size = log.size
    dup = log.append_as_leader(b0, 0, now_ms=now_ms())
    assert dup.duplicate and (dup.first_offset, dup.last_offset) == (i0.first_offset, i0.last_offset)
    assert log.size == size and log.log_end_offset == 4
    # a gap
    gap = batch(1, producer_id=7, producer_epoch=0, base_sequence=9)
    assert code_of(lambda: log.append_as_leader(gap, 0, now_ms=now_ms())) == Errors.OUT_OF_ORDER_SEQUENCE_NUMBER
    # fenced epoch
    old = batch(1, producer_id=7, producer_epoch=0, base_sequence=4)
    log.append_as_leader(batch(1, producer_id=7, producer_epoch=1, base_sequence=0), 0, now_ms=now_ms())
    assert code_of(lambda: log.append_as_leader(old, 0, now_ms=now_ms())) == Errors.INVALID_PRODUCER_EPOCH
    assert i1.last_offset == 3
    log.close()


def test_duplicate_detection_survives_reopen(logdir):
    log = open_log(logdir)
    b0 = batch(1, producer_id=3, producer_epoch=2, base_sequence=0)
    log.append_as_leader(b0, 0, now_ms=now_ms())
    log.append_as_leader(batch(1, producer_id=3, producer_epoch=2, base_sequence=1), 0, now_ms=now_ms())
    log.flush()
    log.close()
    log = open_log(logdir)
    # Loaded from the clean-shutdown snapshot, which (as Kafka's) keeps each producer's last batch
    # only: a retry of that batch is a duplicate, an older one is out of order.
    dup = log.append_as_leader(batch(1, producer_id=3, producer_epoch=2, base_sequence=1), 0, now_ms=now_ms())
    assert dup.duplicate and dup.first_offset == 1
    assert code_of(lambda: log.append_as_leader(b0, 0, now_ms=now_ms())) == Errors.OUT_OF_ORDER_SEQUENCE_NUMBER
    nxt = log.append_as_leader(batch(1, producer_id=3, producer_epoch=2, base_sequence=2), 0, now_ms=now_ms())
    assert nxt.first_offset == 2
    log.close()


def test_transactional_batches_hold_back_last_stable_offset(logdir):
    log = open_log(logdir)
    append(log, 1)
    log.append_as_leader(batch(1, producer_id=9, producer_epoch=0, base_sequence=0, transactional=True), 0,
                         now_ms=now_ms())
    append(log, 1)
    log.update_high_watermark(log.log_end_offset)
    assert log.high_watermark == 3 and log.last_stable_offset == 1
    log.close()


def test_roll_on_segment_bytes(logdir):
    log = open_log(logdir, LogConfig(segment_bytes=MiB))
    payload = b"x" * 100_000
    for _ in range(25):
        append(log, 1, value=payload)
    assert log.num_segments >= 2
    bases = [s.base_offset for s in log.segments]
    assert bases == sorted(bases) and bases[0] == 0
    assert all(s.size <= MiB for s in log.segments)
    assert sorted(os.listdir(logdir))[0] == "00000000000000000000.index"
    assert [o for o, _ in read_values(read_all(log))] == list(range(25))
    # a read starting in a later segment
    assert read_values(read_all(log, bases[1]))[0][0] == bases[1]
    # rolled segments were flushed: recovery point moved
    assert log.recovery_point >= bases[-1]
    log.close()


def test_roll_on_segment_ms_uses_first_batch_timestamp(logdir):
    log = open_log(logdir, LogConfig(segment_ms=1000))
    t = now_ms()
    log.append_as_leader(batch(1, ts=t - 5000), 0, now_ms=t)
    log.append_as_leader(batch(1, ts=t - 4500), 0, now_ms=t)  # within 1000 ms of the first batch
    assert log.num_segments == 1
    log.append_as_leader(batch(1, ts=t - 3000), 0, now_ms=t)
    assert log.num_segments == 2 and log.active_segment.base_offset == 2
    log.close()


def test_record_list_too_large(logdir):
    log = open_log(logdir, LogConfig(segment_bytes=MiB, max_message_bytes=4 * MiB))
    assert code_of(lambda: append(log, 1, value=os.urandom(MiB + 10))) == Errors.RECORD_LIST_TOO_LARGE
    log.close()


def test_reopen_returns_identical_bytes(logdir):
    log = open_log(logdir, LogConfig(segment_bytes=MiB, index_interval_bytes=100))
    for i in range(40):
        append(log, 3, value=os.urandom(50_000 if i % 7 == 0 else 100))
    before = b"".join(s.log.read_bytes() for s in log.segments)
    leo, nseg = log.log_end_offset, log.num_segments
    log.flush()
    log.close()
    log = open_log(logdir, LogConfig(segment_bytes=MiB, index_interval_bytes=100), recovery_point=leo)
    assert log.log_end_offset == leo and log.num_segments == nseg
    assert b"".join(s.log.read_bytes() for s in log.segments) == before
    for off in range(0, leo, 7):
        got = read_values(log.read(off, 1, max_offset=leo, min_one_message=True).records.read_bytes())
        assert got[0][0] <= off <= got[-1][0]
    log.close()


def test_torn_tail_recovery_drops_only_the_torn_batch(logdir):
    log = open_log(logdir)
    for _ in range(10):
        append(log, 2)
    active_path = log.active_segment.log.path
    size = log.active_segment.size
    log.close()
    with open(active_path, "r+b") as f:  # tear the last batch
        f.truncate(size - 5)
    log = open_log(logdir, had_clean_shutdown=False)
    assert log.log_end_offset == 18
    assert [o for o, _ in read_values(read_all(log))] == list(range(18))
    assert append(log, 1).first_offset == 18
    log.close()


def test_corrupt_last_bytes_without_clean_shutdown(logdir):
    log = open_log(logdir)
    for _ in range(10):
        append(log, 2)
    path = log.active_segment.log.path
    size = log.active_segment.size
    log.close()
    with open(path, "r+b") as f:
        f.seek(size - 3)
        f.write(b"\xff\xff\xff")
    log = open_log(logdir, had_clean_shutdown=False)
    assert log.log_end_offset == 18
    assert [o for o, _ in read_values(read_all(log))] == list(range(18))
    log.close()


def test_recovery_deletes_segments_after_corruption(logdir):
    cfg = LogConfig(segment_bytes=MiB)
    log = open_log(logdir, cfg)
    for _ in range(30):
        append(log, 1, value=b"y" * 100_000)
    assert log.num_segments >= 3
    first_seg = log.segments[1]
    path, base = first_seg.log.path, first_seg.base_offset
    log.close()
    with open(path, "r+b") as f:  # corrupt the 2nd batch of the 2nd segment
        f.seek(100_200)
        f.write(b"\x00\x01\x02")
    log = open_log(logdir, cfg, had_clean_shutdown=False)
    assert log.num_segments == 2
    assert log.log_end_offset == base + 1
    log.close()


def test_missing_indexes_are_rebuilt(logdir):
    cfg = LogConfig(index_interval_bytes=100)
    log = open_log(logdir, cfg)
    for i in range(50):
        append(log, 1, ts=1000 + i)
    log.close()
    for n in os.listdir(logdir):
        if n.endswith((".index", ".timeindex")):
            os.unlink(os.path.join(logdir, n))
    log = open_log(logdir, cfg)
    assert log.active_segment.offset_index.entries > 0
    assert log.log_end_offset == 50
    assert read_values(log.read(33, 1, max_offset=50, min_one_message=True).records.read_bytes())[0][0] == 33
    assert log.fetch_offset_by_timestamp(1020)[:2] == (1020, 20)
    log.close()


def test_corrupt_index_is_rebuilt(logdir):
    cfg = LogConfig(index_interval_bytes=100)
    log = open_log(logdir, cfg)
    for i in range(50):
        append(log, 1)
    log.close()
    idx = os.path.join(logdir, "00000000000000000000.index")
    with open(idx, "r+b") as f:
        f.truncate(os.path.getsize(idx) + 3)  # not a multiple of the entry size
    log = open_log(logdir, cfg)
    log.active_segment.sanity_check()
    assert read_values(log.read(40, 1, max_offset=50, min_one_message=True).records.read_bytes())[0][0] == 40
    log.close()


def test_fetch_offset_by_timestamp(logdir):
    log = open_log(logdir)
    for i in range(10):
        log.append_as_leader(batch(2, ts=1000 + i * 100), 5, now_ms=1000 + i * 100)
    assert log.fetch_offset_by_timestamp(-2) == (-1, 0, 5)
    assert log.fetch_offset_by_timestamp(-1) == (-1, 20, 5)
    assert log.fetch_offset_by_timestamp(-4) == (-1, 0, 5)
    assert log.fetch_offset_by_timestamp(1250) == (1300, 6, 5)
    assert log.fetch_offset_by_timestamp(-3)[:2] == (1900, 18)
    assert log.fetch_offset_by_timestamp(5000) is None
    log.close()


def test_leader_epoch_cache_and_topic_id(logdir):
    tid = bytes(range(16))
    log = open_log(logdir, topic_id=tid)
    log.append_as_leader(batch(1), 0, now_ms=now_ms())
    log.assign_epoch_start_offset(3, log.log_end_offset)
    log.append_as_leader(batch(1), 3, now_ms=now_ms())
    assert log.latest_epoch == 3
    assert log.end_offset_for_epoch(0) == (0, 1)
    log.close()
    assert open(os.path.join(logdir, "leader-epoch-checkpoint")).read() == "0\n2\n0 0\n3 1\n"
    log = open_log(logdir)
    assert log.topic_id == tid and log.latest_epoch == 3
    log.close()
    with pytest.raises(KafkaError) as ei:
        open_log(logdir, topic_id=bytes(16))
    assert ei.value.error == Errors.INCONSISTENT_TOPIC_ID


def test_flush_messages_moves_recovery_point(logdir):
    log = open_log(logdir, LogConfig(flush_messages=3))
    append(log, 1)
    append(log, 1)
    assert log.recovery_point == 0
    append(log, 1)
    assert log.recovery_point == 3
    log.close()


def test_truncate_to(logdir):
    log = open_log(logdir, LogConfig(segment_bytes=MiB))
    for _ in range(25):
        append(log, 1, value=b"z" * 100_000)
    n = log.num_segments
    assert n >= 2
    assert log.truncate_to(5)
    assert log.log_end_offset == 5 and log.num_segments == 1
    assert [o for o, _ in read_values(read_all(log))] == list(range(5))
    assert append(log, 1).first_offset == 5
    log.close()


def test_retention_deletes_old_segments(logdir):
    log = open_log(logdir, LogConfig(segment_bytes=MiB, retention_bytes=2 * MiB))
    for _ in range(40):
        append(log, 1, value=b"r" * 100_000)
    log.update_high_watermark(log.log_end_offset)
    deleted = log.delete_old_segments(now_ms())
    assert deleted > 0
    assert log.log_start_offset == log.segments[0].base_offset > 0
    assert code_of(lambda: log.read(0, 100, max_offset=log.high_watermark, min_one_message=True)) == Errors.OFFSET_OUT_OF_RANGE
    log.close()


def test_clean_close_writes_producer_snapshot_in_kafkas_format(logdir):
    import crc32c

    log = open_log(logdir)
    append(log, 3, producer_id=42, producer_epoch=2, base_sequence=0)
    append(log, 2, producer_id=42, producer_epoch=2, base_sequence=3)
    append(log, 1)  # a non-idempotent batch: not a producer
    log.close()
    path = os.path.join(logdir, "00000000000000000006.snapshot")
    data = open(path, "rb").read()
    version, crc = struct.unpack_from(">hI", data, 0)
    assert version == 1 and crc == crc32c.crc32c(data[6:])
    (count,) = struct.unpack_from(">i", data, 6)
    assert count == 1
    pid, epoch, last_seq, last_off, delta, _ts, coord_epoch, txn_first = struct.unpack_from(">qhiqiqiq", data, 10)
    assert (pid, epoch, last_seq, last_off, delta, coord_epoch, txn_first) == (42, 2, 4, 4, 1, -1, -1)
    # A reopened log truncated below the snapshot drops it as stale.
    log2 = open_log(logdir)
    log2.truncate_to(2)
    log2.close()
    assert sorted(f for f in os.listdir(logdir) if f.endswith(".snapshot")) == ["00000000000000000002.snapshot"]


def test_record_errors_reach_the_kafka_error(logdir):
    """Kafka's RecordValidationException: the failing records travel with the error to the
    ProduceResponse's RecordErrors, and nothing of the batch is appended."""
    log = open_log(logdir, LogConfig(cleanup_policy=("compact",)))
    with pytest.raises(KafkaError) as ei:
        append(log, 3, key=None)
    assert ei.value.error == Errors.INVALID_RECORD
    assert ei.value.record_errors == [
        (i, "Compacted topic cannot accept message without key in topic partition topic-0") for i in range(3)]
    assert log.log_end_offset == 0
    log.close()


def test_flush_syncs_the_leader_epoch_checkpoint_before_the_recovery_point_moves(logdir, monkeypatch):
    """An epoch assigned on the append path is written unsynced (KAFKA-15046); the log flush
    that moves the recovery point past its batches fsyncs it first."""
    log = open_log(logdir)
    log.append_as_leader(batch(1), 0, now_ms=now_ms())
    log.append_as_leader(batch(1), 4, now_ms=now_ms())  # epoch 4 assigned here, not fsynced
    synced: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd))[1])
    log.flush()
    assert log.recovery_point == 2
    epoch_file = os.path.join(os.path.realpath(logdir), "leader-epoch-checkpoint")
    assert epoch_file in synced
    synced.clear()
    log.flush()  # nothing new: no fsync at all
    assert synced == []
    log.close()
