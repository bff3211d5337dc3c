"""The coordinators follow the leadership of their internal partitions through the replica
manager's one hook (Kafka's onElection / onResignation), over a real ReplicaManager and logs:

- becoming leader of a `__consumer_offsets` / `__transaction_state` partition loads it (LOADING,
  then served); becoming a follower, or losing the partition, unloads it: its groups or
  transactions leave the cache and their APIs answer NOT_COORDINATOR, waiting JoinGroups answer
  NOT_COORDINATOR, markers being written stop; a new election at a newer epoch replays the log;
- `CoordinatorShards`: an election at an older epoch is ignored; a resignation during a replay
  stops it (the load never reports done, its partial state is dropped); an empty partition is
  served at its election;
- an OffsetCommit is answered once its write is committed: while a follower in the ISR has not
  fetched it, the answer waits; after `offsets.commit.timeout.ms` it is COORDINATOR_NOT_AVAILABLE
  (Kafka's mapping of REQUEST_TIMED_OUT), and a lost leadership answers NOT_COORDINATOR; an
  InitProducerId waits the same way for its `__transaction_state` write (`request.timeout.ms`),
  and a SyncGroup gives out the leader's assignment once the group's record is committed.
"""
from __future__ import annotations

import asyncio
import itertools
import types
from collections.abc import Iterator
from typing import Any

from fastkafka.cluster.coordinator_shards import CoordinatorShards
from fastkafka.cluster.group.classic_group import OffsetAndMetadata
from fastkafka.cluster.group.group_coordinator import GroupCoordinator
from fastkafka.cluster.replication.replica_manager import LeadershipChange, ReplicaManager
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME, TRANSACTION_STATE_TOPIC_NAME
from fastkafka.cluster.transaction.transaction_coordinator import TransactionCoordinator
from fastkafka.cluster.transaction.transaction_metadata import TransactionState
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.net.handlers.k08_offset_commit import handle_offset_commit
from fastkafka.net.handlers.k22_init_producer_id import handle_init_producer_id
from fastkafka.protocol.messages import (InitProducerIdRequest, JoinGroupRequest, OffsetCommitRequest,
                                         SyncGroupRequest)
from fastkafka.storage import LogManager, TopicPartition

OFFSETS_TP = TopicPartition(GROUP_METADATA_TOPIC_NAME, 0)


def _reg(partition: int, leader: int, epoch: int, isr: list[int] | None = None) -> Any:
    # Replicas 1 and 2; by default the ISR is the leader alone, so its high watermark is its log end.
    return types.SimpleNamespace(partition_id=partition, leader=leader, leader_epoch=epoch, partition_epoch=epoch,
                                 replicas=[1, 2], isr=isr or [leader])


class _Broker:
    """The broker façade: config, image, a real ReplicaManager of node 1, both coordinators."""

    def __init__(self, tmp_path: Any) -> None:
        self.config = {"offsets.topic.num.partitions": "1", "group.initial.rebalance.delay.ms": "3000",
                       "transaction.state.log.num.partitions": "1", "offsets.commit.timeout.ms": "300",
                       "request.timeout.ms": "300"}
        self.lm = LogManager([str(tmp_path / "logs")], {})
        self.lm.startup()
        self.replica_manager = ReplicaManager(1, self.lm, {})
        self.image = types.SimpleNamespace(topics=types.SimpleNamespace(by_name={}))
        for name in (GROUP_METADATA_TOPIC_NAME, TRANSACTION_STATE_TOPIC_NAME, "t"):
            self.lead(name, leader=1, epoch=0)
        self.group_coordinator = GroupCoordinator(self)
        ids = itertools.count(1000)

        async def gen() -> int:
            return next(ids)

        self.transaction_coordinator = TransactionCoordinator(self, dict(self.config), gen)

    def lead(self, name: str, leader: int, epoch: int, isr: list[int] | None = None) -> None:
        """A metadata publication: partition 0 of `name` led by `leader` at `epoch`."""
        reg = _reg(0, leader, epoch, isr)
        self.replica_manager.apply_topic(name, bytes([len(name)]) * 16, [reg],
                                         {"cleanup.policy": "compact"} if name.startswith("__") else {})
        self.image.topics.by_name[name] = types.SimpleNamespace(name=name, partitions={0: reg})


