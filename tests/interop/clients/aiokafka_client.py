"""aiokafka helpers shared by the interop tests (each runs its own event loop)."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from interop_data import Rec

COMPRESSION = {"none": None, "gzip": "gzip", "snappy": "snappy", "lz4": "lz4", "zstd": "zstd"}


def create_topic(bootstrap: str, topic: str, partitions: int, config: dict[str, str] | None = None) -> None:
    async def run() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
        await admin.start()
        try:
            resp = await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1,
                                                       topic_configs=config or {})], timeout_ms=30000)
            for t in resp.topic_errors:
                assert t[1] == 0, f"CreateTopics error {t}"
        finally:
            await admin.close()
    asyncio.run(run())


def produce(bootstrap: str, topic: str, records: Sequence[Rec], compression: str = "none",
            **extra: object) -> list[tuple[int, int]]:
    async def run() -> list[tuple[int, int]]:
        p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                             compression_type=COMPRESSION[compression], linger_ms=5, **extra)
        await p.start()
        try:
            futs = [await p.send(topic, value=r.value, key=r.key, partition=r.partition,
                                 timestamp_ms=r.timestamp, headers=list(r.headers)) for r in records]
            metas = await asyncio.gather(*futs)
            return [(m.partition, m.offset) for m in metas]
        finally:
            await p.stop()
    return asyncio.run(run())


def consume_assigned(bootstrap: str, topic: str, counts: dict[int, int], start_offset: int = 0,
                     timeout: float = 60.0) -> list[Rec]:
    async def run() -> list[Rec]:
        c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             max_partition_fetch_bytes=5 * 1024 * 1024, fetch_max_bytes=5 * 1024 * 1024)
        await c.start()
        try:
            tps = [TopicPartition(topic, p) for p in counts]
            c.assign(tps)
            for tp in tps:
                c.seek(tp, start_offset)
            out: list[Rec] = []
            want = sum(counts.values())
            deadline = time.monotonic() + timeout
            while len(out) < want and time.monotonic() < deadline:
                batch = await c.getmany(timeout_ms=500, max_records=10000)
                for msgs in batch.values():
                    for m in msgs:
                        out.append(Rec(partition=m.partition, key=m.key, value=m.value,
                                       headers=tuple(m.headers or ()), timestamp=m.timestamp, offset=m.offset))
            assert len(out) == want, f"read {len(out)} of {want} records within {timeout}s"
            return out
        finally:
            await c.stop()
    return asyncio.run(run())
