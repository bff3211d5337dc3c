"""Dynamic broker configs (Kafka's kafka.server.DynamicBrokerConfig, KRaft mode).

Broker configs live at two levels in the metadata log, as ConfigRecords of resource type BROKER:
per broker (resource name "1") and the cluster-wide default (resource name ""). A key resolves in
Kafka's order: DYNAMIC_BROKER_CONFIG, then DYNAMIC_DEFAULT_BROKER_CONFIG, then
STATIC_BROKER_CONFIG (server.properties), then DEFAULT_CONFIG (the ConfigDef default).

Invariants:
- Only keys Kafka allows to change at runtime (`DYNAMIC_CONFIGS`, Kafka's AllDynamicConfigs) may
  be set; a key Kafka knows outside it (kafka_broker_config_names.NON_DYNAMIC, or one fastkafka
  models) is refused with INVALID_REQUEST "Cannot update these configs dynamically: [...]";
  dynamic keys fastkafka does not act on (SASL/SSL, remote storage, throttles...) are stored and
  described as Kafka does; unknown (custom) keys are accepted as Kafka does.
- `DynamicBrokerConfig` is the broker's single owner of the current dynamic values: it is
  refreshed from each published metadata image and never mutated elsewhere; `effective_props()`
  is a fresh dict, safe to hand to LogConfig.
- Validation raises KafkaError with Kafka's codes and messages (the broker-side
  ConfigAdminManager turns ConfigException into INVALID_REQUEST).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from fastkafka.cluster.kafka_broker_config_names import NON_DYNAMIC, UNMODELLED_DYNAMIC
from fastkafka.cluster.metadata.config_resource import ConfigResource, ConfigResourceType
from fastkafka.cluster.metadata.configuration_image import ConfigurationsImage
from fastkafka.config import BROKER_CONFIG_DEFS
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.log_config import TOPIC_CONFIG_DEFS, LogConfig, broker_value_error

log = logging.getLogger("fastkafka.server.DynamicBrokerConfig")

__all__ = [
    "DYNAMIC_CONFIGS", "PER_BROKER_CONFIGS", "DynamicBrokerConfig", "broker_config_synonyms",
    "scala_set", "validate_dynamic_broker_configs",
]

# Kafka's DynamicLogConfig.ReconfigurableConfigs: the primary broker synonym of every topic
# config (ServerTopicConfigSynonyms.TOPIC_CONFIG_SYNONYMS values).
_LOG_CONFIGS = frozenset(d.synonyms[0][0] for d in TOPIC_CONFIG_DEFS.values() if d.synonyms)

# The rest of Kafka's DynamicBrokerConfig.AllDynamicConfigs.
_CLEANER_CONFIGS = frozenset({
    "log.cleaner.threads", "log.cleaner.dedupe.buffer.size", "log.cleaner.io.buffer.load.factor",
    "log.cleaner.io.buffer.size", "message.max.bytes", "log.cleaner.io.max.bytes.per.second",
    "log.cleaner.backoff.ms",
})
_THREAD_POOL_CONFIGS = frozenset({
    "num.io.threads", "num.replica.fetchers", "num.recovery.threads.per.data.dir", "background.threads",
})
_SOCKET_SERVER_CONFIGS = frozenset({
    "max.connections.per.ip", "max.connections.per.ip.overrides", "max.connections",
    "max.connection.creation.rate", "num.network.threads",
})
_OTHER_CONFIGS = frozenset({
    "metric.reporters", "producer.id.expiration.ms", "transaction.partition.verification.enable",
    "remote.log.index.file.cache.total.size.bytes", "remote.fetch.max.wait.ms",
    "remote.log.manager.copy.max.bytes.per.second", "remote.log.manager.fetch.max.bytes.per.second",
    "remote.list.offsets.request.timeout.ms",
})
# Kafka's DynamicBrokerConfig.PER_BROKER_CONFIGS (DynamicSecurityConfigs and the listener keys, less
# the cluster-level listener keys): refused at the cluster default with Kafka's message. fastkafka
# stores and describes them per broker (serving PLAINTEXT only, it does not act on them), except the
# listener keys it cannot rebind at runtime (_NOT_REBINDABLE).
PER_BROKER_CONFIGS: frozenset[str] = frozenset({
    "advertised.listeners", "listeners", "listener.security.protocol.map", "principal.builder.class",
    "cordoned.log.dirs", "sasl.mechanism.inter.broker.protocol",
    "ssl.protocol", "ssl.provider", "ssl.cipher.suites", "ssl.enabled.protocols", "ssl.keystore.type",
    "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password", "ssl.keystore.key",
    "ssl.keystore.certificate.chain", "ssl.truststore.type", "ssl.truststore.location",
    "ssl.truststore.password", "ssl.truststore.certificates", "ssl.keymanager.algorithm",
    "ssl.trustmanager.algorithm", "ssl.endpoint.identification.algorithm",
    "ssl.secure.random.implementation", "ssl.client.auth", "ssl.engine.factory.class",
    "sasl.enabled.mechanisms", "sasl.kerberos.service.name", "sasl.kerberos.kinit.cmd",
    "sasl.kerberos.ticket.renew.window.factor", "sasl.kerberos.ticket.renew.jitter",
    "sasl.kerberos.min.time.before.relogin", "sasl.kerberos.principal.to.local.rules", "sasl.jaas.config",
    "sasl.login.refresh.window.factor", "sasl.login.refresh.window.jitter",
    "sasl.login.refresh.min.period.seconds", "sasl.login.refresh.buffer.seconds",
})
# Kafka's DynamicBrokerConfig.DYNAMIC_SECURITY_CONFIGS (SslConfigs.RECONFIGURABLE_CONFIGS): only
# under a listener prefix (listener.name.<listener>.<key>).
_SECURITY_CONFIGS = frozenset({
    "ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
    "ssl.keystore.key", "ssl.keystore.certificate.chain", "ssl.truststore.type", "ssl.truststore.location",
    "ssl.truststore.password", "ssl.truststore.certificates",
})
# Kafka's CLUSTER_LEVEL_LISTENER_CONFIGS: listener-prefixed keys allowed at the cluster default.
_CLUSTER_LEVEL_LISTENER_CONFIGS = frozenset({"max.connections", "max.connection.creation.rate", "num.network.threads"})
_LISTENER_PREFIX = re.compile(r"^listener\.name\.[^.]*\.(.*)$")
# Dynamic in Kafka, where changing them rebinds listeners; fastkafka cannot, so it refuses them as
# non-dynamic (Kafka refuses most values too, as listener reconfiguration failures).
_NOT_REBINDABLE = frozenset({"listeners", "advertised.listeners", "listener.security.protocol.map"})

DYNAMIC_CONFIGS: frozenset[str] = (
    _LOG_CONFIGS | _CLEANER_CONFIGS | _THREAD_POOL_CONFIGS | _SOCKET_SERVER_CONFIGS | _OTHER_CONFIGS
    | frozenset(UNMODELLED_DYNAMIC) | (PER_BROKER_CONFIGS - _NOT_REBINDABLE))

_SYNONYM_GROUPS = (
    ("log.roll.ms", "log.roll.hours"),
    ("log.roll.jitter.ms", "log.roll.jitter.hours"),
    ("log.flush.interval.ms", "log.flush.scheduler.interval.ms"),
    ("log.retention.ms", "log.retention.minutes", "log.retention.hours"),
)


def broker_config_synonyms(name: str) -> tuple[str, ...]:
    """Kafka's DynamicBrokerConfig.brokerConfigSynonyms: the keys that define the same setting,
    in precedence order (log.retention.ms before .minutes before .hours)."""
    for group in _SYNONYM_GROUPS:
        if name in group:
            # log.flush.scheduler.interval.ms only stands in for log.flush.interval.ms.
            return group if name == group[0] or name != "log.flush.scheduler.interval.ms" else (name,)
    return (name,)


def scala_set(names: Iterable[str]) -> str:
    """How Kafka 4.4's messages print a set of names (a java.util.Set, sorted here)."""
    return "[" + ", ".join(sorted(names)) + "]"


