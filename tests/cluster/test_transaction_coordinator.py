"""TransactionCoordinator over a real ReplicaManager and logs: InitProducerId, AddPartitionsToTxn
(and verify-only), EndTxn with markers in the partitions, fencing, timeouts, expiration, the
`__transaction_state` records and their replay."""
from __future__ import annotations

import asyncio
import itertools
import types
from typing import Any

from fastkafka.cluster.replication.replica_manager import ReplicaManager
from fastkafka.cluster.topic import TRANSACTION_STATE_TOPIC_NAME
from fastkafka.cluster.transaction.transaction_coordinator import TransactionCoordinator
from fastkafka.cluster.transaction.transaction_metadata import TransactionState
from fastkafka.protocol.errors import Errors
from fastkafka.storage import LogManager, TopicPartition

S = TransactionState
TXN_PARTITIONS = 3


class Harness:
    """The broker façade the coordinator uses: the image's topics and the replica manager."""

    def __init__(self, tmp_path: Any, props: dict[str, str] | None = None) -> None:
        self.lm = LogManager([str(tmp_path / "logs")], {})
        self.lm.startup()
        self.replica_manager = ReplicaManager(1, self.lm, {})
        self.image = types.SimpleNamespace(topics=types.SimpleNamespace(by_name={}))
        self.add_topic(TRANSACTION_STATE_TOPIC_NAME, TXN_PARTITIONS)
        self.add_topic("t", 2)
        ids = itertools.count(1000)

        async def gen() -> int:
            return next(ids)

        self.props = {"transaction.state.log.num.partitions": str(TXN_PARTITIONS), **(props or {})}
        self.gen = gen

    def add_topic(self, name: str, n: int) -> None:
        regs = [types.SimpleNamespace(partition_id=i, leader=1, leader_epoch=4, partition_epoch=0,
                                      replicas=[1], isr=[1]) for i in range(n)]
        self.replica_manager.apply_topic(name, bytes([len(name)]) * 16, regs, {})
        self.image.topics.by_name[name] = types.SimpleNamespace(partitions={i: regs[i] for i in range(n)})

    def coordinator(self) -> TransactionCoordinator:
        c = TransactionCoordinator(self, self.props, self.gen)
        c.active = True
        return c


async def drain(c: TransactionCoordinator) -> None:
    while c.marker_channel._tasks:
        await asyncio.gather(*c.marker_channel._tasks.values())


def control_batches(h: Harness, tp: tuple[str, int]) -> list[Any]:
    log = h.replica_manager.partition(TopicPartition(*tp)).log
    from fastkafka._native.record_batch import scan_batches

    data = log.read(0, 1 << 20, max_offset=log.log_end_offset, min_one_message=True).records.read_bytes()
    headers, _, _ = scan_batches(data, 0, False)
    return [hd for hd in headers if hd.is_control]


def test_commit_writes_markers_then_complete(tmp_path):
    h = Harness(tmp_path)

    async def run() -> None:
        c = h.coordinator()
        r = await c.handle_init_producer_id("tx", 60000, None)
        assert (r.error, r.producer_id, r.producer_epoch) == (0, 1000, 0)
        assert c.handle_add_partitions_to_transaction("tx", 1000, 0, {("t", 0), ("t", 1)}) == 0
        assert c.handle_add_partitions_to_transaction("tx", 1000, 0, {("t", 0)}) == 0  # already in
        md = c.state_manager.metadata["tx"]
        assert md.state == S.ONGOING
        res = await c.handle_end_transaction("tx", 1000, 0, True, 0)
        assert res.error == 0
        assert md.state in (S.PREPARE_COMMIT, S.COMPLETE_COMMIT)
        # While the markers are written the id answers CONCURRENT_TRANSACTIONS.
        if md.state == S.PREPARE_COMMIT:
            assert c.handle_add_partitions_to_transaction("tx", 1000, 0, {("t", 0)}) == Errors.CONCURRENT_TRANSACTIONS
        await drain(c)
        assert md.state == S.COMPLETE_COMMIT and not md.topic_partitions
        for p in (0, 1):
            assert len(control_batches(h, ("t", p))) == 1
        # A retried EndTxn of a completed commit succeeds; an abort of it is INVALID_TXN_STATE.
        assert (await c.handle_end_transaction("tx", 1000, 0, True, 0)).error == 0
        assert (await c.handle_end_transaction("tx", 1000, 0, False, 0)).error == Errors.INVALID_TXN_STATE

        # Replayed from __transaction_state by a new coordinator.
        c2 = h.coordinator()
        task = c2.state_manager.start_loading(lambda *a: None)
        await task
        md2 = c2.state_manager.metadata["tx"]
        assert (md2.state, md2.producer_id, md2.producer_epoch) == (S.COMPLETE_COMMIT, 1000, 0)

    asyncio.run(run())


