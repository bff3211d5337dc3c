"""The classic group protocol over a real GroupCoordinator without a network: static membership
(replacement without a rebalance, FENCED_INSTANCE_ID on the old member id's heartbeat, sync,
commit and leave, LeaveGroup by instance id, session expiry), group.max.size, the initial
rebalance delay, rebalance and sync timeouts removing silent members, GroupMetadata records
replayed into a fresh coordinator (a restart), OffsetDelete and offset retention."""
from __future__ import annotations

import asyncio
import struct
from types import SimpleNamespace
from typing import Any

from fake_partition import committed_leader
from fastkafka._native.record_batch import iter_records
from fastkafka.cluster.group.classic_group import ClassicGroup, GroupState, OffsetAndMetadata
from fastkafka.cluster.group.group_coordinator import GroupCoordinator
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import JoinGroupRequest, SyncGroupRequest



class _Broker:
    """Config, an image with `__consumer_offsets`, and a replica manager keeping the appends."""

    def __init__(self, **config: str) -> None:
        self.config = {"offsets.topic.num.partitions": "3", "group.initial.rebalance.delay.ms": "0",
                       "group.min.session.timeout.ms": "10", **config}
        self.image = SimpleNamespace(topics=SimpleNamespace(by_name={GROUP_METADATA_TOPIC_NAME: object()}))
        self.appended: list[bytes] = []
        self.replica_manager = SimpleNamespace(partition=lambda tp: committed_leader(),
                                               append_records=self._append)
        self.group_coordinator = GroupCoordinator(self)

    def _append(self, tp: Any, records: bytes, acks: int) -> Any:
        self.appended.append(bytes(records))
        return SimpleNamespace(error=0)

    def records(self) -> list[tuple[bytes | None, bytes | None]]:
        return [(r.key, r.value) for batch in self.appended for r in iter_records(batch)]

    def restarted(self) -> "_Broker":
        fresh = _Broker(**self.config)
        fresh.appended = list(self.appended)
        for key, value in self.records():
            fresh.group_coordinator._replay(key, value)
        return fresh


def _ctx(api_key: int, version: int) -> RequestContext:
    return RequestContext(api_key=api_key, api_version=version, correlation_id=1, client_id="cli",
                          listener_name="PLAINTEXT", security_protocol="PLAINTEXT", client_address="10.0.0.7:5555",
                          connection_id="c")


def subscription(*topics: str) -> bytes:
    """ConsumerProtocolSubscription v0: topics, null user data."""
    out = struct.pack(">hi", 0, len(topics))
    for t in topics:
        out += struct.pack(">h", len(t)) + t.encode()
    return out + struct.pack(">i", -1)


async def join(gc: GroupCoordinator, group: str = "g", member_id: str = "", instance: str | None = None,
               session_ms: int = 10000, rebalance_ms: int = 10000, topics: tuple[str, ...] = ("t",),
               v: int = 7) -> Any:
    req = JoinGroupRequest(group_id=group, session_timeout_ms=session_ms, rebalance_timeout_ms=rebalance_ms,
                           member_id=member_id, group_instance_id=instance, protocol_type="consumer",
                           protocols=[JoinGroupRequest.JoinGroupRequestProtocol(name="range", metadata=subscription(*topics))])
    resp = await gc.join_group(_ctx(11, v), req)
    if resp.error_code == Errors.MEMBER_ID_REQUIRED:
        req.member_id = resp.member_id
        resp = await gc.join_group(_ctx(11, v), req)
    return resp


async def sync(gc: GroupCoordinator, resp: Any, group: str = "g", instance: str | None = None,
               assignments: dict[str, bytes] | None = None) -> tuple[int, bytes]:
    A = SyncGroupRequest.SyncGroupRequestAssignment
    err, assignment, _ = await gc.sync_group(_ctx(14, 5), SyncGroupRequest(
        group_id=group, generation_id=resp.generation_id, member_id=resp.member_id, group_instance_id=instance,
        protocol_type="consumer", protocol_name="range",
        assignments=[A(member_id=m, assignment=a) for m, a in (assignments or {}).items()]))
    return err, assignment


