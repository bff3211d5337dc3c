"""ReplicaManager.write_txn_markers and the WriteTxnMarkers handler (key 27): the control batch's
layout (Kafka's MemoryRecords.withEndTransactionMarker), producer state and LSO, per-partition errors."""
from __future__ import annotations

import asyncio
import struct
import time
import types

from kafka.record.default_records import DefaultRecordBatch

from fastkafka.cluster.replication.replica_manager import ReplicaManager
from fastkafka.cluster.replication.txn_markers import TxnMarkerEntry, end_transaction_marker_batch
from fastkafka.net.handlers.k27_write_txn_markers import handle_write_txn_markers
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import WriteTxnMarkersRequest, WriteTxnMarkersResponse
from fastkafka.storage import LogManager, TopicPartition
from fastkafka.storage.producer_state_manager import AppendOrigin

from kafka.record.default_records import DefaultRecordBatchBuilder

TID = b"\x01" * 16


def txn_batch(pid: int, epoch: int, seq: int, n: int = 1) -> bytes:
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=True, producer_id=pid,
                                  producer_epoch=epoch, base_sequence=seq, batch_size=1 << 30)
    for i in range(n):
        b.append(i, timestamp=int(time.time() * 1000), key=b"k", value=b"v%d" % i, headers=[])
    return bytes(b.build())


def make_rm(tmp_path, topics=("t",), partitions=2) -> ReplicaManager:
    lm = LogManager([str(tmp_path / "logs")], {})
    lm.startup()
    rm = ReplicaManager(1, lm, {})
    for name in topics:
        regs = [types.SimpleNamespace(partition_id=i, leader=1, leader_epoch=3, partition_epoch=0,
                                      replicas=[1], isr=[1]) for i in range(partitions)]
        rm.apply_topic(name, TID, regs, {})
    return rm


def batches_of(log) -> list[DefaultRecordBatch]:
    out = []
    for seg in log.segments:
        data = seg.log.read_all() if hasattr(seg.log, "read_all") else open(seg.log.path, "rb").read()
        pos = 0
        while pos + 61 <= len(data):
            size = struct.unpack_from(">i", data, pos + 8)[0] + 12
            out.append(DefaultRecordBatch(data[pos:pos + size]))
            pos += size
    return out


def test_marker_batch_layout():
    raw = end_transaction_marker_batch(42, 3, 7, True, 12345)
    b = DefaultRecordBatch(raw)
    assert b.validate_crc()
    assert b.is_control_batch and b.is_transactional
    assert (b.producer_id, b.producer_epoch, b.base_sequence) == (42, 3, -1)
    assert struct.unpack_from(">i", raw, 12)[0] == -1  # no partition leader epoch until appended
    recs = list(b)
    assert len(recs) == 1
    assert recs[0].key == struct.pack(">hh", 0, 1) and recs[0].value == struct.pack(">hi", 0, 7)
    assert recs[0].timestamp == 12345
    abort = list(DefaultRecordBatch(end_transaction_marker_batch(42, 3, 7, False, 1)))[0]
    assert abort.key == struct.pack(">hh", 0, 0)


def test_commit_marker_completes_transaction_and_moves_lso(tmp_path):
    rm = make_rm(tmp_path)
    tp = TopicPartition("t", 0)
    with rm.batched_appends():
        assert rm.append_records(tp, txn_batch(9, 0, 0, 3), -1).error == 0
    log = rm.partition(tp).log
    assert log.high_watermark == 3 and log.last_stable_offset == 0
    res = asyncio.run(rm.write_txn_markers([TxnMarkerEntry(9, 0, 5, True, (("t", 0),))]))
    assert res == [{("t", 0): 0}]
    assert log.log_end_offset == 4 and log.high_watermark == 4 and log.last_stable_offset == 4
    entry = log.producer_state_manager.last_entry(9)
    assert entry.current_txn_first_offset is None and entry.coordinator_epoch == 5
    marker = batches_of(log)[-1]
    assert marker.is_control_batch and marker.base_offset == 3 and marker.producer_id == 9
    assert struct.unpack(">hh", list(marker)[0].key) == (0, 1)
    # A marker for an already completed transaction is written again without error (Kafka).
    res = asyncio.run(rm.write_txn_markers([TxnMarkerEntry(9, 0, 5, True, (("t", 0),))]))
    assert res == [{("t", 0): 0}] and log.log_end_offset == 5


