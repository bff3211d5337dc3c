"""FeaturesImage: finalized feature levels (Kafka's image.FeaturesImage)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from fastkafka.cluster.metadata.metadata_version import FEATURE_NAME


@dataclasses.dataclass(frozen=True, slots=True)
class FeaturesImage:
    """Immutable. `finalized_versions` holds every feature except metadata.version, whose level
    is `metadata_version` (0 until the bootstrap FeatureLevelRecord is applied). A level of 0
    means the feature is off, so it is never stored."""

    finalized_versions: Mapping[str, int]
    metadata_version: int = 0

    def level(self, name: str) -> int:
        if name == FEATURE_NAME:
            return self.metadata_version
        return self.finalized_versions.get(name, 0)

    def all_levels(self) -> dict[str, int]:
        """Every finalized feature including metadata.version (for ApiVersions' finalized features)."""
        out = dict(self.finalized_versions)
        if self.metadata_version:
            out[FEATURE_NAME] = self.metadata_version
        return out


EMPTY_FEATURES = FeaturesImage(MappingProxyType({}), 0)
