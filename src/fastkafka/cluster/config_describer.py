"""What DescribeConfigs reports: each key's effective value, its source, and its synonyms
(Kafka's kafka.server.ConfigHelper).

Invariants (Kafka's, checked against Apache Kafka 4.1's kafka-configs output):
- A topic key's value is the LogConfig resolved from the topic override over the effective
  broker configs over the default. Its synonyms are the override (DYNAMIC_TOPIC_CONFIG) then
  the broker synonyms of its primary broker key (`retention.ms` <- `log.retention.ms`,
  `log.retention.minutes`, `log.retention.hours`) from the dynamic per-broker, dynamic default,
  static and default layers, in that order, with everything before the first entry naming the
  primary key dropped (so `retention.ms` lists no synonyms while `log.retention.ms` is unset).
  The source is the first synonym's, else DEFAULT_CONFIG. Topic keys are never read-only.
- A broker key (resource "<id>") lists every known key plus every key set statically or
  dynamically; the cluster default (resource "") lists only the keys set at that level, with
  only their DYNAMIC_DEFAULT_BROKER_CONFIG synonyms. `read_only` is true for keys Kafka cannot
  change at runtime. Keys with no known type are sensitive (KafkaConfig.maybeSensitive), and a
  sensitive value is never returned.
- Broker loggers list every logger with its effective level (DYNAMIC_BROKER_LOGGER_CONFIG).
- A group (any id, existing or not) lists every non-internal group key, and the internal ones it
  sets: its own value (GROUP_CONFIG) else its broker synonym's; synonyms are the group's value,
  then the broker key from the static config and Kafka's default (see cluster/group_config.py).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from fastkafka.broker_config_docs import broker_doc
from fastkafka.cluster import group_config
from fastkafka.cluster.broker_loggers import current_loggers
from fastkafka.cluster.dynamic_broker_config import DYNAMIC_CONFIGS, DynamicBrokerConfig, broker_config_synonyms
from fastkafka.cluster.kafka_broker_config_names import UNMODELLED_DEFAULTS, UNMODELLED_DYNAMIC
from fastkafka.cluster.metadata.config_resource import ConfigResource
from fastkafka.cluster.topic import topic_name_error
from fastkafka.config import BROKER_CONFIG_DEFS
from fastkafka.net.broker_services import BrokerServices
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.log_config import TOPIC_CONFIG_DEFS, LogConfig

# org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource
UNKNOWN = 0
DYNAMIC_TOPIC_CONFIG = 1
DYNAMIC_BROKER_CONFIG = 2
DYNAMIC_DEFAULT_BROKER_CONFIG = 3
STATIC_BROKER_CONFIG = 4
DEFAULT_CONFIG = 5
DYNAMIC_BROKER_LOGGER_CONFIG = 6
GROUP_CONFIG = 8

RESOURCE_TOPIC = 2
RESOURCE_BROKER = 4
RESOURCE_BROKER_LOGGER = 8
RESOURCE_GROUP = 32

# DescribeConfigsResponse.ConfigType
_CONFIG_TYPES = {"boolean": 1, "string": 2, "int": 3, "short": 4, "long": 5, "double": 6, "list": 7,
                 "class": 8, "password": 9}


@dataclasses.dataclass(frozen=True, slots=True)
class Synonym:
    name: str
    value: str | None
    source: int


@dataclasses.dataclass(frozen=True, slots=True)
class ConfigEntry:
    name: str
    value: str | None
    source: int
    read_only: bool
    sensitive: bool
    synonyms: tuple[Synonym, ...]
    config_type: int
    documentation: str | None


def _default_values() -> dict[str, str]:
    """Kafka's staticDefaultConfigs: every key with a non-null default. Where BROKER_CONFIG_DEFS
    carries a parsing fallback Kafka does not have (node.id and process.roles are required; the
    CONTROLLER mapping is implied), Kafka's ConfigDef default is reported."""
    out = {k: d.default for k, d in BROKER_CONFIG_DEFS.items() if d.default is not None}
    out.update(UNMODELLED_DEFAULTS)
    del out["node.id"], out["process.roles"]
    out["listener.security.protocol.map"] = "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT"
    return out