def _ctx(api_key: int, version: int) -> RequestContext:
    return RequestContext(api_key=api_key, api_version=version, correlation_id=1, client_id="cli",
                          listener_name="PLAINTEXT", security_protocol="PLAINTEXT", client_address="10.0.0.7:5555",
                          connection_id="c")


def _join(group: str, member_id: str = "") -> JoinGroupRequest:
    J = JoinGroupRequest
    return J(group_id=group, session_timeout_ms=10000, rebalance_timeout_ms=10000, member_id=member_id,
             protocol_type="consumer", protocols=[J.JoinGroupRequestProtocol(name="range", metadata=b"meta")])


async def _loaded(shards: CoordinatorShards) -> None:
    for _ in range(1000):
        if not shards.loading:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"still loading {shards.loading}")


def test_group_coordinator_unloads_on_resignation_and_replays_on_reelection(tmp_path: Any) -> None:
    b = _Broker(tmp_path)
    gc = b.group_coordinator

    async def run() -> None:
        await gc.start_loading()
        await _loaded(gc.shards)
        assert gc.shards.active == {0: 0}
        # A group with a member and a commit, then a second group whose first join waits for the
        # initial rebalance delay (3 s).
        join = await gc.join_group(_ctx(11, 3), _join("g"))
        if join.error_code == Errors.MEMBER_ID_REQUIRED:
            join = await gc.join_group(_ctx(11, 3), _join("g", join.member_id))
        waiting = asyncio.ensure_future(gc.join_group(_ctx(11, 3), _join("h", "")))
        err, _, _ = await gc.sync_group(_ctx(14, 3), SyncGroupRequest(
            group_id="g", generation_id=join.generation_id, member_id=join.member_id,
            assignments=[SyncGroupRequest.SyncGroupRequestAssignment(member_id=join.member_id, assignment=b"a")]))
        assert join.error_code == 0 and err == 0
        assert gc.commit_offsets(gc.groups["g"], {("t", 0): OffsetAndMetadata(42, -1, "", 1, None)}) == 0
        await asyncio.sleep(0.01)
        assert not waiting.done()

        b.lead(GROUP_METADATA_TOPIC_NAME, leader=2, epoch=1)  # node 2 leads: this node resigns
        assert gc.shards.active == {} and not gc.groups
        resp = await asyncio.wait_for(waiting, 1)
        assert resp.error_code == Errors.NOT_COORDINATOR
        try:
            gc.fetch_offsets("g")
        except KafkaError as e:
            assert e.code == Errors.NOT_COORDINATOR
        else:
            raise AssertionError("expected NOT_COORDINATOR")

        b.lead(GROUP_METADATA_TOPIC_NAME, leader=1, epoch=2)  # elected again: replay
        assert gc.loading_partitions == {0}
        await _loaded(gc.shards)
        assert gc.shards.active == {0: 2}
        assert gc.fetch_offsets("g")[("t", 0)].offset == 42
        assert gc.groups["g"].members  # the Stable group came back with its member
        if gc._expiration_timer is not None:
            gc._expiration_timer.cancel()
        for group in gc.groups.values():
            for m in group.members.values():
                if m.heartbeat_timer is not None:
                    m.heartbeat_timer.cancel()

    asyncio.run(run())


def test_transaction_coordinator_unloads_on_resignation_and_replays_on_reelection(tmp_path: Any) -> None:
    b = _Broker(tmp_path)
    tc = b.transaction_coordinator

    async def run() -> None:
        tc.startup()
        await _loaded(tc.state_manager.shards)
        r = await tc.handle_init_producer_id("tx", 60000, None)
        assert r.error == 0
        assert tc.handle_add_partitions_to_transaction("tx", r.producer_id, r.producer_epoch, {("t", 0)}) == 0

        b.lead(TRANSACTION_STATE_TOPIC_NAME, leader=2, epoch=1)
        assert "tx" not in tc.state_manager.metadata
        assert (await tc.handle_init_producer_id("tx", 60000, None)).error == Errors.NOT_COORDINATOR

        b.lead(TRANSACTION_STATE_TOPIC_NAME, leader=1, epoch=2)
        assert (await tc.handle_init_producer_id("tx", 60000, None)).error == Errors.COORDINATOR_LOAD_IN_PROGRESS
        await _loaded(tc.state_manager.shards)
        md = tc.state_manager.metadata["tx"]
        assert (md.state, md.producer_id, md.topic_partitions) == (TransactionState.ONGOING, r.producer_id, {("t", 0)})
        assert tc.state_manager.coordinator_epoch("tx") == 2
        tc.shutdown()

    asyncio.run(run())


