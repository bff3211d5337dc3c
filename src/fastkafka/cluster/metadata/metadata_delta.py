"""MetadataDelta: committed records applied on top of an image (Kafka's image.MetadataDelta).

Replay records in log order with `replay(record)`, then `apply(provenance)` builds the next
MetadataImage; the delta afterwards tells publishers what changed. Records are the generated
metadata record objects (anything with `API_KEY` and the snake_case fields of Kafka's JSON).
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from fastkafka.cluster.metadata.broker_registration import BrokerRegistration
from fastkafka.cluster.metadata.cluster_image import ClusterImage
from fastkafka.cluster.metadata.config_resource import ConfigResource, ConfigResourceType
from fastkafka.cluster.metadata.configuration_image import ConfigurationsImage
from fastkafka.cluster.metadata.features_image import FeaturesImage
from fastkafka.cluster.metadata.metadata_image import MetadataImage
from fastkafka.cluster.metadata.metadata_provenance import MetadataProvenance
from fastkafka.cluster.metadata.metadata_version import FEATURE_NAME
from fastkafka.cluster.metadata.partition_registration import PartitionRegistration
from fastkafka.cluster.metadata.producer_ids_image import ProducerIdsImage
from fastkafka.cluster.metadata.topic_image import TopicImage, TopicsImage

# Metadata record API keys (the "apiKey" of each JSON in Kafka's metadata/ folder).
REGISTER_BROKER_RECORD = 0
UNREGISTER_BROKER_RECORD = 1
TOPIC_RECORD = 2
PARTITION_RECORD = 3
CONFIG_RECORD = 4
PARTITION_CHANGE_RECORD = 5
FENCE_BROKER_RECORD = 7
UNFENCE_BROKER_RECORD = 8
REMOVE_TOPIC_RECORD = 9
FEATURE_LEVEL_RECORD = 12
PRODUCER_IDS_RECORD = 15
BROKER_REGISTRATION_CHANGE_RECORD = 17
NO_OP_RECORD = 20

# BrokerRegistrationChangeRecord.Fenced / InControlledShutdown values (Kafka's
# BrokerRegistrationFencingChange, BrokerRegistrationInControlledShutdownChange).
_FENCING_CHANGE = {1: True, -1: False}
_IN_CONTROLLED_SHUTDOWN = 1


class MetadataDeltaError(Exception):
    """A record contradicts the image (e.g. a partition of an unknown topic): the log is corrupt
    or was written by a buggy controller. Kafka's loader treats this as a fault too."""


class _TopicDelta:
    __slots__ = ("name", "topic_id", "base", "partitions")

    def __init__(self, name: str, topic_id: bytes, base: TopicImage | None) -> None:
        self.name = name
        self.topic_id = topic_id
        self.base = base
        self.partitions: dict[int, PartitionRegistration] = {}

    def partition(self, pid: int) -> PartitionRegistration | None:
        p = self.partitions.get(pid)
        if p is None and self.base is not None:
            p = self.base.partitions.get(pid)
        return p

    def build(self) -> TopicImage:
        parts = dict(self.base.partitions) if self.base is not None else {}
        parts.update(self.partitions)
        return TopicImage(self.name, self.topic_id, MappingProxyType(parts))


