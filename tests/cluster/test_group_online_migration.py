"""Online migration of a group with members between the classic and the consumer protocol (Kafka
4.4's convertToConsumerGroup / convertToClassicGroup and the classic-protocol members of a
consumer group), over a real GroupCoordinator and ConsumerGroupManager without a network.

Upgrade: a ConsumerGroupHeartbeat converts a Stable classic group (tombstone, then the consumer
group records with the members' subscriptions, assignments and classic_member_metadata); the
classic members are told to rejoin (REBALANCE_IN_PROGRESS), rejoin through JoinGroup (answered at
once, generation = member epoch) and get their target partitions through SyncGroup once the
consumer-protocol member revoked them; ConsumerGroupDescribe v1 tells the member types apart.
Downgrade: the last consumer-protocol member leaves, the classic members form a classic group that
rebalances, offsets kept. Also the migration policy, the refused conversions with Kafka's
messages, LeaveGroup and OffsetCommit of a classic member, and the replay of classic_member_metadata.
"""
from __future__ import annotations

import asyncio
import struct
from typing import Any

from fastkafka.cluster.group.classic_group import GroupState, OffsetAndMetadata
from fastkafka.cluster.group.consumer_group_manager import ConsumerGroupManager
from fastkafka.cluster.group.consumer_group_records import ConsumerGroupReplayer
from fastkafka.cluster.group.consumer_protocol import parse_assignment, serialize_assignment
from fastkafka.net.handlers.k11_join_group import handle_join_group
from fastkafka.net.handlers.k12_heartbeat import handle_heartbeat
from fastkafka.net.handlers.k13_leave_group import handle_leave_group
from fastkafka.net.handlers.k14_sync_group import handle_sync_group
from fastkafka.net.handlers.k69_consumer_group_describe import handle_consumer_group_describe
from fastkafka.protocol._generated.data_types import ConsumerProtocolSubscription
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import (ConsumerGroupDescribeRequest, HeartbeatRequest, JoinGroupRequest,
                                         LeaveGroupRequest, SyncGroupRequest)

from test_group_protocol_migration import TOPIC_ID, _Broker, _cancel_timers, _cgh, _ctx

import pytest


def _subscription(owned: list[int] | None = None, version: int = 3) -> bytes:
    S = ConsumerProtocolSubscription
    s = S(topics=["t"], user_data=None, owned_partitions=[S.TopicPartition(topic="t", partitions=owned)] if owned
          else [], generation_id=-1, rack_id=None)
    return struct.pack(">h", version) + bytes(s.to_bytes(version))


def _join(member_id: str, owned: list[int] | None = None, instance_id: str | None = None) -> JoinGroupRequest:
    J = JoinGroupRequest
    return J(group_id="g", session_timeout_ms=10000, rebalance_timeout_ms=10000, member_id=member_id,
             group_instance_id=instance_id, protocol_type="consumer",
             protocols=[J.JoinGroupRequestProtocol(name="range", metadata=_subscription(owned)),
                        J.JoinGroupRequestProtocol(name="cooperative-sticky", metadata=_subscription(owned))])


async def _sync(broker: _Broker, member_id: str, generation: int, assignments: dict[str, bytes] | None = None,
                version: int = 5) -> Any:
    S = SyncGroupRequest
    return await handle_sync_group(broker, _ctx(14, version), S(
        group_id="g", generation_id=generation, member_id=member_id,
        protocol_type="consumer" if version >= 5 else None, protocol_name="range" if version >= 5 else None,
        assignments=[S.SyncGroupRequestAssignment(member_id=m, assignment=a) for m, a in (assignments or {}).items()]))


def _hb(broker: _Broker, member_id: str, generation: int) -> int:
    return int(handle_heartbeat(broker, _ctx(12, 4), HeartbeatRequest(
        group_id="g", generation_id=generation, member_id=member_id)).error_code)


