"""Topic and broker configs through Kafka 4.4's `kafka-configs` and `kafka-topics`, librdkafka's and
kafka-python's admin clients, and kafkajs: DescribeConfigs sources and synonyms, AlterConfigs and
IncrementalAlterConfigs on topics and on brokers (per broker and the cluster default), Kafka's
errors, values surviving a restart, and changes taking effect on live logs.

The expected lines are what Apache Kafka 4.4 prints for the same commands. Apache 4.4 also keeps
a cluster-level `min.insync.replicas` (written by its controller because eligible leader
replicas are enabled on new 4.x clusters, a feature fastkafka does not have), so the tests never
assert on that key's absence.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, OffsetSpec)

from broker_process import BrokerProcess
from clients import confluent, kafkajs
from interop_data import Rec
from kafka_java import TOPICS, run_tool

pytestmark = pytest.mark.interop

CONFIGS = "org.apache.kafka.tools.ConfigCommand"
MiB = 1024 * 1024


def configs(bootstrap: str, *args: str, check: bool = True) -> tuple[int, list[str], str]:
    """Runs kafka-configs; (exit code, stdout lines, stderr)."""
    p = run_tool(CONFIGS, "--bootstrap-server", bootstrap, *args, check=check)
    return p.returncode, p.stdout.decode().splitlines(), p.stderr.decode()


def describe_lines(bootstrap: str, entity_type: str, *entity: str, all_: bool = False) -> list[str]:
    extra = ["--all"] if all_ else []
    _, out, _ = configs(bootstrap, "--describe", *extra, "--entity-type", entity_type, *entity)
    return [ln.strip() for ln in out[1:] if ln.strip()]


def alter(bootstrap: str, entity_type: str, *args: str, check: bool = True) -> tuple[int, str]:
    rc, out, err = configs(bootstrap, "--alter", "--entity-type", entity_type, *args, check=check)
    return rc, "\n".join(out) + err


def _produce(bootstrap: str, topic: str, n: int, size: int, timestamp: int = 0) -> None:
    confluent.produce(bootstrap, topic, [Rec(0, b"k%d" % i, b"x" * size, (), timestamp) for i in range(n)],
                      extra={"linger.ms": 20})


def test_kafka_configs_topic_describe_and_alter(broker: BrokerProcess, topic_name: str) -> None:
    bs = broker.bootstrap
    run_tool(TOPICS, "--bootstrap-server", bs, "--create", "--topic", topic_name, "--partitions", "2",
             "--config", "retention.ms=12345")
    assert "retention.ms=12345 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=12345}" in \
        describe_lines(bs, "topics", "--entity-name", topic_name)

    every = describe_lines(bs, "topics", "--entity-name", topic_name, all_=True)
    for line in [
        "cleanup.policy=delete sensitive=false synonyms={DEFAULT_CONFIG:log.cleanup.policy=delete}",
        "compression.type=producer sensitive=false synonyms={DEFAULT_CONFIG:compression.type=producer}",
        "delete.retention.ms=86400000 sensitive=false synonyms={DEFAULT_CONFIG:log.cleaner.delete.retention.ms=86400000}",
        "file.delete.delay.ms=60000 sensitive=false synonyms={DEFAULT_CONFIG:log.segment.delete.delay.ms=60000}",
        # No synonyms where the primary broker key (log.flush.interval.ms, log.roll.ms) is unset.
        "flush.ms=9223372036854775807 sensitive=false synonyms={}",
        "segment.ms=604800000 sensitive=false synonyms={}",
        "max.message.bytes=1048588 sensitive=false synonyms={DEFAULT_CONFIG:message.max.bytes=1048588}",
        "message.timestamp.after.max.ms=3600000 sensitive=false synonyms={DEFAULT_CONFIG:log.message.timestamp.after.max.ms=3600000}",
        "min.cleanable.dirty.ratio=0.5 sensitive=false synonyms={DEFAULT_CONFIG:log.cleaner.min.cleanable.ratio=0.5}",
        "retention.ms=12345 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=12345}",
        "segment.bytes=1073741824 sensitive=false synonyms={DEFAULT_CONFIG:log.segment.bytes=1073741824}",
    ]:
        assert line in every

    # Kafka's validation errors, per resource.
    rc, err = alter(bs, "topics", "--entity-name", topic_name, "--add-config", "segment.bytes=10", check=False)
    assert rc != 0 and ("InvalidConfigurationException: Invalid value 10 for configuration segment.bytes: "
                        "Value must be at least 1048576") in err
    rc, err = alter(bs, "topics", "--entity-name", topic_name, "--add-config", "foo.bar=1", check=False)
    assert rc != 0 and "InvalidConfigurationException: Unknown topic config name: foo.bar" in err
    rc, err = alter(bs, "topics", "--entity-name", f"{topic_name}-nope", "--add-config", "retention.ms=1", check=False)
    assert rc != 0 and "UnknownTopicOrPartitionException" in err

    alter(bs, "topics", "--entity-name", topic_name, "--add-config",
          "cleanup.policy=[compact,delete],max.message.bytes=2000", "--delete-config", "retention.ms")
    assert describe_lines(bs, "topics", "--entity-name", topic_name) == [
        "cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, "
        "DEFAULT_CONFIG:log.cleanup.policy=delete}",
        "max.message.bytes=2000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:max.message.bytes=2000, "
        "DEFAULT_CONFIG:message.max.bytes=1048588}",
    ]
    # kafka-topics --describe lists the overrides (every config whose source is not the default).
    first = run_tool(TOPICS, "--bootstrap-server", bs, "--describe", "--topic", topic_name).stdout.decode().splitlines()[0]
    assert "cleanup.policy=compact,delete" in first and "max.message.bytes=2000" in first
    assert "retention.ms" not in first


@pytest.fixture
def config_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    """Retention checked every 300 ms from the start, so a dynamic log.retention.ms shows quickly."""
    b = BrokerProcess(tmp_path / "broker", extra_props={
        "log.retention.check.interval.ms": "300", "log.initial.task.delay.ms": "0",
        "log.segment.delete.delay.ms": "1000"})
    b.start()
    try:
        yield b
    finally:
        b.stop()


def test_kafka_configs_dynamic_broker_configs_survive_restart(config_broker: BrokerProcess) -> None:
    b = config_broker
    bs = b.bootstrap
    assert describe_lines(bs, "brokers", "--entity-name", "1") == []

    rc, err = alter(bs, "brokers", "--entity-name", "1", "--add-config", "num.io.threads=4,log.dirs=/x", check=False)
    assert rc != 0 and "InvalidRequestException: Cannot update these configs dynamically: [log.dirs]" in err
    rc, err = alter(bs, "brokers", "--entity-name", "1", "--add-config", "log.retention.ms=abc", check=False)
    assert rc != 0 and ("InvalidRequestException: Invalid value abc for configuration log.retention.ms: "
                        "Not a number of type LONG") in err
    assert describe_lines(bs, "brokers", "--entity-name", "1") == []  # a failed alter writes nothing

    alter(bs, "brokers", "--entity-name", "1", "--add-config", "log.retention.ms=7200000,log.cleaner.threads=2")
    alter(bs, "brokers", "--entity-default", "--add-config", "log.segment.bytes=2097152,compression.type=gzip")
    per_broker = [
        "log.cleaner.threads=2 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.cleaner.threads=2, "
        "DEFAULT_CONFIG:log.cleaner.threads=1}",
        "log.retention.ms=7200000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=7200000, "
        "DEFAULT_CONFIG:log.retention.hours=168}",
    ]
    default = [
        "compression.type=gzip sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:compression.type=gzip}",
        "log.segment.bytes=2097152 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.segment.bytes=2097152}",
    ]

    def check_all() -> None:
        # kafka-configs shows a broker's own dynamic configs; the cluster default's are separate.
        assert describe_lines(bs, "brokers", "--entity-name", "1") == per_broker
        assert set(default) <= set(describe_lines(bs, "brokers", "--entity-default"))
        every = describe_lines(bs, "brokers", "--entity-name", "1", all_=True)
        assert "log.segment.bytes=2097152 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:" \
               "log.segment.bytes=2097152, DEFAULT_CONFIG:log.segment.bytes=1073741824}" in every
        assert "log.retention.hours=168 sensitive=false synonyms={DEFAULT_CONFIG:log.retention.hours=168}" in every

    confluent.create_topic(bs, "kept", partitions=1)
    alter(bs, "topics", "--entity-name", "kept", "--add-config", "retention.ms=3600000,cleanup.policy=[compact,delete]")
    kept = describe_lines(bs, "topics", "--entity-name", "kept")

    check_all()
    b.restart()
    check_all()
    assert describe_lines(bs, "topics", "--entity-name", "kept") == kept

    alter(bs, "brokers", "--entity-name", "1", "--delete-config", "log.cleaner.threads")
    alter(bs, "brokers", "--entity-default", "--delete-config", "compression.type")
    lines = describe_lines(bs, "brokers", "--entity-name", "1")
    assert per_broker[1] in lines and not any(ln.startswith(("log.cleaner.threads=", "compression.type=")) for ln in lines)
    b.restart()
    assert not any(ln.startswith("compression.type=") for ln in describe_lines(bs, "brokers", "--entity-default"))


def _segments(b: BrokerProcess, topic: str) -> int:
    return len([p for p in b.partition_dir(topic, 0).iterdir() if p.name.endswith(".log")])


def _offsets(bootstrap: str, topic: str) -> tuple[int, int]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    tp = TopicPartition(topic, 0)
    lo = admin.list_offsets({tp: OffsetSpec.earliest()}, request_timeout=30)[tp].result().offset
    hi = admin.list_offsets({tp: OffsetSpec.latest()}, request_timeout=30)[tp].result().offset
    return lo, hi


def test_config_changes_take_effect_on_live_logs(config_broker: BrokerProcess) -> None:
    b = config_broker
    bs = b.bootstrap
    confluent.create_topic(bs, "plain", partitions=1)
    confluent.create_topic(bs, "pinned", partitions=1, config={"segment.bytes": str(1024 * MiB)})
    _produce(bs, "plain", 10, 1000)  # the partitions exist and hold data before the change

    # A cluster-wide default reaches every log without an override, and only those.
    alter(bs, "brokers", "--entity-default", "--add-config", f"log.segment.bytes={MiB}")
    _produce(bs, "plain", 3000, 1000)
    _produce(bs, "pinned", 3000, 1000)
    assert _segments(b, "plain") >= 3
    assert _segments(b, "pinned") == 1

    # A topic override replaces it at once: max.message.bytes refuses a larger batch.
    alter(bs, "topics", "--entity-name", "plain", "--add-config", "max.message.bytes=1000")
    p = Producer({"bootstrap.servers": bs, "acks": "all", "enable.idempotence": False, "retries": 0})
    errors: list[object] = []
    p.produce("plain", value=b"y" * 3000, partition=0, on_delivery=lambda err, _m: errors.append(err))
    p.flush(30)
    assert len(errors) == 1 and errors[0] is not None and "MSG_SIZE_TOO_LARGE" in str(errors[0])
    alter(bs, "topics", "--entity-name", "plain", "--delete-config", "max.message.bytes")
    errors.clear()
    p.produce("plain", value=b"y" * 3000, partition=0, on_delivery=lambda err, _m: errors.append(err))
    p.flush(30)
    assert errors == [None]

    # A per-broker log.retention.ms expires the old records of every log without an override.
    hour_ago = int(time.time() * 1000) - 3600 * 1000
    confluent.create_topic(bs, "old", partitions=1)
    _produce(bs, "old", 2000, 1000, timestamp=hour_ago)
    assert _offsets(bs, "old") == (0, 2000)
    alter(bs, "brokers", "--entity-name", "1", "--add-config", "log.retention.ms=60000")
    deadline = time.monotonic() + 60
    while _offsets(bs, "old")[0] != 2000:
        assert time.monotonic() < deadline, "dynamic log.retention.ms did not expire the old segments"
        time.sleep(0.3)


def test_confluent_admin_describe_alter_incremental(broker: BrokerProcess, topic_name: str) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    confluent.create_topic(broker.bootstrap, topic_name, partitions=1, config={"retention.ms": "100000"})
    res = ConfigResource("topic", topic_name)

    def describe() -> dict[str, ConfigEntry]:
        return admin.describe_configs([res], request_timeout=30)[res].result()  # type: ignore[no-any-return]

    got = describe()
    assert got["retention.ms"].value == "100000" and got["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert got["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value and not got["segment.bytes"].is_read_only

    # Incremental: SET, APPEND to a list, DELETE; validate_only changes nothing.
    ops = ConfigResource("topic", topic_name, incremental_configs=[
        ConfigEntry("max.message.bytes", "5000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND),
        ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE)])
    admin.incremental_alter_configs([ops], validate_only=True, request_timeout=30)[ops].result()
    assert describe()["retention.ms"].value == "100000"
    admin.incremental_alter_configs([ops], request_timeout=30)[ops].result()
    got = describe()
    assert got["max.message.bytes"].value == "5000"
    assert got["cleanup.policy"].value == "delete,compact"
    assert got["retention.ms"].value == "604800000" and got["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    sub = ConfigResource("topic", topic_name, incremental_configs=[
        ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.SUBTRACT)])
    admin.incremental_alter_configs([sub], request_timeout=30)[sub].result()
    assert describe()["cleanup.policy"].value == "compact"
    bad = ConfigResource("topic", topic_name, incremental_configs=[
        ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.APPEND)])
    with pytest.raises(KafkaException) as e:
        admin.incremental_alter_configs([bad], request_timeout=30)[bad].result()
    assert "because its type is not LIST" in str(e.value)

    # Legacy AlterConfigs replaces the whole set: what is not named goes back to the default.
    legacy = ConfigResource("topic", topic_name, set_config={"retention.ms": "200000"})
    admin.alter_configs([legacy], request_timeout=30)[legacy].result()
    got = describe()
    assert got["retention.ms"].value == "200000"
    assert got["cleanup.policy"].value == "delete" and got["max.message.bytes"].value == "1048588"

    # Broker resource: every key, with read-only flags as Kafka's.
    br = ConfigResource("broker", "1")
    bconf = admin.describe_configs([br], request_timeout=30)[br].result()
    assert bconf["log.dirs"].is_read_only and not bconf["log.retention.ms"].is_read_only
    assert bconf["log.retention.hours"].value == "168"
    assert bconf["log.cleaner.threads"].source == ConfigSource.DEFAULT_CONFIG.value


def test_kafka_python_configs(broker: BrokerProcess, topic_name: str) -> None:
    from kafka.admin import ConfigResource as KCR
    from kafka.admin import ConfigResourceType, KafkaAdminClient

    confluent.create_topic(broker.bootstrap, topic_name, partitions=1)
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        admin.alter_configs([KCR(ConfigResourceType.TOPIC, topic_name, configs={"retention.bytes": "123456"})])
        modified = admin.describe_configs([KCR(ConfigResourceType.TOPIC, topic_name)], include_synonyms=True)
        every = admin.describe_configs([KCR(ConfigResourceType.BROKER, "1")], config_filter="all")
    finally:
        admin.close()
    # kafka-python 3: {type: {name: {key: entry}}}, by default only the keys that are not defaults.
    topic = modified["topic"][topic_name]
    assert list(topic) == ["retention.bytes"] and topic["retention.bytes"]["value"] == "123456"
    broker_cfg = every["broker"]["1"]
    assert broker_cfg["log.segment.bytes"]["value"] == "1073741824"
    assert broker_cfg["log.dirs"]["read_only"] is True


def test_broker_loggers(broker: BrokerProcess) -> None:
    bs = broker.bootstrap
    before = {ln.split("=", 1)[0]: ln.split("=", 1)[1].split()[0]
              for ln in describe_lines(bs, "broker-loggers", "--entity-name", "1")}
    assert "root" in before
    alter(bs, "broker-loggers", "--entity-name", "1", "--add-config", "root=ERROR")
    after = describe_lines(bs, "broker-loggers", "--entity-name", "1")
    assert "root=ERROR sensitive=false synonyms={}" in after
    alter(bs, "broker-loggers", "--entity-name", "1", "--add-config", f"root={before['root']}")
    rc, err = alter(bs, "broker-loggers", "--entity-name", "1", "--add-config", "root=LOUD", check=False)
    assert rc != 0 and "not a supported log level" in err




def test_kafkajs_configs(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, partitions=1)
    proc = kafkajs.run_script(kafkajs.JS_DIR / "configs.js",
                              env={"KAFKA_BOOTSTRAP": broker.bootstrap, "TOPIC": topic_name})
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    out = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    by_type = {r["resourceType"]: r for r in out["resources"]}
    [entry] = by_type[2]["configEntries"]
    assert (entry["configName"], entry["configValue"], entry["isDefault"]) == ("retention.ms", "424242", False)
    broker_entries = {e["configName"]: e for e in by_type[4]["configEntries"]}
    assert broker_entries["log.retention.hours"]["configValue"] == "168"
    assert broker_entries["log.dirs"]["readOnly"] is True


def test_kafka_configs_broker_all_lines(broker: BrokerProcess) -> None:
    """Lines of `kafka-configs --describe --all` for a broker, as Apache Kafka 4.4 prints them."""
    every = describe_lines(broker.bootstrap, "brokers", "--entity-name", "1", all_=True)
    for line in [
        "broker.id=1 sensitive=false synonyms={STATIC_BROKER_CONFIG:broker.id=1, DEFAULT_CONFIG:broker.id=-1}",
        "node.id=1 sensitive=false synonyms={STATIC_BROKER_CONFIG:node.id=1}",
        "process.roles=broker,controller sensitive=false synonyms={STATIC_BROKER_CONFIG:process.roles=broker,controller}",
        "num.partitions=1 sensitive=false synonyms={STATIC_BROKER_CONFIG:num.partitions=1, DEFAULT_CONFIG:num.partitions=1}",
        "log.flush.interval.ms=null sensitive=false synonyms={}",
        "log.retention.ms=null sensitive=false synonyms={}",
        "log.retention.minutes=null sensitive=false synonyms={}",
        "log.roll.hours=168 sensitive=false synonyms={DEFAULT_CONFIG:log.roll.hours=168}",
        "log.cleaner.io.max.bytes.per.second=1.7976931348623157E308 sensitive=false "
        "synonyms={DEFAULT_CONFIG:log.cleaner.io.max.bytes.per.second=1.7976931348623157E308}",
        "log.flush.scheduler.interval.ms=9223372036854775807 sensitive=false "
        "synonyms={DEFAULT_CONFIG:log.flush.scheduler.interval.ms=9223372036854775807}",
        "offsets.topic.replication.factor=1 sensitive=false synonyms={STATIC_BROKER_CONFIG:offsets.topic.replication.factor=1, "
        "DEFAULT_CONFIG:offsets.topic.replication.factor=3}",
        "broker.rack=null sensitive=false synonyms={}",
    ]:
        assert line in every
    assert not any(ln.startswith("log.initial.task.delay.ms=") for ln in every)  # internal in Kafka