async def stable_group(gc: GroupCoordinator, instances: list[str | None], **kw: Any) -> list[Any]:
    """Members join together, the leader assigns `a-<member id>` to each; all synced."""
    joins = await asyncio.gather(*(join(gc, instance=i, **kw) for i in instances))
    assert all(j.error_code == 0 for j in joins), [j.error_code for j in joins]
    assert len({j.generation_id for j in joins}) == 1
    leader = next(j for j in joins if j.member_id == j.leader)
    assignments = {m.member_id: f"a-{m.member_id}".encode() for m in leader.members}
    results = await asyncio.gather(*(sync(gc, j, instance=i, assignments=assignments if j is leader else None)
                                     for j, i in zip(joins, instances)))
    assert all(err == 0 for err, _ in results)
    return list(joins)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_static_member_rejoin_replaces_without_rebalance_and_fences_the_old_id() -> None:
    async def scenario() -> None:
        broker = _Broker()
        gc = broker.group_coordinator
        a, b = await stable_group(gc, ["i-a", "i-b"])
        group = gc.groups["g"]
        generation = group.generation_id
        follower = b if a.member_id == a.leader else a
        instance = "i-b" if follower is b else "i-a"
        # The follower restarts: same instance id, no member id, unchanged metadata.
        again = await join(gc, instance=instance)
        assert again.error_code == 0 and again.member_id != follower.member_id
        assert again.member_id.startswith(instance + "-")
        assert (group.state, group.generation_id, again.generation_id) == (GroupState.STABLE, generation, generation)
        assert await sync(gc, again, instance=instance) == (0, f"a-{follower.member_id}".encode())
        # The old member id is fenced everywhere it carries the instance id.
        assert gc.heartbeat("g", follower.member_id, generation, instance) == Errors.FENCED_INSTANCE_ID
        assert (await sync(gc, follower, instance=instance))[0] == Errors.FENCED_INSTANCE_ID
        try:
            gc.validate_commit("g", follower.member_id, generation, instance)
            raise AssertionError("commit of a fenced member accepted")
        except KafkaError as e:
            assert e.code == Errors.FENCED_INSTANCE_ID
        assert gc.leave_group("g", [(follower.member_id, instance)]) == (0, [Errors.FENCED_INSTANCE_ID])
        assert (await join(gc, member_id=follower.member_id, instance=instance)).error_code == Errors.FENCED_INSTANCE_ID
        assert gc.heartbeat("g", again.member_id, generation, instance) == 0
        # The replacement was persisted: a restart knows the new member id.
        restored = broker.restarted().group_coordinator.groups["g"]
        assert set(restored.members) == set(group.members) and restored.static_members == group.static_members

    _run(scenario())


def test_static_leader_rejoin_v9_skips_assignment() -> None:
    async def scenario() -> None:
        gc = _Broker().group_coordinator
        joins = await stable_group(gc, ["i-a", "i-b"])
        leader = next(j for j in joins if j.member_id == j.leader)
        instance = "i-a" if leader is joins[0] else "i-b"
        again = await join(gc, instance=instance, v=9)
        assert again.error_code == 0 and again.skip_assignment and again.leader == again.member_id
        assert {m.member_id for m in again.members} == set(gc.groups["g"].members)
        assert gc.groups["g"].state is GroupState.STABLE

    _run(scenario())


def test_leave_by_instance_id_and_static_session_expiry() -> None:
    async def scenario() -> None:
        gc = _Broker().group_coordinator
        a, b = await stable_group(gc, ["i-a", "i-b"], session_ms=200)
        group = gc.groups["g"]
        # LeaveGroup v3+ naming only the instance id removes the instance's current member.
        assert gc.leave_group("g", [("", "i-b")]) == (0, [0])
        assert gc.leave_group("g", [("", "i-unknown")]) == (0, [Errors.UNKNOWN_MEMBER_ID])
        assert "i-b" not in group.static_members
        # i-a never heartbeats: its session expires (static members too) and the group empties.
        await asyncio.sleep(0.5)
        assert group.members == {} and group.state is GroupState.EMPTY

    _run(scenario())


