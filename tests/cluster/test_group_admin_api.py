"""Group admin (ListGroups, DescribeGroups, DeleteGroups, ConsumerGroupDescribe) over a real GroupCoordinator and
ConsumerGroupManager without a network: the handlers' responses encoded and decoded at every
version, Kafka's state names and filters, NON_EMPTY_GROUP / GROUP_ID_NOT_FOUND, and the
tombstones a deletion writes replayed into a fresh coordinator (the deletion survives a restart)."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from fake_partition import committed_leader
from fastkafka._native.record_batch import iter_records
from fastkafka.cluster.authorized_operations import GROUP_OPERATIONS
from fastkafka.cluster.group import group_admin
from fastkafka.cluster.group.classic_group import ClassicGroup, OffsetAndMetadata
from fastkafka.cluster.group.consumer_group import ConsumerGroup, ConsumerGroupMember
from fastkafka.cluster.group.consumer_group_manager import ConsumerGroupManager
from fastkafka.cluster.group.group_coordinator import GroupCoordinator
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME
from fastkafka.net.handlers.k15_describe_groups import handle_describe_groups
from fastkafka.net.handlers.k16_list_groups import handle_list_groups
from fastkafka.net.handlers.k69_consumer_group_describe import handle_consumer_group_describe
from fastkafka.net.handlers.k42_delete_groups import handle_delete_groups
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import (ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse,
                                         DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest,
                                         DescribeGroupsResponse, JoinGroupRequest, ListGroupsRequest,
                                         ListGroupsResponse, SyncGroupRequest)


class _Broker:
    """The coordinator's view of a broker: config, an image with `__consumer_offsets`, and a
    replica manager whose appends are kept (the offsets topic's log)."""

    def __init__(self) -> None:
        self.config = {"offsets.topic.num.partitions": "3", "group.initial.rebalance.delay.ms": "0"}
        self.image = SimpleNamespace(topics=SimpleNamespace(by_name={GROUP_METADATA_TOPIC_NAME: object()}))
        self.appended: list[bytes] = []
        self.replica_manager = SimpleNamespace(partition=lambda tp: committed_leader(),
                                               append_records=self._append)
        self.group_coordinator = GroupCoordinator(self)
        self.consumer_group_manager = ConsumerGroupManager(self, {})

    def _append(self, tp: Any, records: bytes, acks: int) -> Any:
        self.appended.append(bytes(records))
        return SimpleNamespace(error=0)

    def records(self) -> list[tuple[bytes | None, bytes | None]]:
        return [(r.key, r.value) for batch in self.appended for r in iter_records(batch)]


def _ctx(api_key: int, version: int) -> RequestContext:
    return RequestContext(api_key=api_key, api_version=version, correlation_id=1, client_id="cli",
                          listener_name="PLAINTEXT", security_protocol="PLAINTEXT", client_address="10.0.0.7:5555",
                          connection_id="c")


async def _stable_member(broker: _Broker, group_id: str) -> str:
    gc = broker.group_coordinator
    join = await gc.join_group(_ctx(11, 3), JoinGroupRequest(
        group_id=group_id, session_timeout_ms=10000, rebalance_timeout_ms=10000, member_id="",
        protocol_type="consumer", protocols=[JoinGroupRequest.JoinGroupRequestProtocol(name="range", metadata=b"meta")]))
    assert join.error_code == 0
    err, _, _ = await gc.sync_group(_ctx(14, 3), SyncGroupRequest(
        group_id=group_id, generation_id=join.generation_id, member_id=join.member_id,
        assignments=[SyncGroupRequest.SyncGroupRequestAssignment(member_id=join.member_id, assignment=b"assigned")]))
    assert err == 0
    return str(join.member_id)


def _list(broker: _Broker, v: int, states: list[str] | None = None, types: list[str] | None = None) -> Any:
    resp = handle_list_groups(broker, _ctx(16, v), ListGroupsRequest(states_filter=states or [], types_filter=types or []))
    return ListGroupsResponse.from_bytes(resp.to_bytes(v), v)


async def _describe(broker: _Broker, v: int, ids: list[str], ops: bool = False) -> Any:
    resp = handle_describe_groups(broker, _ctx(15, v), DescribeGroupsRequest(
        groups=ids, include_authorized_operations=ops))
    return DescribeGroupsResponse.from_bytes(resp.to_bytes(v), v)


async def _delete(broker: _Broker, v: int, ids: list[str]) -> dict[str, int]:
    resp = handle_delete_groups(broker, _ctx(42, v), DeleteGroupsRequest(groups_names=ids))
    resp = DeleteGroupsResponse.from_bytes(resp.to_bytes(v), v)
    assert len(resp.results) == len(set(ids))  # a group named twice is answered once, as Kafka
    # v3's error_message: Kafka 4.4 sets it only for GROUP_DELETION_FAILED (streams topology plugin).
    assert all(r.error_message is None for r in resp.results)
    return {r.group_id: r.error_code for r in resp.results}


def _add_consumer_group(broker: _Broker, group_id: str, with_member: bool) -> None:
    group = ConsumerGroup(group_id)
    if with_member:
        group.members["m1"] = ConsumerGroupMember("m1", "cli", "/10.0.0.8")
    broker.consumer_group_manager.groups[group_id] = group


def test_list_describe_delete() -> None:
    async def run() -> None:
        broker = _Broker()
        gc = broker.group_coordinator
        member_id = await _stable_member(broker, "live")
        # A group known only by its commits (an assign()-style consumer), and a consumer-protocol one.
        gc.commit_offsets(gc.groups.setdefault("simple", ClassicGroup("simple")),
            {("t", 0): OffsetAndMetadata(5, -1, "", 0), ("t", 1): OffsetAndMetadata(7, -1, "m", 0)})
        _add_consumer_group(broker, "kip848", with_member=True)

        for v in range(6):
            listed = {g.group_id: g for g in _list(broker, v).groups}
            assert set(listed) == {"live", "simple", "kip848"}
            assert listed["live"].protocol_type == "consumer" and listed["simple"].protocol_type == ""
            if v >= 4:
                assert (listed["live"].group_state, listed["simple"].group_state) == ("Stable", "Empty")
            if v >= 5:
                assert (listed["live"].group_type, listed["kip848"].group_type) == ("classic", "consumer")
        assert sorted(g.group_id for g in _list(broker, 4, states=[" stable"]).groups) == ["kip848", "live"]
        assert [g.group_id for g in _list(broker, 4, states=["EMPTY"]).groups] == ["simple"]
        assert _list(broker, 4, states=["NoSuchState"]).groups == []
        assert {g.group_id for g in _list(broker, 5, types=["Classic"]).groups} == {"live", "simple"}
        assert [g.group_id for g in _list(broker, 5, types=["consumer"]).groups] == ["kip848"]
        assert _list(broker, 5, types=["bogus"]).groups == []

        for v in range(7):
            d = {g.group_id: g for g in (await _describe(broker, v, ["live", "simple", "nope", "kip848"])).groups}
            live = d["live"]
            assert (live.error_code, live.group_state, live.protocol_type, live.protocol_data) == \
                (0, "Stable", "consumer", "range")
            [m] = live.members
            assert (m.member_id, m.client_id, m.client_host, m.member_metadata, m.member_assignment) == \
                (member_id, "cli", "/10.0.0.7", b"meta", b"assigned")
            assert (d["simple"].group_state, d["simple"].protocol_type, d["simple"].members) == ("Empty", "", [])
            if v < 6:
                for dead in ("nope", "kip848"):
                    assert (d[dead].error_code, d[dead].group_state) == (0, "Dead")
            else:  # KIP-1043: GROUP_ID_NOT_FOUND with GroupIdNotFoundException's message, still Dead
                assert (d["nope"].error_code, d["nope"].group_state, d["nope"].error_message) == \
                    (Errors.GROUP_ID_NOT_FOUND, "Dead", "Group nope not found.")
                assert (d["kip848"].error_code, d["kip848"].error_message) == \
                    (Errors.GROUP_ID_NOT_FOUND, "Group kip848 is not a classic group.")
                assert live.error_message is None and d["simple"].error_message is None
            if v >= 3:
                assert live.authorized_operations == -2147483648
        ops = (await _describe(broker, 3, ["live", "nope"], ops=True)).groups
        assert ops[0].authorized_operations == GROUP_OPERATIONS == 3400
        ops = (await _describe(broker, 6, ["live", "nope"], ops=True)).groups
        assert [g.authorized_operations for g in ops] == [3400, -2147483648]  # only for error-free groups

        # Only empty groups go: the others answer NON_EMPTY_GROUP / GROUP_ID_NOT_FOUND.
        before = len(broker.appended)
        assert await _delete(broker, 3, ["live", "kip848", "nope", "nope"]) == {
            "live": Errors.NON_EMPTY_GROUP, "kip848": Errors.NON_EMPTY_GROUP, "nope": Errors.GROUP_ID_NOT_FOUND}
        assert len(broker.appended) == before  # nothing written for refused deletions
        assert await _delete(broker, 0, ["simple"]) == {"simple": 0}
        assert len(broker.appended) == before + 1
        assert gc.group("simple") is None
        assert await _delete(broker, 1, ["simple"]) == {"simple": Errors.GROUP_ID_NOT_FOUND}

        # The member leaves: the group is Empty (keeps its protocol type) and can be deleted;
        # a consumer-protocol group without members too.
        assert gc.leave_group("live", [member_id]) == (0, [0])
        d = (await _describe(broker, 5, ["live"])).groups[0]
        assert (d.group_state, d.protocol_type, d.protocol_data, d.members) == ("Empty", "consumer", "", [])
        broker.consumer_group_manager.groups["kip848"].members.clear()
        assert [g.group_id for g in _list(broker, 5, states=["empty"], types=["consumer"]).groups] == ["kip848"]
        assert await _delete(broker, 3, ["live", "kip848"]) == {"live": 0, "kip848": 0}
        assert _list(broker, 5).groups == []
        assert (await _describe(broker, 5, ["live"])).groups[0].group_state == "Dead"

        # Replaying the offsets topic as a restart does: the deleted groups and offsets stay gone.
        fresh = _Broker()
        for key, value in broker.records():
            fresh.group_coordinator._replay(key, value)
        assert fresh.group_coordinator.groups == {}

    asyncio.run(run())


def test_tombstones_for_offsets_and_group_metadata() -> None:
    async def run() -> None:
        broker = _Broker()
        gc = broker.group_coordinator
        group = gc.groups.setdefault("g", ClassicGroup("g"))
        gc.commit_offsets(group, {("a", 0): OffsetAndMetadata(1, -1, "", 0), ("b", 3): OffsetAndMetadata(2, -1, "", 0)})
        broker.appended.clear()
        assert await _delete(broker, 2, ["g"]) == {"g": 0}
        [batch] = broker.appended
        records = [(r.key, r.value) for r in iter_records(batch)]
        assert all(value is None for _, value in records)
        versions = sorted(int.from_bytes(key[:2], "big") for key, _ in records if key)
        assert versions == [1, 1, 2]  # two OffsetCommitKey tombstones, one GroupMetadataKey tombstone

    asyncio.run(run())


def test_not_coordinator() -> None:
    async def run() -> None:
        broker = _Broker()
        broker.replica_manager.partition = lambda tp: SimpleNamespace(is_leader=False)
        for v in (5, 6):
            d = (await _describe(broker, v, ["g"])).groups[0]
            assert (d.error_code, d.group_state, d.error_message) == (Errors.NOT_COORDINATOR, "", None)
        assert await _delete(broker, 2, ["g"]) == {"g": Errors.NOT_COORDINATOR}
        assert broker.appended == []

    asyncio.run(run())


def test_consumer_group_describe_member_type() -> None:
    """ConsumerGroupDescribe v1 (KIP-1099): every member of a fastkafka consumer group is a
    consumer-protocol member (MemberType 1, as Kafka writes; v0 has no field); a classic group or
    an unknown one is GROUP_ID_NOT_FOUND with Kafka's message for each."""
    async def run() -> None:
        broker = _Broker()
        broker.image.topics.by_id = {}
        await _stable_member(broker, "classic")
        _add_consumer_group(broker, "kip848", with_member=True)
        for v in (0, 1):
            resp = handle_consumer_group_describe(broker, _ctx(69, v), ConsumerGroupDescribeRequest(
                group_ids=["kip848", "classic", "nope"], include_authorized_operations=False))
            resp = ConsumerGroupDescribeResponse.from_bytes(resp.to_bytes(v), v)
            d = {g.group_id: g for g in resp.groups}
            assert d["kip848"].error_code == 0
            [m] = d["kip848"].members
            assert (m.member_id, m.member_type) == ("m1", 1 if v >= 1 else -1)  # -1: the field's default
            assert (d["classic"].error_code, d["classic"].error_message) == \
                (Errors.GROUP_ID_NOT_FOUND, "Group classic is not a consumer group.")
            assert (d["nope"].error_code, d["nope"].error_message) == \
                (Errors.GROUP_ID_NOT_FOUND, "Group nope not found.")

    asyncio.run(run())
