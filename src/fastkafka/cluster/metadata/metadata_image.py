"""MetadataImage: the whole cluster metadata at one committed offset (Kafka's image.MetadataImage)."""
from __future__ import annotations

import dataclasses

from fastkafka.cluster.metadata.cluster_image import EMPTY_CLUSTER, ClusterImage
from fastkafka.cluster.metadata.configuration_image import EMPTY_CONFIGS, ConfigurationsImage
from fastkafka.cluster.metadata.features_image import EMPTY_FEATURES, FeaturesImage
from fastkafka.cluster.metadata.metadata_provenance import EMPTY_PROVENANCE, MetadataProvenance
from fastkafka.cluster.metadata.producer_ids_image import EMPTY_PRODUCER_IDS, ProducerIdsImage
from fastkafka.cluster.metadata.topic_image import EMPTY_TOPICS, TopicsImage


@dataclasses.dataclass(frozen=True, slots=True)
class MetadataImage:
    """Immutable snapshot; never mutated after construction (maps are read-only proxies). Built only
    by MetadataDelta.apply; readers take the current one from MetadataLoader.image and may keep
    it as long as they like. Equality compares content, so two replays of the same log are equal."""

    provenance: MetadataProvenance
    features: FeaturesImage
    cluster: ClusterImage
    topics: TopicsImage
    configs: ConfigurationsImage
    producer_ids: ProducerIdsImage

    def is_empty(self) -> bool:
        return self == EMPTY_IMAGE

    def offset(self) -> int:
        return self.provenance.last_contained_offset


EMPTY_IMAGE = MetadataImage(EMPTY_PROVENANCE, EMPTY_FEATURES, EMPTY_CLUSTER, EMPTY_TOPICS,
                            EMPTY_CONFIGS, EMPTY_PRODUCER_IDS)
