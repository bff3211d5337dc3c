"""Classic consumer groups with real clients: subscribe, consume, commit; committed offsets are
stored in `__consumer_offsets` and survive a broker restart.

The full group acceptance (members killed/leaving/joining, every assignor, KIP-848, admin) is the
consumer-group issue; this file covers what reading with a group needs.
"""
from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, TopicPartition

import kafka_java as kj
from broker_process import BrokerProcess
from clients import confluent
from interop_data import sample_records, with_expected_offsets

pytestmark = pytest.mark.interop


def _group_consume(bootstrap: str, topic: str, group: str, count: int, commit: bool = True) -> list:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "session.timeout.ms": 10000})
    c.subscribe([topic])
    out = []
    deadline = time.monotonic() + 60
    try:
        while len(out) < count and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error() is None:
                out.append(m)
        if commit and out:
            c.commit(asynchronous=False)
    finally:
        c.close()
    return out


def test_committed_offsets_resume_after_restart(fresh_broker: BrokerProcess, topic_name: str) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, topic_name, partitions=3)
    first = sample_records(60, partitions=3, base_ts=1_700_000_000_000)
    confluent.produce(b.bootstrap, topic_name, first)
    got = _group_consume(b.bootstrap, topic_name, "resume", 60)
    assert len(got) == 60
    b.restart()
    probe = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "resume"})
    try:
        committed = probe.committed([TopicPartition(topic_name, p) for p in range(3)], timeout=30)
    finally:
        probe.close()
    assert sorted(tp.offset for tp in committed) == sorted(
        sum(1 for r in first if r.partition == p) for p in range(3))
    second = sample_records(30, partitions=3, base_ts=1_700_000_100_000)
    confluent.produce(b.bootstrap, topic_name, second)
    got = _group_consume(b.bootstrap, topic_name, "resume", 30)
    # Only the new records: the group resumed from its committed offsets.
    new = [r for r in with_expected_offsets(first + second)
           if r.offset >= sum(1 for f in first if f.partition == r.partition)]
    assert sorted((m.partition(), m.offset()) for m in got) == sorted((r.partition, r.offset) for r in new)


def test_kafka_python_and_aiokafka_groups_read_everything(broker: BrokerProcess, topic_name: str) -> None:
    import asyncio

    from aiokafka import AIOKafkaConsumer
    from kafka import KafkaConsumer

    confluent.create_topic(broker.bootstrap, topic_name, partitions=2)
    records = sample_records(40, partitions=2, base_ts=1_700_000_000_000)
    confluent.produce(broker.bootstrap, topic_name, records)
    expected = with_expected_offsets(records)

    c = KafkaConsumer(topic_name, bootstrap_servers=broker.bootstrap, group_id="kp-group",
                      auto_offset_reset="earliest", consumer_timeout_ms=15000)
    try:
        got = [m for _, m in zip(range(40), c)]
        c.commit()
    finally:
        c.close()
    assert sorted((m.partition, m.offset) for m in got) == sorted((r.partition, r.offset) for r in expected)

    async def aio() -> list:
        ac = AIOKafkaConsumer(topic_name, bootstrap_servers=broker.bootstrap, group_id="aio-group",
                              auto_offset_reset="earliest")
        await ac.start()
        out = []
        try:
            deadline = time.monotonic() + 30
            while len(out) < 40 and time.monotonic() < deadline:
                for msgs in (await ac.getmany(timeout_ms=500)).values():
                    out += msgs
            await ac.commit()
        finally:
            await ac.stop()
        return out

    got = asyncio.run(aio())
    assert sorted((m.partition, m.offset) for m in got) == sorted((r.partition, r.offset) for r in expected)


def test_java_console_consumer_with_a_group(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, partitions=2)
    records = sample_records(20, partitions=2, base_ts=1_700_000_000_000)
    confluent.produce(broker.bootstrap, topic_name, records)
    out = kj.run_tool(kj.CONSOLE_CONSUMER, "--bootstrap-server", broker.bootstrap, "--topic", topic_name,
                      "--group", "java-group", "--from-beginning", "--max-messages", "20",
                      "--formatter-property", "print.offset=true", "--formatter-property", "print.partition=true",
                      timeout=120).stdout.decode(errors="replace")
    got = sorted(ln.split("\t")[0:2] for ln in out.splitlines() if ln.startswith("Partition:"))
    assert len(got) == 20, out
    expected = with_expected_offsets(records)
    assert got == sorted([f"Partition:{r.partition}", f"Offset:{r.offset}"] for r in expected)