def test_removed_partition_is_unloaded(tmp_path: Any) -> None:
    b = _Broker(tmp_path)
    gc = b.group_coordinator

    async def run() -> None:
        await gc.start_loading()
        await _loaded(gc.shards)
        b.replica_manager.remove_topics({GROUP_METADATA_TOPIC_NAME})
        assert gc.shards.active == {} and not gc.shards.loading
        if gc._expiration_timer is not None:
            gc._expiration_timer.cancel()

    asyncio.run(run())


class _Source:
    def __init__(self) -> None:
        self.parts: dict[TopicPartition, Any] = {}

    def add_leadership_listener(self, topic: str, listener: Any) -> None:
        self.listener = listener

    def partition(self, tp: TopicPartition) -> Any:
        return self.parts.get(tp)

    def elect(self, partition: int, epoch: int, leader: bool = True, records: int = 10) -> None:
        tp = TopicPartition("__x", partition)
        self.parts[tp] = types.SimpleNamespace(topic_partition=tp, is_leader=leader, leader_epoch=epoch,
                                               log=types.SimpleNamespace(log_start_offset=0, high_watermark=records))
        self.listener(LeadershipChange(tp, epoch, leader))


def test_shards_ignore_an_older_election_and_stop_a_load_on_resignation() -> None:
    events: list[tuple[str, int]] = []
    replayed: list[int] = []

    def replay(part: Any) -> Iterator[int]:
        for i in range(5):
            replayed.append(part.topic_partition.partition)
            yield 1

    shards = CoordinatorShards("__x", replay, lambda part: events.append(("loaded", part.topic_partition.partition)),
                               lambda p: events.append(("unloaded", p)))
    src = _Source()

    async def run() -> None:
        shards.attach(src)
        src.elect(0, 5)
        src.elect(1, 1)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        src.elect(0, 5, leader=False)  # resigns partition 0 during its replay
        await _loaded(shards)
        assert events == [("unloaded", 0), ("loaded", 1)]
        assert replayed.count(0) < 5 and replayed.count(1) == 5
        assert shards.active == {1: 1}

        src.elect(1, 0)  # an older epoch: ignored
        assert shards.active == {1: 1} and not shards.loading
        src.elect(1, 2)  # a newer one: unloaded and loaded again
        await _loaded(shards)
        assert events[-2:] == [("unloaded", 1), ("loaded", 1)] and shards.active == {1: 2}

        # Nothing to replay (just created): served at its election, no LOADING window.
        src.elect(2, 0, records=0)
        assert events[-1] == ("loaded", 2) and shards.active[2] == 0 and 2 not in shards.loading
        shards.close()

    asyncio.run(run())


def _commit(group: str, offset: int) -> OffsetCommitRequest:
    R = OffsetCommitRequest
    return R(group_id=group, generation_id_or_member_epoch=-1, member_id="", topics=[R.OffsetCommitRequestTopic(
        name="t", partitions=[R.OffsetCommitRequestPartition(partition_index=0, committed_offset=offset)])])


