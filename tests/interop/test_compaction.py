"""Log compaction with real clients: the broker's log cleaner keeps the latest value per key,
offsets keep their gaps, tombstones go after delete.retention.ms, compressed batches stay
readable, and a kill -9 in the middle of a cleaning loses no acknowledged latest value.

Every wait polls the broker through clients or the partition directory (no fixed sleeps as
asserts). Segments roll by size (segment.bytes at Kafka's 1 MiB minimum), so each test produces
a few MiB."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker_process import BrokerProcess
from clients import confluent
from compaction_support import (MiB, check_compacted, cleaner_checkpoint, partition_dir_if_created, produce_confluent,
                                read_all_confluent, read_all_kafka_python, updates, wait_for)

pytestmark = pytest.mark.interop

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


def test_compaction_confluent_latest_value_per_key(compaction_broker: BrokerProcess, topic_name: str) -> None:
    b = compaction_broker
    confluent.create_topic(b.bootstrap, topic_name, 1, TOPIC_CONFIG)
    acked = produce_confluent(b.bootstrap, topic_name, updates(100, 40, 1000))
    total = 100 * 40
    cleaned = wait_for("the cleaner to checkpoint the topic", lambda: cleaner_checkpoint(b, topic_name))
    assert cleaned > 0
    records = read_all_confluent(b.bootstrap, topic_name)
    assert len(records) < total
    check_compacted(records, acked, cleaned)
    # kafka-python reads the same compacted log (the cleaner may have run again meanwhile).
    check_compacted(read_all_kafka_python(b.bootstrap, topic_name), acked, cleaned)


def test_compaction_kafka_python_gzip_batches(compaction_broker: BrokerProcess, topic_name: str) -> None:
    from kafka import KafkaProducer

    b = compaction_broker
    confluent.create_topic(b.bootstrap, topic_name, 1, TOPIC_CONFIG)
    p = KafkaProducer(bootstrap_servers=b.bootstrap, acks="all", compression_type="gzip", linger_ms=5)
    acked: dict[bytes, tuple[int, bytes | None]] = {}
    futures = [(k, v, p.send(topic_name, key=k, value=v, partition=0)) for k, v in updates(80, 40, 1500, b"g")]
    p.flush()
    for k, v, f in futures:
        md = f.get(timeout=60)
        if k not in acked or acked[k][0] < md.offset:
            acked[k] = (md.offset, v)
    p.close()
    # Snappy/lz4/zstd batches from librdkafka on the same topic.
    for codec in ("snappy", "lz4", "zstd"):
        acked.update(produce_confluent(b.bootstrap, topic_name, updates(80, 10, 1500, codec.encode()), codec))
    cleaned = wait_for("the cleaner to checkpoint the topic", lambda: cleaner_checkpoint(b, topic_name))
    records = read_all_kafka_python(b.bootstrap, topic_name)
    assert len(records) < 80 * 70
    check_compacted(records, acked, cleaned)
    check_compacted(read_all_confluent(b.bootstrap, topic_name), acked, cleaned)


def test_tombstones_removed_after_delete_retention_ms(compaction_broker: BrokerProcess, topic_name: str) -> None:
    b = compaction_broker
    confluent.create_topic(b.bootstrap, topic_name, 1, {**TOPIC_CONFIG, "delete.retention.ms": "3000"})
    acked = produce_confluent(b.bootstrap, topic_name, updates(50, 10, 1000))
    dead = [b"key-%d" % k for k in range(0, 50, 2)]
    acked.update(produce_confluent(b.bootstrap, topic_name, [(k, None) for k in dead]))
    # Filler under other keys: pushes the tombstones out of the active segment.
    produce_confluent(b.bootstrap, topic_name, updates(20, 150, 1000, b"filler", b"filler"))

    def tombstones_present_after_cleaning() -> bool:
        cp = cleaner_checkpoint(b, topic_name)
        tomb_offsets = [acked[k][0] for k in dead]
        return cp is not None and cp > max(tomb_offsets)

    wait_for("a cleaning past the tombstones", tombstones_present_after_cleaning)
    first = read_all_confluent(b.bootstrap, topic_name)
    # Keys deleted: none of their values remain; tombstones are still there (horizon not passed
    # when they were first cleaned), unless a later cleaning already ran past the horizon.
    for o, k, v in first:
        if k in dead:
            assert v is None

    def tombstones_gone() -> bool:
        # Keep the log dirty so the cleaner runs again after the horizon (as in Kafka).
        produce_confluent(b.bootstrap, topic_name, updates(20, 60, 1000, b"more", b"filler"))
        return not any(k in dead for _o, k, _v in read_all_confluent(b.bootstrap, topic_name))

    wait_for("the tombstones to be removed after delete.retention.ms", tombstones_gone, timeout=120)
    records = read_all_confluent(b.bootstrap, topic_name)
    live = {k for _o, k, _v in records}
    for k in range(1, 50, 2):
        assert b"key-%d" % k in live


def test_kill9_during_compaction_then_restart(tmp_path: Path, topic_name: str) -> None:
    b = BrokerProcess(tmp_path, extra_props=BROKER_PROPS)
    b.start()
    try:
        confluent.create_topic(b.bootstrap, topic_name, 1, TOPIC_CONFIG)
        part = wait_for("the partition directory", lambda: partition_dir_if_created(b, topic_name))
        acked: dict[bytes, tuple[int, bytes | None]] = {}
        killed_mid_cleaning = False
        # Produce until a cleaning is seen in progress (a .cleaned or .swap file), then kill -9.
        for wave in range(12):
            acked.update(produce_confluent(b.bootstrap, topic_name, updates(300, 10, 1000, b"w%d" % wave)))
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
        records = read_all_confluent(b.bootstrap, topic_name)
        offsets = [o for o, _, _ in records]
        assert offsets == sorted(set(offsets)), "no duplicate after the restart"
        latest = {k: (o, v) for o, k, v in records}
        for k, (o, v) in acked.items():
            assert latest.get(k) == (o, v), f"latest acknowledged value of {k!r} missing"
        assert not [p.name for p in part.iterdir() if p.name.endswith((".cleaned", ".swap"))]
        # The log is compacted after the restart, past everything written before the kill.
        before_kill = max(o for o, _ in acked.values())
        acked.update(produce_confluent(b.bootstrap, topic_name, updates(300, 5, 1000, b"after")))
        cp = wait_for("compaction after the restart",
                       lambda: (c := cleaner_checkpoint(b, topic_name)) is not None and c > before_kill and c)
        records = read_all_confluent(b.bootstrap, topic_name)
        check_compacted(records, acked, cp)
        print(f"kill -9 landed {'during' if killed_mid_cleaning else 'between'} cleanings")
    finally:
        b.stop()


def test_dynamic_cleaner_config_change_keeps_compacting(compaction_broker: BrokerProcess, topic_name: str) -> None:
    """log.cleaner.* are dynamic broker configs (cluster default, set with Kafka's kafka-configs):
    the cleaner restarts its threads with the new values and goes on compacting."""
    from kafka_java import run_tool

    b = compaction_broker

    def configs(*args: str) -> None:
        run_tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", b.bootstrap, "--alter", "--entity-type",
                 "brokers", "--entity-default", *args)

    configs("--add-config", f"log.cleaner.threads=2,log.cleaner.dedupe.buffer.size={4 * MiB}")
    try:
        confluent.create_topic(b.bootstrap, topic_name, 1, TOPIC_CONFIG)
        acked = produce_confluent(b.bootstrap, topic_name, updates(60, 40, 1000, b"dyn"))
        cleaned = wait_for("the cleaner to checkpoint the topic", lambda: cleaner_checkpoint(b, topic_name))
        records = read_all_confluent(b.bootstrap, topic_name)
        assert len(records) < 60 * 40
        check_compacted(records, acked, cleaned)
    finally:
        configs("--delete-config", "log.cleaner.threads,log.cleaner.dedupe.buffer.size")
