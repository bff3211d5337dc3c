"""The KafkaJS admin and producer examples of /work/shared/seeds, run as written (js/seeds/*.js).

Each script is one example with only the broker address substituted (harness lines are marked in the
scripts); each test runs it with node against a broker of this module's own (the examples use fixed
topic names) and checks the outcome: the script's own success output, and what landed in the broker,
read with librdkafka. Consumer-group and transaction examples are pending: js/seeds/README.md.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource

from broker_process import BrokerProcess
from clients import confluent, kafkajs
from interop_data import Rec

pytestmark = pytest.mark.interop

SEEDS = Path(__file__).resolve().parent / "js" / "seeds"


@pytest.fixture(scope="module")
def seed_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("seeds"))
    b.start()
    try:
        yield b
    finally:
        b.stop()


def run_seed(b: BrokerProcess, name: str, **env: str) -> str:
    proc = kafkajs.run_script(SEEDS / name, env={"KAFKA_BOOTSTRAP": b.bootstrap, **env}, timeout=90)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 0, f"{name} exited {proc.returncode}\n--- stdout\n{out}\n--- stderr\n{err[-4000:]}"
    assert "KafkaJSError" not in err and "Error sending message" not in out, f"{name}:\n{out}\n{err[-4000:]}"
    return out


def read_all(b: BrokerProcess, topic: str) -> list[Rec]:
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "unused"})
    try:
        md = c.list_topics(topic, timeout=30).topics[topic]
        assert md.error is None, md.error
        counts = {}
        for p in md.partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
            counts[p] = (lo, hi)
    finally:
        c.close()
    out: list[Rec] = []
    for p, (lo, hi) in counts.items():
        if hi > lo:
            out += confluent.consume_assigned(b.bootstrap, topic, {p: hi - lo}, start_offset=lo)
    return out


def ensure_topic(b: BrokerProcess, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    if topic not in admin.list_topics(timeout=30).topics:
        confluent.create_topic(b.bootstrap, topic, partitions)


def topic_config(b: BrokerProcess, topic: str, name: str) -> str:
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    res = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
    entries = list(res.values())[0].result(timeout=30)
    return str(entries[name].value)


def test_01_demo_create_topic_and_produce(seed_broker: BrokerProcess) -> None:
    out = run_seed(seed_broker, "01_demo_create_topic_and_produce.js")
    assert "消息发送成功,主题: test-topic, 分区: 0" in out
    assert any((r.value or b"").startswith(b"Hello KafkaJS user! ") for r in read_all(seed_broker, "test-topic"))


def test_02_producer_send_with_keys(seed_broker: BrokerProcess) -> None:
    out = run_seed(seed_broker, "02_producer_send_with_keys.js")
    assert "消息发送成功,主题: test-topic" in out
    keys = [r.key for r in read_all(seed_broker, "test-topic")]
    assert b"key1" in keys and b"key2" in keys


def test_03_admin_recreate_topic_and_produce_to_partitions(seed_broker: BrokerProcess) -> None:
    ensure_topic(seed_broker, "test-topic", 1)
    out = run_seed(seed_broker, "03_admin_recreate_topic_and_produce_to_partitions.js")
    assert "删除test-topic后" in out and "topic created: true" in out, out
    recs = read_all(seed_broker, "test-topic")
    assert [(r.partition, r.offset, r.key) for r in sorted(recs, key=lambda r: r.partition)] == [
        (0, 0, b"key1"), (1, 0, b"key2")]


def test_04_producer_constructors(seed_broker: BrokerProcess) -> None:
    ensure_topic(seed_broker, "test-topic", 1)  # the second producer has allowAutoTopicCreation: false
    out = run_seed(seed_broker, "04_producer_constructors.js")
    assert out.count("sent ") == 2


def test_05_producer_headers(seed_broker: BrokerProcess) -> None:
    run_seed(seed_broker, "05_producer_headers.js")
    recs = [r for r in read_all(seed_broker, "topic-name") if r.value == b"hello world" and r.headers]
    assert recs and recs[-1].key == b"key1"
    assert recs[-1].headers == (("correlation-id", b"2bfb68bb-893a-423b-a7fa-7b568cad5b67"), ("system-id", b"my-system"))


def test_06_producer_send_batch(seed_broker: BrokerProcess) -> None:
    run_seed(seed_broker, "06_producer_send_batch.js")
    for t in ("topic-a", "topic-b", "topic-c"):
        recs = read_all(seed_broker, t)
        assert [(r.key, r.value) for r in recs] == [(b"key", f"hello {t}".encode())]
    assert read_all(seed_broker, "topic-c")[0].headers == (("correlation-id", b"2bfb68bb-893a-423b-a7fa-7b568cad5b67"),)


def test_07_custom_partitioner(seed_broker: BrokerProcess) -> None:
    ensure_topic(seed_broker, "partitioner-topic", 3)
    out = run_seed(seed_broker, "07_custom_partitioner.js")
    assert "partitions: [0]" in out
    recs = read_all(seed_broker, "partitioner-topic")
    assert {r.partition for r in recs} == {0} and len(recs) == 6


@pytest.mark.parametrize("script", ["08_compression_gzip.js", "09_compression_snappy.js", "10_compression_lz4.js",
                                    "11_compression_zstd.js", "12_custom_codec.js"])
def test_08_to_12_compression(seed_broker: BrokerProcess, script: str) -> None:
    before = len(read_all(seed_broker, "topic-name")) if _exists(seed_broker, "topic-name") else 0
    run_seed(seed_broker, script)
    recs = read_all(seed_broker, "topic-name")
    assert [(r.key, r.value) for r in recs[before:]] == [(b"key1", b"hello world"), (b"key2", b"hey hey!")]


def _exists(b: BrokerProcess, topic: str) -> bool:
    return topic in AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=30).topics


def test_13_tutorial_producer(seed_broker: BrokerProcess) -> None:
    out = run_seed(seed_broker, "13_tutorial_producer_js.js")
    assert "Producer connected" in out and "Message sent successfully:" in out and "Producer disconnected" in out
    assert any(r.value == b"Hello KafkaJS user!" for r in read_all(seed_broker, "test-topic"))


def test_14_nodejs_guide_producer(seed_broker: BrokerProcess) -> None:
    out = run_seed(seed_broker, "14_nodejs_guide_producer_js.js")
    assert "✅ 消息发送成功" in out
    recs = read_all(seed_broker, "user_actions")  # auto-created by the producer's metadata request
    assert [(r.key, json.loads(r.value or b"")) for r in recs] == [(b"user1", {"action": "click", "page": "home"})]


def test_15_nodejs_guide_idempotent_producer(seed_broker: BrokerProcess) -> None:
    out = run_seed(seed_broker, "15_nodejs_guide_idempotent_producer.js")
    assert "batch of 100 sent" in out
    recs = read_all(seed_broker, "logs")
    assert sorted(r.value for r in recs) == sorted(f"log line {i}".encode() for i in range(100))


def test_20_admin_list_topics(seed_broker: BrokerProcess) -> None:
    ensure_topic(seed_broker, "listed-topic", 1)
    out = run_seed(seed_broker, "20_admin_list_topics.js")
    assert "已有的Topic: " in out and "'listed-topic'" in out


def test_21_admin_fetch_topic_metadata(seed_broker: BrokerProcess) -> None:
    ensure_topic(seed_broker, "meta-topic", 3)
    out = run_seed(seed_broker, "21_admin_fetch_topic_metadata.js")
    meta = {t["name"]: t for t in json.loads(out.strip().splitlines()[-1])["topics"]}
    parts = sorted(meta["meta-topic"]["partitions"], key=lambda p: p["partitionId"])
    assert [(p["partitionId"], p["leader"], p["replicas"], p["isr"], p["partitionErrorCode"]) for p in parts] == [
        (i, 1, [1], [1], 0) for i in range(3)]


def test_22_admin_fetch_topic_offsets(seed_broker: BrokerProcess) -> None:
    confluent.create_topic(seed_broker.bootstrap, "offsets-topic", 2)
    recs = [Rec(i % 2, None, b"v%d" % i, (), 1_700_000_000_000 + i * 1000) for i in range(10)]
    confluent.produce(seed_broker.bootstrap, "offsets-topic", recs)
    out = run_seed(seed_broker, "22_admin_fetch_topic_offsets.js", SEED_TOPIC="offsets-topic",
                   SEED_TIMESTAMP=str(1_700_000_000_000 + 4500))
    res = json.loads(out.strip().splitlines()[-1])
    assert sorted((o["partition"], o["offset"], o["high"], o["low"]) for o in res["offsets"]) == [
        (0, "5", "5", "0"), (1, "5", "5", "0")]
    # first offset with timestamp >= base+4500: partition 0 holds i=0,2,4,6,8 -> i=6 at offset 3;
    # partition 1 holds i=1,3,5,7,9 -> i=5 at offset 2
    assert sorted((o["partition"], o["offset"]) for o in res["byTimestamp"]) == [(0, "3"), (1, "2")]


def test_23_admin_describe_cluster(seed_broker: BrokerProcess) -> None:
    out = run_seed(seed_broker, "23_admin_describe_cluster.js")
    res = json.loads(out.strip().splitlines()[-1])
    assert res["brokers"] == [{"nodeId": 1, "host": "127.0.0.1", "port": seed_broker.port}]
    assert res["controller"] == 1 or res["controller"] is not None
    assert res["clusterId"] == seed_broker.cluster_id


def test_24_25_admin_describe_then_alter_configs(seed_broker: BrokerProcess) -> None:
    ensure_topic(seed_broker, "test-topic", 1)
    ensure_topic(seed_broker, "topic-name", 1)
    assert topic_config(seed_broker, "topic-name", "cleanup.policy") == "delete"
    out = run_seed(seed_broker, "24_admin_describe_configs.js")
    first, second = (json.loads(ln) for ln in out.strip().splitlines()[-2:])
    names = {e["configName"] for e in first["resources"][0]["configEntries"]}
    assert {"cleanup.policy", "retention.ms", "max.message.bytes", "segment.bytes"} <= names
    entry = second["resources"][0]["configEntries"]
    assert [(e["configName"], e["configValue"], e["isDefault"]) for e in entry] == [("cleanup.policy", "delete", True)]
    assert second["resources"][0]["errorCode"] == 0

    out = run_seed(seed_broker, "25_admin_alter_configs.js")
    res = json.loads(out.strip().splitlines()[-1])
    assert [(r["errorCode"], r["resourceName"], r["resourceType"]) for r in res["resources"]] == [(0, "topic-name", 2)]
    assert topic_config(seed_broker, "topic-name", "cleanup.policy") == "compact"


def test_26_admin_delete_topic_records(seed_broker: BrokerProcess) -> None:
    confluent.create_topic(seed_broker.bootstrap, "custom-topic", 4)
    recs = [Rec(0, None, b"p0-%d" % i, (), 1_700_000_000_000) for i in range(40)]
    recs += [Rec(3, None, b"p3-%d" % i, (), 1_700_000_000_000) for i in range(7)]
    confluent.produce(seed_broker.bootstrap, "custom-topic", recs)
    run_seed(seed_broker, "26_admin_delete_topic_records.js")
    c = Consumer({"bootstrap.servers": seed_broker.bootstrap, "group.id": "unused"})
    try:
        marks = {p: c.get_watermark_offsets(TopicPartition("custom-topic", p), timeout=30) for p in (0, 3)}
    finally:
        c.close()
    assert marks == {0: (30, 40), 3: (7, 7)}
    got = confluent.consume_assigned(seed_broker.bootstrap, "custom-topic", {0: 10}, start_offset=30)
    assert [r.value for r in got] == [b"p0-%d" % i for i in range(30, 40)]


@pytest.mark.parametrize("script", ["27_admin_create_acls.js", "28_admin_delete_acls.js",
                                    "29b_admin_describe_acls_fixed.js"])
def test_27_to_29_acls_without_authorizer(seed_broker: BrokerProcess, script: str) -> None:
    """The seed: with security features disabled the call throws KafkaJSProtocolError SECURITY_DISABLED (54)."""
    out = run_seed(seed_broker, script)
    assert "ERROR KafkaJSProtocolError SECURITY_DISABLED Security features are disabled" in out, out


def test_29_describe_acls_as_written_is_rejected_by_kafkajs(seed_broker: BrokerProcess) -> None:
    out = run_seed(seed_broker, "29_admin_describe_acls.js")
    assert "ERROR KafkaJSNonRetriableError undefined Invalid resource pattern filter type undefined" in out, out


def test_30_client_options(seed_broker: BrokerProcess) -> None:
    out = run_seed(seed_broker, "30_client_options.js")
    assert "all clients ok" in out and out.count("topics true") == 6


def test_every_seed_script_has_a_test() -> None:
    """Every example script is named by one of the seed test modules (test_kafkajs_seed*.py);
    `_`-prefixed files are harness helpers, not examples."""
    scripts = sorted(p.name for p in SEEDS.glob("*.js") if not p.name.startswith("_"))
    source = "".join(p.read_text() for p in Path(__file__).parent.glob("test_kafkajs_seed*.py"))
    assert scripts and all(s in source for s in scripts), [s for s in scripts if s not in source]


