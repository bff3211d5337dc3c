"""The seeds' KafkaJS consumer examples (js/seeds/6*.js), run as written against the broker.

The examples consume forever; `js/seeds/_consumer_harness.js` (one marked harness line in each)
ends a run once the example has printed its per-message line SEED_EXPECT times, disconnecting its
consumers so the group is left cleanly. Each test gets a fresh broker (the examples share topic and
group names), puts keyed records in with librdkafka (the examples call `message.key.toString()`),
runs the script with node, and checks what it printed and what it committed.
"""
from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from broker_process import BrokerProcess
from clients import confluent, kafkajs

pytestmark = pytest.mark.interop

SEEDS = Path(__file__).resolve().parent / "js" / "seeds"


def _produce(b: BrokerProcess, topic: str, n: int, partitions: int = 1) -> None:
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all"})
    for i in range(n):
        p.produce(topic, key=b"key-%d" % i, value=b"value-%d" % i, partition=i % partitions,
                  headers=[("h", b"%d" % i)])
    assert p.flush(30) == 0


def _run(b: BrokerProcess, name: str, expect: int, mark: str | None = None, timeout_ms: int = 60_000,
         extra_env: dict[str, str] | None = None) -> str:
    env = {"KAFKA_BOOTSTRAP": b.bootstrap, "SEED_EXPECT": str(expect), "SEED_TIMEOUT_MS": str(timeout_ms),
           **(extra_env or {})}
    if mark:
        env["SEED_MARK"] = mark
    proc = kafkajs.run_script(SEEDS / name, env=env, timeout=timeout_ms / 1000 + 30)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 0, f"{name} exited {proc.returncode}\n--- stdout\n{out[-4000:]}\n--- stderr\n{err[-4000:]}"
    assert "KafkaJSError" not in err and "Error consuming" not in out, f"{name}:\n{out[-3000:]}\n{err[-3000:]}"
    return out


def _committed(b: BrokerProcess, group: str, topic: str, partitions: int = 1) -> list[int]:
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group})
    try:
        return [tp.offset for tp in c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)]
    finally:
        c.close()


def _messages(out: str, mark: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(mark)]


def test_60_demo_consumer_run(fresh_broker: BrokerProcess) -> None:
    out = _run(fresh_broker, "60_demo_consumer_run.js", expect=3)
    consumed = re.findall(r"value: 'Hello KafkaJS user! \d+'", out)
    assert len(consumed) >= 3 and "消息发送成功,主题: test-topic" in out
    assert "consumeCounter[3]" in out


def test_61_consumer_each_message(fresh_broker: BrokerProcess) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "test-topic", 1)
    _produce(b, "test-topic", 20)
    out = _run(b, "61_consumer_each_message.js", expect=20)
    assert len(_messages(out, "消费消息")) == 20
    assert "key: 'key-19'" in out and "value: 'value-19'" in out and "h: <Buffer 31 39>" in out
    _wait_committed(b, "test-group", "test-topic", [20])


def _wait_committed(b: BrokerProcess, group: str, topic: str, want: list[int], partitions: int = 1) -> None:
    deadline = time.monotonic() + 30
    while (got := _committed(b, group, topic, partitions)) != want and time.monotonic() < deadline:
        time.sleep(0.2)
    assert got == want


def test_62_consumer_each_batch(fresh_broker: BrokerProcess) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "test-topic", 1)
    _produce(b, "test-topic", 30)
    out = _run(b, "62_consumer_each_batch.js", expect=30)
    assert len(_messages(out, "消费消息")) == 30 and "highWatermark: '30'" in out
    _wait_committed(b, "test-group", "test-topic", [30])


def test_63_partitions_consumed_concurrently(fresh_broker: BrokerProcess) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "test-topic", 4)
    _produce(b, "test-topic", 40, partitions=4)
    out = _run(b, "63_partitions_consumed_concurrently.js", expect=40)
    lines = _messages(out, "消费消息")
    assert len(lines) == 40
    # Within a partition, messages still come in offset order.
    per_partition: dict[str, list[int]] = {}
    for p, o in re.findall(r"partition: (\d+),\s+message: \{\s+offset: '(\d+)'", out):
        per_partition.setdefault(p, []).append(int(o))
    assert sorted(per_partition) == ["0", "1", "2", "3"]
    assert all(v == sorted(v) and len(v) == 10 for v in per_partition.values())


