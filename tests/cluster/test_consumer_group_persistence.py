"""Consumer groups (KIP-848) persisted in `__consumer_offsets` as Kafka writes them, over a real
GroupCoordinator and ConsumerGroupManager without a network: the records written on join, on
leave / fencing (tombstones in Kafka's order) and on deletion; a fresh coordinator replaying the
log (a broker restart) restores group epoch, assignment epoch, target assignment, members'
epochs, states and owned partitions, and the members carry on heartbeating without a rebalance."""
from __future__ import annotations

import asyncio
import struct
from types import SimpleNamespace
from typing import Any

from fake_partition import committed_leader
from fastkafka._native.record_batch import iter_records
from fastkafka.cluster.group import group_admin
from fastkafka.cluster.group.consumer_group import ConsumerGroupState
from fastkafka.cluster.group.consumer_group_manager import ConsumerGroupManager
from fastkafka.cluster.group.group_coordinator import GroupCoordinator
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME
from fastkafka.protocol._generated import group_records as gr

TID = b"\x05" * 16


class _Broker:
    def __init__(self, appended: list[bytes] | None = None) -> None:
        self.config = {"offsets.topic.num.partitions": "1"}
        topic = SimpleNamespace(name="t", topic_id=TID, partitions={p: None for p in range(4)})
        self.image = SimpleNamespace(topics=SimpleNamespace(
            by_name={GROUP_METADATA_TOPIC_NAME: object(), "t": topic}, by_id={TID: topic}))
        self.appended: list[bytes] = list(appended or [])
        self.replica_manager = SimpleNamespace(partition=lambda tp: committed_leader(),
                                               append_records=self._append)
        self.group_coordinator = GroupCoordinator(self)
        self.consumer_group_manager = ConsumerGroupManager(self, {})

    def _append(self, tp: Any, records: bytes, acks: int) -> Any:
        self.appended.append(bytes(records))
        return SimpleNamespace(error=0)

    def records(self) -> list[tuple[bytes, bytes | None]]:
        return [(bytes(r.key), None if r.value is None else bytes(r.value))
                for batch in self.appended for r in iter_records(batch)]

    def restarted(self) -> "_Broker":
        fresh = _Broker(self.appended)
        for key, value in self.records():
            fresh.group_coordinator._replay(key, value)
        fresh.group_coordinator._on_loaded()
        return fresh

    def stop_timers(self) -> None:
        mgr = self.consumer_group_manager
        for h in list(mgr._session_timers.values()) + list(mgr._revocation_timers.values()):
            h.cancel()
        if self.group_coordinator._expiration_timer is not None:
            self.group_coordinator._expiration_timer.cancel()


class _Member:
    def __init__(self, member_id: str) -> None:
        self.member_id, self.epoch, self.owned = member_id, 0, {}  # type: dict[bytes, set[int]]

    def beat(self, broker: _Broker, leave: bool = False) -> Any:
        r = broker.consumer_group_manager.heartbeat(
            group_id="g", member_id=self.member_id, member_epoch=-1 if leave else self.epoch, instance_id=None,
            rack_id=None, rebalance_timeout_ms=30_000 if self.epoch == 0 else -1,
            subscribed_topic_names=["t"] if self.epoch == 0 else None, subscribed_topic_regex=None,
            server_assignor=None, owned=[(t, sorted(ps)) for t, ps in self.owned.items()],
            client_id="cli", client_host="/10.0.0.1")
        self.epoch = r.member_epoch
        if r.assignment is not None:
            self.owned = {t: set(ps) for t, ps in r.assignment.items() if ps}
        return r


def _kinds(records: list[tuple[bytes, bytes | None]]) -> list[tuple[int, bool]]:
    return [(struct.unpack_from(">h", k)[0], v is None) for k, v in records]


def _stable(broker: _Broker, members: list[_Member]) -> None:
    for _ in range(6):
        for m in members:
            m.beat(broker)
    assert broker.consumer_group_manager.group("g").state is ConsumerGroupState.STABLE  # type: ignore[union-attr]