def test_group_max_size() -> None:
    async def scenario() -> None:
        gc = _Broker(**{"group.max.size": "2"}).group_coordinator
        await stable_group(gc, [None, None])
        third = await join(gc)
        assert third.error_code == Errors.GROUP_MAX_SIZE_REACHED and third.member_id == ""
        assert len(gc.groups["g"].members) == 2

    _run(scenario())


def test_initial_rebalance_delay_collects_late_members() -> None:
    async def scenario() -> None:
        gc = _Broker(**{"group.initial.rebalance.delay.ms": "300"}).group_coordinator
        first = asyncio.ensure_future(join(gc))
        await asyncio.sleep(0.2)
        assert not first.done()  # still inside the delay
        second = asyncio.ensure_future(join(gc))
        a, b = await asyncio.gather(first, second)
        assert a.error_code == b.error_code == 0 and a.generation_id == b.generation_id == 1
        assert len(gc.groups["g"].members) == 2

    _run(scenario())


def test_rebalance_timeout_removes_members_that_did_not_rejoin() -> None:
    async def scenario() -> None:
        gc = _Broker().group_coordinator
        a, b = await stable_group(gc, [None, None], rebalance_ms=300)
        leader = a if a.member_id == a.leader else b
        other = b if leader is a else a
        rejoined = await join(gc, member_id=leader.member_id, rebalance_ms=300)  # only the leader rejoins
        assert rejoined.error_code == 0 and rejoined.generation_id == leader.generation_id + 1
        assert set(gc.groups["g"].members) == {leader.member_id}
        assert gc.heartbeat("g", other.member_id, rejoined.generation_id) == Errors.UNKNOWN_MEMBER_ID

    _run(scenario())


def test_members_that_never_sync_are_removed() -> None:
    async def scenario() -> None:
        gc = _Broker().group_coordinator
        a, b = await asyncio.gather(join(gc, rebalance_ms=300), join(gc, rebalance_ms=300))
        leader = a if a.member_id == a.leader else b
        # Only the leader syncs; the follower stays silent past the rebalance timeout.
        assert (await sync(gc, leader, assignments={leader.member_id: b"x"}))[0] == 0
        await asyncio.sleep(0.5)
        group = gc.groups["g"]
        assert set(group.members) == {leader.member_id} and group.state is GroupState.PREPARING_REBALANCE

    _run(scenario())


def test_group_metadata_records_survive_a_restart() -> None:
    async def scenario() -> None:
        broker = _Broker()
        gc = broker.group_coordinator
        joins = await stable_group(gc, ["i-a", None])
        group = gc.groups["g"]
        gc.commit_offsets(group, {("t", 0): OffsetAndMetadata(42, -1, "", 1)})
        keys = [k for k, v in broker.records() if k is not None and k[:2] == b"\x00\x02" and v is not None]
        assert len(keys) >= 2  # the new group's empty record, then the generation's record
        restored = broker.restarted().group_coordinator
        rg = restored.groups["g"]
        assert (rg.state, rg.generation_id, rg.protocol_type, rg.protocol_name, rg.leader_id) == \
            (GroupState.STABLE, group.generation_id, "consumer", "range", group.leader_id)
        assert {m: rm.assignment for m, rm in rg.members.items()} == {j.member_id: f"a-{j.member_id}".encode()
                                                                     for j in joins}
        assert rg.static_members == {"i-a": group.static_members["i-a"]}
        assert rg.offsets[("t", 0)].offset == 42
        # The restored members carry on in their generation.
        for j in joins:
            assert restored.heartbeat("g", j.member_id, j.generation_id) == 0
        # Everybody leaves: the Empty group's record is replayed as Empty with the next generation.
        gc.leave_group("g", [j.member_id for j in joins])
        rg = broker.restarted().group_coordinator.groups["g"]
        assert (rg.state, rg.generation_id, rg.members) == (GroupState.EMPTY, group.generation_id, {})

    _run(scenario())


