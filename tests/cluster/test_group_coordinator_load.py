"""The group coordinator's loading state (Kafka's CoordinatorRuntime LOADING) without a network:
while `__consumer_offsets` is replayed in the background every group API answers
COORDINATOR_LOAD_IN_PROGRESS as Kafka's GroupCoordinatorService does per API (a classic Heartbeat
answers NONE blindly, ListGroups fails as a whole), and once the replay is done the loaded groups
and offsets are served. The offsets partition's log is the batches a first coordinator appended,
given consecutive offsets."""
from __future__ import annotations

import asyncio
import struct
from types import SimpleNamespace
from typing import Any

from fake_partition import committed_leader
from fastkafka._native.record_batch import scan_batches
from fastkafka.cluster.group.classic_group import GroupState, OffsetAndMetadata
from fastkafka.cluster.group.consumer_group_manager import ConsumerGroupManager
from fastkafka.cluster.group.group_coordinator import GroupCoordinator
from fastkafka.cluster.replication.replica_manager import LeadershipChange
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME
from fastkafka.net.handlers.k08_offset_commit import handle_offset_commit
from fastkafka.net.handlers.k09_offset_fetch import handle_offset_fetch
from fastkafka.net.handlers.k11_join_group import handle_join_group
from fastkafka.net.handlers.k12_heartbeat import handle_heartbeat
from fastkafka.net.handlers.k13_leave_group import handle_leave_group
from fastkafka.net.handlers.k14_sync_group import handle_sync_group
from fastkafka.net.handlers.k15_describe_groups import handle_describe_groups
from fastkafka.net.handlers.k16_list_groups import handle_list_groups
from fastkafka.net.handlers.k42_delete_groups import handle_delete_groups
from fastkafka.net.handlers.k47_offset_delete import handle_offset_delete
from fastkafka.net.handlers.k68_consumer_group_heartbeat import handle_consumer_group_heartbeat
from fastkafka.net.handlers.k69_consumer_group_describe import handle_consumer_group_describe
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage import TopicPartition
from fastkafka.protocol.messages import (ConsumerGroupDescribeRequest, ConsumerGroupHeartbeatRequest,
                                         DeleteGroupsRequest, DescribeGroupsRequest, HeartbeatRequest,
                                         JoinGroupRequest, LeaveGroupRequest, ListGroupsRequest,
                                         OffsetCommitRequest, OffsetDeleteRequest, OffsetFetchRequest,
                                         SyncGroupRequest)

LOADING = Errors.COORDINATOR_LOAD_IN_PROGRESS


class _Log:
    """An offsets partition's log: the given batches at consecutive offsets, read whole."""

    def __init__(self, batches: list[bytes]) -> None:
        data = bytearray()
        offset = 0
        for b in batches:
            batch = bytearray(b)
            headers, _end, _err = scan_batches(bytes(batch), 0, False)
            count = headers[0].last_offset - headers[0].base_offset + 1
            struct.pack_into(">q", batch, 0, offset)  # baseOffset is outside the CRC
            data += batch
            offset += count
        self.data = bytes(data)
        self.log_start_offset = 0
        self.high_watermark = self.log_end_offset = offset

    def read(self, offset: int, max_bytes: int, max_offset: int, min_one_message: bool) -> Any:
        headers, _end, _err = scan_batches(self.data, 0, False)
        start = next((h.position for h in headers if h.last_offset >= offset), len(self.data))
        return SimpleNamespace(records=SimpleNamespace(read_bytes=lambda: self.data[start:]))


class _Broker:
    """Config, an image with `__consumer_offsets` and topic "t", a replica manager keeping the
    appends and leading every offsets partition, the coordinator and the KIP-848 manager."""

    def __init__(self, batches: list[bytes] | None = None) -> None:
        self.config = {"offsets.topic.num.partitions": "1", "group.initial.rebalance.delay.ms": "0"}
        topic = SimpleNamespace(name="t", topic_id=b"\x01" * 16, partitions={0: None, 1: None})
        self.image = SimpleNamespace(topics=SimpleNamespace(
            by_name={GROUP_METADATA_TOPIC_NAME: object(), "t": topic}, by_id={topic.topic_id: topic}))
        self.appended: list[bytes] = []
        offsets_tp = TopicPartition(GROUP_METADATA_TOPIC_NAME, 0)
        offsets_partition = SimpleNamespace(topic_partition=offsets_tp, is_leader=True, leader_epoch=0,
                                            log=_Log(batches or []), await_replication=lambda offset: None)

        def add_leadership_listener(topic: str, listener: Any) -> None:  # the one it leads, at once
            if topic == GROUP_METADATA_TOPIC_NAME:
                listener(LeadershipChange(offsets_tp, 0, True))

        self.replica_manager = SimpleNamespace(
            partition=lambda tp: offsets_partition if tp == offsets_tp else committed_leader(),
            append_records=self._append, all_partitions=lambda: [offsets_partition],
            add_leadership_listener=add_leadership_listener)
        self.group_coordinator = GroupCoordinator(self)
        self.consumer_group_manager = ConsumerGroupManager(self, {})

    def _append(self, tp: Any, records: bytes, acks: int) -> Any:
        self.appended.append(bytes(records))
        return SimpleNamespace(error=0)


