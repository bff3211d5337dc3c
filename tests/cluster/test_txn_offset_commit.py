"""Transactional offset commits (TxnOffsetCommit, key 28) in the group coordinator over a real
ReplicaManager and `__consumer_offsets` log: the offsets are a transactional batch of the
producer, pending (invisible to OffsetFetch, UNSTABLE_OFFSET_COMMIT with require_stable) until
a COMMIT marker makes them committed or an ABORT marker drops them; a new coordinator replaying
the log (pending records, then the control batch) ends in the same state."""
from __future__ import annotations

import asyncio
import types
from typing import Any

from fastkafka._native.record_batch import iter_records, scan_batches
from fastkafka.cluster.group.group_coordinator import GroupCoordinator
from fastkafka.cluster.replication.replica_manager import ReplicaManager
from fastkafka.cluster.replication.txn_markers import TxnMarkerEntry
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME
from fastkafka.net.handlers.k09_offset_fetch import handle_offset_fetch
from fastkafka.net.handlers.k28_txn_offset_commit import handle_txn_offset_commit
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import OffsetFetchRequest, TxnOffsetCommitRequest
from fastkafka.storage import LogManager, TopicPartition

PID, EPOCH = 4242, 3
OFFSETS_TP = TopicPartition(GROUP_METADATA_TOPIC_NAME, 0)


class _Broker:
    """Config, an image with `__consumer_offsets` (1 partition) and topic "t" (2 partitions), a
    real ReplicaManager leading them, the group coordinator wired to its marker listener (as
    server.py does); no transaction coordinator, so nothing is verified."""

    def __init__(self, tmp_path: Any, rm: ReplicaManager | None = None) -> None:
        self.config = {"offsets.topic.num.partitions": "1", "offset.metadata.max.bytes": "10"}
        topic = types.SimpleNamespace(name="t", partitions={0: None, 1: None})
        self.image = types.SimpleNamespace(topics=types.SimpleNamespace(
            by_name={GROUP_METADATA_TOPIC_NAME: object(), "t": topic}))
        if rm is None:
            lm = LogManager([str(tmp_path / "logs")], {})
            lm.startup()
            rm = ReplicaManager(1, lm, {})
            for name, n in ((GROUP_METADATA_TOPIC_NAME, 1), ("t", 2)):
                rm.apply_topic(name, b"\x01" * 16 if name == "t" else b"\x02" * 16, [types.SimpleNamespace(
                    partition_id=i, leader=1, leader_epoch=0, partition_epoch=0, replicas=[1], isr=[1])
                    for i in range(n)], {"cleanup.policy": "compact"} if name != "t" else {})
        self.replica_manager = rm
        self.group_coordinator = GroupCoordinator(self)
        rm.txn_marker_listeners.append(self.group_coordinator.on_txn_markers_written)


def _ctx(api_key: int, version: int) -> RequestContext:
    return RequestContext(api_key=api_key, api_version=version, correlation_id=1, client_id="cli",
                          listener_name="PLAINTEXT", security_protocol="PLAINTEXT", client_address="10.0.0.7:5555",
                          connection_id="c")


def _txn_commit(broker: _Broker, offsets: dict[tuple[str, int], int], version: int = 4, group: str = "g",
                metadata: str = "", **fields: Any) -> dict[tuple[str, int], int]:
    R = TxnOffsetCommitRequest
    by_topic: dict[str, list[Any]] = {}
    for (t, p), o in offsets.items():
        by_topic.setdefault(t, []).append(R.TxnOffsetCommitRequestPartition(
            partition_index=p, committed_offset=o, committed_leader_epoch=0, committed_metadata=metadata))
    req = R(transactional_id="tx", group_id=group, producer_id=PID, producer_epoch=EPOCH,
            topics=[R.TxnOffsetCommitRequestTopic(name=t, partitions=ps) for t, ps in by_topic.items()], **fields)
    resp = asyncio.run(handle_txn_offset_commit(broker, _ctx(28, version), req))
    return {(t.name, p.partition_index): p.error_code for t in resp.topics for p in t.partitions}


