"""ListOffsets by timestamp over a multi-segment log, asked by librdkafka (`offsets_for_times`)
and kafka-python: the broker finds the first segment whose largest timestamp reaches the target,
then the time index and offset index inside it (Kafka's UnifiedLog.fetchOffsetByTimestamp and
LogSegment.findOffsetByTimestamp). Holds against Apache Kafka 4.4 as well."""
from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from broker_process import BrokerProcess
from clients import confluent
from interop_data import Rec

pytestmark = pytest.mark.interop

BASE = 1_700_000_000_000
N = 4000
STEP_MS = 10
MiB = 1024 * 1024


def _ts(i: int) -> int:
    return BASE + i * STEP_MS


def _expected(target: int) -> tuple[int, int]:
    """(offset, timestamp) of the first record whose timestamp is >= target; (-1, -1) if none."""
    for i in range(N):
        if _ts(i) >= target:
            return i, _ts(i)
    return -1, -1


def _files(d: Path, suffix: str) -> list[Path]:
    return sorted(p for p in d.iterdir() if p.name.endswith(suffix))


def test_offsets_for_times_across_segments(broker: BrokerProcess, topic_name: str) -> None:
    # 1 MiB segments (Kafka's minimum) and an index entry every 4 KiB: ~4 MiB of records make
    # four segments, each with time-index entries.
    confluent.create_topic(broker.bootstrap, topic_name, partitions=1,
                           config={"segment.bytes": str(MiB), "index.interval.bytes": "4096"})
    confluent.produce(broker.bootstrap, topic_name,
                      [Rec(0, b"k%d" % i, b"x" * 1000, (), _ts(i)) for i in range(N)],
                      extra={"linger.ms": 20, "batch.size": 64 * 1024})

    d = broker.partition_dir(topic_name, 0)
    logs = _files(d, ".log")
    assert len(logs) >= 4
    # Every sealed segment has time-index entries (12 bytes each); the lookup goes through them.
    for ti in _files(d, ".timeindex")[:-1]:
        assert ti.stat().st_size >= 12 and ti.stat().st_size % 12 == 0
    bases = [int(p.name[:-4]) for p in logs]

    targets = [
        BASE - 1,                       # before everything: the first record
        _ts(0),                         # exactly the first
        _ts(17) + 5,                    # between two records of the first segment
        _ts(bases[1]),                  # the first record of the second segment
        _ts(bases[1]) - 3,              # just before it: still the second segment's first
        _ts(bases[2] - 1),              # the last record of the second segment
        _ts(bases[3] + 123) + 1,        # inside the fourth segment
        _ts(N - 1),                     # the last record
        _ts(N - 1) + 1,                 # after everything: no offset
    ]

    # One target per call: librdkafka keeps one entry per partition in a request.
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"g-{topic_name}"})
    try:
        got = [c.offsets_for_times([TopicPartition(topic_name, 0, t)], timeout=30)[0] for t in targets]
    finally:
        c.close()
    assert [g.error for g in got] == [None] * len(targets)
    assert [g.offset for g in got] == [_expected(t)[0] for t in targets]

    from kafka import KafkaConsumer
    from kafka import TopicPartition as KTP

    kc = KafkaConsumer(bootstrap_servers=broker.bootstrap)
    try:
        ktp = KTP(topic_name, 0)
        for t in targets:
            found = kc.offsets_for_times({ktp: t})[ktp]
            exp_offset, exp_ts = _expected(t)
            if exp_offset < 0:
                assert found is None
            else:
                assert (found.offset, found.timestamp) == (exp_offset, exp_ts)
    finally:
        kc.close()