def _broker_type(name: str) -> str | None:
    d = BROKER_CONFIG_DEFS.get(name)
    if d is not None:
        return d.type
    # Dynamic keys Kafka defines that fastkafka stores without acting on: Kafka's type (a
    # password is sensitive, the rest are shown).
    spec = UNMODELLED_DYNAMIC.get(name)
    return spec[0] if spec is not None else None


def _config_synonyms(layers: DynamicBrokerConfig, name: str, sensitive: bool) -> list[Synonym]:
    """ConfigHelper.configSynonyms: the synonyms of `name` set at each layer, highest first,
    dropping those before the first one named `name`."""
    names = broker_config_synonyms(name)
    out: list[Synonym] = []
    for layer, source in ((layers.dynamic_broker, DYNAMIC_BROKER_CONFIG),
                          (layers.dynamic_default, DYNAMIC_DEFAULT_BROKER_CONFIG),
                          (layers.static_props, STATIC_BROKER_CONFIG),
                          (_DEFAULTS, DEFAULT_CONFIG)):
        for n in names:
            if n in layer:
                out.append(Synonym(n, None if sensitive else layer[n], source))
    while out and out[0].name != name:
        out.pop(0)
    return out


def describe_topic(overrides: Mapping[str, str], layers: DynamicBrokerConfig,
                   keys: Sequence[str] | None) -> list[ConfigEntry]:
    """Every topic key of a topic with these overrides (ConfigHelper.createTopicConfigEntry)."""
    log_config = LogConfig.from_props(layers.effective_props(), overrides)
    out = []
    for name in sorted(TOPIC_CONFIG_DEFS):
        if keys and name not in keys:
            continue
        d = TOPIC_CONFIG_DEFS[name]
        value = log_config.value_of(name)
        synonyms: list[Synonym] = []
        if name in overrides:
            synonyms.append(Synonym(name, value, DYNAMIC_TOPIC_CONFIG))
        if d.synonyms:
            synonyms.extend(_config_synonyms(layers, d.synonyms[0][0], False))
        source = synonyms[0].source if synonyms else DEFAULT_CONFIG
        out.append(ConfigEntry(name, value, source, False, False, tuple(synonyms),
                               _CONFIG_TYPES.get(d.type, 0), d.doc))
    return out


def _broker_entry(layers: DynamicBrokerConfig, name: str, value: str | None, per_broker: bool) -> ConfigEntry:
    type_ = _broker_type(name)
    sensitive = type_ is None or type_ == "password"
    synonyms = _config_synonyms(layers, name, sensitive)
    if not per_broker:
        synonyms = [s for s in synonyms if s.source == DYNAMIC_DEFAULT_BROKER_CONFIG]
    source = synonyms[0].source if synonyms else DEFAULT_CONFIG
    return ConfigEntry(name, None if sensitive else value, source, name not in DYNAMIC_CONFIGS, sensitive,
                       tuple(synonyms), _CONFIG_TYPES.get(type_ or "", 0), broker_doc(name))


def describe_broker(layers: DynamicBrokerConfig, keys: Sequence[str] | None) -> list[ConfigEntry]:
    """This broker's configs (resource name = its id): known keys and every key set anywhere."""
    names = (set(BROKER_CONFIG_DEFS) - _INTERNAL) | set(layers.static_props) | set(layers.dynamic_default) \
        | set(layers.dynamic_broker)
    return [_broker_entry(layers, n, layers.value(n), True)
            for n in sorted(names) if not keys or n in keys]


def describe_broker_default(layers: DynamicBrokerConfig, keys: Sequence[str] | None) -> list[ConfigEntry]:
    """The cluster-wide dynamic defaults (resource name "")."""
    return [_broker_entry(layers, n, v, False)
            for n, v in sorted(layers.dynamic_default.items()) if not keys or n in keys]


