"""The versions fastkafka's handlers advertise for the APIs raised to Kafka 4.4.0's, checked
against what a Kafka 4.4.0 broker advertises (kafka-broker-api-versions against the reference
broker), and Fetch v18's tagged HighWatermark (KIP-1166) decoded from a request."""
from __future__ import annotations

import fastkafka.net.handlers  # noqa: F401  (registers every handler)
from fastkafka.net.registry import REGISTRY
from fastkafka.protocol.messages import FetchRequest

# api key: (min, max) as Apache Kafka 4.4.0's broker advertises them.
KAFKA_44 = {1: (4, 18), 2: (1, 11), 3: (0, 13), 8: (2, 10), 9: (1, 10), 15: (0, 6), 18: (0, 5), 42: (0, 3),
            60: (0, 2), 66: (0, 2), 69: (0, 1)}


def test_versions_match_kafka_44() -> None:
    for key, versions in KAFKA_44.items():
        h = REGISTRY.get(key)
        assert h is not None and (h.min_version, h.max_version) == versions, (h and h.name, versions)


def test_fetch_v18_high_watermark_tag() -> None:
    part = FetchRequest.FetchPartition(partition=0, fetch_offset=5, partition_max_bytes=100, high_watermark=42)
    req = FetchRequest(replica_state=FetchRequest.ReplicaState(replica_id=-1), max_wait_ms=0, min_bytes=1,
                       max_bytes=1000, isolation_level=0, session_id=0, session_epoch=-1,
                       topics=[FetchRequest.FetchTopic(topic_id=bytes(range(16)), partitions=[part])])
    assert FetchRequest.from_bytes(req.to_bytes(18), 18).topics[0].partitions[0].high_watermark == 42
    # Not sent below v18: the field's default, "not supported" (Long.MAX_VALUE).
    assert FetchRequest.from_bytes(req.to_bytes(17), 17).topics[0].partitions[0].high_watermark == 2**63 - 1