async def _stable_classic_group(broker: _Broker) -> tuple[str, str, int]:
    """Two classic members (v3 joins: no MEMBER_ID_REQUIRED), partitions 0 and 1 of t."""
    a, b = await asyncio.gather(handle_join_group(broker, _ctx(11, 3), _join("")),
                                handle_join_group(broker, _ctx(11, 3), _join("")))
    assert a.error_code == b.error_code == 0 and a.generation_id == b.generation_id == 1
    leader, follower = (a, b) if a.leader == a.member_id else (b, a)
    assignments = {leader.member_id: serialize_assignment({"t": [0]}, 3),
                   follower.member_id: serialize_assignment({"t": [1]}, 3)}
    r1, r2 = await asyncio.gather(_sync(broker, leader.member_id, 1, assignments), _sync(broker, follower.member_id, 1))
    assert r1.error_code == r2.error_code == 0
    assert broker.group_coordinator.groups["g"].state is GroupState.STABLE
    return leader.member_id, follower.member_id, 1


def _record_kinds(records: list[tuple[bytes | None, bytes | None]]) -> list[tuple[int, bool]]:
    return [(struct.unpack_from(">h", k)[0], v is None) for k, v in records if k]


def test_upgrade_then_classic_members_rejoin_then_downgrade() -> None:
    async def scenario() -> None:
        broker = _Broker()
        gc = broker.group_coordinator
        cgm = broker.consumer_group_manager
        leader, follower, gen = await _stable_classic_group(broker)
        gc.commit_offsets(gc.groups["g"], {("t", 0): OffsetAndMetadata(5, -1, "", 1, None)})
        before = len(broker.records())

        # Upgrade at the first ConsumerGroupHeartbeat of a consumer-protocol member.
        resp = _cgh(broker, "c1", 0)
        assert resp.error_code == 0, resp
        assert resp.member_epoch == gen + 1
        assert resp.assignment is not None and resp.assignment.topic_partitions == []  # both partitions still owned
        kinds = _record_kinds(broker.records()[before:])
        assert kinds[0] == (2, True)  # the classic group's tombstone first
        assert {k for k, _ in kinds[1:]} == {3, 4, 5, 6, 7, 8} and not any(t for _, t in kinds[1:])
        group = cgm.group("g")
        assert group is not None and group.group_epoch == gen + 1
        for mid, p in ((leader, 0), (follower, 1)):
            m = group.members[mid]
            assert m.uses_classic_protocol and m.classic_session_timeout_ms == 10000
            assert [n for n, _ in m.classic_protocols or []] == ["range", "cooperative-sticky"]
            assert m.member_epoch == gen and m.subscribed_topic_names == ["t"]
            assert m.assigned == {TOPIC_ID: {p}}
        assert gc.fetch_offsets("g") == {("t", 0): OffsetAndMetadata(5, -1, "", 1, None)}
        # ConsumerGroupDescribe v1: member types.
        d = handle_consumer_group_describe(broker, _ctx(69, 1), ConsumerGroupDescribeRequest(group_ids=["g"]))
        assert {m.member_id: m.member_type for m in d.groups[0].members} == {leader: 0, follower: 0, "c1": 1}

        # The classic members are behind the group epoch: heartbeat says rejoin; a commit at their
        # generation is still accepted, at another one it is ILLEGAL_GENERATION.
        assert _hb(broker, leader, gen) == Errors.REBALANCE_IN_PROGRESS
        assert _hb(broker, follower, gen + 5) == Errors.ILLEGAL_GENERATION
        gc.validate_commit("g", leader, gen)
        with pytest.raises(KafkaError) as e:
            gc.validate_commit("g", leader, gen + 1)
        assert e.value.code == Errors.ILLEGAL_GENERATION
        # A SyncGroup at the old generation: rejoin first.
        assert (await _sync(broker, leader, gen)).error_code == Errors.REBALANCE_IN_PROGRESS

        # Eager members rejoin owning nothing: the join is answered at once at the new epoch.
        owned_targets = {}
        for mid in (leader, follower):
            j = await handle_join_group(broker, _ctx(11, 9), _join(mid))
            assert j.error_code == 0 and j.member_id == mid
            assert j.generation_id == gen + 1 and j.protocol_type == "consumer" and j.protocol_name == "range"
            assert j.leader == "" and j.members == []
            s = await _sync(broker, mid, j.generation_id)
            assert s.error_code == 0 and (s.protocol_type, s.protocol_name) == ("consumer", "range")
            owned_targets[mid] = parse_assignment(bytes(s.assignment))[0]
            assert _hb(broker, mid, gen + 1) == 0
        # Three members, two partitions: the consumer-protocol member's share is released to it.
        classic_owned = {p for a in owned_targets.values() for p in a.get("t", [])}
        resp = _cgh(broker, "c1", resp.member_epoch)
        c1_owned = {p for tp in (resp.assignment.topic_partitions if resp.assignment else []) for p in tp.partitions}
        assert not (classic_owned & c1_owned) and classic_owned | c1_owned == {0, 1}
        assert cgm.group("g").members["c1"].member_epoch == gen + 1

        # A classic member's OffsetCommit at its generation.
        gc.validate_commit("g", leader, gen + 1)

        # Downgrade: the last consumer-protocol member leaves.
        before = len(broker.records())
        assert _cgh(broker, "c1", -1).error_code == 0
        assert cgm.group("g") is None
        kinds = _record_kinds(broker.records()[before:])
        assert kinds[-1] == (2, False)  # the classic group's record after the consumer group's tombstones
        assert all(tomb for _, tomb in kinds[:-1]) and {k for k, _ in kinds[:-1]} == {3, 4, 5, 6, 7, 8}
        classic = gc.groups["g"]
        assert classic.state is GroupState.PREPARING_REBALANCE
        assert classic.generation_id == gen + 1 and classic.protocol_type == "consumer"
        assert classic.protocol_name == "range" and set(classic.members) == {leader, follower}
        assert classic.offsets == {("t", 0): OffsetAndMetadata(5, -1, "", 1, None)}
        assert _hb(broker, leader, gen + 1) == Errors.REBALANCE_IN_PROGRESS
        # They rejoin as a classic group.
        j1, j2 = await asyncio.gather(handle_join_group(broker, _ctx(11, 9), _join(leader)),
                                      handle_join_group(broker, _ctx(11, 9), _join(follower)))
        assert j1.error_code == j2.error_code == 0 and j1.generation_id == gen + 2
        assert len([j for j in (j1, j2) if j.members]) == 1  # a classic leader again
        _cancel_timers(broker)

    asyncio.run(scenario())