def test_marker_errors_per_partition(tmp_path):
    rm = make_rm(tmp_path)
    with rm.batched_appends():
        rm.append_records(TopicPartition("t", 0), txn_batch(9, 2, 0), -1)
        rm.append_records(TopicPartition("t", 1), txn_batch(9, 2, 0), -1)
    asyncio.run(rm.write_txn_markers([TxnMarkerEntry(9, 2, 5, False, (("t", 1),))]))
    res = asyncio.run(rm.write_txn_markers([
        TxnMarkerEntry(9, 1, 5, False, (("t", 0), ("nope", 0), ("t", 7))),  # older producer epoch
        TxnMarkerEntry(9, 2, 4, False, (("t", 1),)),  # older coordinator epoch
    ]))
    assert res == [
        {("t", 0): Errors.INVALID_PRODUCER_EPOCH, ("nope", 0): Errors.UNKNOWN_TOPIC_OR_PARTITION,
         ("t", 7): Errors.UNKNOWN_TOPIC_OR_PARTITION},
        {("t", 1): Errors.TRANSACTION_COORDINATOR_FENCED},
    ]
    # Nothing was appended by the refused markers; partition 0's transaction is still open.
    assert rm.partition(TopicPartition("t", 0)).log.last_stable_offset == 0


def test_not_leader(tmp_path):
    rm = make_rm(tmp_path)
    rm.apply_topic("t", TID, [types.SimpleNamespace(partition_id=0, leader=2, leader_epoch=4, partition_epoch=1,
                                                    replicas=[1, 2], isr=[1, 2])], {})
    res = asyncio.run(rm.write_txn_markers([TxnMarkerEntry(9, 0, 0, True, (("t", 0),))]))
    assert res == [{("t", 0): Errors.NOT_LEADER_OR_FOLLOWER}]


def test_clients_still_cannot_write_control_batches(tmp_path):
    rm = make_rm(tmp_path)
    with rm.batched_appends():
        res = rm.append_records(TopicPartition("t", 0), end_transaction_marker_batch(9, 0, 0, True, 1), -1)
    assert res.error == Errors.INVALID_RECORD


def test_listener_sees_written_partitions(tmp_path):
    rm = make_rm(tmp_path)
    seen = []
    rm.txn_marker_listeners.append(lambda pid, committed, parts: seen.append((pid, committed, parts)))
    asyncio.run(rm.write_txn_markers([TxnMarkerEntry(9, 0, 0, True, (("t", 0), ("x", 0)))]))
    assert seen == [(9, True, [("t", 0)])]


def test_handler_merges_by_producer_id(tmp_path):
    rm = make_rm(tmp_path, topics=("a", "b"))
    broker = types.SimpleNamespace(replica_manager=rm)
    M, T = WriteTxnMarkersRequest.WritableTxnMarker, WriteTxnMarkersRequest.WritableTxnMarkerTopic
    req = WriteTxnMarkersRequest(markers=[
        M(producer_id=5, producer_epoch=0, transaction_result=True, coordinator_epoch=1,
          topics=[T(name="a", partition_indexes=[0, 1])]),
        M(producer_id=6, producer_epoch=0, transaction_result=False, coordinator_epoch=1,
          topics=[T(name="b", partition_indexes=[0]), T(name="zz", partition_indexes=[0])]),
        M(producer_id=5, producer_epoch=0, transaction_result=True, coordinator_epoch=1,
          topics=[T(name="b", partition_indexes=[1])]),
    ])
    for version in (0, 1):
        wire = WriteTxnMarkersRequest.from_bytes(req.to_bytes(version), version)
        resp = asyncio.run(handle_write_txn_markers(broker, None, wire))
        resp = WriteTxnMarkersResponse.from_bytes(resp.to_bytes(version), version)
        got = {m.producer_id: {(t.name, p.partition_index): p.error_code for t in m.topics for p in t.partitions}
               for m in resp.markers}
        assert got == {5: {("a", 0): 0, ("a", 1): 0, ("b", 1): 0},
                       6: {("b", 0): 0, ("zz", 0): Errors.UNKNOWN_TOPIC_OR_PARTITION}}
    assert rm.partition(TopicPartition("a", 0)).log.log_end_offset == 2


