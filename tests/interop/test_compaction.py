"""Log compaction with real clients: the broker's log cleaner keeps the latest value per key,
offsets keep their gaps, tombstones go after delete.retention.ms, compressed batches stay
readable, and a kill -9 in the middle of a cleaning loses no acknowledged latest value.

Every wait polls the broker through clients or the partition directory (no fixed sleeps as
asserts). Segments roll by size (segment.bytes at Kafka's 1 MiB minimum), so each test produces
a few MiB."""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from broker_process import BrokerProcess
from clients import confluent

pytestmark = pytest.mark.interop

MiB = 1024 * 1024
BROKER_PROPS = {
    "log.cleaner.backoff.ms": "200",
    "log.cleaner.dedupe.buffer.size": str(8 * MiB),
    "log.initial.task.delay.ms": "0",
    "log.retention.check.interval.ms": "500",
    "log.segment.delete.delay.ms": "1000",
}
TOPIC_CONFIG = {"cleanup.policy": "compact", "segment.bytes": str(MiB), "min.cleanable.dirty.ratio": "0.01"}


@pytest.fixture(scope="module")
def compaction_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("compaction"), extra_props=BROKER_PROPS)
    b.start()
    try:
        yield b
    finally:
        b.stop()


def _wait_for(what: str, check: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _produce_confluent(bootstrap: str, topic: str, records: list[tuple[bytes, bytes | None]],
                       compression: str = "none") -> dict[bytes, tuple[int, bytes | None]]:
    """Sends in order (idempotent, acks=all); returns key -> (offset, value) of the acknowledged
    latest record per key."""
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
                p.produce(topic, key=k, value=v, partition=0, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    assert p.flush(120) == 0 and not errors, errors[:3]
    return acked


def _read_all_confluent(bootstrap: str, topic: str) -> list[tuple[int, bytes | None, bytes | None]]:
    """(offset, key, value) of every record from offset 0 up to the high watermark."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-assign-only", "enable.auto.commit": False,
                  "enable.partition.eof": False, "max.partition.fetch.bytes": 4 * MiB})
    try:
        _low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)
        c.assign([TopicPartition(topic, 0, 0)])
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


def _read_all_kafka_python(bootstrap: str, topic: str) -> list[tuple[int, bytes | None, bytes | None]]:
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


def _partition_dir(b: BrokerProcess, topic: str) -> Path | None:
    try:
        return b.partition_dir(topic, 0)
    except FileNotFoundError:
        return None  # Kafka creates it when the broker applies the new topic's metadata


def _cleaner_checkpoint(b: BrokerProcess, topic: str) -> int | None:
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


def _check_compacted(records: list[tuple[int, bytes | None, bytes | None]],
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


def _updates(keys: int, rounds: int, size: int, tag: bytes = b"v",
             prefix: bytes = b"key") -> list[tuple[bytes, bytes | None]]:
    """Incompressible values (compressed batches must still fill segments)."""
    rnd = random.Random(tag)
    return [(prefix + b"-%d" % k, tag + b"-%d-%d-" % (k, r) + rnd.randbytes(size)) for r in range(rounds) for k in range(keys)]


def test_compaction_confluent_latest_value_per_key(compaction_broker: BrokerProcess, topic_name: str) -> None:
    b = compaction_broker
    confluent.create_topic(b.bootstrap, topic_name, 1, TOPIC_CONFIG)
    acked = _produce_confluent(b.bootstrap, topic_name, _updates(100, 40, 1000))
    total = 100 * 40
    cleaned = _wait_for("the cleaner to checkpoint the topic", lambda: _cleaner_checkpoint(b, topic_name))
    assert cleaned > 0
    records = _read_all_confluent(b.bootstrap, topic_name)
    assert len(records) < total
    _check_compacted(records, acked, cleaned)
    # kafka-python reads the same compacted log (the cleaner may have run again meanwhile).
    _check_compacted(_read_all_kafka_python(b.bootstrap, topic_name), acked, cleaned)


def test_compaction_kafka_python_gzip_batches(compaction_broker: BrokerProcess, topic_name: str) -> None:
    from kafka import KafkaProducer

    b = compaction_broker
    confluent.create_topic(b.bootstrap, topic_name, 1, TOPIC_CONFIG)
    p = KafkaProducer(bootstrap_servers=b.bootstrap, acks="all", compression_type="gzip", linger_ms=5)
    acked: dict[bytes, tuple[int, bytes | None]] = {}
    futures = [(k, v, p.send(topic_name, key=k, value=v, partition=0)) for k, v in _updates(80, 40, 1500, b"g")]
    p.flush()
    for k, v, f in futures:
        md = f.get(timeout=60)
        if k not in acked or acked[k][0] < md.offset:
            acked[k] = (md.offset, v)
    p.close()
    # Snappy/lz4/zstd batches from librdkafka on the same topic.
    for codec in ("snappy", "lz4", "zstd"):
        acked.update(_produce_confluent(b.bootstrap, topic_name, _updates(80, 10, 1500, codec.encode()), codec))
    cleaned = _wait_for("the cleaner to checkpoint the topic", lambda: _cleaner_checkpoint(b, topic_name))
    records = _read_all_kafka_python(b.bootstrap, topic_name)
    assert len(records) < 80 * 70
    _check_compacted(records, acked, cleaned)
    _check_compacted(_read_all_confluent(b.bootstrap, topic_name), acked, cleaned)


def test_tombstones_removed_after_delete_retention_ms(compaction_broker: BrokerProcess, topic_name: str) -> None:
    b = compaction_broker
    confluent.create_topic(b.bootstrap, topic_name, 1, {**TOPIC_CONFIG, "delete.retention.ms": "3000"})
    acked = _produce_confluent(b.bootstrap, topic_name, _updates(50, 10, 1000))
    dead = [b"key-%d" % k for k in range(0, 50, 2)]
    acked.update(_produce_confluent(b.bootstrap, topic_name, [(k, None) for k in dead]))
    # Filler under other keys: pushes the tombstones out of the active segment.
    _produce_confluent(b.bootstrap, topic_name, _updates(20, 150, 1000, b"filler", b"filler"))

    def tombstones_present_after_cleaning() -> bool:
        cp = _cleaner_checkpoint(b, topic_name)
        tomb_offsets = [acked[k][0] for k in dead]
        return cp is not None and cp > max(tomb_offsets)

    _wait_for("a cleaning past the tombstones", tombstones_present_after_cleaning)
    first = _read_all_confluent(b.bootstrap, topic_name)
    # Keys deleted: none of their values remain; tombstones are still there (horizon not passed
    # when they were first cleaned), unless a later cleaning already ran past the horizon.
    for o, k, v in first:
        if k in dead:
            assert v is None

    def tombstones_gone() -> bool:
        # Keep the log dirty so the cleaner runs again after the horizon (as in Kafka).
        _produce_confluent(b.bootstrap, topic_name, _updates(20, 60, 1000, b"more", b"filler"))
        return not any(k in dead for _o, k, _v in _read_all_confluent(b.bootstrap, topic_name))

    _wait_for("the tombstones to be removed after delete.retention.ms", tombstones_gone, timeout=120)
    records = _read_all_confluent(b.bootstrap, topic_name)
    live = {k for _o, k, _v in records}
    for k in range(1, 50, 2):
        assert b"key-%d" % k in live


def test_kill9_during_compaction_then_restart(tmp_path: Path, topic_name: str) -> None:
    b = BrokerProcess(tmp_path, extra_props=BROKER_PROPS)
    b.start()
    try:
        confluent.create_topic(b.bootstrap, topic_name, 1, TOPIC_CONFIG)
        part = _wait_for("the partition directory", lambda: _partition_dir(b, topic_name))
        acked: dict[bytes, tuple[int, bytes | None]] = {}
        killed_mid_cleaning = False
        # Produce until a cleaning is seen in progress (a .cleaned or .swap file), then kill -9.
        for wave in range(12):
            acked.update(_produce_confluent(b.bootstrap, topic_name, _updates(300, 10, 1000, b"w%d" % wave)))
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                names = [p.name for p in part.iterdir()]
                if any(n.endswith((".cleaned", ".swap")) for n in names):
                    killed_mid_cleaning = True
                    break
                time.sleep(0.002)
            if killed_mid_cleaning:
                break
        b.kill9()
        b.start()
        records = _read_all_confluent(b.bootstrap, topic_name)
        offsets = [o for o, _, _ in records]
        assert offsets == sorted(set(offsets)), "no duplicate after the restart"
        latest = {k: (o, v) for o, k, v in records}
        for k, (o, v) in acked.items():
            assert latest.get(k) == (o, v), f"latest acknowledged value of {k!r} missing"
        assert not [p.name for p in part.iterdir() if p.name.endswith((".cleaned", ".swap"))]
        # The log is compacted after the restart, past everything written before the kill.
        before_kill = max(o for o, _ in acked.values())
        acked.update(_produce_confluent(b.bootstrap, topic_name, _updates(300, 5, 1000, b"after")))
        cp = _wait_for("compaction after the restart",
                       lambda: (c := _cleaner_checkpoint(b, topic_name)) is not None and c > before_kill and c)
        records = _read_all_confluent(b.bootstrap, topic_name)
        _check_compacted(records, acked, cp)
        print(f"kill -9 landed {'during' if killed_mid_cleaning else 'between'} cleanings")
    finally:
        b.stop()


def test_dynamic_cleaner_config_change_keeps_compacting(compaction_broker: BrokerProcess, topic_name: str) -> None:
    """log.cleaner.* are dynamic broker configs (cluster default, set with Kafka's kafka-configs):
    the cleaner restarts its threads with the new values and goes on compacting."""
    from kafka_java import run_tool

    b = compaction_broker

    def configs(*args: str) -> None:
        run_tool("kafka.admin.ConfigCommand", "--bootstrap-server", b.bootstrap, "--alter", "--entity-type",
                 "brokers", "--entity-default", *args)

    configs("--add-config", f"log.cleaner.threads=2,log.cleaner.dedupe.buffer.size={4 * MiB}")
    try:
        confluent.create_topic(b.bootstrap, topic_name, 1, TOPIC_CONFIG)
        acked = _produce_confluent(b.bootstrap, topic_name, _updates(60, 40, 1000, b"dyn"))
        cleaned = _wait_for("the cleaner to checkpoint the topic", lambda: _cleaner_checkpoint(b, topic_name))
        records = _read_all_confluent(b.bootstrap, topic_name)
        assert len(records) < 60 * 40
        _check_compacted(records, acked, cleaned)
    finally:
        configs("--delete-config", "log.cleaner.threads,log.cleaner.dedupe.buffer.size")
