"""confluent-kafka (librdkafka) helpers shared by the interop tests: create topics, produce, read back."""
from __future__ import annotations

from collections.abc import Sequence

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from interop_data import Rec

COMPRESSION = {"none": "none", "gzip": "gzip", "snappy": "snappy", "lz4": "lz4", "zstd": "zstd"}


def create_topic(bootstrap: str, topic: str, partitions: int, config: dict[str, str] | None = None) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1,
                                            config=config or {})], operation_timeout=30, request_timeout=30)
    futures[topic].result(timeout=60)


def produce(bootstrap: str, topic: str, records: Sequence[Rec], compression: str = "none",
            extra: dict[str, object] | None = None) -> list[tuple[int, int]]:
    """Sends every record (in order, idempotent, acks=all); returns the (partition, offset) of each."""
    conf: dict[str, object] = {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "enable.idempotence": True,
        "compression.type": COMPRESSION[compression],
        "linger.ms": 5,
    }
    conf.update(extra or {})
    p = Producer(conf)
    results: list[tuple[int, int] | None] = [None] * len(records)
    errors: list[str] = []

    def on_delivery(i: int):  # type: ignore[no-untyped-def]
        def cb(err, msg) -> None:  # type: ignore[no-untyped-def]
            if err is not None:
                errors.append(f"record {i}: {err}")
            else:
                results[i] = (msg.partition(), msg.offset())
        return cb

    for i, r in enumerate(records):
        while True:
            try:
                p.produce(topic, value=r.value, key=r.key, partition=r.partition, timestamp=r.timestamp,
                          headers=list(r.headers) if r.headers else None, on_delivery=on_delivery(i))
                break
            except BufferError:  # local queue full: let deliveries drain
                p.poll(0.1)
        p.poll(0)
    remaining = p.flush(120)
    assert remaining == 0, f"{remaining} records not delivered"
    assert not errors, errors[:5]
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def consume_assigned(bootstrap: str, topic: str, counts: dict[int, int], start_offset: int = 0,
                     extra: dict[str, object] | None = None, timeout: float = 60.0) -> list[Rec]:
    """Reads `counts[p]` records from each partition p, from `start_offset`, with assign() (no group)."""
    import time

    conf: dict[str, object] = {
        "bootstrap.servers": bootstrap,
        "enable.auto.commit": False,
        "enable.partition.eof": False,
        "group.id": "unused-assign-only",  # required by the client; no subscribe(), no commits
        "fetch.max.bytes": 5 * 1024 * 1024,
        "max.partition.fetch.bytes": 5 * 1024 * 1024,
    }
    conf.update(extra or {})
    c = Consumer(conf)
    try:
        c.assign([TopicPartition(topic, p, start_offset) for p in counts])
        out: list[Rec] = []
        want = sum(counts.values())
        deadline = time.monotonic() + timeout
        while len(out) < want and time.monotonic() < deadline:
            msgs = c.consume(num_messages=10000, timeout=0.5)
            for m in msgs:
                if m.error() is not None:
                    raise KafkaException(m.error())
                ts_type, ts = m.timestamp()
                out.append(Rec(partition=m.partition(), key=m.key(), value=m.value(),
                               headers=tuple(m.headers() or ()), timestamp=ts, offset=m.offset()))
        assert len(out) == want, f"read {len(out)} of {want} records within {timeout}s"
        return out
    finally:
        c.close()


def read_to_end(bootstrap: str, topic: str, partitions: int, isolation_level: str = "read_uncommitted",
                timeout: float = 60.0) -> list[tuple[int, int, bytes | None, bytes | None]]:
    """Every record of `topic` from offset 0 to the end of each partition (librdkafka's partition EOF:
    the high watermark, or the last stable offset with read_committed), as (partition, offset, key,
    value), with assign() (no group)."""
    import time

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-assign-only", "enable.auto.commit": False,
                  "enable.partition.eof": True, "isolation.level": isolation_level, "fetch.max.bytes": 8 << 20})
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        got: list[tuple[int, int, bytes | None, bytes | None]] = []
        eof: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(eof) < partitions:
            # A short timeout: consume() waits for its whole timeout unless num_messages arrive.
            batch = c.consume(num_messages=10_000, timeout=0.5)
            assert batch or time.monotonic() < deadline, f"no end of {topic} after {len(got)} records"
            for m in batch:
                if m.error() is None:
                    got.append((m.partition(), m.offset(), m.key(), m.value()))
                    eof.discard(m.partition())
                elif m.error().code() == -191:  # _PARTITION_EOF
                    eof.add(m.partition())
                else:
                    raise KafkaException(m.error())
        return got
    finally:
        c.close()
