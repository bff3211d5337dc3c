"""ConfigResource: a (type, name) key of dynamic configs (Kafka's common.config.ConfigResource)."""
from __future__ import annotations

import enum
from typing import NamedTuple


class ConfigResourceType(enum.IntEnum):
    """Kafka's ConfigResource.Type ids, as carried by ConfigRecord.ResourceType and the Admin APIs."""

    UNKNOWN = 0
    TOPIC = 2
    BROKER = 4
    BROKER_LOGGER = 8
    CLIENT_METRICS = 16
    GROUP = 32


class ConfigResource(NamedTuple):
    """`name` is the topic name, the broker id as a string, or "" for the cluster-wide broker default."""

    type: int
    name: str
