"""The config model: dynamic broker configs, the broker-side ConfigAdminManager checks, the
controller's ConfigurationControlManager rules, DescribeConfigs sources/synonyms
(ConfigHelper), and broker loggers. Expected messages are Kafka 4.1's."""
import asyncio
import logging
import random
from types import SimpleNamespace

import pytest

from fastkafka.cluster.metadata.broker_registration import Endpoint
from fastkafka.cluster.metadata.metadata_loader import MetadataLoader
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import AlterConfigsRequest, CreateTopicsRequest, IncrementalAlterConfigsRequest

from fake_raft import InMemoryRaft

SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
TOPIC, BROKER, BROKER_LOGGER = 2, 4, 8
IR = IncrementalAlterConfigsRequest.AlterConfigsResource
IC = IncrementalAlterConfigsRequest.AlterableConfig
LR = AlterConfigsRequest.AlterConfigsResource
LC = AlterConfigsRequest.AlterableConfig


def run(coro):
    return asyncio.run(coro)


async def make(static=None):
    from fastkafka.cluster.config_admin_manager import ConfigAdminManager
    from fastkafka.cluster.controller.quorum_controller import QuorumController

    loader = MetadataLoader()
    c = QuorumController(InMemoryRaft(loader), loader, node_id=1, rng=random.Random(1),
                         broker_defaults=static or {})
    await c.bootstrap()
    await c.register_broker(1, b"\x01" * 16, [Endpoint("PLAINTEXT", "localhost", 9092, 0)],
                            {"metadata.version": (7, 27)}, None)
    await c.create_topics(CreateTopicsRequest(topics=[CreateTopicsRequest.CreatableTopic(
        name="t", num_partitions=1, replication_factor=1, assignments=[], configs=[])],
        timeout_ms=1000, validate_only=False), 7)
    return c, ConfigAdminManager(1, lambda: c.image.configs, c)


def inc(cam, *resources, validate_only=False):
    req = IncrementalAlterConfigsRequest(resources=[
        IR(resource_type=t, resource_name=n, configs=[IC(name=k, config_operation=op, value=v) for k, op, v in ops])
        for t, n, ops in resources], validate_only=validate_only)
    resp = run_in(cam.incremental_alter_configs(req, 1))
    return [(r.error_code, r.error_message) for r in resp.responses]


def legacy(cam, *resources, validate_only=False):
    req = AlterConfigsRequest(resources=[
        LR(resource_type=t, resource_name=n, configs=[LC(name=k, value=v) for k, v in kv])
        for t, n, kv in resources], validate_only=validate_only)
    resp = run_in(cam.alter_configs(req, 2))
    return [(r.error_code, r.error_message) for r in resp.responses]


_loop = None


def run_in(coro):
    return _loop.run_until_complete(coro)


@pytest.fixture
def cam():
    global _loop
    _loop = asyncio.new_event_loop()
    c, m = _loop.run_until_complete(make({"log.retention.hours": "24"}))
    m.controller = c
    yield m
    _loop.close()


def broker_cfg(m, name):
    from fastkafka.cluster.metadata.config_resource import ConfigResource
    return dict(m.controller.image.configs.config(ConfigResource(BROKER, name)))


def test_dynamic_broker_configs_per_broker_and_default(cam):
    assert inc(cam, (BROKER, "1", [("log.retention.ms", SET, "1000"), ("log.cleaner.threads", SET, "2")]),
               (BROKER, "", [("log.segment.bytes", SET, "2097152")])) == [(0, None), (0, None)]
    assert broker_cfg(cam, "1") == {"log.retention.ms": "1000", "log.cleaner.threads": "2"}
    assert broker_cfg(cam, "") == {"log.segment.bytes": "2097152"}
    assert inc(cam, (BROKER, "1", [("log.cleaner.threads", DELETE, None)])) == [(0, None)]
    assert broker_cfg(cam, "1") == {"log.retention.ms": "1000"}
    # validate_only writes nothing
    assert inc(cam, (BROKER, "1", [("log.retention.ms", SET, "5")]), validate_only=True) == [(0, None)]
    assert broker_cfg(cam, "1") == {"log.retention.ms": "1000"}
    # Legacy AlterConfigs replaces the resource's whole set.
    assert legacy(cam, (BROKER, "1", [("log.retention.bytes", "10")])) == [(0, None)]
    assert broker_cfg(cam, "1") == {"log.retention.bytes": "10"}


