"""Consumer groups with real clients, each member a process: confluent-kafka (librdkafka),
kafka-python, aiokafka, kafkajs (node) and Apache Kafka's Java 4.4 consumer (clients/JavaGroupMember.java),
with the classic protocol (JoinGroup/SyncGroup) and, for librdkafka and Java, the consumer protocol
(KIP-848, `group.protocol=consumer`).

For each client and protocol: a group of three members over a 6-partition topic while a producer
writes a numbered stream; one member is killed with `kill -9`, one leaves cleanly (close), one joins.
Asserted: every record is consumed (at-least-once); no partition is owned by two members in the same
generation (members log their assignment with the generation where the client exposes it: kafka-python,
aiokafka, Java; for every client the assign/revoke spans of one partition never overlap); after a broker
restart a new member of the group resumes at the committed offsets (it reads only what was produced
after the restart). Also the client-side assignors: range, roundrobin, cooperative-sticky with
librdkafka (incremental rebalances: a member keeps its partitions while another joins), kafka-python's
sticky, kafkajs's default RoundRobinAssigner (its kill/leave/join scenario). Static members
(group.instance.id) keep their partitions without a rebalance across a member's kill -9 + restart and a
broker restart (the group's GroupMetadata records). OffsetDelete with kafka-consumer-groups
--delete-offsets. The time ten members take to rebalance is printed, never asserted. Every test passes
against Apache Kafka 4.4 too (FASTKAFKA_TEST_TARGET=apache).

This file is also the member process for the Python clients:
    python test_group_rebalance.py CLIENT BOOTSTRAP TOPIC GROUP [key=value ...]
printing JSON lines {"ev": "assign"|"revoke", "parts": [...], "gen": G|null, "t": ...},
{"ev": "rec", "v": value} and {"ev": "closed"}; SIGTERM closes the consumer (it leaves the group).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
SESSION_MS = 6000  # the clients' session.timeout.ms: a kill -9 is noticed after this long
HEARTBEAT_MS = 500
# The consumer protocol's session timeout is the broker's (Kafka's minimum is 45 s); as short as the
# classic members' so a kill -9 is noticed as quickly.
CONSUMER_PROTOCOL_PROPS = {
    "group.consumer.session.timeout.ms": str(SESSION_MS),
    "group.consumer.min.session.timeout.ms": str(SESSION_MS),
    "group.consumer.heartbeat.interval.ms": str(HEARTBEAT_MS),
    "group.consumer.min.heartbeat.interval.ms": str(HEARTBEAT_MS),
}


# -- the Python member processes ------------------------------------------------------------------
def _emit(ev: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(ev) + "\n")
    sys.stdout.flush()


def _member_main(argv: list[str]) -> None:
    client, bootstrap, topic, group = argv[:4]
    extra = dict(kv.split("=", 1) for kv in argv[4:])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if client == "confluent":
        from confluent_kafka import Consumer
        conf: dict[str, Any] = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                                "enable.auto.commit": True, "auto.commit.interval.ms": 300, **extra}
        if extra.get("group.protocol") != "consumer":  # the consumer protocol's timeouts are the broker's
            conf.update({"session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": HEARTBEAT_MS})
        c = Consumer(conf)

        def cb(kind: str) -> Callable[[Any, Any], None]:
            return lambda _c, parts: _emit({"ev": kind, "parts": sorted(p.partition for p in parts), "gen": None,
                                            "t": time.time()})

        c.subscribe([topic], on_assign=cb("assign"), on_revoke=cb("revoke"), on_lost=cb("revoke"))
        while not stop.is_set():
            for m in c.consume(num_messages=500, timeout=0.2):
                if m.error() is None:
                    _emit({"ev": "rec", "v": m.value().decode()})
        c.close()
    elif client == "kafka-python":
        from kafka import ConsumerRebalanceListener, KafkaConsumer
        kw: dict[str, Any] = {}
        if extra.get("assignor") == "sticky":
            from kafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
            kw["partition_assignment_strategy"] = [StickyPartitionAssignor]
        # metadata_max_age_ms: right after Apache Kafka restarts, kafka-python can join with metadata that
        # lacks the topic's partitions (an empty assignment) and rejoins only once its metadata changes,
        # by default 5 minutes later.
        kc = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                           enable_auto_commit=True, auto_commit_interval_ms=300, session_timeout_ms=SESSION_MS,
                           heartbeat_interval_ms=HEARTBEAT_MS, metadata_max_age_ms=5000, **kw)

        def gen() -> int | None:
            g = getattr(kc._coordinator, "_generation", None)
            return getattr(g, "generation_id", None)

        class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
            def on_partitions_revoked(self, revoked: Any) -> None:
                _emit({"ev": "revoke", "parts": sorted(p.partition for p in revoked), "gen": None, "t": time.time()})

            def on_partitions_assigned(self, assigned: Any) -> None:
                _emit({"ev": "assign", "parts": sorted(p.partition for p in assigned), "gen": gen(),
                       "t": time.time()})

        kc.subscribe([topic], listener=Listener())
        while not stop.is_set():
            for records in kc.poll(timeout_ms=200).values():
                for r in records:
                    _emit({"ev": "rec", "v": r.value.decode()})
        kc.close()
    elif client == "aiokafka":
        import asyncio

        from aiokafka import AIOKafkaConsumer
        from aiokafka.abc import ConsumerRebalanceListener as AioListener

        async def run() -> None:
            ac = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                  enable_auto_commit=True, auto_commit_interval_ms=300, session_timeout_ms=SESSION_MS,
                                  heartbeat_interval_ms=HEARTBEAT_MS)

            class Listener(AioListener):  # type: ignore[misc]
                async def on_partitions_revoked(self, revoked: Any) -> None:
                    _emit({"ev": "revoke", "parts": sorted(p.partition for p in revoked), "gen": None,
                           "t": time.time()})

                async def on_partitions_assigned(self, assigned: Any) -> None:
                    _emit({"ev": "assign", "parts": sorted(p.partition for p in assigned),
                           "gen": getattr(ac._coordinator, "generation", None), "t": time.time()})

            await ac.start()
            ac.subscribe([topic], listener=Listener())
            while not stop.is_set():
                batches = await ac.getmany(timeout_ms=200)
                for records in batches.values():
                    for r in records:
                        _emit({"ev": "rec", "v": r.value.decode()})
            await ac.stop()

        asyncio.run(run())
    else:
        raise SystemExit(f"unknown client {client}")
    _emit({"ev": "closed", "t": time.time()})


if __name__ == "__main__":
    _member_main(sys.argv[1:])
    sys.exit(0)


# -- the tests --------------------------------------------------------------------------------------
import pytest  # noqa: E402
from confluent_kafka import Consumer, Producer  # noqa: E402

from broker_process import BrokerProcess  # noqa: E402
from clients import confluent  # noqa: E402
from kafka_java import java_command  # noqa: E402

pytestmark = pytest.mark.interop

KAFKAJS_MEMBER = r"""
'use strict'
const { Kafka, logLevel } = require('kafkajs')
const [bootstrap, topic, groupId] = process.argv.slice(2)
const emit = ev => process.stdout.write(JSON.stringify(ev) + '\n')
const kafka = new Kafka({ clientId: 'rebalance-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING })
const consumer = kafka.consumer({ groupId, sessionTimeout: %(session)d, heartbeatInterval: %(heartbeat)d })
let owned = []
consumer.on(consumer.events.REBALANCING, () => {
  if (owned.length) emit({ ev: 'revoke', parts: owned, gen: null, t: Date.now() / 1000 })
  owned = []
})
consumer.on(consumer.events.GROUP_JOIN, e => {
  if (owned.length) emit({ ev: 'revoke', parts: owned, gen: null, t: Date.now() / 1000 })
  owned = (e.payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b)
  emit({ ev: 'assign', parts: owned, gen: null, t: Date.now() / 1000 })
})
async function main() {
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ autoCommitInterval: 300, eachMessage: async ({ message }) => emit({ ev: 'rec', v: message.value.toString() }) })
}
process.on('SIGTERM', async () => { await consumer.disconnect(); emit({ ev: 'closed', t: Date.now() / 1000 }); process.exit(0) })
main().catch(e => { console.error(e); process.exit(1) })
""" % {"session": SESSION_MS, "heartbeat": HEARTBEAT_MS}


@pytest.fixture(scope="module")
def group_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    # group.min.session.timeout.ms stays Kafka's 6000: the members use exactly that.
    b = BrokerProcess(tmp_path_factory.mktemp("group-broker"), extra_props=CONSUMER_PROTOCOL_PROPS)
    b.start()
    try:
        yield b
    finally:
        b.stop()


class Member:
    """One member process and the events it printed (Java: only its records, one per line)."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str] | None = None, json_lines: bool = True) -> None:
        self.name = name
        self.json_lines = json_lines
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.events: list[dict[str, Any]] = []
        self.killed_at: float | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if self.json_lines:
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    pass
            else:
                self.events.append({"ev": "rec", "v": line.decode().strip()})

    def values(self) -> set[str]:
        return {e["v"] for e in self.events if e["ev"] == "rec"}

    def owned(self) -> set[int]:
        owned: set[int] = set()
        for e in list(self.events):
            if e["ev"] == "assign":
                owned |= set(e["parts"])
            elif e["ev"] == "revoke":
                owned -= set(e["parts"])
        return owned

    def kill9(self) -> None:
        self.killed_at = time.time()
        self.proc.kill()
        self.proc.wait()

    def leave(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self._reader.join(timeout=10)


def _wait(what: str, check: Callable[[], Any], timeout: float = 60.0,
          detail: Callable[[], Any] = lambda: "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} {detail()}")
        time.sleep(0.2)


def _assert_never_owned_twice(members: list[Member]) -> None:
    """Per generation where logged: each partition in at most one member's assignment; always:
    one partition's assign..revoke spans (a killed member's ending at its kill) never overlap."""
    by_generation: dict[tuple[int, int], set[str]] = {}
    spans: dict[int, list[tuple[float, float, str]]] = {}
    for m in members:
        since: dict[int, float] = {}
        end = next((e["t"] for e in m.events if e["ev"] == "closed"), m.killed_at or float("inf"))
        for e in m.events:
            if e["ev"] == "assign":
                for p in e["parts"]:
                    since[p] = e["t"]
                    if e.get("gen") is not None:
                        by_generation.setdefault((e["gen"], p), set()).add(m.name)
            elif e["ev"] == "revoke":
                for p in e["parts"]:
                    if p in since:
                        spans.setdefault(p, []).append((since.pop(p), e["t"], m.name))
        for p, t0 in since.items():
            spans.setdefault(p, []).append((t0, end, m.name))
    for (gen, p), owners in by_generation.items():
        assert len(owners) == 1, f"partition {p} owned by {owners} in generation {gen}"
    for p, ss in spans.items():
        ss.sort()
        for (s0, e0, n0), (s1, _e1, n1) in zip(ss, ss[1:]):
            assert e0 <= s1, f"partition {p} owned by {n0} and {n1} at once"


def _python_member(client: str, b: BrokerProcess, topic: str, group: str, name: str, *extra: str) -> Member:
    return Member(name, [sys.executable, str(Path(__file__).resolve()), client, b.bootstrap, topic, group, *extra])


def _kafkajs_member(b: BrokerProcess, topic: str, group: str, name: str, tmp: Path) -> Member:
    script = tmp / "kafkajs_member.js"
    script.write_text(KAFKAJS_MEMBER)
    env = dict(os.environ, NODE_PATH=str(HERE / "js" / "node_modules"))
    return Member(name, ["node", str(script), b.bootstrap, topic, group], env=env)


def _java_member(b: BrokerProcess, topic: str, group: str, name: str, protocol: str) -> Member:
    props = [f"group.protocol={protocol}"]
    if protocol == "classic":
        props += [f"session.timeout.ms={SESSION_MS}", f"heartbeat.interval.ms={HEARTBEAT_MS}"]
    return Member(name, java_command(str(HERE / "clients" / "JavaGroupMember.java"), b.bootstrap, topic, group, *props))


def _scenario(b: BrokerProcess, topic: str, make: Callable[[str], Member]) -> None:
    """Three members, a numbered stream; kill -9 one, one leaves, one joins; everything consumed;
    then a broker restart, and a new member resumes at the group's committed offsets."""
    confluent.create_topic(b.bootstrap, topic, 6)
    produced: list[str] = []
    stop = threading.Event()

    def produce() -> None:
        p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5})
        n = 0
        while not stop.is_set():
            for _ in range(20):
                p.produce(topic, value=str(n).encode(), partition=n % 6)
                produced.append(str(n))
                n += 1
            p.poll(0)
            time.sleep(0.05)
        assert p.flush(60) == 0

    producer = threading.Thread(target=produce)
    producer.start()
    members = [make("killed"), make("leaver"), make("stayer")]
    killed, leaver, stayer = members

    def owners() -> str:
        return "; ".join(f"{m.name} owns {sorted(m.owned())}, {len(m.values())} records" for m in members)
    try:
        _wait("three members sharing the six partitions",
              lambda: all(m.owned() for m in members)
              and set().union(*(m.owned() for m in members)) == set(range(6)), detail=owners, timeout=90)
        killed.kill9()
        _wait("the killed member's partitions to move", lambda: leaver.owned() | stayer.owned() == set(range(6)),
              detail=owners)
        leaver.leave()
        joiner = make("joiner")
        members.append(joiner)
        _wait("the joiner to get partitions",
              lambda: joiner.owned() and stayer.owned() | joiner.owned() == set(range(6)), detail=owners, timeout=90)
        stop.set()
        producer.join()
        _wait("every record to be consumed",
              lambda: set(produced) <= set().union(*(m.values() for m in members)), timeout=90, detail=owners)
        stayer.leave()
        joiner.leave()
    finally:
        stop.set()
        producer.join()
        for m in members:
            if m.proc.poll() is None:
                m.proc.kill()
    _assert_never_owned_twice(members)
    counts = ", ".join(f"{m.name} {len(m.values())}" for m in members)
    print(f"\n{len(produced)} records; consumed by {counts}")
    _resume_after_restart(b, topic, make)


