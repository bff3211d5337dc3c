"""Which keys IncrementalAlterConfigs/AlterConfigs accept on a BROKER resource: exactly Kafka 4.4's
DynamicBrokerConfig.validateConfigs (names from the 4.4 jars in kafka_broker_config_names)."""
from __future__ import annotations

import pytest

from fastkafka.cluster.dynamic_broker_config import validate_dynamic_broker_configs
from fastkafka.cluster.kafka_broker_config_names import NON_DYNAMIC, UNMODELLED_DYNAMIC
from fastkafka.protocol.errors import Errors, KafkaError


def _error(props: dict[str, str], per_broker: bool) -> str | None:
    try:
        validate_dynamic_broker_configs(props, per_broker)
    except KafkaError as e:
        assert e.error == Errors.INVALID_REQUEST
        return e.message
    return None


@pytest.mark.parametrize("key, value", [
    ("sasl.kerberos.min.time.before.relogin", "120000"), ("ssl.client.auth", "required"),
    ("follower.replication.throttled.rate", "1000"), ("remote.log.reader.threads", "3"),
    ("sasl.kerberos.ticket.renew.jitter", "0.1"), ("listener.name.plaintext.ssl.keystore.type", "PKCS12"),
    ("my.custom.key", "anything"),
])
def test_kafka_dynamic_keys_are_accepted_per_broker(key: str, value: str) -> None:
    assert _error({key: value}, True) is None


def test_refusals_in_kafkas_order_and_words() -> None:
    assert _error({"request.timeout.ms": "1"}, True) == "Cannot update these configs dynamically: [request.timeout.ms]"
    assert _error({"ssl.keystore.location": "/x"}, True) == (
        "These security configs can be dynamically updated only per-listener using the listener prefix: "
        "[ssl.keystore.location]")
    assert _error({"sasl.kerberos.min.time.before.relogin": "x"}, True) == (
        "Invalid value x for configuration sasl.kerberos.min.time.before.relogin: Not a number of type LONG")
    assert _error({"listener.name.plaintext.ssl.client.auth": "maybe"}, True) == (
        "Invalid value maybe for configuration ssl.client.auth: String must be one of: required, requested, none")
    assert _error({"max.decompressed.message.bytes": "2147483640"}, True) == (
        "Invalid value 2147483640 for configuration max.decompressed.message.bytes: Value must be no more than "
        "2147483639")
    assert _error({"sasl.kerberos.min.time.before.relogin": "1", "ssl.client.auth": "none"}, False) == (
        "Cannot update these configs at default cluster level, broker id must be specified: "
        "[sasl.kerberos.min.time.before.relogin, ssl.client.auth]")
    assert _error({"listener.name.plaintext.max.connections": "10"}, False) is None
    assert _error({"listeners": "PLAINTEXT://:9092"}, True) == "Cannot update these configs dynamically: [listeners]"


def test_the_name_tables_do_not_overlap() -> None:
    assert not NON_DYNAMIC & set(UNMODELLED_DYNAMIC)
