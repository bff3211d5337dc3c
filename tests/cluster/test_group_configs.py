"""GROUP config resources (type 32): the controller's GroupConfig.validate with Kafka 4.4's
messages, ConfigRecords of type 32 in the image, DescribeConfigs of a group (sources, synonyms,
values), ListConfigResources, and the consumer coordinator reading a group's session timeout and
heartbeat interval (clamped to the broker's bounds). Messages checked against Apache Kafka 4.4."""
import asyncio
from types import SimpleNamespace

import pytest

from fastkafka.cluster import group_config
from fastkafka.cluster.config_describer import DEFAULT_CONFIG, GROUP_CONFIG, STATIC_BROKER_CONFIG, describe_group
from fastkafka.cluster.group.consumer_group_manager import ConsumerGroupManager
from fastkafka.cluster.metadata.config_resource import ConfigResource
from fastkafka.net.handlers.k74_list_config_resources import list_config_resources
from fastkafka.protocol.errors import Errors, KafkaError

from test_config_model import APPEND, DELETE, SET, inc, legacy, make

GROUP = 32
IC = Errors.INVALID_CONFIG


@pytest.fixture
def cam():
    import test_config_model as m
    m._loop = asyncio.new_event_loop()
    c, mgr = m._loop.run_until_complete(make({"group.consumer.max.session.timeout.ms": "90000"}))
    yield mgr
    m._loop.close()


def group_cfg(cam, name):
    return dict(cam._controller.image.configs.config(ConfigResource(GROUP, name)))


def test_alter_and_delete_group_configs(cam):
    assert inc(cam, (GROUP, "g", [("consumer.session.timeout.ms", SET, "80000"),
                                  ("consumer.heartbeat.interval.ms", SET, "6000")])) == [(0, None)]
    assert group_cfg(cam, "g") == {"consumer.session.timeout.ms": "80000", "consumer.heartbeat.interval.ms": "6000"}
    assert inc(cam, (GROUP, "g", [("consumer.session.timeout.ms", DELETE, None)])) == [(0, None)]
    assert group_cfg(cam, "g") == {"consumer.heartbeat.interval.ms": "6000"}
    assert inc(cam, (GROUP, "g", [("consumer.heartbeat.interval.ms", SET, "7000")]), validate_only=True) == [(0, None)]
    assert group_cfg(cam, "g") == {"consumer.heartbeat.interval.ms": "6000"}
    # Legacy AlterConfigs (Kafka lets it through for groups too) replaces the whole set.
    assert legacy(cam, (GROUP, "g", [("share.delivery.count.limit", "3")])) == [(0, None)]
    assert group_cfg(cam, "g") == {"share.delivery.count.limit": "3"}
    image = cam._controller.image
    assert list_config_resources(image, "PLAINTEXT", {GROUP}) == [("g", GROUP)]


def test_group_config_errors(cam):
    cases = {
        ("consumer.session.timeout.ms", "95000"): "consumer.session.timeout.ms must be in the range 45000 to 90000 inclusive.",
        ("consumer.heartbeat.interval.ms", "100"): "consumer.heartbeat.interval.ms must be in the range 5000 to 15000 inclusive.",
        ("consumer.heartbeat.interval.ms", "abc"):
            "Invalid value abc for configuration consumer.heartbeat.interval.ms: Not a number of type INT",
        ("consumer.heartbeat.interval.ms", "0"):
            "Invalid value 0 for configuration consumer.heartbeat.interval.ms: Value must be at least 1",
        ("foo.bar", "1"): "Unknown group config name: foo.bar",
        ("share.isolation.level", "x"):
            "Invalid value x for configuration share.isolation.level: String must be one of: read_committed, read_uncommitted",
        ("share.renew.acknowledge.enable", "yes"):
            "Invalid value yes for configuration share.renew.acknowledge.enable: Expected value to be either true or false",
        ("streams.rack.aware.assignment.tags", "a, a"): "streams.rack.aware.assignment.tags must not contain duplicate tag keys.",
        ("streams.task.offset.interval.ms", "10"): "streams.task.offset.interval.ms must be greater than or equal to 15000",
        ("streams.num.warmup.replicas", "21"): "streams.num.warmup.replicas must be less than or equal to 20",
        ("errors.deadletterqueue.topic.name", "__dlq"):
            "errors.deadletterqueue.topic.name: DLQ topic name must not start with '__'",
    }
    for (k, v), message in cases.items():
        assert inc(cam, (GROUP, "g", [(k, SET, v)])) == [(IC, message)], k
    # The whole merged config is checked: the first key in definition order answers.
    assert inc(cam, (GROUP, "g", [("share.heartbeat.interval.ms", SET, "abc"),
                                  ("consumer.session.timeout.ms", SET, "x")])) == [
        (IC, "Invalid value x for configuration consumer.session.timeout.ms: Not a number of type INT")]
    assert inc(cam, (GROUP, "g", [("consumer.session.timeout.ms", APPEND, "1")])) == [
        (IC, "Can't APPEND to key consumer.session.timeout.ms because its type is not LIST.")]
    assert inc(cam, (GROUP, "", [("consumer.session.timeout.ms", SET, "50000")])) == [
        (Errors.INVALID_REQUEST, "Default group resources are not allowed.")]
    assert group_cfg(cam, "g") == {}