def _fetch(broker: _Broker, require_stable: bool, version: int = 9) -> dict[tuple[str, int], tuple[int, int]]:
    """(offset, partition error) of t-0 and t-1 for group g."""
    R = OffsetFetchRequest
    if version >= 8:
        req = R(groups=[R.OffsetFetchRequestGroup(group_id="g", topics=[
            R.OffsetFetchRequestTopics(name="t", partition_indexes=[0, 1])])], require_stable=require_stable)
        resp = asyncio.run(handle_offset_fetch(broker, _ctx(9, version), req))
        assert resp.groups[0].error_code == 0
        topics = resp.groups[0].topics
    else:
        req = R(group_id="g", topics=[R.OffsetFetchRequestTopic(name="t", partition_indexes=[0, 1])],
                require_stable=require_stable)
        resp = asyncio.run(handle_offset_fetch(broker, _ctx(9, version), req))
        assert resp.error_code == 0
        topics = resp.topics
    return {(t.name, p.partition_index): (p.committed_offset, p.error_code) for t in topics for p in t.partitions}


def _marker(broker: _Broker, committed: bool, pid: int = PID) -> None:
    (errors,) = asyncio.run(broker.replica_manager.write_txn_markers([TxnMarkerEntry(
        pid, EPOCH, 0, committed, ((GROUP_METADATA_TOPIC_NAME, 0),))]))
    assert errors == {(GROUP_METADATA_TOPIC_NAME, 0): 0}


def _batches(broker: _Broker) -> list[tuple[Any, list[Any]]]:
    plog = broker.replica_manager.partition(OFFSETS_TP).log
    records = plog.read(0, 1 << 20, max_offset=plog.log_end_offset, min_one_message=True).records
    data = records.read_bytes() if records is not None else b""
    headers, _end, _err = scan_batches(data, 0, False)
    return [(h, iter_records(data[h.position:h.position + h.size])) for h in headers]


def _replayed(broker: _Broker) -> _Broker:
    """A fresh coordinator loading the same log (a restart's replay)."""
    fresh = _Broker(None, broker.replica_manager)

    async def load() -> None:
        await fresh.group_coordinator.start_loading()
        if fresh.group_coordinator._expiration_timer is not None:
            fresh.group_coordinator._expiration_timer.cancel()
    asyncio.run(load())
    assert not fresh.group_coordinator.is_loading()
    return fresh


def test_pending_offsets_are_a_transactional_batch_and_invisible(tmp_path: Any) -> None:
    broker = _Broker(tmp_path)
    assert _txn_commit(broker, {("t", 0): 17, ("t", 1): 5}) == {("t", 0): 0, ("t", 1): 0}
    (h, records), = _batches(broker)
    assert h.is_transactional and not h.is_control
    assert (h.producer_id, h.producer_epoch, h.base_sequence) == (PID, EPOCH, 0)
    assert len(records) == 2
    # The partition's producer state holds the open transaction: the LSO stays at its start.
    assert broker.replica_manager.partition(OFFSETS_TP).log.last_stable_offset == 0
    assert _fetch(broker, False) == {("t", 0): (-1, 0), ("t", 1): (-1, 0)}
    assert _fetch(broker, True) == {("t", 0): (-1, Errors.UNSTABLE_OFFSET_COMMIT),
                                    ("t", 1): (-1, Errors.UNSTABLE_OFFSET_COMMIT)}
    assert _fetch(broker, True, version=7) == {("t", 0): (-1, Errors.UNSTABLE_OFFSET_COMMIT),
                                               ("t", 1): (-1, Errors.UNSTABLE_OFFSET_COMMIT)}