def _resume_after_restart(b: BrokerProcess, topic: str, make: Callable[[str], Member]) -> None:
    """Every member has left (committing what it consumed): after a broker restart a new member of
    the group reads exactly the records produced since, nothing from before the restart."""
    b.restart()
    p = Producer({"bootstrap.servers": b.bootstrap})
    after = {f"after-restart-{i}" for i in range(12)}
    for i, v in enumerate(sorted(after)):
        p.produce(topic, value=v.encode(), partition=i % 6)
    assert p.flush(30) == 0
    resumer = make("resumer")
    try:
        _wait("the new member to read the records produced after the restart", lambda: after <= resumer.values(),
              timeout=90, detail=lambda: sorted(resumer.values())[:20])
        resumer.leave()
    finally:
        if resumer.proc.poll() is None:
            resumer.proc.kill()
    assert resumer.values() == after, sorted(resumer.values() - after)[:20]


@pytest.mark.parametrize("client", ["confluent", "kafka-python", "aiokafka"])
def test_python_clients_kill_leave_join(group_broker: BrokerProcess, topic_name: str, client: str) -> None:
    group = f"{topic_name}-g"
    _scenario(group_broker, topic_name, lambda name: _python_member(client, group_broker, topic_name, group, name))


def test_confluent_consumer_protocol_kill_leave_join(group_broker: BrokerProcess, topic_name: str) -> None:
    group = f"{topic_name}-g"
    _scenario(group_broker, topic_name, lambda name: _python_member(
        "confluent", group_broker, topic_name, group, name, "group.protocol=consumer"))


