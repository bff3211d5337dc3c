"""What DescribeConfigs reports: each key's effective value, its source, and its synonyms.

Kafka's ConfigHelper: a topic key resolves to the topic override (DYNAMIC_TOPIC_CONFIG), else the
first broker synonym that is set (dynamic broker, dynamic default, then static broker config),
else the default. Synonyms are listed in that precedence order. Values are strings as Kafka
shows them; sensitive values are never returned.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from fastkafka.cluster.topic import topic_name_error
from fastkafka.config import BROKER_CONFIG_DEFS
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.log_config import TOPIC_CONFIG_DEFS

# org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource
UNKNOWN = 0
DYNAMIC_TOPIC_CONFIG = 1
DYNAMIC_BROKER_CONFIG = 2
DYNAMIC_DEFAULT_BROKER_CONFIG = 3
STATIC_BROKER_CONFIG = 4
DEFAULT_CONFIG = 5

RESOURCE_TOPIC = 2
RESOURCE_BROKER = 4
RESOURCE_BROKER_LOGGER = 8

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


def _scaled(raw: str, multiplier: int) -> str:
    if multiplier == 1:
        return raw
    try:
        return str(int(raw) * multiplier)
    except ValueError:
        return raw


def describe_topic(overrides: dict[str, str], static_props: dict[str, str],
                   keys: Sequence[str] | None) -> list[ConfigEntry]:
    out = []
    for name in sorted(TOPIC_CONFIG_DEFS):
        if keys is not None and name not in keys:
            continue
        d = TOPIC_CONFIG_DEFS[name]
        synonyms: list[Synonym] = []
        if name in overrides:
            synonyms.append(Synonym(name, overrides[name], DYNAMIC_TOPIC_CONFIG))
        for syn, mult in d.synonyms:
            if syn in static_props:
                synonyms.append(Synonym(syn, _scaled(static_props[syn], mult), STATIC_BROKER_CONFIG))
        if d.default is not None or not synonyms:
            synonyms.append(Synonym(name if not d.synonyms else d.synonyms[0][0], d.default, DEFAULT_CONFIG))
        top = synonyms[0]
        out.append(ConfigEntry(name, top.value, top.source, False, False, tuple(synonyms),
                               _CONFIG_TYPES.get(d.type, 0), d.doc))
    return out


def describe_broker(static_props: dict[str, str], keys: Sequence[str] | None) -> list[ConfigEntry]:
    out = []
    for name in sorted(BROKER_CONFIG_DEFS):
        if keys is not None and name not in keys:
            continue
        d = BROKER_CONFIG_DEFS[name]
        synonyms: list[Synonym] = []
        if name in static_props:
            synonyms.append(Synonym(name, static_props[name], STATIC_BROKER_CONFIG))
        if d.default is not None:
            synonyms.append(Synonym(name, d.default, DEFAULT_CONFIG))
        top = synonyms[0] if synonyms else Synonym(name, None, DEFAULT_CONFIG)
        out.append(ConfigEntry(name, top.value, top.source, d.read_only, d.sensitive, tuple(synonyms),
                               _CONFIG_TYPES.get(d.type, 0), None))
    return out


def describe(broker: Any, resource_type: int, resource_name: str,
             keys: Sequence[str] | None) -> list[ConfigEntry]:
    """Entries for one DescribeConfigs resource, or KafkaError with the per-resource code."""
    if resource_type == RESOURCE_TOPIC:
        err = topic_name_error(resource_name)
        if err:
            raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION, err)
        overrides = broker.topic_config_overrides(resource_name)
        if overrides is None:
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic {resource_name} does not exist")
        return describe_topic(overrides, broker.config.props, keys)
    if resource_type in (RESOURCE_BROKER, RESOURCE_BROKER_LOGGER):
        if resource_name not in ("", str(broker.config.node_id)):
            raise KafkaError(Errors.INVALID_REQUEST,
                             f"Unexpected broker id, expected {broker.config.node_id} or empty string, "
                             f"but received {resource_name}")
        if resource_type == RESOURCE_BROKER_LOGGER:
            return []
        return describe_broker(broker.config.props, keys)
    raise KafkaError(Errors.INVALID_REQUEST, f"Unsupported resource type {resource_type}")