def test_reinit_fences_and_aborts_the_ongoing_transaction(tmp_path):
    h = Harness(tmp_path)

    async def run() -> None:
        c = h.coordinator()
        await c.handle_init_producer_id("tx", 60000, None)
        assert c.handle_add_partitions_to_transaction("tx", 1000, 0, {("t", 0)}) == 0
        r = await c.handle_init_producer_id("tx", 60000, None)
        assert r.error == Errors.CONCURRENT_TRANSACTIONS
        await drain(c)
        md = c.state_manager.metadata["tx"]
        assert md.state == S.COMPLETE_ABORT and md.producer_epoch == 1
        assert len(control_batches(h, ("t", 0))) == 1
        r = await c.handle_init_producer_id("tx", 60000, None)
        assert (r.error, r.producer_id, r.producer_epoch) == (0, 1000, 2)
        # The zombie (epoch 0) is fenced everywhere.
        assert c.handle_add_partitions_to_transaction("tx", 1000, 0, {("t", 0)}) == Errors.PRODUCER_FENCED
        assert (await c.handle_end_transaction("tx", 1000, 0, True, 0)).error == Errors.PRODUCER_FENCED
        assert c.handle_add_partitions_to_transaction("tx", 5, 2, {("t", 0)}) == Errors.INVALID_PRODUCER_ID_MAPPING
        # KIP-360: a producer passing an id that is not its own is fenced.
        assert (await c.handle_init_producer_id("tx", 60000, (77, 0))).error == Errors.PRODUCER_FENCED

    asyncio.run(run())


def test_invalid_timeout_and_empty_id(tmp_path):
    h = Harness(tmp_path, {"transaction.max.timeout.ms": "1000"})

    async def run() -> None:
        c = h.coordinator()
        assert (await c.handle_init_producer_id("tx", 1001, None)).error == Errors.INVALID_TRANSACTION_TIMEOUT
        assert (await c.handle_init_producer_id("", 100, None)).error == Errors.INVALID_REQUEST
        assert (await c.handle_end_transaction("nope", 1, 0, True, 0)).error == Errors.INVALID_PRODUCER_ID_MAPPING

    asyncio.run(run())


def test_verify_only(tmp_path):
    h = Harness(tmp_path)

    async def run() -> None:
        c = h.coordinator()
        await c.handle_init_producer_id("tx", 60000, None)
        c.handle_add_partitions_to_transaction("tx", 1000, 0, {("t", 0)})
        assert c.handle_verify_partitions_in_transaction("tx", 1000, 0, {("t", 0), ("t", 1)}) == {
            ("t", 0): 0, ("t", 1): Errors.TRANSACTION_ABORTABLE}
        assert c.handle_verify_partitions_in_transaction("tx", 1000, 1, {("t", 0)}) == {("t", 0): Errors.PRODUCER_FENCED}
        assert c.state_manager.metadata["tx"].topic_partitions == {("t", 0)}

    asyncio.run(run())


def test_timed_out_transaction_is_aborted(tmp_path):
    h = Harness(tmp_path)

    async def run() -> None:
        c = h.coordinator()
        await c.handle_init_producer_id("tx", 1, None)
        c.handle_add_partitions_to_transaction("tx", 1000, 0, {("t", 1)})
        c.state_manager.metadata["tx"].txn_start_timestamp -= 10_000
        await c.abort_timed_out_transactions()
        await drain(c)
        md = c.state_manager.metadata["tx"]
        assert md.state == S.COMPLETE_ABORT and md.producer_epoch == 1
        assert len(control_batches(h, ("t", 1))) == 1
        assert (await c.handle_end_transaction("tx", 1000, 0, True, 0)).error == Errors.PRODUCER_FENCED

    asyncio.run(run())