def test_broker_config_errors(cam):
    ir = Errors.INVALID_REQUEST
    assert inc(cam, (BROKER, "1", [("log.dirs", SET, "/x"), ("num.io.threads", SET, "4")])) == [
        (ir, "Cannot update these configs dynamically: [log.dirs]")]
    assert inc(cam, (BROKER, "1", [("log.retention.ms", SET, "abc")])) == [
        (ir, "Invalid value abc for configuration log.retention.ms: Not a number of type LONG")]
    assert inc(cam, (BROKER, "1", [("log.segment.bytes", SET, "10")])) == [
        (ir, "Invalid value 10 for configuration log.segment.bytes: Value must be at least 1048576")]
    assert inc(cam, (BROKER, "2", [("log.retention.ms", SET, "1")])) == [
        (ir, "Unexpected broker id, expected 1, but received 2")]
    assert inc(cam, (BROKER, "x", [("log.retention.ms", SET, "1")])) == [
        (ir, "Node id must be an integer, but it is: x")]
    assert inc(cam, (BROKER, "1", [("log.retention.ms", SET, "1"), ("log.retention.ms", SET, "2")])) == [
        (ir, "Error due to duplicate config keys")]
    assert inc(cam, (BROKER, "1", [("log.retention.ms", SET, None)])) == [
        (ir, "Null value not supported for : log.retention.ms")]
    assert inc(cam, (BROKER, "1", [("log.retention.ms", APPEND, "1")])) == [
        (Errors.INVALID_CONFIG, "Config value append is not allowed for config key: log.retention.ms")]
    assert inc(cam, (TOPIC, "t", [("retention.ms", SET, "1")]), (TOPIC, "t", [("retention.ms", SET, "2")])) == [
        (ir, "Each resource must appear at most once.")] * 2
    assert legacy(cam, (BROKER_LOGGER, "1", [("root", "INFO")])) == [(ir, "Unknown resource type 8")]
    assert broker_cfg(cam, "1") == {}