def _ctx(api_key: int, version: int) -> RequestContext:
    return RequestContext(api_key=api_key, api_version=version, correlation_id=1, client_id="cli",
                          listener_name="PLAINTEXT", security_protocol="PLAINTEXT", client_address="10.0.0.7:5555",
                          connection_id="c")


async def _committed_group(broker: _Broker) -> str:
    """Group "g" with one Stable member and 2000 commits (the last: t-0 at 1999, t-1 at 999)."""
    gc = broker.group_coordinator
    J = JoinGroupRequest
    req = J(group_id="g", session_timeout_ms=10000, rebalance_timeout_ms=10000, member_id="",
            protocol_type="consumer", protocols=[J.JoinGroupRequestProtocol(name="range", metadata=b"meta")])
    join = await gc.join_group(_ctx(11, 3), req)
    err, _, _ = await gc.sync_group(_ctx(14, 3), SyncGroupRequest(
        group_id="g", generation_id=join.generation_id, member_id=join.member_id,
        assignments=[SyncGroupRequest.SyncGroupRequestAssignment(member_id=join.member_id, assignment=b"a")]))
    assert join.error_code == 0 and err == 0
    group = gc.groups["g"]
    for i in range(1000):
        assert gc.commit_offsets(group, {("t", 0): OffsetAndMetadata(2 * i, -1, "", 1, None),
                                         ("t", 1): OffsetAndMetadata(i, -1, "", 1, None)}) == 0
        assert gc.commit_offsets(group, {("t", 0): OffsetAndMetadata(2 * i + 1, -1, "", 1, None)}) == 0
    return str(join.member_id)


