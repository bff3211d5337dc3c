"""KIP-848 regex subscriptions as Kafka's GroupMetadataManager resolves them (maybeUpdateRegularExpressions,
TopicRegexResolver, handleRegularExpressionsResult): a heartbeat never scans the topics; the
resolution runs on the executor for the group's regexes in one batch, lands later as
ConsumerGroupRegularExpression records and bumps the group epoch, so a member subscribed to a
literal topic plus a regex gets the literal topic first and the regex's topics in a later
assignment. Also: a member that already gave up the partitions it must revoke (it reported
owning none of them) moves on to the target epoch at once (Kafka's ownsRevokedPartitions)."""
from __future__ import annotations

import asyncio
import itertools
from types import SimpleNamespace
from typing import Any

import pytest

from fastkafka.cluster.group import consumer_group_manager as cgm
from fastkafka.cluster.group.consumer_group import MemberState
from fastkafka.cluster.group.consumer_group_manager import ConsumerGroupManager
from fastkafka.cluster.group.consumer_group_records import REGULAR_EXPRESSION, ConsumerGroupReplayer, record_type

IDS = {n: bytes([i + 1]) * 16 for i, n in enumerate(["lit", "re-a", "re-b", "re-c", "other"])}


class _Broker:
    """An immutable topics image per change, with an offset; appended records kept in order."""

    def __init__(self, topics: dict[str, int]) -> None:
        self.offset = 0
        self.records: list[tuple[bytes, bytes | None]] = []
        self.set_topics(topics)
        self.group_coordinator = SimpleNamespace(groups={}, _check_coordinator=lambda g: None,
                                                 delete_empty_classic_group=lambda g: None,
                                                 append_group_records=self._append)

    def _append(self, group_id: str, records: list[tuple[bytes, bytes | None]]) -> int:
        self.records += records
        return 0

    def set_topics(self, topics: dict[str, int]) -> None:
        self.offset += 10
        by_name = {n: SimpleNamespace(name=n, topic_id=IDS[n], partitions={p: None for p in range(c)})
                   for n, c in topics.items()}
        offset = self.offset
        self.image = SimpleNamespace(offset=lambda: offset, topics=SimpleNamespace(
            by_name=by_name, by_id={t.topic_id: t for t in by_name.values()}))


class _Client:
    """A member as librdkafka drives it with group.protocol=consumer: its owned partitions are
    sent only when they changed since the last heartbeat (None otherwise)."""

    ids = itertools.count()

    def __init__(self, mgr: ConsumerGroupManager, topics: list[str], regex: str | None) -> None:
        self.mgr, self.topics, self.regex = mgr, topics, regex
        self.member_id = f"m-{next(self.ids)}"
        self.epoch = 0
        self.owned: dict[bytes, set[int]] = {}
        self.sent_owned: dict[bytes, set[int]] | None = None
        self.sent_subscription: tuple[list[str], str | None] | None = None

    def subscribe(self, topics: list[str], regex: str | None) -> None:
        """Like the client: partitions of topics it no longer subscribes to are revoked at once."""
        self.topics, self.regex = topics, regex
        keep = {IDS[t] for t in topics} | {IDS[n] for n in IDS if regex and n.startswith(regex.split(".")[0])}
        self.owned = {t: ps for t, ps in self.owned.items() if t in keep}

    def beat(self) -> Any:
        subscription = (self.topics, self.regex)
        owned = None if self.owned == self.sent_owned else self.owned
        r = self.mgr.heartbeat(
            group_id="g", member_id=self.member_id, member_epoch=self.epoch, instance_id=None, rack_id=None,
            rebalance_timeout_ms=300_000 if self.epoch == 0 else -1,
            subscribed_topic_names=self.topics if subscription != self.sent_subscription else None,
            subscribed_topic_regex=(self.regex or "") if subscription != self.sent_subscription else None,
            server_assignor=None, owned=None if owned is None else [(t, sorted(ps)) for t, ps in owned.items()],
            client_id="c", client_host="/127.0.0.1")
        self.sent_subscription = subscription
        if owned is not None:
            self.sent_owned = {t: set(ps) for t, ps in owned.items()}
        self.epoch = r.member_epoch
        if r.assignment is not None:
            self.owned = {t: set(ps) for t, ps in r.assignment.items() if ps}
        return r

    def topics_owned(self) -> set[str]:
        names = {v: k for k, v in IDS.items()}
        return {names[t] for t in self.owned}


async def _landed(mgr: ConsumerGroupManager) -> None:
    """Wait for the regex resolutions in flight (they run on the executor)."""
    while mgr._regex_refreshes:
        await asyncio.gather(*mgr._regex_refreshes.values())
        await asyncio.sleep(0)


def test_literal_topic_first_then_the_regex_topics_after_the_resolution() -> None:
    async def scenario() -> None:
        broker = _Broker({"lit": 2, "re-a": 2, "re-b": 2, "other": 1})
        mgr = ConsumerGroupManager(broker, {})
        c = _Client(mgr, ["lit"], "re-.*")
        c.beat()
        group = mgr.group("g")
        assert c.topics_owned() == {"lit"} and c.epoch == 1  # the regex is not resolved yet
        assert "g" in mgr._regex_refreshes and group.resolved_regexes == {}
        await _landed(mgr)
        assert group.resolved_regexes["re-.*"].topics == {"re-a", "re-b"}
        assert group.resolved_regexes["re-.*"].version == broker.image.offset()
        assert group.group_epoch == 2  # bumped when the resolution landed
        assert any(record_type(k) == REGULAR_EXPRESSION and v is not None for k, v in broker.records)
        c.beat()
        assert c.topics_owned() == {"lit", "re-a", "re-b"} and c.epoch == 2

    asyncio.run(scenario())