def test_classic_member_joins_and_leaves_a_consumer_group() -> None:
    async def scenario() -> None:
        broker = _Broker()
        cgm = broker.consumer_group_manager
        resp = _cgh(broker, "c1", 0)
        assert resp.error_code == 0
        epoch = resp.member_epoch
        j = await handle_join_group(broker, _ctx(11, 9), _join(""))
        assert j.error_code == Errors.MEMBER_ID_REQUIRED and j.member_id
        mid = j.member_id
        j = await handle_join_group(broker, _ctx(11, 9), _join(mid))
        assert j.error_code == 0 and j.generation_id == epoch + 1
        group = cgm.group("g")
        assert group is not None and group.members[mid].uses_classic_protocol
        # The new target takes a partition from c1: the classic member waits for it.
        s = await _sync(broker, mid, j.generation_id)
        assert s.error_code == 0
        assert parse_assignment(bytes(s.assignment))[0] == {}
        assert _hb(broker, mid, j.generation_id) == 0  # still owned by c1
        # c1 revokes it: the classic member is told to rejoin and gets it.
        r = _cgh(broker, "c1", epoch)
        kept = [p for tp in r.assignment.topic_partitions for p in tp.partitions]
        r = handle_cgh_owned(broker, "c1", epoch, kept)
        assert r.error_code == 0
        assert _hb(broker, mid, j.generation_id) == Errors.REBALANCE_IN_PROGRESS
        j = await handle_join_group(broker, _ctx(11, 9), _join(mid))
        s = await _sync(broker, mid, j.generation_id)
        got = parse_assignment(bytes(s.assignment))[0]["t"]
        assert len(got) == 1 and got[0] not in kept
        # Wrong protocol name at SyncGroup v5, unknown member, consumer member as classic.
        bad = await handle_sync_group(broker, _ctx(14, 5), SyncGroupRequest(
            group_id="g", generation_id=j.generation_id, member_id=mid, protocol_type="consumer",
            protocol_name="roundrobin", assignments=[]))
        assert bad.error_code == Errors.INCONSISTENT_GROUP_PROTOCOL
        assert _hb(broker, "nobody", 1) == Errors.UNKNOWN_MEMBER_ID
        assert _hb(broker, "c1", epoch + 1) == Errors.UNKNOWN_MEMBER_ID
        # LeaveGroup v5: the classic member leaves, the consumer-protocol one stays (no downgrade).
        L = LeaveGroupRequest
        lv = handle_leave_group(broker, _ctx(13, 5), L(group_id="g", members=[
            L.MemberIdentity(member_id=mid, group_instance_id=None), L.MemberIdentity(member_id="c1")]))
        assert lv.error_code == 0 and [m.error_code for m in lv.members] == [0, Errors.UNKNOWN_MEMBER_ID]
        assert set(cgm.group("g").members) == {"c1"}
        _cancel_timers(broker)

    asyncio.run(scenario())


