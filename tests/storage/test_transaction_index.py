"""The aborted-transaction index (.txnindex, Kafka's TransactionIndex/AbortedTxn) and
READ_COMMITTED reads: entries appended on ABORT markers with the LSO, collected across segments,
truncated/renamed/rebuilt with their segment."""
import os
import struct

import pytest

from batches import batch, now_ms
from fastkafka.cluster.replication.txn_markers import end_transaction_marker_batch
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.producer_state_manager import AppendOrigin
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.transaction_index import ABORTED_TXN_SIZE, AbortedTxn, TransactionIndex
from fastkafka.storage.unified_log import UnifiedLog

TP = TopicPartition("topic", 0)


@pytest.fixture
def logdir(tmp_path):
    return str(tmp_path / "topic-0")


def open_log(logdir, config=None, **kw):
    return UnifiedLog.open(logdir, config or LogConfig(), topic_partition=TP, **kw)


class Producer:
    def __init__(self, log, pid, epoch=0):
        self.log, self.pid, self.epoch, self.seq = log, pid, epoch, 0

    def send(self, n=1):
        info = self.log.append_as_leader(batch(n, producer_id=self.pid, producer_epoch=self.epoch,
                                               base_sequence=self.seq, transactional=True), 0, now_ms=now_ms())
        self.seq += n
        self.log.update_high_watermark(self.log.log_end_offset)
        return info.first_offset

    def end(self, commit):
        info = self.log.append_as_leader(end_transaction_marker_batch(self.pid, self.epoch, 0, commit, now_ms()), 0,
                                         now_ms=now_ms(), origin=AppendOrigin.COORDINATOR)
        self.log.update_high_watermark(self.log.log_end_offset)
        return info.first_offset


def test_file_format_and_reload(tmp_path):
    path = str(tmp_path / "00000000000000000000.txnindex")
    idx = TransactionIndex(0, path)
    assert not os.path.exists(path)  # created lazily, as Kafka
    idx.append(AbortedTxn(7, 3, 10, 5))
    idx.append(AbortedTxn(8, 11, 20, 21))
    with pytest.raises(ValueError):
        idx.append(AbortedTxn(9, 12, 20, 21))
    idx.close()
    data = open(path, "rb").read()
    assert len(data) == 2 * ABORTED_TXN_SIZE == 68
    assert struct.unpack(">hqqqq", data[:34]) == (0, 7, 3, 10, 5)
    with open(path, "ab") as f:
        f.write(b"\x00" * 10)  # torn entry
    idx2 = TransactionIndex(0, path)
    assert idx2.entries == [AbortedTxn(7, 3, 10, 5), AbortedTxn(8, 11, 20, 21)]
    assert os.path.getsize(path) == 68
    r = idx2.collect_aborted_txns(11, 15)
    assert r.aborted_transactions == [AbortedTxn(8, 11, 20, 21)] and r.is_complete
    r = idx2.collect_aborted_txns(0, 3)
    assert r.aborted_transactions == [] and r.is_complete  # first entry's LSO 5 >= 3
    r = idx2.collect_aborted_txns(0, 100)
    assert len(r.aborted_transactions) == 2 and not r.is_complete
    idx2.truncate_to(20)
    assert idx2.entries == [AbortedTxn(7, 3, 10, 5)] and os.path.getsize(path) == 34


def test_abort_marker_appends_entry_with_lso(logdir):
    log = open_log(logdir)
    a, b = Producer(log, 1), Producer(log, 2)
    assert a.send(2) == 0
    assert b.send(2) == 2
    assert log.last_stable_offset == 0
    assert a.end(commit=False) == 4
    # B is still open: the LSO after A's abort is B's first offset.
    assert log.active_segment.txn_index.entries == [AbortedTxn(1, 0, 4, 2)]
    assert log.last_stable_offset == 2
    assert b.end(commit=True) == 5
    assert log.last_stable_offset == 6
    assert len(log.active_segment.txn_index.entries) == 1  # commits are not indexed
    assert os.path.getsize(os.path.join(logdir, "00000000000000000000.txnindex")) == 34
    assert log.collect_aborted_transactions(0, 6) == [AbortedTxn(1, 0, 4, 2)]
    assert log.collect_aborted_transactions(5, 6) == []
    # An empty transaction (marker without data) is not indexed.
    Producer(log, 3).end(commit=False)
    assert len(log.active_segment.txn_index.entries) == 1