def test_resolution_is_batched_and_rate_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    """One resolution in flight per group, none within 10 s of the last one; a created topic that
    matches is picked up by the first heartbeat after that; no heartbeat scans the topics."""
    async def scenario() -> None:
        now = [1_000_000]
        monkeypatch.setattr(cgm, "_now_ms", lambda: now[0])
        scans: list[list[str]] = []
        real = cgm.resolve_regexes

        def counting(names: Any, regexes: Any, version: int, now_ms: int) -> Any:
            scans.append(sorted(regexes))
            return real(names, regexes, version, now_ms)

        monkeypatch.setattr(cgm, "resolve_regexes", counting)
        broker = _Broker({"lit": 1, "re-a": 1, "re-b": 1})
        mgr = ConsumerGroupManager(broker, {})
        a, b = _Client(mgr, ["lit"], "re-a.*"), _Client(mgr, [], "re-b.*")
        a.beat()
        b.beat()  # a second regex while the first resolution is in flight: not scheduled
        assert len(mgr._regex_refreshes) == 1
        await _landed(mgr)
        assert scans == [["re-a.*"]]
        for _ in range(3):
            a.beat()
            b.beat()
        await _landed(mgr)
        assert scans == [["re-a.*"]]  # within 10 s of the last resolution
        now[0] += cgm.REGEX_BATCH_REFRESH_MIN_INTERVAL_MS + 1
        b.beat()
        await _landed(mgr)
        assert scans == [["re-a.*"], ["re-a.*", "re-b.*"]]  # both regexes in one scan
        a.beat()
        b.beat()
        assert b.topics_owned() == {"re-b"}
        # No refresh without a reason (nothing new, interval not passed).
        now[0] += cgm.REGEX_BATCH_REFRESH_MIN_INTERVAL_MS + 1
        a.beat()
        await _landed(mgr)
        assert len(scans) == 2
        # A new matching topic: resolved again once the 10 s passed.
        broker.set_topics({"lit": 1, "re-a": 1, "re-b": 1, "re-c": 1})
        a.beat()
        await _landed(mgr)
        assert len(scans) == 3
        assert mgr.group("g").resolved_regexes["re-a.*"].topics == {"re-a"}
        # The default refresh interval (group.consumer.regex.refresh.interval.ms) forces one.
        now[0] += 600_001
        a.beat()
        await _landed(mgr)
        assert len(scans) == 4

    asyncio.run(scenario())


def test_unsubscribed_regex_is_tombstoned_and_replayed() -> None:
    async def scenario() -> None:
        broker = _Broker({"lit": 1, "re-a": 1})
        mgr = ConsumerGroupManager(broker, {})
        c = _Client(mgr, ["lit"], "re-.*")
        c.beat()
        await _landed(mgr)
        c.beat()
        replayed: dict[str, Any] = {}
        replayer = ConsumerGroupReplayer(replayed)
        for k, v in broker.records:
            replayer.replay(k, v)
        assert replayed["g"].resolved_regexes == mgr.group("g").resolved_regexes
        c.subscribe(["lit"], None)
        c.beat()
        assert mgr.group("g").resolved_regexes == {}
        assert [v for k, v in broker.records if record_type(k) == REGULAR_EXPRESSION][-1] is None
        for k, v in broker.records:
            ConsumerGroupReplayer(replayed).replay(k, v)
        assert replayed["g"].resolved_regexes == {}

    asyncio.run(scenario())


def test_member_that_already_dropped_a_topic_moves_on_without_a_revocation_round() -> None:
    """Subscription changes: the member drops a topic (revoking it on its own) and reports its
    owned partitions without it; the coordinator must not wait for a revocation it will never see
    again (its next heartbeats carry no owned partitions): the other member gets the partitions."""
    async def scenario() -> None:
        broker = _Broker({"lit": 2, "other": 2})
        mgr = ConsumerGroupManager(broker, {})
        a, b = _Client(mgr, ["lit", "other"], None), _Client(mgr, ["lit"], None)
        a.beat()
        for _ in range(4):
            b.beat()
            a.beat()
        assert a.topics_owned() | b.topics_owned() == {"lit", "other"}
        for topics in (["lit"], ["other"], ["lit", "other"], ["lit"]):
            a.subscribe(topics, None)
            for _ in range(6):
                a.beat()
                b.beat()
            group = mgr.group("g")
            assert {m.state for m in group.members.values()} == {MemberState.STABLE}, topics
            assert a.epoch == b.epoch == group.assignment_epoch
            owned = [(t, p) for c in (a, b) for t, ps in c.owned.items() for p in ps]
            assert len(owned) == len(set(owned))
            wanted = {(IDS[t], p) for t in set(topics) | {"lit"} for p in range(2)}
            assert set(owned) == wanted, topics

    asyncio.run(scenario())