def handle_cgh_owned(broker: _Broker, member_id: str, epoch: int, owned: list[int]) -> Any:
    from fastkafka.net.handlers.k68_consumer_group_heartbeat import handle_consumer_group_heartbeat
    from fastkafka.protocol.messages import ConsumerGroupHeartbeatRequest
    R = ConsumerGroupHeartbeatRequest
    return handle_consumer_group_heartbeat(broker, _ctx(68, 1), R(
        group_id="g", member_id=member_id, member_epoch=epoch, rebalance_timeout_ms=-1,
        topic_partitions=[R.TopicPartitions(topic_id=TOPIC_ID, partitions=owned)]))


def test_migration_policy_and_refused_upgrades() -> None:
    async def scenario() -> None:
        broker = _Broker()
        broker.consumer_group_manager = ConsumerGroupManager(broker, {"group.consumer.migration.policy": "disabled"})
        await _stable_classic_group(broker)
        resp = _cgh(broker, "c1", 0)
        assert resp.error_code == Errors.GROUP_ID_NOT_FOUND
        assert resp.error_message == ("Cannot upgrade classic group g to consumer group because online upgrade "
                                      "is disabled.")
        assert broker.group_coordinator.groups["g"].state is GroupState.STABLE
        _cancel_timers(broker)
        # A custom assignor's user data cannot be carried over.
        broker = _Broker()
        leader, follower, gen = await _stable_classic_group(broker)
        broker.group_coordinator.groups["g"].members[leader].assignment = \
            struct.pack(">h", 0) + struct.pack(">i", 0) + struct.pack(">i", 2) + b"ud"
        resp = _cgh(broker, "c1", 0)
        assert resp.error_code == Errors.GROUP_ID_NOT_FOUND
        assert "an unsupported custom assignor is in use" in (resp.error_message or "")
        assert broker.group_coordinator.groups["g"].state is GroupState.STABLE
        _cancel_timers(broker)
        # upgrade-only: no downgrade when the consumer-protocol member leaves; disabled: no classic join.
        broker = _Broker()
        broker.consumer_group_manager = ConsumerGroupManager(broker, {"group.consumer.migration.policy": "upgrade"})
        leader, follower, gen = await _stable_classic_group(broker)
        assert _cgh(broker, "c1", 0).error_code == 0
        assert _cgh(broker, "c1", -1).error_code == 0
        group = broker.consumer_group_manager.group("g")
        assert group is not None and set(group.members) == {leader, follower}
        broker.consumer_group_manager.migration_policy = "disabled"
        j = await handle_join_group(broker, _ctx(11, 9), _join(leader))
        assert j.error_code == Errors.INCONSISTENT_GROUP_PROTOCOL
        _cancel_timers(broker)

    asyncio.run(scenario())


def test_classic_member_metadata_is_replayed() -> None:
    async def scenario() -> None:
        broker = _Broker()
        leader, follower, gen = await _stable_classic_group(broker)
        assert _cgh(broker, "c1", 0).error_code == 0
        groups: dict[str, Any] = {}
        replayer = ConsumerGroupReplayer(groups)
        for key, value in broker.records():
            if key and struct.unpack_from(">h", key)[0] in range(3, 9):
                replayer.replay(key, value)
        live = broker.consumer_group_manager.group("g")
        restored = groups["g"]
        for mid in (leader, follower, "c1"):
            assert restored.members[mid].classic_protocols == live.members[mid].classic_protocols
            assert restored.members[mid].classic_session_timeout_ms == live.members[mid].classic_session_timeout_ms
            assert restored.members[mid].assigned == live.members[mid].assigned
        assert restored.members["c1"].classic_protocols is None
        _cancel_timers(broker)

    asyncio.run(scenario())
