"""The consumer group protocol (KIP-848) with real clients: librdkafka (`group.protocol=consumer`)
and the Java 4.4 consumer (kafka-console-consumer with `group.protocol=consumer`).

- a group of three members over a 6-partition topic (two librdkafka processes, one Java) while a
  producer writes a numbered stream; the Java member is killed with `kill -9`, a librdkafka member
  leaves cleanly, a new one joins: every record is consumed, and no partition is ever owned by two
  librdkafka members at once (their assign/revoke callbacks, time-stamped, never overlap);
- ConsumerGroupDescribe (Kafka's kafka-consumer-groups --describe) shows the stable group;
- committed offsets survive a broker restart: a member of the same group resumes where the group
  left off;
- the time ten members take to reach a stable group is printed (never asserted);
- `group.remote.assignor=range` picks the coordinator's range assignor (co-partitioned), an unknown one
  is refused with UNSUPPORTED_ASSIGNOR.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer

from broker_process import SHORT_CONSUMER_GROUP_SESSIONS, BrokerProcess, running_broker
from clients import confluent
from kafka_java import CONSOLE_CONSUMER, java_command, run_tool

pytestmark = pytest.mark.interop

MEMBER = Path(__file__).resolve().parent / "clients" / "member_process.py"
GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    with running_broker(tmp_path, SHORT_CONSUMER_GROUP_SESSIONS) as b:
        yield b


class Member:
    """A librdkafka member process and the events it printed."""

    def __init__(self, b: BrokerProcess, topic: str, group: str, name: str) -> None:
        self.name = name
        self.proc = subprocess.Popen([sys.executable, str(MEMBER), b.bootstrap, topic, group, "group.protocol=consumer"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.append(json.loads(line))

    def values(self) -> set[str]:
        return {e["v"] for e in self.events if e["ev"] == "rec"}

    def owned(self) -> set[int]:
        owned: set[int] = set()
        for e in self.events:
            if e["ev"] == "assign":
                owned |= set(e["parts"])
            elif e["ev"] in ("revoke", "lost"):
                owned -= set(e["parts"])
        return owned

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self._reader.join(timeout=10)


def _wait(what: str, check: Any, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _ownership_intervals(members: list[Member]) -> dict[int, list[tuple[float, float, str]]]:
    out: dict[int, list[tuple[float, float, str]]] = {}
    for m in members:
        since: dict[int, float] = {}
        end = next((e["t"] for e in m.events if e["ev"] == "closed"), float("inf"))
        for e in m.events:
            if e["ev"] == "assign":
                for p in e["parts"]:
                    since[p] = e["t"]
            elif e["ev"] in ("revoke", "lost"):
                for p in e["parts"]:
                    if p in since:
                        out.setdefault(p, []).append((since.pop(p), e["t"], m.name))
        for p, t0 in since.items():
            out.setdefault(p, []).append((t0, end, m.name))
    return out


def test_members_killed_leaving_and_joining_consume_everything_once_owned(broker: BrokerProcess,
                                                                          topic_name: str) -> None:
    b, group = broker, f"{topic_name}-g"
    confluent.create_topic(b.bootstrap, topic_name, 6)
    produced: list[str] = []
    stop_producing = threading.Event()

    def produce() -> None:
        p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5})
        n = 0
        while not stop_producing.is_set():
            for _ in range(20):
                p.produce(topic_name, value=str(n).encode(), partition=n % 6)
                produced.append(str(n))
                n += 1
            p.poll(0)
            time.sleep(0.05)
        assert p.flush(60) == 0

    producer = threading.Thread(target=produce)
    producer.start()
    java_out = b.workdir / "java-member.out"
    with open(java_out, "wb") as out:
        java = subprocess.Popen(java_command(CONSOLE_CONSUMER, "--bootstrap-server", b.bootstrap, "--topic", topic_name,
                                             "--group", group, "--consumer-property", "group.protocol=consumer",
                                             "--consumer-property", "auto.offset.reset=earliest"),
                                stdout=out, stderr=subprocess.DEVNULL)
        a = Member(b, topic_name, group, "a")
        leaver = Member(b, topic_name, group, "leaver")
        try:
            _wait("three members owning all six partitions",
                  lambda: java_out.stat().st_size > 0 and len(a.owned() | leaver.owned()) < 6
                  and a.owned() and leaver.owned())
            java.kill()  # kill -9: its partitions move after the session timeout
            java.wait()
            _wait("the killed member's partitions to move", lambda: a.owned() | leaver.owned() == set(range(6)))
            leaver.stop()  # leaves the group (epoch -1)
            joiner = Member(b, topic_name, group, "joiner")
            _wait("the joiner to get partitions", lambda: joiner.owned() and a.owned() | joiner.owned() == set(range(6)))
            stop_producing.set()
            producer.join()
            java_values = set(java_out.read_text().split())
            _wait("every record to be consumed",
                  lambda: set(produced) <= a.values() | leaver.values() | joiner.values() | java_values)
            # ConsumerGroupDescribe through Kafka's own tool: two members, stable.
            described = run_tool(GROUP_COMMAND, "--bootstrap-server", b.bootstrap, "--describe", "--group", group,
                                 "--members").stdout.decode()
            assert a.proc.pid and len([ln for ln in described.splitlines() if group in ln]) == 2, described
            a.stop()
            joiner.stop()
        finally:
            for m in (a, leaver):
                if m.proc.poll() is None:
                    m.proc.kill()
            if java.poll() is None:
                java.kill()
    # librdkafka members never owned one partition at the same time.
    for p, spans in _ownership_intervals([a, leaver, joiner]).items():
        spans.sort()
        for (s0, e0, n0), (s1, _e1, n1) in zip(spans, spans[1:]):
            assert e0 <= s1, f"partition {p} owned by {n0} and {n1} at once"
    print(f"\n{len(produced)} records; members consumed: a {len(a.values())}, leaver {len(leaver.values())}, "
          f"joiner {len(joiner.values())}, java (killed) {len(java_values)}")

    # Committed offsets resume after a broker restart.
    b.restart()
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "group.protocol": "consumer",
                  "auto.offset.reset": "earliest"})
    try:
        p = Producer({"bootstrap.servers": b.bootstrap})
        for i in range(12):
            p.produce(topic_name, value=b"after-restart-%d" % i, partition=i % 6)
        assert p.flush(30) == 0
        c.subscribe([topic_name])
        got: list[bytes] = []
        deadline = time.monotonic() + 60
        while len(got) < 12 and time.monotonic() < deadline:
            for m in c.consume(num_messages=100, timeout=0.5):
                if m.error() is None:
                    got.append(m.value())
        # Nothing from before the restart is read again: the group resumed at its committed offsets.
        assert sorted(got) == sorted(b"after-restart-%d" % i for i in range(12))
    finally:
        c.close()


def test_ten_members_reach_a_stable_group(broker: BrokerProcess, topic_name: str) -> None:
    b, group = broker, f"{topic_name}-g10"
    confluent.create_topic(b.bootstrap, topic_name, 20)
    consumers = [Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "group.protocol": "consumer"})
                 for _ in range(10)]
    t0 = time.monotonic()
    try:
        for c in consumers:
            c.subscribe([topic_name])

        def all_assigned() -> bool:
            for c in consumers:
                c.poll(0.05)
            sizes = [len(c.assignment()) for c in consumers]
            return sum(sizes) == 20 and min(sizes) == 2

        _wait("ten members with two partitions each", all_assigned, timeout=120)
        print(f"\nten consumer-protocol members stable in {time.monotonic() - t0:.2f} s")
    finally:
        for c in consumers:
            c.close()


def test_regex_subscription_is_resolved_by_the_coordinator(broker: BrokerProcess, topic_name: str) -> None:
    """librdkafka sends a `^`-subscription as SubscribedTopicRegex (ConsumerGroupHeartbeat v1): the
    coordinator matches it against the topics, including one created after the member joined."""
    b = broker
    first, later, other = f"{topic_name}-rx-a", f"{topic_name}-rx-b", f"{topic_name}-other"
    for t in (first, other):
        confluent.create_topic(b.bootstrap, t, 2)
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": f"{topic_name}-rx", "group.protocol": "consumer",
                  "topic.metadata.refresh.interval.ms": 1000})
    try:
        c.subscribe([f"^{topic_name}-rx-.*"])
        _wait("the regex's partitions", lambda: (c.poll(0.1), {(p.topic, p.partition) for p in c.assignment()})[1]
              == {(first, 0), (first, 1)})
        confluent.create_topic(b.bootstrap, later, 1)
        _wait("the new topic matched", lambda: (c.poll(0.1), {p.topic for p in c.assignment()})[1] == {first, later})
    finally:
        c.close()


def test_members_choose_the_range_assignor(broker: BrokerProcess, topic_name: str) -> None:
    """`group.remote.assignor=range` (ConsumerGroupHeartbeat ServerAssignor): the coordinator's range
    assignor gives each member the same partition numbers of every subscribed topic (co-partitioned),
    where uniform would balance the six partitions three and three. An assignor the broker does not
    have is refused with UNSUPPORTED_ASSIGNOR."""
    b, group = broker, f"{topic_name}-range"
    topics = [f"{topic_name}-a", f"{topic_name}-b"]
    for t in topics:
        confluent.create_topic(b.bootstrap, t, 3)
    consumers = [Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "group.protocol": "consumer",
                           "group.remote.assignor": "range"}) for _ in range(2)]
    try:
        for c in consumers:
            c.subscribe(topics)

        def settled() -> list[set[tuple[str, int]]] | None:
            for c in consumers:
                c.poll(0.05)
            sets = [{(p.topic, p.partition) for p in c.assignment()} for c in consumers]
            return sets if sum(map(len, sets)) == 6 and all(sets) else None

        got = sorted(_wait("a settled range assignment", settled), key=len)
        assert got == [{(t, 2) for t in topics}, {(t, p) for t in topics for p in (0, 1)}], got
    finally:
        for c in consumers:
            c.close()
    # librdkafka raises the heartbeat's UNSUPPORTED_ASSIGNOR as a fatal error, with Kafka's message for the code.
    errors: list[str] = []
    bogus = Consumer({"bootstrap.servers": b.bootstrap, "group.id": f"{group}-bogus", "group.protocol": "consumer",
                      "group.remote.assignor": "no-such-assignor"})
    try:
        bogus.subscribe(topics)

        def refused() -> bool:
            m = bogus.poll(0.1)
            if m is not None and m.error() is not None:
                errors.append(str(m.error()))
            return any("assignor or its version range is not supported" in e for e in errors)

        _wait("UNSUPPORTED_ASSIGNOR", refused, timeout=30)
    finally:
        bogus.close()
