"""ConfigurationsImage: dynamic configs per resource (Kafka's image.ConfigurationsImage)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from fastkafka.cluster.metadata.config_resource import ConfigResource, ConfigResourceType


@dataclasses.dataclass(frozen=True, slots=True)
class ConfigurationsImage:
    """Immutable. Only explicitly set keys are stored (a ConfigRecord with a null value deletes a
    key); resources with no keys are absent."""

    data: Mapping[ConfigResource, Mapping[str, str]]

    def config(self, resource: ConfigResource) -> Mapping[str, str]:
        return self.data.get(resource, _EMPTY)

    def topic_config(self, topic: str) -> Mapping[str, str]:
        return self.config(ConfigResource(ConfigResourceType.TOPIC, topic))


_EMPTY: Mapping[str, str] = MappingProxyType({})
EMPTY_CONFIGS = ConfigurationsImage(MappingProxyType({}))