def test_a_restart_restores_the_group_and_its_members_keep_their_partitions() -> None:
    async def scenario() -> None:
        broker = _Broker()
        a, b = _Member("member-a"), _Member("member-b")
        a.beat(broker)
        first = broker.records()
        # A new member: group epoch, subscription metadata, member, target, assignment epoch, current.
        assert _kinds(first) == [(3, False), (4, False), (5, False), (7, False), (6, False), (8, False)]
        member = gr.ConsumerGroupMemberMetadataValue.from_bytes(first[2][1][2:], 0)  # type: ignore[index]
        assert (member.client_id, member.client_host, member.subscribed_topic_names,
                member.rebalance_timeout_ms) == ("cli", "/10.0.0.1", ["t"], 30_000)
        _stable(broker, [a, b])
        group = broker.consumer_group_manager.group("g")
        assert group is not None
        assert a.owned and b.owned and not (a.owned[TID] & b.owned[TID])
        written = len(broker.records())
        a.beat(broker)  # a heartbeat changing nothing writes nothing
        assert len(broker.records()) == written

        fresh = broker.restarted()
        broker.stop_timers()
        restored = fresh.consumer_group_manager.group("g")
        assert restored is not None and restored is not group
        assert (restored.group_epoch, restored.assignment_epoch) == (group.group_epoch, group.assignment_epoch)
        assert restored.target_assignment == group.target_assignment
        assert restored.owners == group.owners
        for mid, m in group.members.items():
            r = restored.members[mid]
            assert (r.member_epoch, r.previous_member_epoch, r.state, r.assigned, r.pending_revocation,
                    r.client_id, r.client_host, r.subscribed_topic_names, r.rebalance_timeout_ms) == \
                   (m.member_epoch, m.previous_member_epoch, m.state, m.assigned, m.pending_revocation,
                    m.client_id, m.client_host, m.subscribed_topic_names, m.rebalance_timeout_ms)
        assert restored.state is ConsumerGroupState.STABLE
        assert set(fresh.consumer_group_manager._session_timers) == {("g", "member-a"), ("g", "member-b")}
        # The members carry on with their epochs: no fencing, no rebalance, no new records.
        epochs = (a.epoch, b.epoch, dict(a.owned), dict(b.owned))
        before = len(fresh.records())
        for m in (a, b):
            assert m.beat(fresh).member_epoch == m.epoch
        assert (a.epoch, b.epoch, a.owned, b.owned) == epochs
        assert len(fresh.records()) == before
        listed = group_admin.list_groups(fresh, [], [])
        assert [(g.group_id, g.group_state, g.group_type) for g in listed] == [("g", "Stable", "consumer")]

        # Leaving: the member's tombstones in Kafka's order, then the group's new state.
        before = len(fresh.records())
        b.beat(fresh, leave=True)
        tail = fresh.records()[before:]
        assert _kinds(tail)[:3] == [(8, True), (7, True), (5, True)]
        again = fresh.restarted()
        fresh.stop_timers()
        assert list(again.consumer_group_manager.group("g").members) == ["member-a"]  # type: ignore[union-attr]

        # Fenced by session expiry, then deleted: everything tombstoned, nothing left after a replay.
        again.consumer_group_manager._expire("g", "member-a", "session")
        assert again.consumer_group_manager.group("g").members == {}  # type: ignore[union-attr]
        before = len(again.records())
        assert group_admin.delete_groups(again, ["g"]) == [("g", 0)]
        tail = again.records()[before:]
        tombstones = [k for k, (_, dead) in zip(tail, _kinds(tail)) if dead]
        assert [kind for kind, dead in _kinds(tail) if dead][-3:] == [6, 4, 3]
        assert len(tombstones) == len(tail)
        last = again.restarted()
        again.stop_timers()
        assert last.consumer_group_manager.group("g") is None
        assert last.consumer_group_manager._written == {}
        last.stop_timers()

    asyncio.run(scenario())


def test_offsets_of_a_consumer_group_expire_as_kafkas_and_the_empty_group_goes_with_them() -> None:
    from fastkafka.cluster.group.classic_group import ClassicGroup, OffsetAndMetadata

    async def scenario() -> None:
        broker = _Broker()
        u = SimpleNamespace(name="u", topic_id=b"\x06" * 16, partitions={0: None})
        broker.image.topics.by_name["u"] = u
        broker.image.topics.by_id[u.topic_id] = u
        gc, mgr = broker.group_coordinator, broker.consumer_group_manager
        a = _Member("member-a")
        _stable(broker, [a])
        holder = gc.groups.setdefault("g", ClassicGroup("g"))
        assert gc.commit_offsets(holder, {("t", 0): OffsetAndMetadata(5, -1, "", 1000, None),
                                          ("u", 0): OffsetAndMetadata(6, -1, "", 1000, None)}) == 0
        # OffsetDelete: the subscribed topic is refused, the other deleted (ModernGroup.isSubscribedToTopic).
        assert gc.delete_offsets("g", [("t", [0]), ("u", [1])]) == (0, {("t", 0): 86, ("u", 1): 0})
        retention = gc.offsets_retention_ms
        # Live group: only the offsets of topics no member subscribes to expire (by commit time).
        assert gc.cleanup_group_metadata(1000 + retention) == 1
        assert set(gc.fetch_offsets("g")) == {("t", 0)} and mgr.group("g") is not None
        # Empty: the rest expire and the group is deleted with them (tombstones for its records).
        a.beat(broker, leave=True)
        assert gc.cleanup_group_metadata(1000 + retention) == 1
        assert "g" not in gc.groups and mgr.group("g") is None and mgr._written == {}
        # An empty consumer group without any offset goes at the next check.
        b = _Member("member-b")
        _stable(broker, [b])
        b.beat(broker, leave=True)
        assert mgr.group("g") is not None
        assert gc.cleanup_group_metadata(0) == 0 and mgr.group("g") is None
        fresh = broker.restarted()
        assert fresh.consumer_group_manager.group("g") is None and "g" not in fresh.group_coordinator.groups
        broker.stop_timers()
        fresh.stop_timers()

    asyncio.run(scenario())
