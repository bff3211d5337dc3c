"""Group behaviours clients can see, with real clients, each member a process (the member processes
of test_group_rebalance.py: confluent-kafka/librdkafka and Apache Kafka 4.4's Java consumer).

- Static members (group.instance.id) joining a new classic group a few ms apart: with Kafka's
  default group.initial.rebalance.delay.ms (3000) both are in generation 1 and neither sees a
  revocation (a static member gets no MEMBER_ID_REQUIRED round trip; the second join extends the
  initial delay). With the harness's delay of 0 the first generation completes as soon as the
  first member joins on either broker, so that race is not asserted.
- KIP-848 regex subscriptions (librdkafka, group.protocol=consumer): a member subscribed to a literal
  topic plus a regex gets the literal topic's partitions first and the regex's after the
  coordinator's asynchronous resolution (Kafka resolves regexes off the request path and bumps the
  group epoch when the resolution lands): two assignment steps.
- Subscription changes: two consumer-protocol members, one changing its subscription several times;
  after each change the group converges (every subscribed partition owned by exactly one member)
  long before the members' rebalance timeout (300 s).

Every test passes against fastkafka and against Apache Kafka 4.4 (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer

import test_group_rebalance as gr
from broker_process import running_broker
from clients import confluent
from kafka_java import java_command

pytestmark = pytest.mark.interop


def _static_member(client: str, bootstrap: str, topic: str, group: str, name: str) -> gr.Member:
    if client == "java":
        return gr.Member(name, java_command(
            str(gr.HERE / "clients" / "JavaGroupMember.java"), bootstrap, topic, group, "group.protocol=classic",
            f"session.timeout.ms={gr.SESSION_MS}", f"heartbeat.interval.ms={gr.HEARTBEAT_MS}",
            f"group.instance.id={name}"))
    return gr.Member(name, [gr.sys.executable, str(Path(gr.__file__).resolve()), "confluent", bootstrap, topic, group,
                            f"group.instance.id={name}"])


def _rebalance_events(m: gr.Member) -> list[dict[str, Any]]:
    return [e for e in m.events if e["ev"] in ("assign", "revoke")]


@pytest.mark.parametrize("client", ["confluent", "java"])
def test_static_members_joining_together_share_the_first_generation(tmp_path: Path, topic_name: str,
                                                                      client: str) -> None:
    with running_broker(tmp_path / "broker", {"group.initial.rebalance.delay.ms": "3000"}) as b:
        confluent.create_topic(b.bootstrap, topic_name, 6)
        group = f"{topic_name}-static"
        a = _static_member(client, b.bootstrap, topic_name, group, "a")
        time.sleep(0.003)
        s = _static_member(client, b.bootstrap, topic_name, group, "s")
        members = [a, s]
        try:
            gr._wait("both static members with three partitions each",
                     lambda: len(a.owned()) == len(s.owned()) == 3, timeout=120,
                     detail=lambda: [_rebalance_events(m) for m in members])
            # Records produced now reach both members: the group has been stable for a while.
            p = Producer({"bootstrap.servers": b.bootstrap})
            for i in range(60):
                p.produce(topic_name, value=b"v%d" % i, partition=i % 6)
            assert p.flush(30) == 0
            gr._wait("every record", lambda: {f"v{i}" for i in range(60)} <= a.values() | s.values(), timeout=60)
            for m in members:
                events = _rebalance_events(m)
                assert [e["ev"] for e in events] == ["assign"], (m.name, events)
                if client == "java":  # the Java member prints its generation
                    assert events[0]["gen"] == 1, (m.name, events)
            assert a.owned().isdisjoint(s.owned())
        finally:
            for m in members:
                if m.proc.poll() is None:
                    m.proc.kill()


def _consumer(bootstrap: str, group: str) -> Consumer:
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "group.protocol": "consumer",
                     "topic.metadata.refresh.interval.ms": 1000})


def _assigned(c: Consumer) -> set[tuple[str, int]]:
    return {(p.topic, p.partition) for p in c.assignment()}


def test_regex_topics_are_assigned_after_the_literal_topic(tmp_path: Path, topic_name: str) -> None:
    with running_broker(tmp_path / "broker", gr.CONSUMER_PROTOCOL_PROPS) as b:
        lit, rx_a, rx_b = f"{topic_name}-lit", f"{topic_name}-rx-a", f"{topic_name}-rx-b"
        for t in (lit, rx_a, rx_b):
            confluent.create_topic(b.bootstrap, t, 2)
        steps: list[set[tuple[str, int]]] = []
        c = _consumer(b.bootstrap, f"{topic_name}-g")
        c.subscribe([lit, f"^{topic_name}-rx-.*"],
                    on_assign=lambda _c, parts: steps.append({(p.topic, p.partition) for p in parts}))
        try:
            everything = {(t, p) for t in (lit, rx_a, rx_b) for p in (0, 1)}
            gr._wait("the literal and the regex topics", lambda: (c.poll(0.1), _assigned(c))[1] == everything,
                     timeout=60, detail=lambda: steps)
            assert steps[0] == {(lit, 0), (lit, 1)}, steps  # the regex is not resolved yet
            assert set().union(*steps[1:]) == everything - steps[0], steps
        finally:
            c.close()


def test_subscription_changes_converge(tmp_path: Path, topic_name: str) -> None:
    with running_broker(tmp_path / "broker", gr.CONSUMER_PROTOCOL_PROPS) as b:
        ta, tb = f"{topic_name}-a", f"{topic_name}-b"
        for t in (ta, tb):
            confluent.create_topic(b.bootstrap, t, 2)
        group = f"{topic_name}-g"
        changing, steady = _consumer(b.bootstrap, group), _consumer(b.bootstrap, group)
        steady.subscribe([ta])
        try:
            for topics in ([ta, tb], [ta], [tb], [ta, tb], [ta], [ta, tb]):
                changing.subscribe(topics)
                wanted = {(t, p) for t in set(topics) | {ta} for p in (0, 1)}

                def converged() -> bool:
                    changing.poll(0.05)
                    steady.poll(0.05)
                    mine, theirs = _assigned(changing), _assigned(steady)
                    return not (mine & theirs) and mine | theirs == wanted and {t for t, _ in theirs} <= {ta}

                gr._wait(f"the group to converge on {topics}", converged, timeout=90,
                         detail=lambda: (_assigned(changing), _assigned(steady)))
        finally:
            changing.close()
            steady.close()
