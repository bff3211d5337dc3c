"""TopicPartition: the (topic, partition) pair that names a log (org.apache.kafka.common.TopicPartition)."""
from __future__ import annotations

from typing import NamedTuple


class TopicPartition(NamedTuple):
    """A partition of a topic. Immutable; hashable; `str()` is Kafka's `topic-partition` form,
    which is also the name of the partition's directory inside a log dir."""

    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}"

    @staticmethod
    def parse_dir_name(name: str) -> "TopicPartition | None":
        """`topic-partition` -> TopicPartition, or None when the name is not a partition dir.

        Topic names may contain '-', so the partition is what follows the LAST '-'
        (Kafka's UnifiedLog.parseTopicPartitionName)."""
        topic, sep, part = name.rpartition("-")
        if not sep or not topic or not part.isdigit():
            return None
        return TopicPartition(topic, int(part))