def test_list_describe_and_expiration(tmp_path):
    h = Harness(tmp_path, {"transactional.id.expiration.ms": "1000"})

    async def run() -> None:
        c = h.coordinator()
        await c.handle_init_producer_id("a", 60000, None)
        await c.handle_init_producer_id("b", 60000, None)
        c.handle_add_partitions_to_transaction("b", 1001, 0, {("t", 0)})
        err, unknown, mds = c.handle_list_transactions(set(), {"Ongoing", "Bogus"}, -1)
        assert err == 0 and unknown == ["Bogus"] and [m.transactional_id for m in mds] == ["b"]
        _, _, mds = c.handle_list_transactions({1000}, set(), -1)
        assert [m.transactional_id for m in mds] == ["a"]
        c.state_manager.metadata["b"].txn_start_timestamp -= 5000
        # Kafka's duration filter compares with the start time of any state: an Empty id (start -1) passes.
        _, _, mds = c.handle_list_transactions(set(), set(), 1000)
        assert sorted(m.transactional_id for m in mds) == ["a", "b"]
        _, _, mds = c.handle_list_transactions(set(), {"Ongoing"}, 1000)
        assert [m.transactional_id for m in mds] == ["b"]
        _, _, mds = c.handle_list_transactions(set(), {"Ongoing"}, 60_000)
        assert mds == []
        err, md = c.handle_describe_transaction("b")
        assert err == 0 and md is not None and md.topic_partitions == {("t", 0)}
        assert c.handle_describe_transaction("zzz")[0] == Errors.TRANSACTIONAL_ID_NOT_FOUND

        c.state_manager.metadata["a"].txn_last_update_timestamp -= 5000
        assert c.state_manager.remove_expired_transactional_ids(c.state_manager.metadata["b"].txn_last_update_timestamp + 10) == 1
        assert "a" not in c.state_manager.metadata and "b" in c.state_manager.metadata
        c2 = h.coordinator()
        await c2.state_manager.start_loading(lambda *a: None)
        assert set(c2.state_manager.metadata) == {"b"}  # the tombstone is replayed

    asyncio.run(run())


def test_replay_resends_markers_of_a_prepared_transaction(tmp_path):
    h = Harness(tmp_path)

    async def run() -> None:
        c = h.coordinator()
        await c.handle_init_producer_id("tx", 60000, None)
        c.handle_add_partitions_to_transaction("tx", 1000, 0, {("t", 0)})
        md = c.state_manager.metadata["tx"]
        # PrepareAbort written, but the coordinator stops before any marker.
        t = md.prepare_abort_or_commit(S.PREPARE_ABORT, 0, -1, 1)
        assert c.state_manager.append_transaction_to_log("tx", 4, t) == 0
        c2 = h.coordinator()
        c2.startup()
        await asyncio.sleep(0)
        while c2.state_manager.loading_partitions:
            await asyncio.sleep(0.01)
        await drain(c2)
        assert c2.state_manager.metadata["tx"].state == S.COMPLETE_ABORT
        assert len(control_batches(h, ("t", 0))) == 1
        c2.shutdown()

    asyncio.run(run())


def test_partition_for_is_kafkas_utils_abs():
    from fastkafka.cluster.transaction.transaction_state_manager import TransactionStateManager

    m = TransactionStateManager(types.SimpleNamespace(), {"transaction.state.log.num.partitions": "50"})
    # "polygenelubricants".hashCode() == Integer.MIN_VALUE: Utils.abs maps it to 0.
    assert m.partition_for("polygenelubricants") == 0
    assert m.partition_for("tx") == 3716 % 50  # "tx".hashCode() == 3716


def test_exhausted_epoch_rotates_the_producer_id(tmp_path):
    h = Harness(tmp_path)

    async def run() -> None:
        c = h.coordinator()
        await c.handle_init_producer_id("tx", 60000, None)
        c.state_manager.metadata["tx"].producer_epoch = 32766
        r = await c.handle_init_producer_id("tx", 60000, (1000, 32766))
        assert (r.error, r.producer_id, r.producer_epoch) == (0, 1001, 0)
        # A retry of that InitProducerId (the answer was lost) passes the old id: not fenced.
        md = c.state_manager.metadata["tx"]
        assert md.previous_producer_id == 1000
        r = await c.handle_init_producer_id("tx", 60000, (1000, 32766))
        assert r.error == 0 and r.producer_id == 1001

    asyncio.run(run())


def test_partition_count_of_the_existing_topic_wins(tmp_path):
    h = Harness(tmp_path, {"transaction.state.log.num.partitions": "50"})
    assert h.coordinator().partition_for("tx") == 3716 % TXN_PARTITIONS
