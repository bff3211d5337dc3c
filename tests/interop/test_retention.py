"""Retention with real clients: retention.ms (by each segment's largest timestamp), retention.bytes,
and DeleteRecords; segments go by whole segments on log.retention.check.interval.ms, renamed
`.deleted` and removed after log.segment.delete.delay.ms; ListOffsets and Fetch follow the new
log start offset. The on-disk checks hold for Apache Kafka too (same file names and rules)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from broker_process import BrokerProcess
from clients import confluent

pytestmark = pytest.mark.interop

MiB = 1024 * 1024
HOUR_MS = 3600 * 1000
VALUE = b"r" * 1000


@pytest.fixture(scope="module")
def retention_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("retention"), extra_props={
        "log.retention.check.interval.ms": "300",
        "log.initial.task.delay.ms": "0",
        "log.segment.delete.delay.ms": "2000",
    })
    b.start()
    try:
        yield b
    finally:
        b.stop()


def _produce(bootstrap: str, topic: str, timestamps: list[int]) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "enable.idempotence": True})
    errors: list[object] = []
    for i, ts in enumerate(timestamps):
        p.produce(topic, key=b"k%d" % i, value=VALUE, partition=0, timestamp=ts,
                  on_delivery=lambda err, _m: errors.append(err) if err else None)
        if i % 1000 == 999:
            p.poll(0)
    assert p.flush(60) == 0 and not errors


def _offsets(bootstrap: str, topic: str) -> tuple[int, int]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    tp = TopicPartition(topic, 0)
    earliest = admin.list_offsets({tp: OffsetSpec.earliest()}, request_timeout=30)[tp].result().offset
    latest = admin.list_offsets({tp: OffsetSpec.latest()}, request_timeout=30)[tp].result().offset
    return earliest, latest


def _wait_for(what: str, check, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _segment_files(d: Path, suffix: str) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.endswith(suffix))


def _read_all_kafka_python(bootstrap: str, topic: str, expected: int) -> list[tuple[int, int]]:
    """(offset, timestamp) of every record from the beginning (auto.offset.reset=earliest)."""
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KTP

    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                      max_partition_fetch_bytes=4 * MiB)
    try:
        c.assign([KTP(topic, 0)])
        c.seek_to_beginning()
        out: list[tuple[int, int]] = []
        deadline = time.monotonic() + 60
        while len(out) < expected and time.monotonic() < deadline:
            for recs in c.poll(timeout_ms=500, max_records=10000).values():
                out.extend((r.offset, r.timestamp) for r in recs)
        return out
    finally:
        c.close()


def test_retention_ms_deletes_whole_segments_by_their_largest_timestamp(
        retention_broker: BrokerProcess, topic_name: str) -> None:
    b = retention_broker
    confluent.create_topic(b.bootstrap, topic_name, 1, {"retention.ms": str(HOUR_MS), "segment.bytes": str(MiB)})
    now = int(time.time() * 1000)
    old, new = 2500, 600
    _produce(b.bootstrap, topic_name, [now - 2 * HOUR_MS] * old + [now] * new)
    part = b.partition_dir(topic_name, 0)
    earliest, latest = _wait_for("retention.ms to delete the old segments",
                                 lambda: (o := _offsets(b.bootstrap, topic_name))[0] > 0 and o)
    assert latest == old + new
    # Whole segments only: the new log start is a segment base, and the segment holding both old
    # and new records (its largest timestamp is recent) is kept, so some old records remain.
    assert 0 < earliest < old
    bases = [int(n[:20]) for n in _segment_files(part, ".log")]
    assert bases[0] == earliest
    # Deleted segments are renamed `.deleted` first, then removed after log.segment.delete.delay.ms.
    _wait_for("the .deleted files to be removed", lambda: not _segment_files(part, ".deleted"))
    records = _read_all_kafka_python(b.bootstrap, topic_name, latest - earliest)
    assert [o for o, _ in records] == list(range(earliest, latest))
    assert sum(1 for _, ts in records if ts == now) == new


def test_retention_bytes_keeps_the_log_at_or_above_the_limit(retention_broker: BrokerProcess, topic_name: str) -> None:
    b = retention_broker
    limit = 3 * MiB // 2
    confluent.create_topic(b.bootstrap, topic_name, 1, {"retention.bytes": str(limit), "segment.bytes": str(MiB)})
    now = int(time.time() * 1000)
    _produce(b.bootstrap, topic_name, [now] * 4000)
    part = b.partition_dir(topic_name, 0)
    earliest, latest = _wait_for("retention.bytes to delete segments",
                                 lambda: (o := _offsets(b.bootstrap, topic_name))[0] > 0 and o)
    _wait_for("the .deleted files to be removed", lambda: not _segment_files(part, ".deleted"))
    sizes = [(part / n).stat().st_size for n in _segment_files(part, ".log")]
    # Kafka deletes the oldest segment only while the log without it is still >= retention.bytes.
    assert sum(sizes) >= limit and sum(sizes) - sizes[0] < limit
    assert latest == 4000
    records = _read_all_kafka_python(b.bootstrap, topic_name, latest - earliest)
    assert [o for o, _ in records] == list(range(earliest, latest))


def test_delete_records_moves_log_start_then_retention_removes_segments(
        retention_broker: BrokerProcess, topic_name: str) -> None:
    b = retention_broker
    confluent.create_topic(b.bootstrap, topic_name, 1, {"segment.bytes": str(MiB)})
    now = int(time.time() * 1000)
    _produce(b.bootstrap, topic_name, [now] * 3500)
    part = b.partition_dir(topic_name, 0)
    bases_before = [int(n[:20]) for n in _segment_files(part, ".log")]
    assert len(bases_before) >= 3
    target = bases_before[2] + 10  # inside the third segment
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    result = admin.delete_records([TopicPartition(topic_name, 0, target)])
    for f in result.values():
        assert f.result().low_watermark == target
    # ListOffsets(EARLIEST) follows at once; the two segments wholly below go at the next check.
    assert _offsets(b.bootstrap, topic_name) == (target, 3500)
    _wait_for("segments below the log start to be deleted",
              lambda: [int(n[:20]) for n in _segment_files(part, ".log")][0] == bases_before[2])
    # A consumer starting below the log start is reset to it (auto.offset.reset=earliest) and
    # reads exactly from the log start, not from the start of its batch.
    got = confluent.consume_assigned(b.bootstrap, topic_name, {0: 3500 - target}, start_offset=0,
                                     extra={"auto.offset.reset": "earliest"})
    assert [r.offset for r in got] == list(range(target, 3500))