def test_kafkajs_kill_leave_join(group_broker: BrokerProcess, topic_name: str, tmp_path: Path) -> None:
    group = f"{topic_name}-g"
    _scenario(group_broker, topic_name, lambda name: _kafkajs_member(group_broker, topic_name, group, name, tmp_path))


@pytest.mark.parametrize("protocol", ["classic", "consumer"])
def test_java_consumer_kill_leave_join(group_broker: BrokerProcess, topic_name: str, protocol: str) -> None:
    group = f"{topic_name}-g"
    _scenario(group_broker, topic_name, lambda name: _java_member(group_broker, topic_name, group, name, protocol))


def _assignments(consumers: list[Any], total: int) -> list[set[int]]:
    def settled() -> list[set[int]] | None:
        for c in consumers:
            c.poll(0.05)
        sets = [{p.partition for p in c.assignment()} for c in consumers]
        return sets if sum(len(s) for s in sets) == total and all(sets) else None

    return list(_wait("a settled assignment", settled))


@pytest.mark.parametrize("strategy,expected", [
    ("range", [{0, 1, 2}, {3, 4, 5}]),
    ("roundrobin", [{0, 2, 4}, {1, 3, 5}]),
])
def test_client_side_assignors(group_broker: BrokerProcess, topic_name: str, strategy: str,
                               expected: list[set[int]]) -> None:
    confluent.create_topic(group_broker.bootstrap, topic_name, 6)
    consumers = [Consumer({"bootstrap.servers": group_broker.bootstrap, "group.id": f"{topic_name}-{strategy}",
                           "partition.assignment.strategy": strategy, "client.id": f"c{i}"}) for i in range(2)]
    try:
        for c in consumers:
            c.subscribe([topic_name])
        got = _assignments(consumers, 6)
        assert sorted(got, key=min) == expected
    finally:
        for c in consumers:
            c.close()