def test_offset_delete() -> None:
    async def scenario() -> None:
        broker = _Broker()
        gc = broker.group_coordinator
        await stable_group(gc, [None])
        group = gc.groups["g"]
        gc.commit_offsets(group, {("t", 0): OffsetAndMetadata(1, -1, "", 1), ("u", 0): OffsetAndMetadata(2, -1, "", 1)})
        broker.appended.clear()
        err, codes = gc.delete_offsets("g", [("t", [0]), ("u", [0, 1])])
        assert err == 0 and codes == {("t", 0): Errors.GROUP_SUBSCRIBED_TO_TOPIC, ("u", 0): 0, ("u", 1): 0}
        assert set(group.offsets) == {("t", 0)}
        [(key, value)] = broker.records()
        assert value is None and key is not None and key[:2] == b"\x00\x01"
        try:
            gc.delete_offsets("nope", [("t", [0])])
            raise AssertionError
        except KafkaError as e:
            assert e.code == Errors.GROUP_ID_NOT_FOUND
        # A non-empty group of another protocol type: NON_EMPTY_GROUP.
        other = gc.groups.setdefault("connect", ClassicGroup("connect"))
        other.protocol_type, other.state = "connect", GroupState.STABLE
        other.members["m"] = group.members[next(iter(group.members))]
        try:
            gc.delete_offsets("connect", [("t", [0])])
            raise AssertionError
        except KafkaError as e:
            assert e.code == Errors.NON_EMPTY_GROUP

    _run(scenario())


def test_offset_retention() -> None:
    async def scenario() -> None:
        broker = _Broker(**{"offsets.retention.minutes": "1"})
        gc = broker.group_coordinator
        await stable_group(gc, [None])
        live = gc.groups["g"]
        gc.commit_offsets(live, {("t", 0): OffsetAndMetadata(1, -1, "", 0), ("gone", 0): OffsetAndMetadata(2, -1, "", 0)})
        simple = gc.groups.setdefault("simple", ClassicGroup("simple"))
        gc.commit_offsets(simple, {("t", 0): OffsetAndMetadata(3, -1, "", 0)})
        fresh = gc.groups.setdefault("fresh", ClassicGroup("fresh"))
        gc.commit_offsets(fresh, {("t", 0): OffsetAndMetadata(3, -1, "", 10**13)})
        now = 61_000
        # A Stable consumer group keeps the offsets of topics it subscribes to; the others expire
        # by commit time; a simple group's expired offsets take the group with them.
        assert gc.cleanup_group_metadata(now) == 2
        assert set(live.offsets) == {("t", 0)} and "simple" not in gc.groups and "fresh" in gc.groups
        # Once Empty, offsets age from the moment the group became Empty.
        gc.leave_group("g", list(live.members))
        assert live.state is GroupState.EMPTY
        assert gc.cleanup_group_metadata(now) == 0
        assert gc.cleanup_group_metadata((live.current_state_timestamp_ms or 0) + 60_000) == 1
        assert "g" not in gc.groups
        restored = broker.restarted().group_coordinator
        assert set(restored.groups) == {"fresh"}

    _run(scenario())