def _base_name(key: str) -> str:
    m = _LISTENER_PREFIX.match(key)
    return m.group(1) if m else key


def _unmodelled_value_error(key: str, raw: str) -> str | None:
    """Kafka's ConfigDef.parseType and validator for a dynamic key fastkafka does not model."""
    spec = UNMODELLED_DYNAMIC.get(key)
    if spec is None:
        return None
    type_, lo, hi, choices = spec
    v = raw.strip()
    if type_ in ("int", "long", "short"):
        bits = {"int": 31, "long": 63, "short": 15}[type_]
        try:
            n = int(v)
        except ValueError:
            n = None
        if n is None or not -(1 << bits) <= n < (1 << bits):
            return f"Invalid value {raw} for configuration {key}: Not a number of type {type_.upper()}"
        if lo is not None and n < lo:
            return f"Invalid value {raw} for configuration {key}: Value must be at least {lo}"
        if hi is not None and n > hi:
            return f"Invalid value {raw} for configuration {key}: Value must be no more than {hi}"
    elif type_ == "double":
        try:
            float(v)
        except ValueError:
            return f"Invalid value {raw} for configuration {key}: Not a number of type DOUBLE"
    elif type_ == "boolean":
        if v.lower() not in ("true", "false"):
            return f"Invalid value {raw} for configuration {key}: Expected value to be either true or false"
    elif choices is not None and v not in choices:
        return f"Invalid value {raw} for configuration {key}: String must be one of: {', '.join(choices)}"
    return None


