"""Apache Kafka 4.4's own Java tools (Maven Central jars) against the broker.

kafka-topics (create/describe/list/delete), kafka-console-producer with keys, kafka-console-consumer
on an assigned partition, the default (idempotent, acks=all) Java producer through
kafka-verifiable-producer and kafka-producer-perf-test, and kafka-dump-log on the segment and index
files the broker wrote. What Java writes is verified with librdkafka, and the other way round.
"""
from __future__ import annotations

import json
import re
import time

import pytest
from confluent_kafka import Consumer, TopicPartition

import kafka_java as kj
from broker_process import BrokerProcess
from clients import confluent
from interop_data import Rec, assert_same_records, with_expected_offsets

pytestmark = pytest.mark.interop


def _topics(b: BrokerProcess, *args: str, check: bool = True) -> str:
    return kj.run_tool(kj.TOPICS, "--bootstrap-server", b.bootstrap, *args, check=check).stdout.decode()


def _listed(b: BrokerProcess) -> set[str]:
    return set(_topics(b, "--list").split())


def test_kafka_topics_create_describe_list_delete(broker: BrokerProcess, topic_name: str) -> None:
    out = _topics(broker, "--create", "--topic", topic_name, "--partitions", "3", "--replication-factor", "1",
                  "--config", "max.message.bytes=2000000", "--config", "cleanup.policy=delete")
    assert f"Created topic {topic_name}." in out
    assert topic_name in _listed(broker)

    desc = _topics(broker, "--describe", "--topic", topic_name)
    head = re.search(rf"Topic: {re.escape(topic_name)}\s+TopicId: (\S+)\s+PartitionCount: 3\s+ReplicationFactor: 1"
                     rf"\s+Configs: (.*)", desc)
    assert head, desc
    assert "max.message.bytes=2000000" in head.group(2)
    parts = re.findall(rf"Topic: {re.escape(topic_name)}\s+Partition: (\d+)\s+Leader: 1\s+Replicas: 1\s+Isr: 1", desc)
    assert sorted(parts) == ["0", "1", "2"], desc

    # creating it again is refused with TopicExistsException
    dup = kj.run_tool(kj.TOPICS, "--bootstrap-server", broker.bootstrap, "--create", "--topic", topic_name,
                      "--partitions", "1", check=False)
    assert dup.returncode != 0
    assert b"already exists" in dup.stdout + dup.stderr

    _topics(broker, "--delete", "--topic", topic_name)
    deadline = time.monotonic() + 30
    while topic_name in _listed(broker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert topic_name not in _listed(broker)


def test_console_producer_with_keys_and_console_consumer_on_partition(broker: BrokerProcess, topic_name: str) -> None:
    _topics(broker, "--create", "--topic", topic_name, "--partitions", "1", "--replication-factor", "1")
    lines = [f"key-{i}:value {i} with spaces, ünïcode" for i in range(25)]
    kj.run_tool(kj.CONSOLE_PRODUCER, "--bootstrap-server", broker.bootstrap, "--topic", topic_name,
                "--reader-property", "parse.key=true", "--reader-property", "key.separator=:",
                input=("\n".join(lines) + "\n").encode())

    out = kj.run_tool(kj.CONSOLE_CONSUMER, "--bootstrap-server", broker.bootstrap, "--topic", topic_name,
                      "--partition", "0", "--offset", "earliest", "--max-messages", "25",
                      "--formatter-property", "print.key=true", "--formatter-property", "key.separator=:",
                      "--formatter-property", "print.offset=true", "--formatter-property", "print.partition=true",
                      timeout=90).stdout.decode()
    got = [ln for ln in out.splitlines() if ln.strip()]
    # key.separator applies to every field separator
    assert got == [f"Partition:0:Offset:{i}:key-{i}:value {i} with spaces, ünïcode" for i in range(25)], out

    # librdkafka sees the same bytes
    recs = confluent.consume_assigned(broker.bootstrap, topic_name, {0: 25})
    assert [(r.offset, r.key, r.value) for r in recs] == [
        (i, f"key-{i}".encode(), f"value {i} with spaces, ünïcode".encode()) for i in range(25)]


def test_console_consumer_reads_librdkafka_records_from_offset(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, partitions=2)
    records = [Rec(i % 2, f"k{i}".encode(), f"v{i}".encode(), (("a", b"1"), ("a", b"2")), 1_700_000_000_000 + i)
               for i in range(40)]
    confluent.produce(broker.bootstrap, topic_name, records, compression="zstd")
    out = kj.run_tool(kj.CONSOLE_CONSUMER, "--bootstrap-server", broker.bootstrap, "--topic", topic_name,
                      "--partition", "1", "--offset", "5", "--max-messages", "15",
                      "--formatter-property", "print.key=true", "--formatter-property", "print.timestamp=true",
                      "--formatter-property", "print.headers=true", timeout=90).stdout.decode()
    got = [ln for ln in out.splitlines() if ln.strip()]
    odd = [r for r in records if r.partition == 1][5:]
    assert got == [f"CreateTime:{r.timestamp}\ta:1,a:2\t{r.key.decode()}\t{r.value.decode()}"  # type: ignore[union-attr]
                   for r in odd], out


def test_verifiable_producer_default_idempotent_java_producer(broker: BrokerProcess, topic_name: str) -> None:
    _topics(broker, "--create", "--topic", topic_name, "--partitions", "1", "--replication-factor", "1")
    n = 2000
    out = kj.run_tool(kj.VERIFIABLE_PRODUCER, "--bootstrap-server", broker.bootstrap, "--topic", topic_name,
                      "--max-messages", str(n), "--acks", "-1", timeout=120).stdout.decode()
    events = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    sent = [e for e in events if e.get("name") == "producer_send_success"]
    errors = [e for e in events if e.get("name") == "producer_send_error"]
    assert not errors, errors[:3]
    assert len(sent) == n
    assert sorted(e["offset"] for e in sent) == list(range(n))
    done = [e for e in events if e.get("name") == "tool_data"]
    assert done and done[-1]["acked"] == n
    recs = confluent.consume_assigned(broker.bootstrap, topic_name, {0: n})
    assert [r.value for r in recs] == [str(i).encode() for i in range(n)]
    assert all(r.key is None for r in recs)


@pytest.mark.parametrize("codec", ["none", "lz4"])
def test_producer_perf_test_default_idempotent(broker: BrokerProcess, topic_name: str, codec: str) -> None:
    _topics(broker, "--create", "--topic", topic_name, "--partitions", "2", "--replication-factor", "1")
    n = 20000
    out = kj.run_tool(kj.PRODUCER_PERF_TEST, "--topic", topic_name, "--num-records", str(n), "--record-size", "100",
                      "--throughput", "-1", "--producer-props", f"bootstrap.servers={broker.bootstrap}",
                      f"compression.type={codec}", timeout=120).stdout.decode()
    assert f"{n} records sent" in out, out
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused"})
    try:
        highs = [c.get_watermark_offsets(TopicPartition(topic_name, p), timeout=30) for p in (0, 1)]
    finally:
        c.close()
    assert sum(h for _, h in highs) == n
    recs = confluent.consume_assigned(broker.bootstrap, topic_name, {p: h for p, (_, h) in enumerate(highs)})
    assert all(len(r.value or b"") == 100 for r in recs)


def test_dump_log_on_broker_written_segment(fresh_broker: BrokerProcess, topic_name: str) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, topic_name, partitions=1)
    records = [Rec(0, f"key-{i}".encode(), (f"value-{i}-" * 20).encode(), (("hk", b"hv"),), 1_700_000_000_000 + i)
               for i in range(300)]
    # several produce requests, so the segment has many batches and the sparse index gets entries
    for chunk in range(0, 300, 30):
        confluent.produce(b.bootstrap, topic_name, records[chunk:chunk + 30], compression="none",
                          extra={"linger.ms": 0})
    b.stop()  # clean shutdown: everything flushed, indexes trimmed

    pdir = b.partition_dir(topic_name, 0)
    log = pdir / "00000000000000000000.log"
    index = pdir / "00000000000000000000.index"
    assert log.is_file() and index.is_file(), sorted(p.name for p in pdir.iterdir())

    out = kj.run_tool(kj.DUMP_LOG, "--files", str(log), "--print-data-log").stdout.decode()
    assert f"Dumping {log}" in out
    batches = re.findall(r"baseOffset: (\d+) lastOffset: (\d+) count: (\d+) .*?isTransactional: false "
                         r".*?magic: 2 compresscodec: none .*?isvalid: true", out)
    assert len(batches) >= 10, out[:3000]
    assert sum(int(c) for _, _, c in batches) == 300
    assert [int(base) for base, _, _ in batches] == sorted(int(base) for base, _, _ in batches)
    recs = re.findall(r"\| offset: (\d+) CreateTime: (\d+) keySize: (\d+) valueSize: (\d+) sequence: (-?\d+) "
                      r"headerKeys: \[(.*?)\] key: (\S+) payload: (\S+)", out)
    assert len(recs) == 300, out[:3000]
    for i, (off, ts, ks, vs, seq, hkeys, key, payload) in enumerate(recs):
        r = records[i]
        assert (int(off), int(ts), key.encode(), payload.encode(), hkeys) == (i, r.timestamp, r.key, r.value, "hk")
        assert int(ks) == len(r.key or b"") and int(vs) == len(r.value or b"")
        assert int(seq) == i % 30  # each chunk came from a new idempotent producer, sequences from 0

    idx = kj.run_tool(kj.DUMP_LOG, "--files", str(index)).stdout.decode()
    entries = [(int(o), int(p)) for o, p in re.findall(r"offset: (\d+) position: (\d+)", idx)]
    assert entries, idx
    assert entries == sorted(entries) and len({p for _, p in entries}) == len(entries)
    assert all(0 < o < 300 for o, _ in entries)
    assert "Mismatches" not in idx and "not found" not in idx.lower(), idx

    tidx = kj.run_tool(kj.DUMP_LOG, "--files", str(pdir / "00000000000000000000.timeindex")).stdout.decode()
    tentries = [(int(t), int(o)) for t, o in re.findall(r"timestamp: (\d+) offset: (\d+)", tidx)]
    assert tentries, tidx
    # each entry: the max timestamp so far and the offset of the record carrying it (CreateTime = base + offset)
    assert all(t == 1_700_000_000_000 + o for t, o in tentries), tentries
    assert tentries == sorted(tentries)

    b.start()  # and the broker serves the same data after the tool has looked at its files
    assert_same_records(confluent.consume_assigned(b.bootstrap, topic_name, {0: 300}), with_expected_offsets(records))


def test_console_producer_records_survive_restart_and_console_consumer_reads_them(
        fresh_broker: BrokerProcess, topic_name: str) -> None:
    """The Java producer (idempotent by default) writes, the broker restarts, the Java consumer
    reads every record back on its assigned partition."""
    b = fresh_broker
    _topics(b, "--create", "--topic", topic_name, "--partitions", "1", "--replication-factor", "1")
    lines = [f"k{i}:v{i}" for i in range(30)]
    kj.run_tool(kj.CONSOLE_PRODUCER, "--bootstrap-server", b.bootstrap, "--topic", topic_name,
                "--reader-property", "parse.key=true", "--reader-property", "key.separator=:",
                input=("\n".join(lines) + "\n").encode())
    b.restart()
    out = kj.run_tool(kj.CONSOLE_CONSUMER, "--bootstrap-server", b.bootstrap, "--topic", topic_name,
                      "--partition", "0", "--offset", "earliest", "--max-messages", "30",
                      "--formatter-property", "print.key=true", "--formatter-property", "key.separator=:", timeout=90).stdout.decode()
    assert [ln for ln in out.splitlines() if ln.strip()] == lines, out