def test_offset_delete_handler() -> None:
    from fastkafka.net.handlers.k47_offset_delete import handle_offset_delete
    from fastkafka.protocol.messages import OffsetDeleteRequest, OffsetDeleteResponse

    async def scenario() -> None:
        broker = _Broker()
        broker.image.topics.by_name["t"] = SimpleNamespace(partitions={0: None, 1: None})
        broker.image.topics.by_name["u"] = SimpleNamespace(partitions={0: None})
        gc = broker.group_coordinator
        await stable_group(gc, [None])
        gc.commit_offsets(gc.groups["g"], {("u", 0): OffsetAndMetadata(2, -1, "", 1)})
        Q = OffsetDeleteRequest

        async def call(group: str, topics: dict[str, list[int]]) -> tuple[int, dict[tuple[str, int], int]]:
            req = Q(group_id=group, topics=[Q.OffsetDeleteRequestTopic(name=n, partitions=[
                Q.OffsetDeleteRequestPartition(partition_index=p) for p in ps]) for n, ps in topics.items()])
            resp = OffsetDeleteResponse.from_bytes((await handle_offset_delete(broker, _ctx(47, 0), req)).to_bytes(0), 0)
            return resp.error_code, {(t.name, p.partition_index): p.error_code for t in resp.topics for p in t.partitions}

        assert await call("g", {"t": [0, 5], "u": [0], "nope": [0]}) == (0, {
            ("t", 0): Errors.GROUP_SUBSCRIBED_TO_TOPIC, ("t", 5): Errors.UNKNOWN_TOPIC_OR_PARTITION, ("u", 0): 0,
            ("nope", 0): Errors.UNKNOWN_TOPIC_OR_PARTITION})
        assert ("u", 0) not in gc.groups["g"].offsets
        assert (await call("missing", {"u": [0]}))[0] == Errors.GROUP_ID_NOT_FOUND
        assert (await call("", {"u": [0]}))[0] == Errors.INVALID_GROUP_ID

    _run(scenario())


def test_commit_with_retention_time_expires_at_its_own_time() -> None:
    async def scenario() -> None:
        broker = _Broker()
        gc = broker.group_coordinator
        group = gc.groups.setdefault("s", ClassicGroup("s"))
        gc.commit_offsets(group, {("t", 0): OffsetAndMetadata(7, -1, "m", 1000, 5000)})
        [(key, value)] = broker.records()
        assert value is not None and value[:2] == b"\x00\x01"  # OffsetCommitValue v1: expire timestamp
        restored = broker.restarted().group_coordinator
        assert restored.groups["s"].offsets[("t", 0)] == OffsetAndMetadata(7, -1, "m", 1000, 5000)
        assert restored.cleanup_group_metadata(4999) == 0
        assert restored.cleanup_group_metadata(5000) == 1 and "s" not in restored.groups

    _run(scenario())


def test_group_over_capacity_after_a_restart_rebalances_and_refuses_the_extra_members() -> None:
    async def scenario() -> None:
        broker = _Broker()
        joins = await stable_group(broker.group_coordinator, [None, None, None], rebalance_ms=300)
        smaller = broker.restarted()
        smaller.config["group.max.size"] = "2"
        gc = GroupCoordinator(smaller)
        for key, value in smaller.records():
            gc._replay(key, value)
        gc._on_loaded()
        group = gc.groups["g"]
        assert group.state is GroupState.PREPARING_REBALANCE and len(group.members) == 3
        # As in Kafka, refusing the third member does not end the join phase: its timeout does.
        results = await asyncio.gather(*(join(gc, member_id=j.member_id, rebalance_ms=300) for j in joins))
        codes = sorted(r.error_code for r in results)
        assert codes == [0, 0, Errors.GROUP_MAX_SIZE_REACHED], codes
        assert len(group.members) == 2 and group.state is GroupState.COMPLETING_REBALANCE

    _run(scenario())


def test_offsets_partition_uses_kafkas_utils_abs() -> None:
    """"polygenelubricants".hashCode() is Integer.MIN_VALUE: Kafka's Utils.abs maps it to 0, so the
    group lives in __consumer_offsets partition 0 (Python's abs would give 2**31 % 50 == 48)."""
    import types

    from fastkafka.cluster.group.group_coordinator import GroupCoordinator
    me = types.SimpleNamespace(num_partitions=50)
    assert GroupCoordinator.partition_for(me, "polygenelubricants") == 0  # type: ignore[arg-type]
    assert GroupCoordinator.partition_for(me, "my-group") == abs(hash_of("my-group")) % 50


def hash_of(s: str) -> int:
    h = 0
    for ch in s:
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h