def test_64_autocommit_off_commit_offsets(fresh_broker: BrokerProcess) -> None:
    """fromBeginning false: records from before the group joined are not read; each record read is
    committed (offset + 1) before it is processed. Records keep arriving one by one until the
    example has consumed seven, so none depends on when the consumer resolved `latest`."""
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "test-topic", 1)
    _produce(b, "test-topic", 5)  # before the group exists: skipped (latest)
    result: dict[str, str] = {}
    runner = threading.Thread(target=lambda: result.update(out=_run(b, "64_autocommit_off_commit_offsets.js", expect=7)))
    runner.start()
    p = Producer({"bootstrap.servers": b.bootstrap})
    i = 0
    while runner.is_alive():
        p.produce("test-topic", key=b"late-%d" % i, value=b"late-%d" % i, partition=0)
        p.flush(10)
        i += 1
        time.sleep(0.3)
    out = result["out"]
    lines = _messages(out, "消费消息")
    offsets = [int(o) for o in re.findall(r"offset: '(\d+)'", out)]
    assert len(lines) == 7 and "late-" in out and "value-4" not in out and min(offsets) >= 5
    assert _committed(b, "test-group", "test-topic") == [max(offsets) + 1]


def test_65_nodejs_guide_consumer_js(fresh_broker: BrokerProcess) -> None:
    """The example commits `message.offset` itself (not + 1); KafkaJS's auto-commit (on by default)
    then commits the resolved offset + 1 after each batch, so the group ends at the log end."""
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "user_actions", 1)
    _produce(b, "user_actions", 10)
    out = _run(b, "65_nodejs_guide_consumer_js.js", expect=10, mark="📩 收到消息")
    assert "📩 收到消息: Topic: user_actionsPartition: 0Key: key-9Value: value-9" in out
    _wait_committed(b, "user-analytics-group", "user_actions", [10])


def test_66_tutorial_consumer_js(fresh_broker: BrokerProcess) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "test-topic", 1)
    _produce(b, "test-topic", 5)
    out = _run(b, "66_tutorial_consumer_js.js", expect=5, mark="Received message on topic")
    assert "Consumer connected" in out and "Subscribed to topic test-topic" in out
    assert "Received message on topic test-topic in partition 0 at offset 4: value-4" in out


def test_67_seek(fresh_broker: BrokerProcess) -> None:
    """Subscribed without fromBeginning (latest), then seek to offset 10: the first batch fetched
    starts at offset 10."""
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "test-topic", 1)
    _produce(b, "test-topic", 25)
    out = _run(b, "67_seek.js", expect=1, mark="harness batch")
    assert "harness batch test-topic 0 10" in out, out[-2000:]


def test_consumer_seed_scripts_are_syntactically_whole() -> None:
    for script in sorted(SEEDS.glob("6*.js")):
        proc = subprocess.run([kafkajs.node(), "--check", str(script)], capture_output=True)
        assert proc.returncode == 0, (script.name, proc.stderr.decode())


def test_68_custom_partition_assigner_as_written_crashes_in_kafkajs(fresh_broker: BrokerProcess) -> None:
    """The seed's assigner reads `topics[0].partitions`, but KafkaJS passes topic names: the
    consumer crashes in assign() ("Cannot read properties of undefined"), against Apache Kafka too."""
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "test-topic", 4)
    env = {"KAFKA_BOOTSTRAP": b.bootstrap, "SEED_EXPECT": "1", "SEED_MARK": "harness describeGroup",
           "SEED_TIMEOUT_MS": "8000"}
    proc = kafkajs.run_script(SEEDS / "68_custom_partition_assigner.js", env=env, timeout=60)
    assert proc.returncode == 2  # the harness gave up: nothing was ever assigned
    assert "Cannot read properties of undefined (reading 'filter')" in proc.stderr.decode()


def test_69_pause_partition_on_throttle(fresh_broker: BrokerProcess) -> None:
    """The throttled record's partition is paused for a second, then resumed: the record is
    delivered again and every record is processed."""
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "jobs", 3)
    _produce(b, "jobs", 12, partitions=3)
    out = _run(b, "69_pause_partition_on_throttle.js", expect=12)
    throttled = re.search(r"harness: throttled (value-\d+)", out)
    assert throttled is not None
    done = {line.split()[1] for line in _messages(out, "消费消息")}
    assert done == {f"value-{i}" for i in range(12)}
    assert out.index(f"消费消息 {throttled.group(1)}") > throttled.end()