def test_offset_commit_is_answered_once_committed(tmp_path: Any) -> None:
    b = _Broker(tmp_path)
    gc = b.group_coordinator

    async def run() -> None:
        await gc.start_loading()
        await _loaded(gc.shards)
        b.lead(GROUP_METADATA_TOPIC_NAME, leader=1, epoch=1, isr=[1, 2])  # follower 2 in the ISR
        await _loaded(gc.shards)
        part = b.replica_manager.partition(OFFSETS_TP)
        assert part is not None

        answer = asyncio.ensure_future(handle_offset_commit(b, _ctx(8, 8), _commit("g", 7)))
        await asyncio.sleep(0.05)
        assert not answer.done()  # appended, not committed: follower 2 has not fetched it
        end = part.log.log_end_offset
        part.update_follower_fetch_state(2, end, 0, 1, end)
        resp = await asyncio.wait_for(answer, 1)
        assert resp.topics[0].partitions[0].error_code == 0
        assert part.log.high_watermark == end

        resp = await handle_offset_commit(b, _ctx(8, 8), _commit("g", 8))  # nobody fetches it
        assert resp.topics[0].partitions[0].error_code == Errors.COORDINATOR_NOT_AVAILABLE

        answer = asyncio.ensure_future(handle_offset_commit(b, _ctx(8, 8), _commit("g", 9)))
        await asyncio.sleep(0.01)
        b.lead(GROUP_METADATA_TOPIC_NAME, leader=2, epoch=2, isr=[1, 2])  # leadership lost meanwhile
        resp = await asyncio.wait_for(answer, 1)
        assert resp.topics[0].partitions[0].error_code == Errors.NOT_COORDINATOR
        if gc._expiration_timer is not None:
            gc._expiration_timer.cancel()

    asyncio.run(run())


def test_init_producer_id_is_answered_once_committed(tmp_path: Any) -> None:
    b = _Broker(tmp_path)
    tc = b.transaction_coordinator
    req = InitProducerIdRequest(transactional_id="tx", transaction_timeout_ms=60000, producer_id=-1,
                                producer_epoch=-1)

    async def run() -> None:
        tc.startup()
        b.lead(TRANSACTION_STATE_TOPIC_NAME, leader=1, epoch=1, isr=[1, 2])
        await _loaded(tc.state_manager.shards)
        part = b.replica_manager.partition(TopicPartition(TRANSACTION_STATE_TOPIC_NAME, 0))
        assert part is not None
        answer = asyncio.ensure_future(handle_init_producer_id(b, _ctx(22, 4), req))
        await asyncio.sleep(0.05)
        assert not answer.done()
        end = part.log.log_end_offset
        part.update_follower_fetch_state(2, end, 0, 1, end)
        resp = await asyncio.wait_for(answer, 1)
        assert (resp.error_code, resp.producer_id, resp.producer_epoch) == (0, 1000, 0)

        resp = await handle_init_producer_id(b, _ctx(22, 4), req)  # nobody fetches the epoch bump
        assert (resp.error_code, resp.producer_id) == (Errors.COORDINATOR_NOT_AVAILABLE, -1)
        tc.shutdown()

    asyncio.run(run())


def test_sync_group_gives_out_the_assignment_once_committed(tmp_path: Any) -> None:
    b = _Broker(tmp_path)
    gc = b.group_coordinator
    gc.initial_rebalance_delay_ms = 0

    async def run() -> None:
        await gc.start_loading()
        b.lead(GROUP_METADATA_TOPIC_NAME, leader=1, epoch=1, isr=[1, 2])
        await _loaded(gc.shards)
        part = b.replica_manager.partition(OFFSETS_TP)
        assert part is not None
        join = asyncio.ensure_future(gc.join_group(_ctx(11, 3), _join("g")))
        end = part.log.log_end_offset
        for _ in range(100):  # the new group's record: committed once follower 2 fetches it
            await asyncio.sleep(0.01)
            if part.log.log_end_offset > end:
                end = part.log.log_end_offset
                part.update_follower_fetch_state(2, end, 0, 1, end)
            if join.done():
                break
        resp = join.result()
        assert resp.error_code == 0, resp
        sync = asyncio.ensure_future(gc.sync_group(_ctx(14, 3), SyncGroupRequest(
            group_id="g", generation_id=resp.generation_id, member_id=resp.member_id,
            assignments=[SyncGroupRequest.SyncGroupRequestAssignment(member_id=resp.member_id, assignment=b"a")])))
        await asyncio.sleep(0.05)
        assert not sync.done()  # the assignment's record is appended, not committed
        end = part.log.log_end_offset
        part.update_follower_fetch_state(2, end, 0, 1, end)
        err, assignment, _ = await asyncio.wait_for(sync, 1)
        assert (err, assignment) == (0, b"a")
        for group in gc.groups.values():
            for m in group.members.values():
                if m.heartbeat_timer is not None:
                    m.heartbeat_timer.cancel()
        if gc._expiration_timer is not None:
            gc._expiration_timer.cancel()

    asyncio.run(run())