def validate_dynamic_broker_configs(props: Mapping[str, str], per_broker: bool) -> None:
    """Kafka's DynamicBrokerConfig.validateConfigs as the broker's ConfigAdminManager applies it
    (every failure is INVALID_REQUEST), in Kafka's order: keys that are not dynamic, security keys
    without a listener prefix, value types, then per-broker keys at the cluster default."""
    non_dynamic = [k for k in props if k in NON_DYNAMIC or (
        k in BROKER_CONFIG_DEFS and k not in DYNAMIC_CONFIGS and k not in _NOT_REBINDABLE)]
    if non_dynamic:
        raise KafkaError(Errors.INVALID_REQUEST, f"Cannot update these configs dynamically: {scala_set(non_dynamic)}")
    unprefixed = [k for k in props if k in _SECURITY_CONFIGS]
    if unprefixed:
        raise KafkaError(Errors.INVALID_REQUEST, "These security configs can be dynamically updated only "
                                                 f"per-listener using the listener prefix: {scala_set(unprefixed)}")
    for k, v in props.items():
        base = _base_name(k)
        err = broker_value_error(base, v) or _unmodelled_value_error(base, v)
        if err is not None:
            raise KafkaError(Errors.INVALID_REQUEST, err)
    if not per_broker:
        per = [k for k in props if k in PER_BROKER_CONFIGS
               or (_base_name(k) != k and _base_name(k) not in _CLUSTER_LEVEL_LISTENER_CONFIGS)]
        if per:
            raise KafkaError(Errors.INVALID_REQUEST,
                             f"Cannot update these configs at default cluster level, broker id must be "
                             f"specified: {scala_set(per)}")
    else:
        fixed = [k for k in props if k in _NOT_REBINDABLE]
        if fixed:
            raise KafkaError(Errors.INVALID_REQUEST, f"Cannot update these configs dynamically: {scala_set(fixed)}")


_EMPTY: Mapping[str, str] = MappingProxyType({})


class DynamicBrokerConfig:
    """The broker's view of its configs: static properties plus the dynamic layers from the
    metadata image. Owner: the KafkaRaftServer (refreshed by its metadata publisher)."""

    def __init__(self, node_id: int, static_props: Mapping[str, str]) -> None:
        self.node_id = node_id
        static = dict(static_props)
        if "broker.id" not in static and "node.id" in static:
            static["broker.id"] = static["node.id"]  # KafkaConfig keeps broker.id equal to node.id
        self.static_props: Mapping[str, str] = MappingProxyType(static)
        self.dynamic_broker: Mapping[str, str] = _EMPTY
        self.dynamic_default: Mapping[str, str] = _EMPTY

    def update(self, configs: ConfigurationsImage) -> bool:
        """Take the BROKER layers from an image; True if anything changed. Layers that would
        not give a valid log config are not taken (Kafka keeps its current config when a
        reconfiguration fails, and logs it); they were validated before being written, so this
        only guards against records written by something else."""
        per = dict(configs.config(ConfigResource(ConfigResourceType.BROKER, str(self.node_id))))
        dflt = dict(configs.config(ConfigResource(ConfigResourceType.BROKER, "")))
        if per == dict(self.dynamic_broker) and dflt == dict(self.dynamic_default):
            return False
        candidate = dict(self.static_props)
        candidate.update(dflt)
        candidate.update(per)
        try:
            LogConfig.from_props(candidate, {})
        except KafkaError as e:
            log.error("Failed to update broker configuration with configs %s: %s", sorted(per) + sorted(dflt), e.message)
            return False
        self.dynamic_broker = MappingProxyType(per)
        self.dynamic_default = MappingProxyType(dflt)
        return True

    def effective_props(self) -> dict[str, str]:
        """Static props overlaid by the cluster default, then by this broker's own configs."""
        out = dict(self.static_props)
        out.update(self.dynamic_default)
        out.update(self.dynamic_broker)
        return out

    def value(self, key: str) -> str | None:
        for layer in (self.dynamic_broker, self.dynamic_default, self.static_props):
            if key in layer:
                return layer[key]
        d = BROKER_CONFIG_DEFS.get(key)
        return d.default if d is not None else None