def test_read_committed_fetch_returns_aborted_transactions(tmp_path):
    from fastkafka.cluster.replication.replica_manager import FetchPartitionRequest

    rm = make_rm(tmp_path)
    tp = TopicPartition("t", 0)
    with rm.batched_appends():
        rm.append_records(tp, txn_batch(9, 0, 0, 2), -1)  # 0-1
        rm.append_records(tp, txn_batch(10, 0, 0, 1), -1)  # 2
    asyncio.run(rm.write_txn_markers([TxnMarkerEntry(9, 0, 1, False, (("t", 0),))]))  # 3
    req = FetchPartitionRequest(tp, 0, 10**6)
    committed = rm.read_partition(req, 10**6, True, 1)
    assert committed.aborted_transactions == [(9, 0)]
    assert committed.last_stable_offset == 2 and committed.high_watermark == 4
    # Only up to the LSO: producer 10's open transaction is not returned.
    assert [b.base_offset for b in batches_from_bytes(committed.records.read_bytes())] == [0]
    uncommitted = rm.read_partition(req, 10**6, True, 0)
    assert uncommitted.aborted_transactions is None
    assert [b.base_offset for b in batches_from_bytes(uncommitted.records.read_bytes())] == [0, 2, 3]
    asyncio.run(rm.write_txn_markers([TxnMarkerEntry(10, 0, 1, True, (("t", 0),))]))  # 4
    committed = rm.read_partition(FetchPartitionRequest(tp, 2, 10**6), 10**6, True, 1)
    # The abort marker (offset 3) is inside [2, 5): Kafka returns the transaction.
    assert committed.aborted_transactions == [(9, 0)] and committed.last_stable_offset == 5
    committed = rm.read_partition(FetchPartitionRequest(tp, 4, 10**6), 10**6, True, 1)
    assert committed.aborted_transactions == []


def batches_from_bytes(data):
    out, pos = [], 0
    while pos + 61 <= len(data):
        size = struct.unpack_from(">i", data, pos + 8)[0] + 12
        out.append(DefaultRecordBatch(data[pos:pos + size]))
        pos += size
    return out


def test_write_txn_markers_is_advertised_v1_to_v2():
    import fastkafka.net.handlers  # noqa: F401  (registers every handler)
    from fastkafka.net.registry import REGISTRY

    h = REGISTRY.get(27)
    assert h is not None and (h.min_version, h.max_version) == (1, 2) and "broker" in h.listeners