def test_topic_config_rules(cam):
    ic = Errors.INVALID_CONFIG
    assert inc(cam, (TOPIC, "t", [("segment.bytes", SET, "10")])) == [
        (ic, "Invalid value 10 for configuration segment.bytes: Value must be at least 1048576")]
    assert inc(cam, (TOPIC, "t", [("foo.bar", SET, "1")])) == [(ic, "Unknown topic config name: foo.bar")]
    assert inc(cam, (TOPIC, "t", [("message.timestamp.type", SET, "Whenever")])) == [
        (ic, "Invalid value Whenever for configuration message.timestamp.type: String must be one of: "
             "CreateTime, LogAppendTime")]
    assert inc(cam, (TOPIC, "nope", [("retention.ms", SET, "1")])) == [
        (Errors.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'nope' does not exist.")]
    assert inc(cam, (TOPIC, "", [("retention.ms", SET, "1")])) == [
        (Errors.INVALID_REQUEST, "Default topic resources are not allowed.")]
    assert inc(cam, (TOPIC, "t", [("retention.ms", APPEND, "1")])) == [
        (ic, "Can't APPEND to key retention.ms because its type is not LIST.")]
    # APPEND/SUBTRACT start from the default of a list key that is not set.
    assert inc(cam, (TOPIC, "t", [("cleanup.policy", APPEND, "compact")])) == [(0, None)]
    assert cam.controller.image.configs.topic_config("t") == {"cleanup.policy": "delete,compact"}
    assert inc(cam, (TOPIC, "t", [("cleanup.policy", SUBTRACT, "delete")])) == [(0, None)]
    assert cam.controller.image.configs.topic_config("t") == {"cleanup.policy": "compact"}


def test_dynamic_broker_config_layers():
    from fastkafka.cluster.dynamic_broker_config import DynamicBrokerConfig, broker_config_synonyms
    from fastkafka.cluster.metadata.config_resource import ConfigResource
    from fastkafka.cluster.metadata.configuration_image import ConfigurationsImage

    d = DynamicBrokerConfig(1, {"log.retention.hours": "24", "num.partitions": "3"})
    img = ConfigurationsImage({ConfigResource(BROKER, ""): {"log.retention.hours": "48", "log.segment.bytes": "2097152"},
                               ConfigResource(BROKER, "1"): {"log.segment.bytes": "4194304"},
                               ConfigResource(BROKER, "2"): {"log.segment.bytes": "1"}})
    assert d.update(img) is True
    assert d.update(img) is False
    eff = d.effective_props()
    assert eff["log.retention.hours"] == "48" and eff["log.segment.bytes"] == "4194304" and eff["num.partitions"] == "3"
    assert d.value("log.cleaner.threads") == "1" and d.value("log.retention.ms") is None
    assert broker_config_synonyms("log.retention.hours") == ("log.retention.ms", "log.retention.minutes",
                                                             "log.retention.hours")
    assert broker_config_synonyms("log.flush.interval.ms") == ("log.flush.interval.ms", "log.flush.scheduler.interval.ms")
    assert broker_config_synonyms("log.flush.scheduler.interval.ms") == ("log.flush.scheduler.interval.ms",)


def test_describe_sources_and_synonyms():
    from fastkafka.cluster import config_describer as cd
    from fastkafka.cluster.dynamic_broker_config import DynamicBrokerConfig
    from fastkafka.cluster.metadata.config_resource import ConfigResource
    from fastkafka.cluster.metadata.configuration_image import ConfigurationsImage

    layers = DynamicBrokerConfig(1, {"log.dirs": "/data", "log.retention.hours": "24", "custom.key": "x"})
    layers.update(ConfigurationsImage({ConfigResource(BROKER, "1"): {"log.retention.ms": "7200000"},
                                       ConfigResource(BROKER, ""): {"log.segment.bytes": "2097152"}}))
    topic = {e.name: e for e in cd.describe_topic({"cleanup.policy": "compact"}, layers, None)}
    assert topic["retention.ms"].value == "7200000" and topic["retention.ms"].source == cd.DYNAMIC_BROKER_CONFIG
    assert [(s.name, s.value, s.source) for s in topic["retention.ms"].synonyms] == [
        ("log.retention.ms", "7200000", cd.DYNAMIC_BROKER_CONFIG),
        ("log.retention.hours", "24", cd.STATIC_BROKER_CONFIG),
        ("log.retention.hours", "168", cd.DEFAULT_CONFIG)]
    assert [(s.name, s.source) for s in topic["segment.bytes"].synonyms] == [
        ("log.segment.bytes", cd.DYNAMIC_DEFAULT_BROKER_CONFIG), ("log.segment.bytes", cd.DEFAULT_CONFIG)]
    assert topic["cleanup.policy"].source == cd.DYNAMIC_TOPIC_CONFIG
    assert topic["flush.ms"].synonyms == () and topic["flush.ms"].source == cd.DEFAULT_CONFIG
    assert topic["segment.bytes"].documentation and topic["segment.bytes"].config_type == 3

    broker = {e.name: e for e in cd.describe_broker(layers, None)}
    assert broker["log.dirs"].read_only and broker["log.dirs"].source == cd.STATIC_BROKER_CONFIG
    assert not broker["log.retention.ms"].read_only and broker["log.retention.ms"].value == "7200000"
    # Unknown keys have no type: sensitive, value hidden (KafkaConfig.maybeSensitive).
    assert broker["custom.key"].sensitive and broker["custom.key"].value is None
    assert broker["log.retention.minutes"].value is None and broker["log.retention.minutes"].synonyms == ()
    default = cd.describe_broker_default(layers, None)
    assert [(e.name, e.value, [s.source for s in e.synonyms]) for e in default] == [
        ("log.segment.bytes", "2097152", [cd.DYNAMIC_DEFAULT_BROKER_CONFIG])]

    fake = SimpleNamespace(config=SimpleNamespace(node_id=1), dynamic_config=layers,
                           topic_config_overrides=lambda t: None)
    for rtype, name, code, msg in [
        (cd.RESOURCE_BROKER, "2", Errors.INVALID_REQUEST, "Unexpected broker id, expected 1 or empty string, but received 2"),
        (cd.RESOURCE_BROKER, "b", Errors.INVALID_REQUEST, "Broker id must be an integer, but it is: b"),
        (cd.RESOURCE_BROKER_LOGGER, "", Errors.INVALID_REQUEST, "Broker id must not be empty"),
        (cd.RESOURCE_TOPIC, "t", Errors.UNKNOWN_TOPIC_OR_PARTITION, ""),
    ]:
        with pytest.raises(KafkaError) as e:
            cd.describe(fake, rtype, name, None)
        assert (e.value.code, e.value.message) == (code, msg)


def test_broker_loggers(cam):
    from fastkafka.cluster import broker_loggers

    logging.getLogger("fastkafka.test.configs")
    loggers = broker_loggers.current_loggers()
    assert "root" in loggers and "fastkafka.test.configs" in loggers
    assert inc(cam, (BROKER_LOGGER, "1", [("fastkafka.test.configs", SET, "DEBUG")])) == [(0, None)]
    assert broker_loggers.current_loggers()["fastkafka.test.configs"] == "DEBUG"
    assert inc(cam, (BROKER_LOGGER, "1", [("fastkafka.test.configs", DELETE, None)])) == [(0, None)]
    assert logging.getLogger("fastkafka.test.configs").level == logging.NOTSET
    ir, ic = Errors.INVALID_REQUEST, Errors.INVALID_CONFIG
    assert inc(cam, (BROKER_LOGGER, "1", [("no.such.logger", SET, "DEBUG")])) == [
        (ic, "Logger no.such.logger does not exist!")]
    assert inc(cam, (BROKER_LOGGER, "1", [("root", SET, "LOUD")])) == [
        (ic, "Cannot set the log level of root to LOUD as it is not a supported log level. "
             "Valid log levels are FATAL, ERROR, WARN, INFO, DEBUG, TRACE")]
    assert inc(cam, (BROKER_LOGGER, "1", [("root", DELETE, None)])) == [
        (ir, "Removing the log level of the root logger is not allowed")]
    assert inc(cam, (BROKER_LOGGER, "1", [("root", APPEND, "x")])) == [
        (ir, "APPEND operation is not allowed for the BROKER_LOGGER resource")]
    assert inc(cam, (BROKER_LOGGER, "2", [("root", SET, "INFO")])) == [
        (ir, "Unexpected node id. Expected 1, but received 1")]


def test_per_broker_only_keys_at_the_cluster_default(cam):
    assert inc(cam, (BROKER, "", [("listeners", SET, "PLAINTEXT://:1")])) == [
        (Errors.INVALID_REQUEST, "Cannot update these configs at default cluster level, broker id must be "
                                 "specified: [listeners]")]
    # fastkafka cannot rebind listeners: refused per broker as well (SKIPPED_FEATURES.md).
    assert inc(cam, (BROKER, "1", [("listeners", SET, "PLAINTEXT://:1")])) == [
        (Errors.INVALID_REQUEST, "Cannot update these configs dynamically: [listeners]")]
    assert inc(cam, (TOPIC, "t", [("cleanup.policy", SET, "compact,xx")])) == [
        (Errors.INVALID_CONFIG, "Invalid value xx for configuration cleanup.policy: String must be one of: compact, delete")]


def test_invalid_dynamic_layers_are_not_taken():
    from fastkafka.cluster.dynamic_broker_config import DynamicBrokerConfig
    from fastkafka.cluster.metadata.config_resource import ConfigResource
    from fastkafka.cluster.metadata.configuration_image import ConfigurationsImage

    d = DynamicBrokerConfig(1, {})
    assert d.update(ConfigurationsImage({ConfigResource(BROKER, ""): {"log.segment.bytes": "2097152"}}))
    # A record nobody validated (log.segment.bytes below Kafka's minimum): the previous layers stay.
    assert not d.update(ConfigurationsImage({ConfigResource(BROKER, ""): {"log.segment.bytes": "10"}}))
    assert d.effective_props()["log.segment.bytes"] == "2097152"


def test_broker_docs_and_internal_keys():
    from fastkafka.broker_config_docs import BROKER_CONFIG_DOCS, broker_doc
    from fastkafka.cluster import config_describer as cd
    from fastkafka.cluster.dynamic_broker_config import DynamicBrokerConfig
    from fastkafka.config import BROKER_CONFIG_DEFS

    assert set(BROKER_CONFIG_DOCS) <= set(BROKER_CONFIG_DEFS)
    assert all(broker_doc(k) for k in BROKER_CONFIG_DEFS)
    assert "retention.ms" in broker_doc("log.retention.hours") and "(in hours)" in broker_doc("log.retention.hours")
    names = {e.name for e in cd.describe_broker(DynamicBrokerConfig(1, {}), None)}
    assert "log.initial.task.delay.ms" not in names and "log.retention.check.interval.ms" in names
    names = {e.name for e in cd.describe_broker(DynamicBrokerConfig(1, {"log.initial.task.delay.ms": "0"}), None)}
    assert "log.initial.task.delay.ms" in names