def test_cooperative_sticky_rebalances_incrementally(group_broker: BrokerProcess, topic_name: str) -> None:
    group = f"{topic_name}-coop"
    confluent.create_topic(group_broker.bootstrap, topic_name, 6)
    extra = "partition.assignment.strategy=cooperative-sticky"
    a = _python_member("confluent", group_broker, topic_name, group, "a", extra)
    b = _python_member("confluent", group_broker, topic_name, group, "b", extra)
    members = [a, b]
    try:
        _wait("two members with three partitions each", lambda: len(a.owned()) == len(b.owned()) == 3)
        before = {m.name: m.owned() for m in members}
        seen = {m.name: len(m.events) for m in members}
        c = _python_member("confluent", group_broker, topic_name, group, "c", extra)
        members.append(c)
        _wait("three members with two partitions each", lambda: all(len(m.owned()) == 2 for m in members))
        for m in (a, b):
            # Incremental: the member gave up only what moved, and kept the rest all along.
            revoked = [set(e["parts"]) for e in m.events[seen[m.name]:] if e["ev"] == "revoke"]
            assert revoked and all(r < before[m.name] for r in revoked), (m.name, revoked, before[m.name])
            assert m.owned() <= before[m.name]
        for m in members:
            m.leave()
    finally:
        for m in members:
            if m.proc.poll() is None:
                m.proc.kill()
    _assert_never_owned_twice(members)