def test_transaction_verification_kip_890(tmp_path):
    rm = make_rm(tmp_path)
    tp = TopicPartition("t", 0)
    calls = []
    answer = {"code": 0}

    def verifier(txn_id, pid, epoch, parts, add):
        assert not add  # Produce v11 and below verify; v12+ adds (test below)
        calls.append((txn_id, pid, epoch, sorted(parts)))
        return {p: answer["code"] for p in parts}

    rm.transaction_verifier = verifier
    with rm.batched_appends():
        assert rm.append_records(tp, txn_batch(9, 0, 0), -1, transactional_id="tx").error == 0
        assert calls == [("tx", 9, 0, [("t", 0)])]
        # The transaction is ongoing here now: no second verification.
        assert rm.append_records(tp, txn_batch(9, 0, 1), -1, transactional_id="tx").error == 0
        assert len(calls) == 1
    asyncio.run(rm.write_txn_markers([TxnMarkerEntry(9, 0, 0, True, (("t", 0),))]))
    log_end = rm.partition(tp).log.log_end_offset
    cases = [
        (Errors.TRANSACTION_ABORTABLE, 11, Errors.TRANSACTION_ABORTABLE),
        (Errors.TRANSACTION_ABORTABLE, 10, Errors.INVALID_TXN_STATE),
        (Errors.INVALID_TXN_STATE, 11, Errors.INVALID_TXN_STATE),
        (Errors.PRODUCER_FENCED, 11, Errors.INVALID_PRODUCER_EPOCH),
        (Errors.COORDINATOR_LOAD_IN_PROGRESS, 11, Errors.NOT_ENOUGH_REPLICAS),
        (Errors.CONCURRENT_TRANSACTIONS, 9, Errors.NOT_ENOUGH_REPLICAS),
        (Errors.INVALID_PRODUCER_ID_MAPPING, 11, Errors.INVALID_PRODUCER_ID_MAPPING),
    ]
    for code, version, expected in cases:
        answer["code"] = code
        with rm.batched_appends():
            res = rm.append_records(tp, txn_batch(9, 0, 2), -1, transactional_id="tx", produce_version=version)
        assert res.error == expected, (code, version, res)
    assert rm.partition(tp).log.log_end_offset == log_end  # nothing refused was written
    # Not verified: non-transactional batches, no transactional id, verification disabled.
    n = len(calls)
    with rm.batched_appends():
        assert rm.append_records(tp, batch_plain(), -1, transactional_id="tx").error == 0
        assert rm.append_records(TopicPartition("t", 1), txn_batch(11, 0, 0), -1).error == 0
        rm.update_broker_defaults({"transaction.partition.verification.enable": "false"})
        assert rm.append_records(tp, txn_batch(9, 0, 2), -1, transactional_id="tx").error == 0
    assert len(calls) == n


def batch_plain() -> bytes:
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False, producer_id=-1,
                                  producer_epoch=-1, base_sequence=-1, batch_size=1 << 30)
    b.append(0, timestamp=int(time.time() * 1000), key=b"k", value=b"v", headers=[])
    return bytes(b.build())


def test_produce_v12_adds_the_partition_kip_890_part_2(tmp_path):
    """Produce v12+ (transaction version 2): the leader adds a new transaction's partition through
    the coordinator (add=True), also with transaction.partition.verification.enable=false; errors
    are translated as for verification."""
    rm = make_rm(tmp_path)
    tp = TopicPartition("t", 0)
    calls = []
    answer = {"code": 0}

    def verifier(txn_id, pid, epoch, parts, add):
        calls.append((txn_id, pid, epoch, sorted(parts), add))
        return {p: answer["code"] for p in parts}

    rm.transaction_verifier = verifier
    rm.update_broker_defaults({"transaction.partition.verification.enable": "false"})
    with rm.batched_appends():
        assert rm.append_records(tp, txn_batch(9, 0, 0), -1, transactional_id="tx", produce_version=12).error == 0
        assert rm.append_records(tp, txn_batch(9, 0, 1), -1, transactional_id="tx", produce_version=12).error == 0
    assert calls == [("tx", 9, 0, [("t", 0)], True)]  # once: then the transaction is ongoing here
    answer["code"] = Errors.PRODUCER_FENCED
    with rm.batched_appends():
        res = rm.append_records(TopicPartition("t", 1), txn_batch(9, 0, 0), -1, transactional_id="tx",
                                produce_version=13)
    assert res.error == Errors.INVALID_PRODUCER_EPOCH and calls[-1][-1] is True
