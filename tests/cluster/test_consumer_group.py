"""The consumer group protocol (KIP-848) without a network: server-side assignors, and the
ConsumerGroupManager's epochs and reconciliation driven by heartbeats as a client sends them."""
from __future__ import annotations

import asyncio
import itertools
import random
from types import SimpleNamespace
from typing import Any

import pytest

from fastkafka.cluster.group.assignors import MemberSubscription, RangeAssignor, UniformAssignor
from fastkafka.cluster.group.consumer_group import ConsumerGroupState, MemberState
from fastkafka.cluster.group.consumer_group_manager import ConsumerGroupManager
from fastkafka.protocol.errors import Errors, KafkaError

T1, T2 = b"\x01" * 16, b"\x02" * 16


def _subs(members: dict[str, list[bytes]], current: dict[str, dict[bytes, set[int]]] | None = None) -> list[MemberSubscription]:
    current = current or {}
    return [MemberSubscription(m, frozenset(ts), {t: frozenset(p) for t, p in current.get(m, {}).items()})
            for m, ts in members.items()]


def _check_complete(result: dict[str, dict[bytes, set[int]]], members: dict[str, list[bytes]],
                    counts: dict[bytes, int]) -> None:
    seen: dict[tuple[bytes, int], str] = {}
    for m, a in result.items():
        for t, ps in a.items():
            assert t in members[m], "a partition of a topic the member does not subscribe to"
            for p in ps:
                assert (t, p) not in seen, f"{(t, p)} assigned twice"
                seen[(t, p)] = m
    wanted = {(t, p) for t, n in counts.items() for p in range(n) if any(t in ts for ts in members.values())}
    assert set(seen) == wanted


def test_range_assignor_gives_consecutive_ranges_per_topic() -> None:
    result = RangeAssignor().assign(_subs({"a": [T1], "b": [T1], "c": [T1]}), {T1: 7})
    assert result == {"a": {T1: {0, 1, 2}}, "b": {T1: {3, 4}}, "c": {T1: {5, 6}}}


def test_uniform_assignor_is_balanced_and_sticky() -> None:
    members = {"a": [T1, T2], "b": [T1, T2], "c": [T1, T2]}
    counts = {T1: 6, T2: 3}
    first = UniformAssignor().assign(_subs(members), counts)
    _check_complete(first, members, counts)
    assert sorted(sum(len(p) for p in a.values()) for a in first.values()) == [3, 3, 3]
    # A fourth member joins: only what it needs moves to it; the others keep the rest.
    members["d"] = [T1, T2]
    second = UniformAssignor().assign(_subs(members, first), counts)
    _check_complete(second, members, counts)
    assert sorted(sum(len(p) for p in a.values()) for a in second.values()) == [2, 2, 2, 3]
    kept = sum(len(second[m].get(t, set()) & ps) for m in "abc" for t, ps in first[m].items())
    assert kept == 9 - 2


def test_uniform_assignor_heterogeneous_subscriptions_random() -> None:
    rnd = random.Random(7)
    for _ in range(50):
        topics = [bytes([i]) * 16 for i in range(1, 5)]
        counts = {t: rnd.randint(1, 8) for t in topics}
        members = {f"m{i}": rnd.sample(topics, rnd.randint(1, 4)) for i in range(rnd.randint(1, 6))}
        _check_complete(UniformAssignor().assign(_subs(members), counts), members, counts)


class _Broker:
    def __init__(self, topics: dict[str, tuple[bytes, int]]) -> None:
        self.set_topics(topics)
        self.group_coordinator = SimpleNamespace(groups={}, _check_coordinator=lambda g: None,
                                                 delete_empty_classic_group=lambda g: None,
                                                 append_group_records=lambda g, records: 0)

    def set_topics(self, topics: dict[str, tuple[bytes, int]]) -> None:
        by_name = {n: SimpleNamespace(name=n, topic_id=tid, partitions={p: None for p in range(c)})
                   for n, (tid, c) in topics.items()}
        self.image = SimpleNamespace(topics=SimpleNamespace(by_name=by_name,
                                                            by_id={t.topic_id: t for t in by_name.values()}))


class _Client:
    """A member as the Java consumer drives it: joins with epoch 0, then heartbeats with its epoch
    and the partitions it owns; it revokes what the coordinator stops sending."""

    ids = itertools.count()

    def __init__(self, mgr: ConsumerGroupManager, topics: list[str]) -> None:
        self.mgr, self.topics = mgr, topics
        self.member_id = f"member-{next(self.ids)}"
        self.epoch = 0
        self.owned: dict[bytes, set[int]] = {}

    def beat(self) -> Any:
        r = self.mgr.heartbeat(
            group_id="g", member_id=self.member_id, member_epoch=self.epoch, instance_id=None, rack_id=None,
            rebalance_timeout_ms=30_000 if self.epoch == 0 else -1,
            subscribed_topic_names=self.topics if self.epoch == 0 else None, subscribed_topic_regex=None,
            server_assignor=None, owned=[(t, sorted(ps)) for t, ps in self.owned.items()],
            client_id="c", client_host="/127.0.0.1")
        self.epoch = r.member_epoch
        if r.assignment is not None:
            self.owned = {t: set(ps) for t, ps in r.assignment.items() if ps}
        return r


