"""Dynamic broker configs Kafka 4.4 accepts although fastkafka does not act on them (SASL/SSL keys
per broker, throttles, remote-storage pools, group coordinator buffers...), through Kafka 4.4's
`kafka-configs`: stored and described per broker and at the cluster default, with Kafka's
refusals (INVALID_REQUEST) for per-broker keys at the cluster default, security keys without a
listener prefix, keys Kafka cannot change dynamically, and values of the wrong type or range.

Passes against fastkafka and against Apache Kafka 4.4 (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import pytest

from broker_process import BrokerProcess
from kafka_java import run_tool

pytestmark = pytest.mark.interop

CONFIGS = "org.apache.kafka.tools.ConfigCommand"


def _configs(bootstrap: str, *args: str, check: bool = True) -> tuple[int, list[str], str]:
    p = run_tool(CONFIGS, "--bootstrap-server", bootstrap, *args, check=check)
    return p.returncode, p.stdout.decode().splitlines(), p.stderr.decode()


def _alter(bootstrap: str, *entity_and_config: str, check: bool = True) -> tuple[int, str]:
    rc, out, err = _configs(bootstrap, "--alter", "--entity-type", "brokers", *entity_and_config, check=check)
    return rc, "\n".join(out) + err


def _describe(bootstrap: str, *entity: str) -> list[str]:
    _, out, _ = _configs(bootstrap, "--describe", "--entity-type", "brokers", *entity)
    return [ln.strip() for ln in out[1:] if ln.strip()]


def test_unmodelled_dynamic_broker_configs_are_stored_and_described(fresh_broker: BrokerProcess) -> None:
    bs = fresh_broker.bootstrap
    _alter(bs, "--entity-name", "1", "--add-config",
           "sasl.kerberos.min.time.before.relogin=120000,group.coordinator.cached.buffer.max.bytes=2097152")
    _alter(bs, "--entity-default", "--add-config",
           "follower.replication.throttled.rate=1048576,remote.log.reader.threads=12")
    per_broker = _describe(bs, "--entity-name", "1")
    assert ("sasl.kerberos.min.time.before.relogin=120000 sensitive=false "
            "synonyms={DYNAMIC_BROKER_CONFIG:sasl.kerberos.min.time.before.relogin=120000, "
            "DEFAULT_CONFIG:sasl.kerberos.min.time.before.relogin=60000}") in per_broker
    assert ("group.coordinator.cached.buffer.max.bytes=2097152 sensitive=false "
            "synonyms={DYNAMIC_BROKER_CONFIG:group.coordinator.cached.buffer.max.bytes=2097152, "
            "DEFAULT_CONFIG:group.coordinator.cached.buffer.max.bytes=1048588}") in per_broker
    default = _describe(bs, "--entity-default")
    assert ("follower.replication.throttled.rate=1048576 sensitive=false "
            "synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:follower.replication.throttled.rate=1048576}") in default
    assert ("remote.log.reader.threads=12 sensitive=false "
            "synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:remote.log.reader.threads=12}") in default

    _alter(bs, "--entity-name", "1", "--delete-config", "sasl.kerberos.min.time.before.relogin")
    assert not any(ln.startswith("sasl.kerberos.min.time.before.relogin=")
                   for ln in _describe(bs, "--entity-name", "1"))


@pytest.mark.parametrize("entity, config, message", [
    (("--entity-default",), "sasl.kerberos.min.time.before.relogin=60000",
     "Cannot update these configs at default cluster level, broker id must be specified: "
     "[sasl.kerberos.min.time.before.relogin]"),
    (("--entity-default",), "listener.name.plaintext.ssl.client.auth=none",
     "Cannot update these configs at default cluster level, broker id must be specified: "
     "[listener.name.plaintext.ssl.client.auth]"),
    (("--entity-name", "1"), "ssl.keystore.type=JKS",
     "These security configs can be dynamically updated only per-listener using the listener prefix: "
     "[ssl.keystore.type]"),
    (("--entity-name", "1"), "request.timeout.ms=1000", "Cannot update these configs dynamically: [request.timeout.ms]"),
    (("--entity-default",), "socket.send.buffer.bytes=1000",
     "Cannot update these configs dynamically: [socket.send.buffer.bytes]"),
    (("--entity-name", "1"), "sasl.kerberos.min.time.before.relogin=abc",
     "Invalid value abc for configuration sasl.kerberos.min.time.before.relogin: Not a number of type LONG"),
    (("--entity-name", "1"), "group.coordinator.cached.buffer.max.bytes=1",
     "Invalid value 1 for configuration group.coordinator.cached.buffer.max.bytes: Value must be at least 524288"),
    (("--entity-default",), "leader.replication.throttled.rate=-5",
     "Invalid value -5 for configuration leader.replication.throttled.rate: Value must be at least 0"),
    (("--entity-name", "1"), "ssl.client.auth=bogus",
     "Invalid value bogus for configuration ssl.client.auth: String must be one of: required, requested, none"),
    (("--entity-name", "1"), "sasl.login.refresh.buffer.seconds=99999",
     "Invalid value 99999 for configuration sasl.login.refresh.buffer.seconds: Not a number of type SHORT"),
])
def test_refused_broker_configs_get_kafkas_invalid_request(broker: BrokerProcess, entity: tuple[str, ...],
                                                           config: str, message: str) -> None:
    rc, err = _alter(broker.bootstrap, *entity, "--add-config", config, check=False)
    assert rc != 0 and f"InvalidRequestException: {message}" in err, err