def test_commit_marker_makes_offsets_visible(tmp_path: Any) -> None:
    broker = _Broker(tmp_path)
    _txn_commit(broker, {("t", 0): 17})
    _marker(broker, True)
    assert _fetch(broker, True) == {("t", 0): (17, 0), ("t", 1): (-1, 0)}
    log = broker.replica_manager.partition(OFFSETS_TP).log
    assert log.last_stable_offset == log.high_watermark
    # A later transaction's pending offset: the committed one is still answered without
    # require_stable, and UNSTABLE_OFFSET_COMMIT with it.
    _txn_commit(broker, {("t", 0): 30})
    assert _fetch(broker, False)[("t", 0)] == (17, 0)
    assert _fetch(broker, True)[("t", 0)] == (-1, Errors.UNSTABLE_OFFSET_COMMIT)
    _marker(broker, True)
    assert _fetch(broker, True)[("t", 0)] == (30, 0)


def test_abort_marker_drops_offsets(tmp_path: Any) -> None:
    broker = _Broker(tmp_path)
    _txn_commit(broker, {("t", 0): 17})
    _marker(broker, True)
    _txn_commit(broker, {("t", 0): 99, ("t", 1): 3})
    _marker(broker, False)
    assert _fetch(broker, True) == {("t", 0): (17, 0), ("t", 1): (-1, 0)}
    assert not broker.group_coordinator.pending_offset_partitions("g")


def test_replay_pending_then_marker(tmp_path: Any) -> None:
    broker = _Broker(tmp_path)
    _txn_commit(broker, {("t", 0): 17})
    _marker(broker, True)
    _txn_commit(broker, {("t", 0): 50})
    _marker(broker, False)
    _txn_commit(broker, {("t", 1): 8})  # still open at the "restart"
    fresh = _replayed(broker)
    assert _fetch(fresh, False) == {("t", 0): (17, 0), ("t", 1): (-1, 0)}
    assert _fetch(fresh, True) == {("t", 0): (17, 0), ("t", 1): (-1, Errors.UNSTABLE_OFFSET_COMMIT)}
    # The open transaction's marker, written after the load, completes the replayed offsets.
    _marker(fresh, True)
    assert _fetch(fresh, True) == {("t", 0): (17, 0), ("t", 1): (8, 0)}
    again = _replayed(fresh)
    assert _fetch(again, True) == {("t", 0): (17, 0), ("t", 1): (8, 0)}


def test_later_regular_commit_wins_over_committed_transaction(tmp_path: Any) -> None:
    """Kafka keeps the most recent record: a regular commit written after the transactional one
    is not replaced when the transaction commits."""
    broker = _Broker(tmp_path)
    gc = broker.group_coordinator
    _txn_commit(broker, {("t", 0): 17})
    group = gc.validate_commit("g", "", -1)
    from fastkafka.cluster.group.classic_group import OffsetAndMetadata
    assert gc.commit_offsets(group, {("t", 0): OffsetAndMetadata(40, -1, "", 0)}) == 0
    _marker(broker, True)
    assert _fetch(broker, True)[("t", 0)] == (40, 0)
    assert _fetch(_replayed(broker), True)[("t", 0)] == (40, 0)