def test_session_must_exceed_heartbeat():
    broker = {"group.consumer.min.session.timeout.ms": "1000", "group.consumer.max.heartbeat.interval.ms": "60000"}
    with pytest.raises(KafkaError) as e:
        group_config.validate({"consumer.session.timeout.ms": "5000"}, broker)
    assert e.value.message == "consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms"
    group_config.validate({"consumer.session.timeout.ms": "6000"}, broker)


def test_describe_group_sources_and_synonyms():
    entries = {e.name: e for e in describe_group({"consumer.heartbeat.interval.ms": "06000", "streams.assignor.offload.enable": "TRUE"},
                                                 {"group.consumer.session.timeout.ms": "50000"}, None)}
    hb = entries["consumer.heartbeat.interval.ms"]
    assert (hb.value, hb.source) == ("6000", GROUP_CONFIG)
    assert [(s.name, s.value, s.source) for s in hb.synonyms] == [
        ("consumer.heartbeat.interval.ms", "6000", GROUP_CONFIG),
        ("group.consumer.heartbeat.interval.ms", "5000", DEFAULT_CONFIG)]
    st = entries["consumer.session.timeout.ms"]
    assert (st.value, st.source) == ("50000", STATIC_BROKER_CONFIG)
    assert [(s.value, s.source) for s in st.synonyms] == [("50000", STATIC_BROKER_CONFIG), ("45000", DEFAULT_CONFIG)]
    assert entries["streams.assignor.name"].value == "sticky"
    assert entries["share.auto.offset.reset"].synonyms[0].name == "share.auto.offset.reset"
    # Internal keys only when the group sets them.
    assert entries["streams.assignor.offload.enable"].value == "true"
    assert "consumer.assignor.offload.enable" not in entries
    assert len(entries) == 22
    assert [e.name for e in describe_group({}, {}, ["consumer.session.timeout.ms"])] == ["consumer.session.timeout.ms"]


def test_coordinator_reads_group_session_and_heartbeat():
    configs = {}
    image = SimpleNamespace(configs=SimpleNamespace(config=lambda r: configs.get(r, {})))
    mgr = ConsumerGroupManager(SimpleNamespace(image=image), {"group.consumer.heartbeat.interval.ms": "5000"})
    assert (mgr._session_timeout_ms("g"), mgr._heartbeat_interval_ms("g")) == (45000, 5000)
    configs[ConfigResource(GROUP, "g")] = {"consumer.session.timeout.ms": "50000", "consumer.heartbeat.interval.ms": "7000"}
    assert (mgr._session_timeout_ms("g"), mgr._heartbeat_interval_ms("g")) == (50000, 7000)
    assert mgr._heartbeat_interval_ms("other") == 5000
    # A value stored under wider bounds is capped to the broker's current ones (GroupConfig.evaluate).
    configs[ConfigResource(GROUP, "g")] = {"consumer.session.timeout.ms": "90000"}
    assert mgr._session_timeout_ms("g") == 60000
