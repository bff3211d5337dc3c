"""Helpers of the log-compaction interop tests: produce with librdkafka keeping the acknowledged
latest value per key, read a partition back from offset 0 with librdkafka or kafka-python, read
the cleaner's checkpoint (Kafka's cleaner-offset-checkpoint format) and check a compacted log."""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from broker_process import BrokerProcess

MiB = 1024 * 1024


def wait_for(what: str, check: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def produce_confluent(bootstrap: str, topic: str, records: list[tuple[bytes, bytes | None]],
                       compression: str = "none", timestamp_ms: int = 0) -> dict[bytes, tuple[int, bytes | None]]:
    """Sends in order (idempotent, acks=all), with CreateTime `timestamp_ms` when given; returns
    key -> (offset, value) of the acknowledged latest record per key."""
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5,
                  "compression.type": compression})
    acked: dict[bytes, tuple[int, bytes | None]] = {}
    errors: list[object] = []

    def cb(err: Any, msg: Any) -> None:
        if err is not None:
            errors.append(err)
        else:
            k = msg.key()
            if k not in acked or acked[k][0] < msg.offset():
                acked[k] = (msg.offset(), msg.value())

    for k, v in records:
        while True:
            try:
                p.produce(topic, key=k, value=v, partition=0, on_delivery=cb, timestamp=timestamp_ms)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    assert p.flush(120) == 0 and not errors, errors[:3]
    return acked


def read_all_confluent(bootstrap: str, topic: str) -> list[tuple[int, bytes | None, bytes | None]]:
    """(offset, key, value) of every record from the log start offset up to the high watermark."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-assign-only", "enable.auto.commit": False,
                  "enable.partition.eof": False, "max.partition.fetch.bytes": 4 * MiB})
    try:
        low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)
        c.assign([TopicPartition(topic, 0, low)])  # the log start offset (0 unless retention moved it)
        out: list[tuple[int, bytes | None, bytes | None]] = []
        deadline = time.monotonic() + 60
        while (not out or out[-1][0] < high - 1) and time.monotonic() < deadline:
            for m in c.consume(num_messages=10000, timeout=0.5):
                assert m.error() is None, m.error()
                out.append((m.offset(), m.key(), m.value()))
        assert out and out[-1][0] == high - 1, f"did not reach the high watermark {high}"
        return out
    finally:
        c.close()


def read_all_kafka_python(bootstrap: str, topic: str) -> list[tuple[int, bytes | None, bytes | None]]:
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KTP

    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                      max_partition_fetch_bytes=4 * MiB)
    try:
        tp = KTP(topic, 0)
        c.assign([tp])
        high = c.end_offsets([tp])[tp]
        c.seek_to_beginning()
        out: list[tuple[int, bytes | None, bytes | None]] = []
        deadline = time.monotonic() + 60
        while (not out or out[-1][0] < high - 1) and time.monotonic() < deadline:
            for recs in c.poll(timeout_ms=500, max_records=10000).values():
                out.extend((r.offset, r.key, r.value) for r in recs)
        assert out and out[-1][0] == high - 1
        return out
    finally:
        c.close()


def partition_dir_if_created(b: BrokerProcess, topic: str) -> Path | None:
    try:
        return b.partition_dir(topic, 0)
    except FileNotFoundError:
        return None  # Kafka creates it when the broker applies the new topic's metadata


def cleaner_checkpoint(b: BrokerProcess, topic: str) -> int | None:
    """The topic's first dirty offset in cleaner-offset-checkpoint (Kafka's format), if any."""
    for d in b.log_dirs:
        p = Path(d) / "cleaner-offset-checkpoint"
        if not p.exists():
            continue
        lines = p.read_text().splitlines()
        if not lines:
            continue  # created empty when the cleaner starts (Kafka's CheckpointFile does so)
        assert lines[0] == "0" and int(lines[1]) == len(lines) - 2
        for line in lines[2:]:
            t, part, off = line.split(" ")
            if t == topic and part == "0":
                return int(off)
    return None


def check_compacted(records: list[tuple[int, bytes | None, bytes | None]],
                     acked: dict[bytes, tuple[int, bytes | None]], cleaned_up_to: int) -> None:
    offsets = [o for o, _, _ in records]
    assert offsets == sorted(set(offsets)), "offsets must strictly increase"
    assert len(offsets) < max(offsets) + 1, "a compacted log has offset gaps"
    # Exactly the latest value per key, at its original offset.
    latest: dict[bytes | None, tuple[int, bytes | None]] = {}
    for o, k, v in records:
        latest[k] = (o, v)
    for k, (o, v) in acked.items():
        if v is not None:
            assert latest.get(k) == (o, v), k
    # Below the cleaned point, one record per key (the rest is the uncleanable tail).
    below = [k for o, k, _ in records if o < cleaned_up_to]
    assert len(below) == len(set(below))


def updates(keys: int, rounds: int, size: int, tag: bytes = b"v",
             prefix: bytes = b"key") -> list[tuple[bytes, bytes | None]]:
    """Incompressible values (compressed batches must still fill segments)."""
    rnd = random.Random(tag)
    return [(prefix + b"-%d" % k, tag + b"-%d-%d-" % (k, r) + rnd.randbytes(size)) for r in range(rounds) for k in range(keys)]
