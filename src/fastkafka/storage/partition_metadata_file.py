"""PartitionMetadataFile: `partition.metadata` in a partition directory, recording the topic id
the log belongs to (storage.internals.checkpoint.PartitionMetadataFile).

Format, exactly as Kafka writes it:
    version: 0
    topic_id: <Uuid in Kafka's string form: URL-safe base64 of the 16 bytes, no padding>
"""
from __future__ import annotations

import base64

from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.checkpoint_file import atomic_write

PARTITION_METADATA_FILENAME = "partition.metadata"
CURRENT_VERSION = 0


def uuid_to_string(uuid: bytes) -> str:
    """Kafka's Uuid.toString."""
    return base64.urlsafe_b64encode(uuid).decode().rstrip("=")


def uuid_from_string(s: str) -> bytes:
    """Kafka's Uuid.fromString (22 characters -> 16 bytes)."""
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    if len(raw) != 16:
        raise ValueError(f"Input string with prefix `{s[:22]}` is too long to be decoded as a base64 UUID")
    return raw


class PartitionMetadataFile:
    """Invariant: once written the topic id never changes for the directory (a recreated topic
    gets a new directory). Concurrency: single writer: call only from the event loop thread."""

    def __init__(self, path: str) -> None:
        self.path = path

    def exists(self) -> bool:
        import os
        return os.path.exists(self.path)

    def write(self, topic_id: bytes) -> None:
        atomic_write(self.path, f"version: {CURRENT_VERSION}\ntopic_id: {uuid_to_string(topic_id)}\n".encode())

    def read(self) -> bytes:
        """The topic id; KAFKA_STORAGE_ERROR if the file is malformed."""
        with open(self.path, encoding="utf-8") as f:
            lines = [ln for ln in f.read().split("\n") if ln]
        try:
            k0, v0 = (x.strip() for x in lines[0].split(":", 1))
            k1, v1 = (x.strip() for x in lines[1].split(":", 1))
            if k0 != "version" or int(v0) != CURRENT_VERSION or k1 != "topic_id":
                raise ValueError("bad keys or version")
            return uuid_from_string(v1)
        except (ValueError, IndexError) as e:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Malformed partition metadata file {self.path}: {e}") from e
