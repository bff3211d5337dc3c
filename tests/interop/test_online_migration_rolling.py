"""Online migration of a live consumer group between the classic and the consumer protocol
(KIP-848's upgrade and downgrade path, group.consumer.migration.policy=bidirectional, Kafka's
default), with Apache Kafka 4.4's Java consumer (clients/JavaGroupMember.java, auto-commit: at
least once).

Three classic members consume a 6-partition topic while a producer writes a numbered stream. They
are rolled one at a time to `group.protocol=consumer` (the first consumer-protocol member converts
the classic group into a consumer group with the two classic members still in it; those keep
rejoining through JoinGroup/SyncGroup inside the consumer group), then one at a time back to the
classic protocol (classic members join the consumer group; when the last consumer-protocol member
leaves, the group becomes a classic group again and rebalances). After every step the live members
together own all six partitions. Asserted at the end: every produced record was consumed at least
once, and once the members have left (committing on close) the group's committed offsets are the
partitions' end offsets. The group is described with kafka-consumer-groups while it mixes
protocols, and its type (ListGroups v5) is CONSUMER after the first member's upgrade
and CLASSIC after the last one's downgrade. Timing is printed, never asserted.

Passes against fastkafka and against Apache Kafka 4.4 (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka import ConsumerGroupTopicPartitions
from confluent_kafka.admin import AdminClient

from broker_process import BrokerProcess
from clients import confluent
from kafka_java import run_tool
from test_group_rebalance import CONSUMER_PROTOCOL_PROPS, Member, _java_member, _wait

pytestmark = pytest.mark.interop

PARTITIONS = 6


@pytest.fixture
def migration_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("migration-broker"), extra_props=CONSUMER_PROTOCOL_PROPS)
    b.start()
    try:
        yield b
    finally:
        b.stop()


def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fut = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(
        group, [TopicPartition(topic, p) for p in range(PARTITIONS)])])[group]
    return {tp.partition: tp.offset for tp in fut.result(30).topic_partitions}


def _group_type(bootstrap: str, group: str) -> str:
    """The group's type from ListGroups v5 (KIP-848): CONSUMER or CLASSIC."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    listed = admin.list_consumer_groups().result(30).valid
    return str(next(g.type for g in listed if g.group_id == group).name)


def _end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "end-offsets-reader"})
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in range(PARTITIONS)}
    finally:
        c.close()


def test_java_group_rolled_to_the_consumer_protocol_and_back(migration_broker: BrokerProcess,
                                                             topic_name: str) -> None:
    b = migration_broker
    group = f"{topic_name}-g"
    confluent.create_topic(b.bootstrap, topic_name, PARTITIONS)
    produced: list[str] = []
    stop = threading.Event()

    def produce() -> None:
        p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5})
        n = 0
        while not stop.is_set():
            for _ in range(12):
                p.produce(topic_name, value=str(n).encode(), partition=n % PARTITIONS)
                produced.append(str(n))
                n += 1
            p.poll(0)
            time.sleep(0.05)
        assert p.flush(60) == 0

    def make(name: str, protocol: str) -> Member:
        return _java_member(b, topic_name, group, name, protocol)

    live = [make(f"classic-{i}", "classic") for i in range(3)]
    everyone = list(live)

    def owners() -> str:
        return "; ".join(f"{m.name} owns {sorted(m.owned())}" for m in live)

    def settled(newcomer: Member | None = None) -> bool:
        sets = [m.owned() for m in live]
        return (newcomer is None or bool(newcomer.owned())) and \
            set().union(*sets) == set(range(PARTITIONS)) and sum(len(s) for s in sets) == PARTITIONS

    producer = threading.Thread(target=produce)
    producer.start()
    start = time.monotonic()
    try:
        _wait("three classic members sharing the six partitions", lambda: all(m.owned() for m in live) and settled(),
              detail=owners, timeout=120)
        steps = [("consumer", i) for i in range(3)] + [("classic", i) for i in range(3)]
        for protocol, i in steps:
            old = live[i]
            old.leave()
            new = make(f"{protocol}-{i}", protocol)
            live[i] = new
            everyone.append(new)
            _wait(f"{new.name} to get partitions after {old.name} left", lambda: settled(new), detail=owners,
                  timeout=120)
            print(f"\n{new.name} settled at {time.monotonic() - start:.1f}s: {owners()}")
            if (protocol, i) == ("consumer", 0):
                # A consumer group with two classic members and one consumer-protocol member.
                out = run_tool("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", "--bootstrap-server",
                               b.bootstrap, "--describe", "--group", group, "--members").stdout.decode()
                print(out)
            # The first consumer-protocol member upgraded the group; the last one leaving downgraded it.
            expected = {("consumer", 0): "CONSUMER", ("classic", 1): "CONSUMER", ("classic", 2): "CLASSIC"}
            if (protocol, i) in expected:
                assert _group_type(b.bootstrap, group) == expected[(protocol, i)]
        stop.set()
        producer.join()
        _wait("every record to be consumed",
              lambda: set(produced) <= set().union(*(m.values() for m in everyone)), timeout=120,
              detail=lambda: f"{len(set(produced) - set().union(*(m.values() for m in everyone)))} missing")
        for m in live:
            m.leave()
    finally:
        stop.set()
        if producer.is_alive():
            producer.join()
        for m in everyone:
            if m.proc.poll() is None:
                m.proc.kill()
    end = _end_offsets(b.bootstrap, topic_name)
    assert sum(end.values()) == len(produced)
    committed = _wait("the committed offsets to reach the end offsets",
                      lambda: (lambda c: c if c == end else None)(_committed(b.bootstrap, group, topic_name)),
                      timeout=30, detail=lambda: f"{_committed(b.bootstrap, group, topic_name)} != {end}")
    counts = ", ".join(f"{m.name} {len(m.values())}" for m in everyone)
    print(f"\n{len(produced)} records, committed {committed}; consumed by {counts}")