def test_validation(tmp_path: Any) -> None:
    broker = _Broker(tmp_path)
    # Unknown topic/partition are per partition; the rest is written.
    assert _txn_commit(broker, {("t", 0): 1, ("t", 9): 1, ("nope", 0): 1}) == {
        ("t", 0): 0, ("t", 9): Errors.UNKNOWN_TOPIC_OR_PARTITION, ("nope", 0): Errors.UNKNOWN_TOPIC_OR_PARTITION}
    assert _txn_commit(broker, {("t", 0): 1}, group="") == {("t", 0): Errors.INVALID_GROUP_ID}
    # Metadata longer than offset.metadata.max.bytes (10 here).
    assert _txn_commit(broker, {("t", 1): 1}, metadata="x" * 11) == {("t", 1): Errors.OFFSET_METADATA_TOO_LARGE}
    # v3+: an unknown group with a generation is ILLEGAL_GENERATION; a member of no group too.
    assert _txn_commit(broker, {("t", 0): 1}, group="other", generation_id_or_member_epoch=1, member_id="m") == {
        ("t", 0): Errors.ILLEGAL_GENERATION}
    # The simple group "g" exists now (created by the first commit): a member id it does not know.
    assert _txn_commit(broker, {("t", 0): 1}, generation_id_or_member_epoch=0, member_id="m") == {("t", 0): Errors.UNKNOWN_MEMBER_ID}
    # v0-2 carry no member fields: accepted.
    assert _txn_commit(broker, {("t", 0): 2}, version=2) == {("t", 0): 0}
    # Loading: COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE for v0-1.
    broker.group_coordinator.loading_partitions.add(0)
    assert _txn_commit(broker, {("t", 0): 1}) == {("t", 0): Errors.COORDINATOR_LOAD_IN_PROGRESS}
    assert _txn_commit(broker, {("t", 0): 1}, version=1) == {("t", 0): Errors.COORDINATOR_NOT_AVAILABLE}
    broker.group_coordinator.loading_partitions.clear()
    # A fenced producer epoch is refused by the partition's producer state.
    _marker(broker, False)
    (errors,) = asyncio.run(broker.replica_manager.write_txn_markers([TxnMarkerEntry(
        PID, EPOCH + 1, 0, False, ((GROUP_METADATA_TOPIC_NAME, 0),))]))
    assert errors == {(GROUP_METADATA_TOPIC_NAME, 0): 0}
    assert _txn_commit(broker, {("t", 0): 1}) == {("t", 0): Errors.INVALID_PRODUCER_EPOCH}


def test_static_member_fenced(tmp_path: Any) -> None:
    from fastkafka.cluster.group.classic_group import ClassicGroup, ClassicGroupMember, GroupState
    broker = _Broker(tmp_path)
    group = broker.group_coordinator.groups["g"] = ClassicGroup("g")
    member = ClassicGroupMember("m-new", "inst", "cli", "h", 30000, 10000, "consumer", [("range", b"")])
    group.members["m-new"] = member
    group.static_members["inst"] = "m-new"
    group.generation_id = 2
    group.state = GroupState.COMPLETING_REBALANCE  # not a reason to refuse a transactional commit
    assert _txn_commit(broker, {("t", 0): 1}, generation_id_or_member_epoch=2, member_id="m-old", group_instance_id="inst") == {
        ("t", 0): Errors.FENCED_INSTANCE_ID}
    assert _txn_commit(broker, {("t", 0): 1}, generation_id_or_member_epoch=1, member_id="m-new", group_instance_id="inst") == {
        ("t", 0): Errors.ILLEGAL_GENERATION}
    assert _txn_commit(broker, {("t", 0): 1}, generation_id_or_member_epoch=2, member_id="m-new", group_instance_id="inst") == {
        ("t", 0): 0}
    # Without member fields (v3+ defaults), a group with members accepts it too.
    assert _txn_commit(broker, {("t", 0): 1}) == {("t", 0): 0}


def test_delete_group_tombstones_pending_offsets(tmp_path: Any) -> None:
    """DeleteGroups writes a tombstone for a partition that only has a pending offset (Kafka's
    deleteAllOffsets), so neither the live coordinator nor a replay commits it later."""
    broker = _Broker(tmp_path)
    _txn_commit(broker, {("t", 0): 17})
    _marker(broker, True)
    _txn_commit(broker, {("t", 1): 5})
    assert broker.group_coordinator.delete_group("g") == 0
    tombstoned = {(r.key, r.value) for h, recs in _batches(broker) if not h.is_transactional for r in recs}
    assert sum(1 for _k, v in tombstoned if v is None) == 3  # t-0, t-1 and the GroupMetadata
    _marker(broker, True)
    assert _fetch(broker, True) == {("t", 0): (-1, 0), ("t", 1): (-1, 0)}
    assert _fetch(_replayed(broker), True) == {("t", 0): (-1, 0), ("t", 1): (-1, 0)}