def _no_double_ownership(clients: list[_Client]) -> None:
    seen: set[tuple[bytes, int]] = set()
    for c in clients:
        for t, ps in c.owned.items():
            for p in ps:
                assert (t, p) not in seen, f"{(t, p)} owned by two members"
                seen.add((t, p))


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_members_join_rebalance_and_leave_without_double_ownership() -> None:
    async def scenario() -> None:
        broker = _Broker({"t": (T1, 6)})
        mgr = ConsumerGroupManager(broker, {})
        a = _Client(mgr, ["t"])
        a.beat()
        assert a.epoch == 1 and a.owned == {T1: set(range(6))}
        b = _Client(mgr, ["t"])
        b.beat()  # b's target is half of a's partitions, still owned by a: nothing yet
        assert b.owned == {} and mgr.group("g").members[b.member_id].state is MemberState.UNRELEASED_PARTITIONS
        _no_double_ownership([a, b])
        a.beat()  # a is told to revoke: its assignment shrinks, epoch unchanged
        assert sum(map(len, a.owned.values())) == 3 and a.epoch == 1
        assert mgr.group("g").state is ConsumerGroupState.RECONCILING
        a.beat()  # a reports the revocation done: moves to epoch 2
        assert a.epoch == 2
        b.beat()  # released: b gets them
        assert sum(map(len, b.owned.values())) == 3 and b.epoch == 2
        _no_double_ownership([a, b])
        assert mgr.group("g").state is ConsumerGroupState.STABLE
        # b leaves: a gets everything back at the next epoch.
        mgr.heartbeat(group_id="g", member_id=b.member_id, member_epoch=-1, instance_id=None, rack_id=None,
                      rebalance_timeout_ms=-1, subscribed_topic_names=None, subscribed_topic_regex=None,
                      server_assignor=None, owned=None, client_id="c", client_host="h")
        a.beat()
        assert a.owned == {T1: set(range(6))} and a.epoch == 3

    _run(scenario())


def test_random_joins_and_leaves_never_double_own_and_converge() -> None:
    async def scenario() -> None:
        rnd = random.Random(3)
        broker = _Broker({"t": (T1, 12), "u": (T2, 5)})
        mgr = ConsumerGroupManager(broker, {})
        clients: list[_Client] = []
        for step in range(200):
            r = rnd.random()
            if r < 0.1 or not clients:
                clients.append(_Client(mgr, rnd.choice([["t"], ["u"], ["t", "u"]])))
            elif r < 0.15 and len(clients) > 1:
                gone = clients.pop(rnd.randrange(len(clients)))
                mgr._remove(mgr.group("g"), gone.member_id)
            rnd.choice(clients).beat()
            _no_double_ownership(clients)
        for _ in range(10):  # quiet heartbeats: the group settles
            for c in clients:
                c.beat()
        assert mgr.group("g").state is ConsumerGroupState.STABLE
        owned = {(t, p) for c in clients for t, ps in c.owned.items() for p in ps}
        subscribed = {n for c in clients for n in c.topics}
        want = ({(T1, p) for p in range(12)} if "t" in subscribed else set()) | \
            ({(T2, p) for p in range(5)} if "u" in subscribed else set())
        assert owned == want

    _run(scenario())


def test_fencing_and_validation_errors() -> None:
    async def scenario() -> None:
        mgr = ConsumerGroupManager(_Broker({"t": (T1, 2)}), {})
        a = _Client(mgr, ["t"])
        a.beat()
        a.epoch = 7
        with pytest.raises(KafkaError) as e:
            a.beat()
        assert e.value.code == Errors.FENCED_MEMBER_EPOCH
        with pytest.raises(KafkaError) as e:
            mgr.heartbeat(group_id="g", member_id="nobody", member_epoch=3, instance_id=None, rack_id=None,
                          rebalance_timeout_ms=-1, subscribed_topic_names=None, subscribed_topic_regex=None,
                          server_assignor=None, owned=None, client_id="c", client_host="h")
        assert e.value.code == Errors.UNKNOWN_MEMBER_ID
        with pytest.raises(KafkaError) as e:
            mgr.heartbeat(group_id="g", member_id="x", member_epoch=0, instance_id=None, rack_id=None,
                          rebalance_timeout_ms=1000, subscribed_topic_names=["t"], subscribed_topic_regex=None,
                          server_assignor="sticky", owned=[], client_id="c", client_host="h")
        assert e.value.code == Errors.UNSUPPORTED_ASSIGNOR
        with pytest.raises(KafkaError) as e:
            mgr.heartbeat(group_id="g", member_id="x", member_epoch=0, instance_id=None, rack_id=None,
                          rebalance_timeout_ms=-1, subscribed_topic_names=["t"], subscribed_topic_regex=None,
                          server_assignor=None, owned=[], client_id="c", client_host="h")
        assert e.value.code == Errors.INVALID_REQUEST
        with pytest.raises(KafkaError) as e:
            mgr.validate_offset_commit("g", a.member_id, 1234)
        assert e.value.code == Errors.STALE_MEMBER_EPOCH

    _run(scenario())


def test_new_partitions_bump_the_group_epoch() -> None:
    async def scenario() -> None:
        broker = _Broker({"t": (T1, 2)})
        mgr = ConsumerGroupManager(broker, {})
        a = _Client(mgr, ["t"])
        a.beat()
        assert a.owned == {T1: {0, 1}} and a.epoch == 1
        broker.set_topics({"t": (T1, 4)})
        a.beat()
        assert a.owned == {T1: {0, 1, 2, 3}} and a.epoch == 2

    _run(scenario())
