"""A Java exactly-once pipeline (clients/JavaEosPipeline.java: read_committed consumer -> transform ->
transactional producer with sendOffsetsToTransaction, kafka-clients 4.4) processing 100,000 records while
first the pipeline process and then the broker are killed with `kill -9` at random points (the seed is
printed; FASTKAFKA_EOS_SEED repeats a run). A supervisor restarts the pipeline whenever it dies or exits;
the broker is restarted after each kill. At the end the output topic, read with read_committed, holds each
input record exactly once, and the group's committed offsets are at the end of the input. Run with the
consumer in a classic group and in a KIP-848 group (group.protocol=consumer: the transactional offset
commit is validated against the member epoch). Passed against Apache Kafka 4.1. Against Apache
Kafka 4.4 (FASTKAFKA_TEST_TARGET=apache) it passes for some seeds (FASTKAFKA_EOS_SEED=12345 on
transaction.version 2) and fails for others: 500 duplicated outputs (TV2, both group protocols)
or 500 missing (TV1), one consumer poll's worth, after the broker's kill -9 -- an Apache-side
anomaly recorded for the fault-injection issue; fastkafka had none in any run.
"""
from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from broker_process import SHORT_CONSUMER_GROUP_SESSIONS, BrokerProcess, running_broker
from clients import confluent
from kafka_java import java_command

pytestmark = pytest.mark.interop

PIPELINE = Path(__file__).resolve().parent / "clients" / "JavaEosPipeline.java"
RECORDS = 100_000
PARTITIONS = 4


@pytest.fixture
def eos_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    with running_broker(tmp_path / "broker", SHORT_CONSUMER_GROUP_SESSIONS) as b:
        yield b


class Pipeline:
    """The pipeline process, restarted by `ensure_running` whenever it is gone; counts committed records."""

    def __init__(self, b: BrokerProcess, workdir: Path, group_protocol: str) -> None:
        self.b = b
        self.workdir = workdir
        self.group_protocol = group_protocol
        self.proc: subprocess.Popen[bytes] | None = None
        self.committed = 0  # records in transactions it reported committed (progress only)
        self.starts = 0
        self.kills = 0

    def ensure_running(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        self.starts += 1
        err = open(self.workdir / f"pipeline-{self.starts}.err", "wb")
        self.proc = subprocess.Popen(java_command(str(PIPELINE), self.b.bootstrap, "eos-in", "eos-out", "eos-group",
                                                  "eos-pipeline", self.group_protocol), stdout=subprocess.PIPE,
                                     stderr=err)
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(b"committed "):
                self.committed += int(line.split()[1])

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _group_position(b: BrokerProcess) -> int:
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "eos-group"})
    try:
        tps = c.committed([TopicPartition("eos-in", p) for p in range(PARTITIONS)], timeout=30)
        return sum(max(tp.offset, 0) for tp in tps)
    finally:
        c.close()


def _read_committed(b: BrokerProcess) -> list[bytes]:
    return [v or b"" for _p, _o, _k, v in confluent.read_to_end(b.bootstrap, "eos-out", PARTITIONS, "read_committed")]


@pytest.mark.parametrize("group_protocol", ["classic", "consumer"])
def test_java_exactly_once_pipeline_survives_kill9_of_pipeline_and_broker(eos_broker: BrokerProcess, tmp_path: Path,
                                                                          group_protocol: str) -> None:
    b = eos_broker
    seed = int(os.environ.get("FASTKAFKA_EOS_SEED", random.randrange(1 << 30)))
    rnd = random.Random(seed)
    print(f"\nFASTKAFKA_EOS_SEED={seed}")
    confluent.create_topic(b.bootstrap, "eos-in", PARTITIONS)
    confluent.create_topic(b.bootstrap, "eos-out", PARTITIONS)
    p = Producer({"bootstrap.servers": b.bootstrap, "enable.idempotence": True, "linger.ms": 20})
    for i in range(RECORDS):
        p.produce("eos-in", key=b"%d" % (i % 97), value=b"%d" % i)
        if i % 10_000 == 0:
            p.poll(0)
    assert p.flush(60) == 0
    # Kill points, in records committed by the pipeline: two of the pipeline, then two of the broker.
    plan = sorted([("pipeline", rnd.randrange(5_000, 30_000)), ("pipeline", rnd.randrange(30_000, 50_000)),
                   ("broker", rnd.randrange(50_000, 70_000)), ("broker", rnd.randrange(70_000, 90_000))],
                  key=lambda x: x[1])
    pipeline = Pipeline(b, tmp_path, group_protocol)
    t0 = time.monotonic()
    try:
        deadline = time.monotonic() + 240
        while True:
            assert time.monotonic() < deadline, f"pipeline stuck at {_group_position(b)} of {RECORDS}"
            pipeline.ensure_running()
            if plan and pipeline.committed >= plan[0][1]:
                what, at = plan.pop(0)
                print(f"kill -9 the {what} after {pipeline.committed} committed (planned {at})")
                if what == "pipeline":
                    pipeline.kill9()
                else:
                    b.kill9()
                    b.start()
                continue
            # Done when the group's offsets reach the end of the input (the pipeline's own count can miss a
            # transaction committed just before a kill -9, so it only paces the kills).
            if not plan and pipeline.committed >= RECORDS * 0.9 and _group_position(b) == RECORDS:
                break
            time.sleep(0.05 if plan else 0.5)
        elapsed = time.monotonic() - t0
    finally:
        pipeline.stop()
    out = _read_committed(b)
    counts = Counter(out)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    missing = RECORDS - sum(1 for i in range(RECORDS) if counts.get(b"out-%d" % i))
    print(f"{RECORDS} records in {elapsed:.1f} s through {pipeline.starts} pipeline runs ({pipeline.kills} killed) "
          f"and 2 broker kills; output {len(out)}, duplicates {duplicates}, missing {missing}")
    assert duplicates == 0 and missing == 0 and len(out) == RECORDS
    assert _group_position(b) == RECORDS
