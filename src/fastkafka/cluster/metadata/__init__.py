"""Cluster metadata as Kafka models it: immutable images built from committed KRaft records."""
from fastkafka.cluster.metadata.api_message_and_version import ApiMessageAndVersion
from fastkafka.cluster.metadata.broker_registration import BrokerRegistration, Endpoint
from fastkafka.cluster.metadata.config_resource import ConfigResource, ConfigResourceType
from fastkafka.cluster.metadata.metadata_delta import MetadataDelta, MetadataDeltaError
from fastkafka.cluster.metadata.metadata_image import EMPTY_IMAGE, MetadataImage
from fastkafka.cluster.metadata.metadata_loader import CommittedBatch, MetadataLoader, MetadataPublisher
from fastkafka.cluster.metadata.metadata_provenance import MetadataProvenance
from fastkafka.cluster.metadata.partition_registration import PartitionRegistration
from fastkafka.cluster.metadata.topic_image import TopicImage, TopicsImage

__all__ = [
    "ApiMessageAndVersion", "BrokerRegistration", "CommittedBatch", "ConfigResource", "ConfigResourceType",
    "EMPTY_IMAGE", "Endpoint", "MetadataDelta", "MetadataDeltaError", "MetadataImage", "MetadataLoader",
    "MetadataProvenance", "MetadataPublisher", "PartitionRegistration", "TopicImage", "TopicsImage",
]