class MetadataDelta:
    """Single owner: the MetadataLoader (or a controller computing a what-if). Not thread-safe.

    After `apply`, these describe the change (what Kafka's TopicsDelta/ClusterDelta expose):
    `created_topic_ids`, `changed_topics` (id -> new TopicImage, created or with changed
    partitions), `deleted_topics` (id -> the TopicImage that was removed), `changed_broker_ids`,
    `changed_config_resources`, `features_changed`.
    """

    def __init__(self, image: MetadataImage) -> None:
        self.image = image
        self._features: dict[str, int] = {}
        self._metadata_version: int | None = None
        self._brokers: dict[int, BrokerRegistration | None] = {}
        self._topics: dict[bytes, _TopicDelta] = {}
        self._deleted_topic_ids: dict[bytes, TopicImage] = {}
        self._configs: dict[ConfigResource, dict[str, str | None]] = {}
        self._deleted_config_resources: set[ConfigResource] = set()
        self._next_producer_id: int | None = None
        self.records_replayed = 0
        self.created_topic_ids: set[bytes] = set()
        self.changed_topics: dict[bytes, TopicImage] = {}
        self.deleted_topics: dict[bytes, TopicImage] = {}
        self.changed_broker_ids: set[int] = set()
        self.changed_config_resources: set[ConfigResource] = set()
        self.features_changed = False

    # -- lookups through the delta -------------------------------------------------------------
    def _broker(self, broker_id: int) -> BrokerRegistration | None:
        if broker_id in self._brokers:
            return self._brokers[broker_id]
        return self.image.cluster.brokers.get(broker_id)

    def _topic_delta(self, topic_id: bytes) -> _TopicDelta:
        td = self._topics.get(topic_id)
        if td is None:
            if topic_id in self._deleted_topic_ids:
                raise MetadataDeltaError(f"topic id {topic_id.hex()} was removed")
            base = self.image.topics.by_id.get(topic_id)
            if base is None:
                raise MetadataDeltaError(f"unknown topic id {topic_id.hex()}")
            td = self._topics[topic_id] = _TopicDelta(base.name, topic_id, base)
        return td

    def topic_name_exists(self, name: str) -> bool:
        """Whether a topic of this name exists in image+delta (used by controllers' what-ifs)."""
        if any(td.name == name for td in self._topics.values()):
            return True
        t = self.image.topics.by_name.get(name)
        return t is not None and t.topic_id not in self._deleted_topic_ids

    # -- replay ------------------------------------------------------------------------------
    def replay(self, record: Any) -> None:
        key = record.API_KEY
        self.records_replayed += 1
        if key == TOPIC_RECORD:
            tid = bytes(record.topic_id)
            if tid in self._topics or (tid in self.image.topics.by_id and tid not in self._deleted_topic_ids):
                raise MetadataDeltaError(f"duplicate topic id {tid.hex()}")
            self._topics[tid] = _TopicDelta(record.name, tid, None)
        elif key == PARTITION_RECORD:
            td = self._topic_delta(bytes(record.topic_id))
            td.partitions[record.partition_id] = PartitionRegistration.from_record(record)
        elif key == PARTITION_CHANGE_RECORD:
            td = self._topic_delta(bytes(record.topic_id))
            prev = td.partition(record.partition_id)
            if prev is None:
                raise MetadataDeltaError(f"change to unknown partition {record.partition_id} of {td.name}")
            td.partitions[record.partition_id] = prev.merge(record)
        elif key == REMOVE_TOPIC_RECORD:
            tid = bytes(record.topic_id)
            td = self._topics.pop(tid, None)
            base = self.image.topics.by_id.get(tid)
            if td is None and base is None:
                raise MetadataDeltaError(f"removal of unknown topic id {tid.hex()}")
            name = td.name if td is not None else base.name  # type: ignore[union-attr]
            if base is not None:
                self._deleted_topic_ids[tid] = base
            # Kafka deletes a topic's dynamic configs together with the topic.
            res = ConfigResource(ConfigResourceType.TOPIC, name)
            self._configs.pop(res, None)
            self._deleted_config_resources.add(res)
        elif key == CONFIG_RECORD:
            res = ConfigResource(record.resource_type, record.resource_name)
            self._configs.setdefault(res, {})[record.name] = record.value
        elif key == REGISTER_BROKER_RECORD:
            self._brokers[record.broker_id] = BrokerRegistration.from_record(record)
        elif key == UNREGISTER_BROKER_RECORD:
            b = self._broker(record.broker_id)
            if b is None or b.epoch != record.broker_epoch:
                raise MetadataDeltaError(f"unregister of unknown broker {record.broker_id} epoch {record.broker_epoch}")
            self._brokers[record.broker_id] = None
        elif key in (FENCE_BROKER_RECORD, UNFENCE_BROKER_RECORD):
            b = self._broker(record.id)
            if b is None or b.epoch != record.epoch:
                raise MetadataDeltaError(f"fencing change of unknown broker {record.id} epoch {record.epoch}")
            self._brokers[record.id] = b.with_changes(fenced=key == FENCE_BROKER_RECORD)
        elif key == BROKER_REGISTRATION_CHANGE_RECORD:
            b = self._broker(record.broker_id)
            if b is None or b.epoch != record.broker_epoch:
                raise MetadataDeltaError(f"registration change of unknown broker {record.broker_id}")
            fenced = _FENCING_CHANGE.get(getattr(record, "fenced", 0) or 0)
            ics = (getattr(record, "in_controlled_shutdown", 0) or 0) == _IN_CONTROLLED_SHUTDOWN
            dirs = getattr(record, "log_dirs", None)
            self._brokers[record.broker_id] = b.with_changes(
                fenced=fenced, in_controlled_shutdown=True if ics else None,
                directories=None if not dirs else tuple(bytes(d) for d in dirs))
        elif key == FEATURE_LEVEL_RECORD:
            if record.name == FEATURE_NAME:
                self._metadata_version = record.feature_level
            else:
                self._features[record.name] = record.feature_level
        elif key == PRODUCER_IDS_RECORD:
            if record.next_producer_id < self.next_producer_id():
                raise MetadataDeltaError("producer id block goes backwards")
            self._next_producer_id = record.next_producer_id
        # NO_OP_RECORD and record types this node does not model yet (ACLs, quotas, SCRAM,
        # delegation tokens, controller registrations) change nothing here. Kafka models them;
        # see the report/SKIPPED_FEATURES for the gap.

    def replay_all(self, records: Any) -> None:
        for r in records:
            self.replay(r)

    def next_producer_id(self) -> int:
        if self._next_producer_id is not None:
            return self._next_producer_id
        return self.image.producer_ids.next_producer_id

    def metadata_version(self) -> int:
        return self._metadata_version if self._metadata_version is not None else self.image.features.metadata_version

    # -- apply ------------------------------------------------------------------------------
    def apply(self, provenance: MetadataProvenance) -> MetadataImage:
        img = self.image
        features = img.features
        if self._features or self._metadata_version is not None:
            fv = dict(features.finalized_versions)
            for name, level in self._features.items():
                if level == 0:
                    fv.pop(name, None)
                else:
                    fv[name] = level
            features = FeaturesImage(MappingProxyType(fv), self.metadata_version())
            self.features_changed = features != img.features

        cluster = img.cluster
        if self._brokers:
            brokers = dict(cluster.brokers)
            for bid, reg in self._brokers.items():
                if reg is None:
                    brokers.pop(bid, None)
                else:
                    brokers[bid] = reg
            cluster = ClusterImage(MappingProxyType(brokers))
            self.changed_broker_ids = set(self._brokers)

        topics = img.topics
        if self._topics or self._deleted_topic_ids:
            by_id = dict(topics.by_id)
            by_name = dict(topics.by_name)
            for tid, old in self._deleted_topic_ids.items():
                del by_id[tid]
                if by_name.get(old.name) is old:
                    del by_name[old.name]
            for tid, td in self._topics.items():
                t = td.build()
                by_id[tid] = t
                by_name[t.name] = t
                self.changed_topics[tid] = t
                if td.base is None:
                    self.created_topic_ids.add(tid)
            topics = TopicsImage(MappingProxyType(by_id), MappingProxyType(by_name))
            self.deleted_topics = dict(self._deleted_topic_ids)

        configs = img.configs
        if self._configs or self._deleted_config_resources:
            data: dict[ConfigResource, Mapping[str, str]] = dict(configs.data)
            for res in self._deleted_config_resources:
                data.pop(res, None)
            for res, changes in self._configs.items():
                merged = dict(data.get(res, {}))
                for k, v in changes.items():
                    if v is None:
                        merged.pop(k, None)
                    else:
                        merged[k] = v
                if merged:
                    data[res] = MappingProxyType(merged)
                else:
                    data.pop(res, None)
            configs = ConfigurationsImage(MappingProxyType(data))
            self.changed_config_resources = set(self._configs) | self._deleted_config_resources

        producer_ids = img.producer_ids
        if self._next_producer_id is not None:
            producer_ids = ProducerIdsImage(self._next_producer_id)

        return MetadataImage(provenance, features, cluster, topics, configs, producer_ids)
