"""GROUP config resources (ConfigResource type 32, KIP-848's dynamic group configs) through real
clients: Apache Kafka 4.4's kafka-configs (`--entity-type groups`: --alter --add-config,
--describe with and without --all, --delete-config, a refused out-of-range value), kafka-python
3.0.12's list_config_resources (a group is listed exactly while it has dynamic configs), and the
Java 4.4 consumer with `group.protocol=consumer`, whose ConsumerGroupHeartbeat responses carry the
group's `consumer.heartbeat.interval.ms` (read from its NetworkClient debug log: no timing).

The expected kafka-configs output is Apache Kafka 4.4's, verbatim; the module passes against
fastkafka and with FASTKAFKA_TEST_TARGET=apache (Apache Kafka 4.4.0, single combined node with the
default group.consumer.* bounds: session 45000..60000, heartbeat 5000..15000).
"""
from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator

import pytest
from kafka.admin import KafkaAdminClient

from broker_process import BrokerProcess
from kafka_java import CONSOLE_CONSUMER, CONSOLE_PRODUCER, java_command, run_tool

pytestmark = pytest.mark.interop

CONFIGS = "org.apache.kafka.tools.ConfigCommand"

# What Apache Kafka 4.4 prints for a group without dynamic configs (`--describe --all`).
ALL_DEFAULTS = """\
  consumer.assignment.interval.ms=1000 sensitive=false synonyms={DEFAULT_CONFIG:group.consumer.assignment.interval.ms=1000}
  consumer.heartbeat.interval.ms=5000 sensitive=false synonyms={DEFAULT_CONFIG:group.consumer.heartbeat.interval.ms=5000}
  consumer.session.timeout.ms=45000 sensitive=false synonyms={DEFAULT_CONFIG:group.consumer.session.timeout.ms=45000}
  errors.deadletterqueue.copy.record.enable=false sensitive=false synonyms={DEFAULT_CONFIG:errors.deadletterqueue.copy.record.enable=false}
  errors.deadletterqueue.topic.name= sensitive=false synonyms={DEFAULT_CONFIG:errors.deadletterqueue.topic.name=}
  share.assignment.interval.ms=1000 sensitive=false synonyms={DEFAULT_CONFIG:group.share.assignment.interval.ms=1000}
  share.auto.offset.reset=latest sensitive=false synonyms={DEFAULT_CONFIG:share.auto.offset.reset=latest}
  share.delivery.count.limit=5 sensitive=false synonyms={DEFAULT_CONFIG:group.share.delivery.count.limit=5}
  share.heartbeat.interval.ms=5000 sensitive=false synonyms={DEFAULT_CONFIG:group.share.heartbeat.interval.ms=5000}
  share.isolation.level=read_uncommitted sensitive=false synonyms={DEFAULT_CONFIG:share.isolation.level=read_uncommitted}
  share.partition.max.record.locks=2000 sensitive=false synonyms={DEFAULT_CONFIG:group.share.partition.max.record.locks=2000}
  share.record.lock.duration.ms=30000 sensitive=false synonyms={DEFAULT_CONFIG:group.share.record.lock.duration.ms=30000}
  share.renew.acknowledge.enable=true sensitive=false synonyms={DEFAULT_CONFIG:share.renew.acknowledge.enable=true}
  share.session.timeout.ms=45000 sensitive=false synonyms={DEFAULT_CONFIG:group.share.session.timeout.ms=45000}
  streams.assignment.interval.ms=1000 sensitive=false synonyms={DEFAULT_CONFIG:group.streams.assignment.interval.ms=1000}
  streams.assignor.name=sticky sensitive=false synonyms={DEFAULT_CONFIG:group.streams.assignors=sticky}
  streams.heartbeat.interval.ms=5000 sensitive=false synonyms={DEFAULT_CONFIG:group.streams.heartbeat.interval.ms=5000}
  streams.initial.rebalance.delay.ms=3000 sensitive=false synonyms={DEFAULT_CONFIG:group.streams.initial.rebalance.delay.ms=3000}
  streams.num.standby.replicas=0 sensitive=false synonyms={DEFAULT_CONFIG:group.streams.num.standby.replicas=0}
  streams.rack.aware.assignment.tags= sensitive=false synonyms={DEFAULT_CONFIG:group.streams.rack.aware.assignment.tags=}
  streams.session.timeout.ms=45000 sensitive=false synonyms={DEFAULT_CONFIG:group.streams.session.timeout.ms=45000}
"""
HEARTBEAT_6000 = ("  consumer.heartbeat.interval.ms=6000 sensitive=false synonyms={DYNAMIC_GROUP_CONFIG:"
                  "consumer.heartbeat.interval.ms=6000, DEFAULT_CONFIG:group.consumer.heartbeat.interval.ms=5000}\n")
SESSION_50000 = ("  consumer.session.timeout.ms=50000 sensitive=false synonyms={DYNAMIC_GROUP_CONFIG:"
                 "consumer.session.timeout.ms=50000, DEFAULT_CONFIG:group.consumer.session.timeout.ms=45000}\n")


def _configs(broker: BrokerProcess, group: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return run_tool(CONFIGS, "--bootstrap-server", broker.bootstrap, "--entity-type", "groups",
                    "--entity-name", group, *args, check=check)


def _out(p: subprocess.CompletedProcess[bytes]) -> str:
    return p.stdout.decode()


@pytest.fixture
def admin(broker: BrokerProcess) -> Iterator[KafkaAdminClient]:
    a = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=30000)
    try:
        yield a
    finally:
        a.close()


