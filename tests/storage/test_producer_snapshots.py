"""Producer-state snapshots as Kafka's ProducerStateManager: taken on roll (at the new segment's
base offset), loaded on recovery (latest snapshot at or below where recovery starts, then the
batches after it), deleted with their segment; producer.id.expiration.ms."""
import os
import struct

import pytest

from batches import batch, now_ms
from fastkafka.cluster.replication.txn_markers import end_transaction_marker_batch
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage import LogManager
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.producer_state_manager import AppendOrigin, read_snapshot
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import UnifiedLog

TP = TopicPartition("topic", 0)


@pytest.fixture
def logdir(tmp_path):
    return str(tmp_path / "topic-0")


def open_log(logdir, config=None, **kw):
    return UnifiedLog.open(logdir, config or LogConfig(), topic_partition=TP, **kw)


def snapshots(logdir):
    return sorted(int(n[:20]) for n in os.listdir(logdir) if n.endswith(".snapshot"))


def send(log, pid, seq, n=1, epoch=0, txn=False, ts=None):
    info = log.append_as_leader(batch(n, producer_id=pid, producer_epoch=epoch, base_sequence=seq, transactional=txn,
                                      ts=ts), 0, now_ms=now_ms())
    log.update_high_watermark(log.log_end_offset)
    return info


def end_txn(log, pid, commit, epoch=0):
    log.append_as_leader(end_transaction_marker_batch(pid, epoch, 0, commit, now_ms()), 0, now_ms=now_ms(),
                         origin=AppendOrigin.COORDINATOR)
    log.update_high_watermark(log.log_end_offset)


def crash(log):
    """kill -9: nothing is closed or flushed by the process (the page cache keeps the writes)."""
    for seg in log.segments:
        seg.log.close()


def test_roll_takes_snapshot_in_kafka_format(logdir):
    log = open_log(logdir)
    send(log, 7, 0, n=3)
    send(log, 8, 0, n=2, txn=True)
    log.roll()
    assert snapshots(logdir) == [5]
    data = open(os.path.join(logdir, "00000000000000000005.snapshot"), "rb").read()
    assert struct.unpack_from(">hIi", data) == (1, struct.unpack_from(">I", data, 2)[0], 2)
    entries = {e.producer_id: e for e in read_snapshot(os.path.join(logdir, "00000000000000000005.snapshot"))}
    assert entries[7].last_seq == 2 and entries[7].last_data_offset == 2 and entries[7].current_txn_first_offset is None
    assert entries[8].current_txn_first_offset == 3 and entries[8].last_data_offset == 4
    send(log, 7, 3)
    log.roll()
    assert snapshots(logdir) == [5, 6]  # older snapshots stay, each with its segment
    log.close()
    assert snapshots(logdir) == [5, 6]  # the log end is 6: nothing new to snapshot


def test_open_transaction_survives_kill_9(logdir):
    log = open_log(logdir)
    send(log, 1, 0, n=2, txn=True)  # 0-1: open
    send(log, 2, 0, n=2)
    log.roll()  # snapshot at 4 holds the open transaction
    send(log, 3, 0, n=1, txn=True)  # 4: open too
    send(log, 1, 2, n=1, txn=True)
    assert log.last_stable_offset == 0
    rp = log.recovery_point
    crash(log)
    log = open_log(logdir, had_clean_shutdown=False, recovery_point=rp)
    log.update_high_watermark(log.log_end_offset)
    psm = log.producer_state_manager
    assert psm.first_unstable_offset == 0 and log.last_stable_offset == 0
    assert psm.last_entry(1).last_seq == 2 and psm.last_entry(2).last_seq == 1
    end_txn(log, 1, commit=False)
    assert log.last_stable_offset == 4  # producer 3's transaction is still open
    # The abort's .txnindex entry carries that LSO.
    assert [(t.producer_id, t.first_offset, t.last_stable_offset) for t in log.active_segment.txn_index.entries] \
        == [(1, 0, 4)]
    # Sequences continue; a retry of the last batch is a duplicate.
    assert send(log, 2, 0, n=2).duplicate
    with pytest.raises(KafkaError) as ei:
        send(log, 2, 5)
    assert ei.value.error == Errors.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert not send(log, 2, 2).duplicate
    log.close()


def test_recovery_loads_latest_snapshot_below_the_recovered_segment(logdir):
    log = open_log(logdir)
    send(log, 1, 0, n=2, txn=True)
    log.roll()  # snapshot 2
    send(log, 1, 2, n=2, txn=True)
    end_txn(log, 1, commit=False)  # 4, abort
    log.roll()  # snapshot 5
    send(log, 4, 0)  # 5
    log.flush(5)  # recovery point 5: the last segment is recovered
    crash(log)
    # A snapshot above the recovery start is not trusted (Kafka deletes it and rebuilds).
    log = open_log(logdir, had_clean_shutdown=False, recovery_point=5)
    assert snapshots(logdir) == [2, 5, 6]
    assert log.producer_state_manager.first_unstable_offset is None
    crash(log)
    # Recovering from 0: the second segment's .txnindex is rebuilt from the markers.
    os.truncate(os.path.join(logdir, "00000000000000000002.txnindex"), 0)
    log = open_log(logdir, had_clean_shutdown=False, recovery_point=0)
    assert [(t.producer_id, t.first_offset, t.last_offset, t.last_stable_offset)
            for t in log.segments[1].txn_index.entries] == [(1, 0, 4, 5)]
    assert log.producer_state_manager.last_entry(4).last_seq == 0
    log.close()