def test_verification_errors(tmp_path: Any) -> None:
    """KIP-890: the offsets partition must be in the transaction. The transaction coordinator's
    verify-only answer, mapped as Kafka's AddPartitionsToTxnManager: TRANSACTION_ABORTABLE is
    INVALID_TXN_STATE before v4, PRODUCER_FENCED is INVALID_PRODUCER_EPOCH; nothing is written."""
    broker = _Broker(tmp_path)
    answer = {"code": Errors.TRANSACTION_ABORTABLE}
    seen: list[tuple[str, int, int, set[tuple[str, int]], bool]] = []

    def verify(txn_id: str, pid: int, epoch: int, partitions: set[tuple[str, int]],
               add: bool) -> dict[tuple[str, int], int]:
        seen.append((txn_id, pid, epoch, partitions, add))
        return {tp: answer["code"] for tp in partitions}
    broker.transaction_coordinator = types.SimpleNamespace(  # type: ignore[attr-defined]
        handle_verify_or_add_partitions=verify)
    assert _txn_commit(broker, {("t", 0): 1}, version=4) == {("t", 0): Errors.TRANSACTION_ABORTABLE}
    assert _txn_commit(broker, {("t", 0): 1}, version=3) == {("t", 0): Errors.INVALID_TXN_STATE}
    answer["code"] = Errors.PRODUCER_FENCED
    assert _txn_commit(broker, {("t", 0): 1}) == {("t", 0): Errors.INVALID_PRODUCER_EPOCH}
    assert seen[0] == ("tx", PID, EPOCH, {(GROUP_METADATA_TOPIC_NAME, 0)}, False)
    assert _batches(broker) == []
    answer["code"] = 0
    assert _txn_commit(broker, {("t", 0): 1}) == {("t", 0): 0}
    broker.config["transaction.partition.verification.enable"] = "false"
    answer["code"] = Errors.TRANSACTION_ABORTABLE
    assert _txn_commit(broker, {("t", 0): 2}) == {("t", 0): 0}


def test_v5_adds_the_offsets_partition_to_the_transaction(tmp_path: Any) -> None:
    """TxnOffsetCommit v5+ (transaction version 2: the client sends no AddOffsetsToTxn): the
    group's offsets partition is added to the transaction, whatever
    transaction.partition.verification.enable says; errors as for verification."""
    broker = _Broker(tmp_path)
    broker.config["transaction.partition.verification.enable"] = "false"
    seen: list[bool] = []
    answer = {"code": 0}

    def add(txn_id: str, pid: int, epoch: int, partitions: set[tuple[str, int]],
            add: bool) -> dict[tuple[str, int], int]:
        seen.append(add)
        return {tp: answer["code"] for tp in partitions}
    broker.transaction_coordinator = types.SimpleNamespace(  # type: ignore[attr-defined]
        handle_verify_or_add_partitions=add)
    answer["code"] = Errors.PRODUCER_FENCED
    assert _txn_commit(broker, {("t", 0): 1}, version=5) == {("t", 0): Errors.INVALID_PRODUCER_EPOCH}
    answer["code"] = 0
    assert _txn_commit(broker, {("t", 0): 1}, version=5) == {("t", 0): 0}
    assert seen == [True, True]


def test_verification_skipped_for_an_ongoing_transaction(tmp_path: Any) -> None:
    """Kafka verifies only a write that would start the transaction in the offsets partition."""
    broker = _Broker(tmp_path)
    calls: list[int] = []

    def verify(txn_id: str, pid: int, epoch: int, partitions: set[tuple[str, int]],
               add: bool) -> dict[tuple[str, int], int]:
        calls.append(pid)
        return {tp: 0 for tp in partitions}
    broker.transaction_coordinator = types.SimpleNamespace(  # type: ignore[attr-defined]
        handle_verify_or_add_partitions=verify)
    assert _txn_commit(broker, {("t", 0): 1}) == {("t", 0): 0}
    assert _txn_commit(broker, {("t", 1): 1}) == {("t", 1): 0}
    assert calls == [PID]
    _marker(broker, True)
    assert _txn_commit(broker, {("t", 0): 2}) == {("t", 0): 0}
    assert calls == [PID, PID]
