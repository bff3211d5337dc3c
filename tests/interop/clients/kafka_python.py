"""kafka-python helpers shared by the interop tests."""
from __future__ import annotations

import time
from collections.abc import Sequence

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from interop_data import Rec

COMPRESSION = {"none": None, "gzip": "gzip", "snappy": "snappy", "lz4": "lz4", "zstd": "zstd"}


def create_topic(bootstrap: str, topic: str, partitions: int, config: dict[str, str] | None = None) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1,
                                      topic_configs=config or {})], timeout_ms=30000)
    finally:
        admin.close()


def produce(bootstrap: str, topic: str, records: Sequence[Rec], compression: str = "none",
            **extra: object) -> list[tuple[int, int]]:
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type=COMPRESSION[compression],
                      linger_ms=5, **extra)
    try:
        futures = [p.send(topic, value=r.value, key=r.key, partition=r.partition, timestamp_ms=r.timestamp,
                          headers=list(r.headers)) for r in records]
        p.flush(timeout=120)
        metas = [f.get(timeout=60) for f in futures]
        return [(m.partition, m.offset) for m in metas]
    finally:
        p.close(timeout=10)


def consume_assigned(bootstrap: str, topic: str, counts: dict[int, int], start_offset: int = 0,
                     timeout: float = 60.0, **extra: object) -> list[Rec]:
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      max_partition_fetch_bytes=5 * 1024 * 1024, fetch_max_bytes=5 * 1024 * 1024, **extra)
    try:
        tps = [TopicPartition(topic, p) for p in counts]
        c.assign(tps)
        for tp in tps:
            c.seek(tp, start_offset)
        out: list[Rec] = []
        want = sum(counts.values())
        deadline = time.monotonic() + timeout
        while len(out) < want and time.monotonic() < deadline:
            for tp, msgs in c.poll(timeout_ms=500, max_records=10000).items():
                for m in msgs:
                    out.append(Rec(partition=m.partition, key=m.key, value=m.value,
                                   headers=tuple(m.headers or ()), timestamp=m.timestamp, offset=m.offset))
        assert len(out) == want, f"read {len(out)} of {want} records within {timeout}s"
        return out
    finally:
        c.close()