def describe_group(overrides: Mapping[str, str], static_props: Mapping[str, str],
                   keys: Sequence[str] | None) -> list[ConfigEntry]:
    """ConfigHelper.createGroupConfigEntry over GroupConfig.fromProps(broker values, overrides)."""
    out = []
    for k in sorted(group_config.GROUP_CONFIGS.values(), key=lambda k: k.name):
        if (k.internal and k.name not in overrides) or (keys and k.name not in keys):
            continue
        synonyms: list[Synonym] = []
        if k.broker_synonym is not None:
            # ConfigHelper.configSynonyms over the broker key: none of the group.* keys is
            # dynamic, so only the static and default layers can hold it.
            if k.broker_synonym in static_props:
                synonyms.append(Synonym(k.broker_synonym, static_props[k.broker_synonym], STATIC_BROKER_CONFIG))
            default = group_config.BROKER_GROUP_DEFAULTS.get(k.broker_synonym)
            if default is not None:
                synonyms.append(Synonym(k.broker_synonym, default, DEFAULT_CONFIG))
        elif k.default is not None:
            synonyms.append(Synonym(k.name, k.default, DEFAULT_CONFIG))
        if k.name in overrides:
            try:
                value = group_config.to_string(group_config.parse_value(k, overrides[k.name]), k.type)
            except KafkaError:  # written before a stricter check; shown as stored
                value = overrides[k.name]
            synonyms.insert(0, Synonym(k.name, value, GROUP_CONFIG))
        else:
            value = group_config.broker_synonym_value(static_props, k)
        source = synonyms[0].source if synonyms else DEFAULT_CONFIG
        out.append(ConfigEntry(k.name, value, source, False, False, tuple(synonyms),
                               _CONFIG_TYPES.get(k.type, 0), k.doc))
    return out


def _broker_id(name: str) -> int:
    try:
        return int(name)
    except ValueError:
        raise KafkaError(Errors.INVALID_REQUEST, f"Broker id must be an integer, but it is: {name}") from None


def describe(broker: BrokerServices, resource_type: int, resource_name: str,
             keys: Sequence[str] | None,
             topic_memo: dict[tuple[Any, ...], list[ConfigEntry]] | None = None) -> list[ConfigEntry]:
    """Entries for one DescribeConfigs resource, or KafkaError with the per-resource code.
    `topic_memo` (one request's): topics with the same overrides share one entry list (the same
    object), so describing 10,000 topics resolves each distinct override set once."""
    node_id = broker.config.node_id
    if resource_type == RESOURCE_TOPIC:
        err = topic_name_error(resource_name)
        if err:
            raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION, err)
        overrides = broker.topic_config_overrides(resource_name)
        if overrides is None:
            # Kafka sets no message here; the field's default (empty) goes on the wire.
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, "")
        if topic_memo is None:
            return describe_topic(overrides, broker.dynamic_config, keys)
        memo_key = (tuple(sorted(overrides.items())), tuple(keys) if keys else None)
        entries = topic_memo.get(memo_key)
        if entries is None:
            entries = topic_memo[memo_key] = describe_topic(overrides, broker.dynamic_config, keys)
        return entries
    if resource_type == RESOURCE_BROKER:
        if resource_name == "":
            return describe_broker_default(broker.dynamic_config, keys)
        if _broker_id(resource_name) != node_id:
            raise KafkaError(Errors.INVALID_REQUEST,
                             f"Unexpected broker id, expected {node_id} or empty string, but received {resource_name}")
        return describe_broker(broker.dynamic_config, keys)
    if resource_type == RESOURCE_BROKER_LOGGER:
        if resource_name == "":
            raise KafkaError(Errors.INVALID_REQUEST, "Broker id must not be empty")
        if _broker_id(resource_name) != node_id:
            raise KafkaError(Errors.INVALID_REQUEST,
                             f"Unexpected broker id, expected {node_id} but received {resource_name}")
        return [ConfigEntry(n, level, DYNAMIC_BROKER_LOGGER_CONFIG, False, False, (), 0, None)
                for n, level in current_loggers().items() if not keys or n in keys]
    if resource_type == RESOURCE_GROUP:
        if resource_name == "":
            raise KafkaError(Errors.INVALID_REQUEST, "Group name must not be empty")
        group_overrides = broker.image.configs.config(ConfigResource(RESOURCE_GROUP, resource_name))
        return describe_group(group_overrides, broker.config.props, keys)
    raise KafkaError(Errors.INVALID_REQUEST, f"Unsupported resource type: {resource_type}")


_DEFAULTS = _default_values()
# Keys Kafka defines as internal (ConfigDef.defineInternal) or does not define as configs:
# listed only when set (KafkaConfig.nonInternalValues).
_INTERNAL = frozenset({"log.initial.task.delay.ms", "cluster.id", "producer.id.expiration.check.interval.ms"})