def test_read_committed_aborted_transactions_span_segments(logdir):
    log = open_log(logdir, LogConfig(segment_bytes=400))
    p = Producer(log, 5)
    p.send(3)  # 0-2
    log.roll()
    p.send(3)  # 3-5
    log.roll()
    p.end(commit=False)  # 6, in the third segment
    q = Producer(log, 6)
    q.send(1)  # 7
    q.end(commit=True)  # 8
    assert log.num_segments == 3
    info = log.read(0, 10**6, max_offset=log.last_stable_offset, min_one_message=True)
    # The first segment's read: the entry sits in the third segment's .txnindex.
    assert log.aborted_transactions_for_read(info) == [AbortedTxn(5, 0, 6, 7)]
    info = log.read(7, 10**6, max_offset=log.last_stable_offset, min_one_message=True)
    assert log.aborted_transactions_for_read(info) == []
    assert os.path.exists(os.path.join(logdir, "00000000000000000006.txnindex"))
    assert not os.path.exists(os.path.join(logdir, "00000000000000000000.txnindex"))


def test_txn_index_follows_truncation_retention_and_recovery(logdir):
    log = open_log(logdir)
    p = Producer(log, 5)
    p.send(2)
    p.end(commit=False)  # 2
    p.send(2)  # 3-4
    p.end(commit=False)  # 5
    seg = log.active_segment
    assert [t.last_offset for t in seg.txn_index.entries] == [2, 5]
    expected = seg.txn_index.entries
    # Unclean restart from recovery point 0: the index is rebuilt identically.
    log.close()
    path = os.path.join(logdir, "00000000000000000000.txnindex")
    os.truncate(path, 0)
    log = open_log(logdir, had_clean_shutdown=False, recovery_point=0)
    assert log.active_segment.txn_index.entries == expected
    assert os.path.getsize(path) == 68
    # Clean restart: read back from the file.
    log.close()
    log = open_log(logdir)
    assert log.active_segment.txn_index.entries == expected
    # Truncation below the second marker drops its entry.
    log.truncate_to(4)
    assert [t.last_offset for t in log.active_segment.txn_index.entries] == [2]
    assert os.path.getsize(path) == 34
    # Retention renames it with its segment.
    log.update_high_watermark(log.log_end_offset)
    log.roll()
    Producer(log, 9).send(1)
    log.update_high_watermark(log.log_end_offset)
    log.maybe_increment_log_start_offset(log.log_end_offset)
    assert log.delete_old_segments(now_ms()) == 1
    assert not os.path.exists(path) and os.path.exists(path + ".deleted")
    log.delete_expired_files(now_ms() + 10**8)
    assert not os.path.exists(path + ".deleted")
    log.close()


def test_fetch_upper_bound_from_offset_index(logdir):
    log = open_log(logdir, LogConfig(index_interval_bytes=1))
    for _ in range(4):
        log.append_as_leader(batch(2), 0, now_ms=now_ms())
    seg = log.active_segment
    entries = [seg.offset_index.entry(i) for i in range(seg.offset_index.entries)]
    assert entries, "every batch past the first is indexed with index.interval.bytes=1"
    size = seg.size // 4  # the batches are the same size
    # The first index entry at or past the end of the fetched bytes, keyed by its batch's last offset.
    assert seg.fetch_upper_bound_offset(0, size) == 3
    assert seg.fetch_upper_bound_offset(0, size + 1) == 5
    assert seg.fetch_upper_bound_offset(0, seg.size) is None
    # A READ_COMMITTED read cut by max_bytes stops collecting at that bound.
    p = Producer(log, 4)
    p.send(1)  # 8
    p.end(commit=False)  # 9
    info = log.read(0, size, max_offset=log.last_stable_offset, min_one_message=True)
    assert log.aborted_transactions_for_read(info) == []
    info = log.read(6, 10**6, max_offset=log.last_stable_offset, min_one_message=True)
    assert log.aborted_transactions_for_read(info) == [AbortedTxn(4, 8, 9, 10)]


def test_rolled_segment_gives_back_its_fd_and_is_still_flushed(logdir):
    log = open_log(logdir)
    p = Producer(log, 5)
    p.send(1)
    p.end(commit=False)
    seg = log.active_segment
    assert seg.txn_index._fd is not None and seg.txn_index._dirty
    log.roll()  # inline flush (no background flusher): the rolled segment's .txnindex is fsynced
    assert seg.txn_index._fd is None and not seg.txn_index._dirty
    assert os.path.getsize(os.path.join(logdir, "00000000000000000000.txnindex")) == 34
    log.close()
