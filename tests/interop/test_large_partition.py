"""One large partition: 2,000,000 records of 100 bytes in 1 MiB segments (about 250 segments with
their offset and time indexes), written by librdkafka (acks=all, idempotent), then:
- fetched from the start, the middle and the end (record i sits at offset i and carries value i);
- ListOffsets by timestamp into the middle, from librdkafka and kafka-python (each record's
  CreateTime is BASE + i ms, so the first offset at or after BASE + k is k);
- (retention.ms=-1: the timestamps are from 2023) a clean restart (no recovery: the indexes are trusted, the log end comes from the last segment),
  then 100,000 more records and `kill -9` while the recovery point checkpoint lags the log end:
  the restart recovers only the segments from the checkpointed recovery point on (LogLoader), and
  every record, old and new, is read back in order with contiguous offsets.
Start-up times are printed (pytest -s), never asserted. Holds against Apache Kafka 4.4 as well."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KpTopicPartition

from broker_process import BrokerProcess
from clients import confluent

pytestmark = pytest.mark.interop

TOPIC = "large"
N = 2_000_000
MORE = 100_000
BASE = 1_700_000_000_000
MiB = 1024 * 1024
FILLER = b"x" * 88


def _value(i: int) -> bytes:
    return b"%012d" % i + FILLER  # 100 bytes, unique, says its own offset


def _produce(bootstrap: str, start: int, count: int) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                  "linger.ms": 20, "batch.size": 512 * 1024, "queue.buffering.max.messages": 500_000,
                  "queue.buffering.max.kbytes": 256 * 1024})
    errors: list[str] = []

    def cb(err, msg) -> None:  # type: ignore[no-untyped-def]
        if err is not None:
            errors.append(str(err))

    produce = p.produce
    for i in range(start, start + count):
        while True:
            try:
                produce(TOPIC, _value(i), partition=0, timestamp=BASE + i, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.05)
        if i % 10_000 == 0:
            p.poll(0)
    assert p.flush(180) == 0, "records not delivered"
    assert not errors, errors[:5]


def _high_watermark(bootstrap: str) -> int:
    """After a start-up the partition may not be led yet (NOT_LEADER_OR_FOLLOWER): ask again."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused"})
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                low, high = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=30)
                break
            except KafkaException as e:
                if not e.args[0].retriable() and e.args[0].code() != KafkaError.NOT_LEADER_FOR_PARTITION \
                        or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert low == 0
        return int(high)
    finally:
        c.close()


def _read(bootstrap: str, start: int, count: int) -> None:
    """Reads [start, start + count) and checks that record i is at offset i with value i."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False,
                  "enable.partition.eof": False, "fetch.max.bytes": 8 * MiB,
                  "max.partition.fetch.bytes": 4 * MiB})
    try:
        c.assign([TopicPartition(TOPIC, 0, start)])
        expect = start
        deadline = time.monotonic() + 180
        while expect < start + count and time.monotonic() < deadline:
            for m in c.consume(num_messages=50_000, timeout=0.5):
                assert m.error() is None, m.error()
                if expect >= start + count:
                    break
                assert m.offset() == expect, f"offset {m.offset()}, expected {expect}"
                assert m.value() == _value(expect), f"offset {expect} holds {m.value()!r}"
                assert m.timestamp()[1] == BASE + expect
                expect += 1
        assert expect == start + count, f"read up to {expect} of [{start}, {start + count}) within 180s"
    finally:
        c.close()


def _offsets_for_times(bootstrap: str, targets: list[int]) -> list[int]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused"})
    try:  # one request per target: librdkafka keeps one entry per partition in a request
        return [c.offsets_for_times([TopicPartition(TOPIC, 0, t)], timeout=30)[0].offset for t in targets]
    finally:
        c.close()


def _kafka_python_offset_for_time(bootstrap: str, target: int) -> tuple[int, int] | None:
    kc = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tp = KpTopicPartition(TOPIC, 0)
        got = kc.offsets_for_times({tp: target})[tp]
        return None if got is None else (got.offset, got.timestamp)
    finally:
        kc.close()


def _recovery_point(b: BrokerProcess) -> int:
    lines = (Path(b.log_dirs[0]) / "recovery-point-offset-checkpoint").read_text().splitlines()
    for line in lines[2:]:
        topic, partition, offset = line.split()
        if topic == TOPIC and partition == "0":
            return int(offset)
    raise AssertionError(f"{TOPIC}-0 not in recovery-point-offset-checkpoint: {lines}")


def _check_reads(bootstrap: str, end: int) -> None:
    _read(bootstrap, 0, 20_000)  # the first segments
    _read(bootstrap, end // 2 - 10_000, 20_000)  # the middle, across a segment boundary
    _read(bootstrap, end - 20_000, 20_000)  # the end, up to the active segment
    mid = N // 2
    assert _offsets_for_times(bootstrap, [BASE + mid, BASE + mid + 12_345, BASE + N - 1, BASE - 1, BASE + end]) \
        == [mid, mid + 12_345, N - 1, 0, -1]
    assert _kafka_python_offset_for_time(bootstrap, BASE + mid) == (mid, BASE + mid)


def test_millions_of_records_in_hundreds_of_segments(tmp_path: Path) -> None:
    # The recovery point checkpoint every second from the start (Kafka waits 30 s for its first).
    b = BrokerProcess(tmp_path / "broker", extra_props={"log.flush.offset.checkpoint.interval.ms": "1000",
                                                         "log.initial.task.delay.ms": "1000"})
    b.start()
    try:
        confluent.create_topic(b.bootstrap, TOPIC, 1, {"segment.bytes": str(MiB), "retention.ms": "-1"})
        t = time.monotonic()
        _produce(b.bootstrap, 0, N)
        print(f"produced {N} records in {time.monotonic() - t:.1f}s")
        assert _high_watermark(b.bootstrap) == N
        pdir = b.partition_dir(TOPIC, 0)
        segments = sorted(pdir.glob("*.log"))
        assert len(segments) >= 200, f"{len(segments)} segments"
        assert len(list(pdir.glob("*.index"))) == len(segments) == len(list(pdir.glob("*.timeindex")))
        _check_reads(b.bootstrap, N)

        b.stop()
        t = time.monotonic()
        b.start(timeout=300)
        print(f"clean start-up with {len(segments)} segments: {time.monotonic() - t:.1f}s")
        assert _high_watermark(b.bootstrap) == N
        _check_reads(b.bootstrap, N)

        _produce(b.bootstrap, N, MORE)
        time.sleep(2.5)  # a checkpoint since: the roll flushes moved the recovery point past N,
        recovery_point = _recovery_point(b)  # up to the active segment's base, short of the log end
        assert N < recovery_point < N + MORE
        b.kill9()
        t = time.monotonic()
        b.start(timeout=300)
        print(f"start-up after kill -9 (recovery point {recovery_point} of {N + MORE}): {time.monotonic() - t:.1f}s")
        assert _high_watermark(b.bootstrap) == N + MORE
        _check_reads(b.bootstrap, N + MORE)
        _read(b.bootstrap, 0, N + MORE)  # all of it, in order
    finally:
        if b.is_alive():
            b.stop()