def test_every_group_api_answers_coordinator_load_in_progress_until_the_replay_is_done() -> None:
    async def scenario() -> None:
        first = _Broker()
        member_id = await _committed_group(first)
        for m in first.group_coordinator.groups["g"].members.values():
            if m.heartbeat_timer is not None:
                m.heartbeat_timer.cancel()
        broker = _Broker(first.appended)
        gc = broker.group_coordinator
        task = gc.start_loading()
        assert gc.is_loading()

        J = JoinGroupRequest
        for v in (0, 4, 9):
            resp = await handle_join_group(broker, _ctx(11, v), J(
                group_id="g", session_timeout_ms=10000, rebalance_timeout_ms=10000, member_id="",
                protocol_type="consumer", protocols=[J.JoinGroupRequestProtocol(name="range", metadata=b"m")]))
            assert resp.error_code == LOADING, v
        sync = await handle_sync_group(broker, _ctx(14, 5), SyncGroupRequest(
            group_id="g", generation_id=1, member_id=member_id, protocol_type="consumer",
            protocol_name="range", assignments=[]))
        assert sync.error_code == LOADING
        # Kafka: "The group is still loading, so blindly respond" NONE.
        hb = handle_heartbeat(broker, _ctx(12, 4), HeartbeatRequest(group_id="g", generation_id=1,
                                                                    member_id=member_id))
        assert hb.error_code == 0
        leave = handle_leave_group(broker, _ctx(13, 5), LeaveGroupRequest(
            group_id="g", members=[LeaveGroupRequest.MemberIdentity(member_id=member_id)]))
        assert leave.error_code == LOADING
        commit = await handle_offset_commit(broker, _ctx(8, 9), OffsetCommitRequest(
            group_id="g", generation_id_or_member_epoch=-1, member_id="", topics=[
                OffsetCommitRequest.OffsetCommitRequestTopic(name="t", partitions=[
                    OffsetCommitRequest.OffsetCommitRequestPartition(partition_index=0, committed_offset=5)])]))
        assert [p.error_code for t in commit.topics for p in t.partitions] == [LOADING]
        F = OffsetFetchRequest
        fetch7 = await handle_offset_fetch(broker, _ctx(9, 7), F(group_id="g", topics=None))
        assert fetch7.error_code == LOADING
        fetch1 = await handle_offset_fetch(broker, _ctx(9, 1), F(group_id="g", topics=[
            F.OffsetFetchRequestTopic(name="t", partition_indexes=[0])]))
        assert [p.error_code for t in fetch1.topics for p in t.partitions] == [LOADING]
        fetch8 = await handle_offset_fetch(broker, _ctx(9, 8), F(groups=[F.OffsetFetchRequestGroup(
            group_id="g", topics=None)], require_stable=False))
        assert [g.error_code for g in fetch8.groups] == [LOADING]
        described = handle_describe_groups(broker, _ctx(15, 5), DescribeGroupsRequest(groups=["g", "other"]))
        assert [g.error_code for g in described.groups] == [LOADING, LOADING]
        for v in (0, 4, 5):
            listed = handle_list_groups(broker, _ctx(16, v), ListGroupsRequest(states_filter=[], types_filter=[]))
            assert listed.error_code == LOADING and listed.groups == [], v
        deleted = handle_delete_groups(broker, _ctx(42, 2), DeleteGroupsRequest(groups_names=["g"]))
        assert [r.error_code for r in deleted.results] == [LOADING]
        od = await handle_offset_delete(broker, _ctx(47, 0), OffsetDeleteRequest(group_id="g", topics=[
            OffsetDeleteRequest.OffsetDeleteRequestTopic(name="t", partitions=[
                OffsetDeleteRequest.OffsetDeleteRequestPartition(partition_index=1)])]))
        assert od.error_code == LOADING
        cgh = handle_consumer_group_heartbeat(broker, _ctx(68, 1), ConsumerGroupHeartbeatRequest(
            group_id="g2", member_id="m-1", member_epoch=0, rebalance_timeout_ms=10000,
            subscribed_topic_names=["t"], topic_partitions=[]))
        assert cgh.error_code == LOADING
        cgd = handle_consumer_group_describe(broker, _ctx(69, 0), ConsumerGroupDescribeRequest(group_ids=["g2"]))
        assert [g.error_code for g in cgd.groups] == [LOADING]
        assert broker.appended == []  # nothing was written while loading

        await task
        assert not gc.is_loading()
        assert gc.fetch_offsets("g") == {("t", 0): OffsetAndMetadata(1999, -1, "", 1, None),
                                         ("t", 1): OffsetAndMetadata(999, -1, "", 1, None)}
        group = gc.groups["g"]
        assert group.state is GroupState.STABLE and list(group.members) == [member_id]
        assert group.members[member_id].heartbeat_timer is not None  # its session restarted (onLoaded)
        hb = handle_heartbeat(broker, _ctx(12, 4), HeartbeatRequest(group_id="g", generation_id=1,
                                                                    member_id=member_id))
        assert hb.error_code == 0
        hb = handle_heartbeat(broker, _ctx(12, 4), HeartbeatRequest(group_id="g", generation_id=1,
                                                                    member_id="unknown"))
        assert hb.error_code == Errors.UNKNOWN_MEMBER_ID
        listed = handle_list_groups(broker, _ctx(16, 5), ListGroupsRequest(states_filter=[], types_filter=[]))
        assert listed.error_code == 0 and [g.group_id for g in listed.groups] == ["g"]
        for m in group.members.values():
            if m.heartbeat_timer is not None:
                m.heartbeat_timer.cancel()
        gc._expiration_timer.cancel()  # type: ignore[union-attr]

    asyncio.run(scenario())


def test_the_load_yields_to_the_event_loop_between_slices() -> None:
    async def scenario() -> None:
        first = _Broker()
        await _committed_group(first)
        for m in first.group_coordinator.groups["g"].members.values():
            if m.heartbeat_timer is not None:
                m.heartbeat_timer.cancel()
        broker = _Broker(first.appended)
        gc = broker.group_coordinator
        task = gc.start_loading()
        ticks = 0
        while not task.done():
            ticks += 1
            await asyncio.sleep(0)
        assert ticks > 2  # 2000 commits (~200 KiB) are replayed in several slices
        assert gc.fetch_offsets("g")[("t", 0)].offset == 1999
        for m in gc.groups["g"].members.values():
            if m.heartbeat_timer is not None:
                m.heartbeat_timer.cancel()
        gc._expiration_timer.cancel()  # type: ignore[union-attr]

    asyncio.run(scenario())


def test_a_partition_whose_replay_fails_answers_not_coordinator() -> None:
    async def scenario() -> None:
        broker = _Broker()
        part = broker.replica_manager.all_partitions()[0]
        part.log.high_watermark = 1

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise OSError("disk gone")

        part.log.read = broken
        await broker.group_coordinator.start_loading()
        try:
            broker.group_coordinator.fetch_offsets("g")
        except KafkaError as e:
            assert e.code == Errors.NOT_COORDINATOR
        else:
            raise AssertionError("expected NOT_COORDINATOR")
        broker.group_coordinator._expiration_timer.cancel()  # type: ignore[union-attr]

    asyncio.run(scenario())