def test_corrupt_snapshot_is_skipped(logdir):
    log = open_log(logdir)
    send(log, 1, 0, n=3)
    log.roll()
    send(log, 1, 3)
    log.close()  # snapshot at 4
    path = os.path.join(logdir, "00000000000000000004.snapshot")
    data = bytearray(open(path, "rb").read())
    data[-1] ^= 0xFF
    open(path, "wb").write(bytes(data))
    log = open_log(logdir)
    assert log.producer_state_manager.last_entry(1).last_seq == 3  # from snapshot 3 + the log
    assert not os.path.exists(path) or read_snapshot(path)
    log.close()


def test_retention_deletes_the_segments_snapshot(logdir):
    log = open_log(logdir, LogConfig(file_delete_delay_ms=0))
    send(log, 1, 0)
    log.roll()  # snapshot 1
    send(log, 1, 1)
    log.roll()  # snapshot 2
    send(log, 1, 2)
    log.maybe_increment_log_start_offset(2)
    assert log.delete_old_segments(now_ms()) == 2
    # The snapshots named by the deleted segments' base offsets go with them (0 has none).
    assert snapshots(logdir) == [2]
    assert os.path.exists(os.path.join(logdir, "00000000000000000001.snapshot.deleted"))
    log.delete_expired_files(now_ms() + 1)
    assert not any(n.endswith(".deleted") for n in os.listdir(logdir))
    # The producer is still known (its batches are gone): retention does not reset it.
    assert send(log, 1, 3).first_offset == 3
    log.close()


def test_truncation_reloads_from_snapshot(logdir):
    log = open_log(logdir)
    send(log, 1, 0, n=2)
    log.roll()  # 2
    send(log, 1, 2, n=2)
    log.roll()  # 4
    send(log, 1, 4)
    log.truncate_to(4)
    assert snapshots(logdir) == [2, 4]
    assert log.producer_state_manager.last_entry(1).last_seq == 3
    log.truncate_to(2)
    assert snapshots(logdir) == [2]
    assert log.producer_state_manager.last_entry(1).last_seq == 1
    assert send(log, 1, 2).first_offset == 2
    log.close()


def test_producer_id_expiration(tmp_path, logdir):
    log = open_log(logdir)
    old = now_ms() - 10_000
    send(log, 1, 0, ts=old)
    send(log, 2, 0, ts=old, txn=True)  # an open transaction never expires
    send(log, 3, 0)
    psm = log.producer_state_manager
    assert log.remove_expired_producers(now_ms(), 5_000) == 1
    assert sorted(psm.producers) == [2, 3]
    log.close()
    # A snapshot read at load drops the producers that expired meanwhile.
    log = open_log(logdir, producer_id_expiration_ms=1)
    assert sorted(log.producer_state_manager.producers) == [2]
    log.close()
    # LogManager: the broker key, read at each check (dynamic).
    lm = LogManager([str(tmp_path / "lm")], {"producer.id.expiration.ms": "5000"})
    lm.startup()
    l2 = lm.get_or_create_log(TopicPartition("x", 0), b"\x01" * 16, LogConfig())
    send(l2, 9, 0, ts=old)
    assert lm.remove_expired_producers(now_ms()) == 1
    lm.broker_defaults["producer.id.expiration.ms"] = "86400000"
    send(l2, 10, 0, ts=old)
    assert lm.remove_expired_producers(now_ms()) == 0
    lm.shutdown()


def test_roll_snapshot_fsync_goes_with_the_background_flush(logdir):
    log = open_log(logdir)
    jobs = []
    log.background_flusher = lambda work, done: jobs.append((work, done))
    send(log, 1, 0, n=2)
    log.roll()
    assert snapshots(logdir) == [2] and len(jobs) == 1
    assert log.recovery_point == 0
    work, done = jobs.pop()
    work()
    done(None)
    assert log.recovery_point == 2
    assert read_snapshot(os.path.join(logdir, "00000000000000000002.snapshot"))[0].producer_id == 1
    log.close()


def test_stray_snapshots_are_removed_at_load(logdir):
    log = open_log(logdir)
    send(log, 1, 0, n=2)
    log.roll()  # 2
    send(log, 1, 2, n=2)
    log.close()  # 4: a stray above the last segment's base, kept
    for stray in (1, 3):
        open(os.path.join(logdir, f"{stray:020d}.snapshot"), "wb").write(
            open(os.path.join(logdir, "00000000000000000002.snapshot"), "rb").read())
    log = open_log(logdir)
    assert snapshots(logdir) == [2, 4]
    assert log.producer_state_manager.last_entry(1).last_seq == 3
    log.close()