def test_70_pause_current_partition_and_paused(fresh_broker: BrokerProcess) -> None:
    """pause() from eachMessage pauses only the current partition; consumer.paused() lists it while
    paused; after the resume the throttled record is processed. The example subscribes at the
    latest offset, so records keep arriving until it has processed twelve."""
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "jobs", 2)
    result: dict[str, str] = {}
    runner = threading.Thread(target=lambda: result.update(out=_run(b, "70_pause_current_partition_and_paused.js",
                                                                     expect=12)))
    runner.start()
    p = Producer({"bootstrap.servers": b.bootstrap})
    i = 0
    while runner.is_alive():
        p.produce("jobs", key=b"k%d" % i, value=b"job-%d" % i, partition=i % 2)
        p.flush(10)
        i += 1
        time.sleep(0.2)
    out = result["out"]
    throttled = re.search(r"harness: throttled (job-\d+)", out)
    assert throttled is not None
    assert re.search(r"\{ topic: 'jobs', partitions: \[ [01] \] \}", out), out[-3000:]
    assert out.index(f"消费消息 {throttled.group(1)}") > throttled.end()


def test_71_subscribe_topics_and_regex(fresh_broker: BrokerProcess) -> None:
    """topic-D (fromBeginning) is read from its start; topic-A/B/C and the regex's topic-eu-1 /
    TOPIC-US-2 (case-insensitive) from the latest offset, so records keep arriving there."""
    b = fresh_broker
    topics = ["topic-A", "topic-B", "topic-C", "topic-D", "topic-eu-1", "TOPIC-US-2", "topic-asia-3"]
    for t in topics:
        confluent.create_topic(b.bootstrap, t, 1)
    for t in topics:
        _produce(b, t, 3)
    result: dict[str, str] = {}
    runner = threading.Thread(target=lambda: result.update(out=_run(b, "71_subscribe_topics_and_regex.js", expect=18)))
    runner.start()
    p = Producer({"bootstrap.servers": b.bootstrap})
    live = ["topic-A", "topic-B", "topic-C", "topic-eu-1", "TOPIC-US-2", "topic-asia-3"]
    i = 0
    while runner.is_alive():
        p.produce(live[i % len(live)], value=b"live-%d" % i)
        p.flush(10)
        i += 1
        time.sleep(0.1)
    consumed = [line.split()[1:] for line in _messages(result["out"], "消费消息")]
    assert [v for t, v in consumed if t == "topic-D"] == ["value-0", "value-1", "value-2"]
    assert {t for t, _v in consumed} == {"topic-A", "topic-B", "topic-C", "topic-D", "topic-eu-1", "TOPIC-US-2"}
    assert all(v.startswith("live-") for t, v in consumed if t != "topic-D")

def test_68b_custom_partition_assigner_fixed(fresh_broker: BrokerProcess) -> None:
    """Two members choose MyPartitionAssigner (listed before roundRobin): partitions are dealt by
    member index, and describeGroup (DescribeGroups) reports the protocol and a stable group."""
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "test-topic", 4)
    _produce(b, "test-topic", 8, partitions=4)
    out = _run(b, "68b_custom_partition_assigner_fixed.js", expect=1, mark="harness describeGroup",
               extra_env={"SEED_RECORDS": "8"})
    owners: dict[str, set[str]] = {}
    for member, partition in re.findall(r"harness consumed member=(\d) partition=(\d)", out):
        owners.setdefault(partition, set()).add(member)
    assert sorted(owners) == ["0", "1", "2", "3"] and all(len(m) == 1 for m in owners.values())
    by_member: dict[str, set[int]] = {}
    for partition, members in owners.items():
        by_member.setdefault(members.pop(), set()).add(int(partition))
    # i % members.length === index over the partitions in metadata order (which a broker need not sort).
    assert sorted(len(ps) for ps in by_member.values()) == [2, 2]
    assert "harness describeGroup protocol=MyPartitionAssigner state=Stable members=2" in out