def test_kafka_python_sticky_assignor_keeps_partitions(group_broker: BrokerProcess, topic_name: str) -> None:
    """kafka-python's StickyPartitionAssignor (eager): when a third member joins, the two others
    end up with a subset of what they had (only the moved partitions change hands)."""
    group = f"{topic_name}-sticky"
    confluent.create_topic(group_broker.bootstrap, topic_name, 6)
    a = _python_member("kafka-python", group_broker, topic_name, group, "a", "assignor=sticky")
    b = _python_member("kafka-python", group_broker, topic_name, group, "b", "assignor=sticky")
    members = [a, b]
    try:
        _wait("two members with three partitions each", lambda: len(a.owned()) == len(b.owned()) == 3)
        before = {m.name: m.owned() for m in members}
        c = _python_member("kafka-python", group_broker, topic_name, group, "c", "assignor=sticky")
        members.append(c)
        _wait("three members with two partitions each", lambda: all(len(m.owned()) == 2 for m in members))
        assert a.owned() < before["a"] and b.owned() < before["b"], (before, a.owned(), b.owned())
        for m in members:
            m.leave()
    finally:
        for m in members:
            if m.proc.poll() is None:
                m.proc.kill()
    _assert_never_owned_twice(members)


def test_ten_members_rebalance_time(group_broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(group_broker.bootstrap, topic_name, 20)
    consumers = [Consumer({"bootstrap.servers": group_broker.bootstrap, "group.id": f"{topic_name}-10"})
                 for _ in range(10)]
    t0 = time.monotonic()
    try:
        for c in consumers:
            c.subscribe([topic_name])
        got = _assignments(consumers, 20)
        assert sorted(len(s) for s in got) == [2] * 10
        print(f"\nten classic members stable in {time.monotonic() - t0:.2f} s")
    finally:
        for c in consumers:
            c.close()


def test_static_members_survive_member_and_broker_restarts(fresh_broker: BrokerProcess, topic_name: str) -> None:
    """Static membership (group.instance.id): a member killed with kill -9 and restarted with the
    same instance id within the session timeout gets its partitions back without a rebalance
    (the other member never revokes); after a broker restart the group (GroupMetadata records)
    is still there, so the members carry on in their generation without rebalancing either."""
    b, group = fresh_broker, f"{topic_name}-static"
    confluent.create_topic(b.bootstrap, topic_name, 6)

    def member(name: str) -> Member:
        return _python_member("confluent", b, topic_name, group, name, f"group.instance.id={name}")

    a, s = member("a"), member("s")
    members = [a, s]
    try:
        _wait("two static members with three partitions each", lambda: len(a.owned()) == len(s.owned()) == 3)
        owned_a, owned_s = a.owned(), s.owned()
        seen_s = len(s.events)
        a.kill9()
        a2 = member("a")  # the same instance id, a new process
        members.append(a2)
        _wait("the restarted static member's partitions", lambda: a2.owned() == owned_a)
        assert not [e for e in s.events[seen_s:] if e["ev"] in ("assign", "revoke")], s.events[seen_s:]
        seen = {m: len(m.events) for m in (a2, s)}
        b.restart()
        p = Producer({"bootstrap.servers": b.bootstrap})
        for i in range(12):
            p.produce(topic_name, value=b"x%d" % i, partition=i % 6)
        assert p.flush(30) == 0
        _wait("records after the broker restart", lambda: {f"x{i}" for i in range(12)} <= a2.values() | s.values())
        for m in (a2, s):
            assert not [e for e in m.events[seen[m]:] if e["ev"] in ("assign", "revoke")], m.events[seen[m]:]
        assert s.owned() == owned_s
    finally:
        for m in members:
            if m.proc.poll() is None:
                m.proc.kill()


def test_offset_delete_with_kafka_consumer_groups(group_broker: BrokerProcess, topic_name: str) -> None:
    """OffsetDelete through Kafka's own tool: refused for the topic an active member subscribes
    to (GROUP_SUBSCRIBED_TO_TOPIC), done for a topic it does not; the deleted offset is gone."""
    from confluent_kafka import TopicPartition

    from kafka_java import run_tool
    b, group, other = group_broker, f"{topic_name}-del", f"{topic_name}-other"
    confluent.create_topic(b.bootstrap, topic_name, 2)
    confluent.create_topic(b.bootstrap, other, 1)
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        c.subscribe([topic_name])
        _wait("the member's assignment", lambda: (c.poll(0.1), len(c.assignment()) == 2)[1])
        c.commit(offsets=[TopicPartition(topic_name, 0, 5), TopicPartition(other, 0, 7)], asynchronous=False)

        def delete(topic: str) -> str:
            proc = run_tool("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", "--bootstrap-server",
                            b.bootstrap, "--delete-offsets", "--group", group, "--topic", topic, check=False)
            return (proc.stdout + proc.stderr).decode()

        refused = delete(topic_name)
        assert "subscribed" in refused.lower(), refused
        done = delete(other)
        assert "Successful" in done, done
        committed = {(tp.topic, tp.partition): tp.offset for tp in c.committed(
            [TopicPartition(topic_name, 0), TopicPartition(other, 0)], timeout=30)}
        assert committed == {(topic_name, 0): 5, (other, 0): -1001}
    finally:
        c.close()