def test_kafka_configs_alter_describe_delete(broker: BrokerProcess, admin: KafkaAdminClient) -> None:
    g = f"gc-{uuid.uuid4().hex[:8]}"
    assert _out(_configs(broker, g, "--describe")) == f"The group '{g}' doesn't exist and doesn't have dynamic config.\n"
    assert _out(_configs(broker, g, "--describe", "--all")) == f"All configs for group {g} are:\n" + ALL_DEFAULTS
    assert g not in admin.list_config_resources(["GROUP"]).get("group", [])

    out = _out(_configs(broker, g, "--alter", "--add-config",
                        "consumer.session.timeout.ms=50000,consumer.heartbeat.interval.ms=6000"))
    assert out == f"Completed updating config for group {g}.\n"
    assert _out(_configs(broker, g, "--describe")) == f"Dynamic configs for group {g} are:\n" + HEARTBEAT_6000 + SESSION_50000
    everything = _out(_configs(broker, g, "--describe", "--all"))
    assert everything == f"All configs for group {g} are:\n" + ALL_DEFAULTS.replace(
        "  consumer.heartbeat.interval.ms=5000 sensitive=false synonyms={DEFAULT_CONFIG:group.consumer.heartbeat.interval.ms=5000}\n"
        "  consumer.session.timeout.ms=45000 sensitive=false synonyms={DEFAULT_CONFIG:group.consumer.session.timeout.ms=45000}\n",
        HEARTBEAT_6000 + SESSION_50000)
    assert g in admin.list_config_resources(["GROUP"])["group"]

    # Out of the broker's group.consumer.min/max bounds, unknown names, bad types: refused, nothing written.
    refused = {
        "consumer.session.timeout.ms=70000": "consumer.session.timeout.ms must be in the range 45000 to 60000 inclusive.",
        "consumer.heartbeat.interval.ms=100": "consumer.heartbeat.interval.ms must be in the range 5000 to 15000 inclusive.",
        "consumer.heartbeat.interval.ms=abc":
            "Invalid value abc for configuration consumer.heartbeat.interval.ms: Not a number of type INT",
        "foo.bar=1": "Unknown group config name: foo.bar",
        "streams.num.standby.replicas=5": "streams.num.standby.replicas must be less than or equal to 2",
        "errors.deadletterqueue.topic.name=__x":
            "errors.deadletterqueue.topic.name: DLQ topic name must not start with '__'",
        "streams.assignor.name=foo":
            "streams.assignor.name 'foo' is not a registered task assignor. Registered assignors are: [sticky].",
    }
    for change, message in refused.items():
        p = _configs(broker, g, "--alter", "--add-config", change, check=False)
        assert p.returncode == 1, change
        assert f"org.apache.kafka.common.errors.InvalidConfigurationException: {message}" in p.stderr.decode(), change
    assert _out(_configs(broker, g, "--describe")) == f"Dynamic configs for group {g} are:\n" + HEARTBEAT_6000 + SESSION_50000

    _configs(broker, g, "--alter", "--delete-config", "consumer.session.timeout.ms")
    assert _out(_configs(broker, g, "--describe")) == f"Dynamic configs for group {g} are:\n" + HEARTBEAT_6000
    _configs(broker, g, "--alter", "--delete-config", "consumer.heartbeat.interval.ms")
    assert _out(_configs(broker, g, "--describe")) == f"The group '{g}' doesn't exist and doesn't have dynamic config.\n"
    assert g not in admin.list_config_resources(["GROUP"]).get("group", [])


def _consume_one(broker: BrokerProcess, topic: str, group: str) -> str:
    """A Java 4.4 KIP-848 consumer reads one record; returns its NetworkClient debug log."""
    cmd = java_command(CONSOLE_CONSUMER, "--bootstrap-server", broker.bootstrap, "--topic", topic,
                       "--from-beginning", "--max-messages", "1", "--timeout-ms", "60000",
                       "--command-property", f"group.id={group}", "--command-property", "group.protocol=consumer")
    cmd.insert(cmd.index("-cp"), "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients.NetworkClient=debug")
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    assert p.returncode == 0 and p.stdout.decode() == "hello\n", p.stderr.decode()[-3000:]
    return p.stderr.decode()


def _heartbeat_intervals(log: str) -> set[int]:
    """The intervals of the member's heartbeat responses; the one answering its leave (epoch -1)
    carries none (0), in Kafka as here."""
    found = re.findall(r"ConsumerGroupHeartbeatResponseData\(.*?memberEpoch=(-?\d+), heartbeatIntervalMs=(\d+)", log)
    assert found, log[-3000:]
    return {int(interval) for epoch, interval in found if int(epoch) > 0}


def test_consumer_group_member_gets_the_group_heartbeat_interval(broker: BrokerProcess, topic_name: str) -> None:
    run_tool(CONSOLE_PRODUCER, "--bootstrap-server", broker.bootstrap, "--topic", topic_name, input=b"hello\n")
    configured, plain = f"gc-hb-{uuid.uuid4().hex[:8]}", f"gc-plain-{uuid.uuid4().hex[:8]}"
    _configs(broker, configured, "--alter", "--add-config", "consumer.heartbeat.interval.ms=6000")
    # The group need not exist when its configs are set; its member's heartbeats carry them.
    assert _heartbeat_intervals(_consume_one(broker, topic_name, configured)) == {6000}
    assert _heartbeat_intervals(_consume_one(broker, topic_name, plain)) == {5000}
