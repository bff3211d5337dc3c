"""Kafka Streams 4.4 with processing.guarantee=exactly_once_v2 (clients/JavaStreamsEos.java: selectKey ->
repartition topic -> count with a changelog-backed store -> output, record caches off) counting 200,000 records
while the application (twice) and then the broker (twice) are killed with `kill -9` at seeded random points
(FASTKAFKA_STREAMS_SEED repeats a run). Streams drives every exactly-once path at once: transactional
producers per thread (transactional ids from the process id kept in the state directory, so a restarted
instance fences its predecessor), sendOffsetsToTransaction with the consumer's group metadata,
read_committed consumers of the input, repartition and changelog topics, internal topics created with
configs, DeleteRecords on the repartition topic, state restored from the changelog after a crash.
Exactly once means: a read_committed reader of the output sees, per key, the counts 1, 2, ..., n exactly
(a duplicate or a lost update would repeat or skip a count). Passes against Apache Kafka 4.4 too
(FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import os
import random
import subprocess
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from broker_process import BrokerProcess
from clients import confluent
from kafka_java import java_command

pytestmark = pytest.mark.interop

APP = Path(__file__).resolve().parent / "clients" / "JavaStreamsEos.java"
APP_ID = "streams-eos"
RECORDS = 200_000
KEYS = 50
PARTITIONS = 3


class StreamsApp:
    """The Streams process, restarted by `ensure_running` on the same state directory whenever it is gone."""

    def __init__(self, b: BrokerProcess, workdir: Path) -> None:
        self.b = b
        self.workdir = workdir
        self.state_dir = workdir / "state"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    def ensure_running(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        self.starts += 1
        out = open(self.workdir / f"streams-{self.starts}.log", "wb")
        self.proc = subprocess.Popen(
            java_command(str(APP), self.b.bootstrap, APP_ID, "streams-in", "streams-out", str(self.state_dir),
                         heap="-Xmx384m"), stdout=out, stderr=subprocess.STDOUT)

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class OutputProgress:
    """A read_committed reader of the output kept open through the run: the counts committed so far."""

    def __init__(self, b: BrokerProcess) -> None:
        self.c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "streams-progress",
                           "isolation.level": "read_committed", "enable.auto.commit": False})
        self.c.assign([TopicPartition("streams-out", p, 0) for p in range(PARTITIONS)])
        self.latest: dict[bytes, int] = {}
        self.updates = 0

    def poll(self) -> None:
        # A short timeout: consume() waits for its whole timeout unless num_messages arrive.
        for m in self.c.consume(num_messages=10_000, timeout=0.2):
            if m.error() is None:
                self.latest[m.key()] = int(m.value())
                self.updates += 1

    def close(self) -> None:
        self.c.close()


def _read_committed_output(b: BrokerProcess) -> dict[bytes, list[int]]:
    got: dict[bytes, list[int]] = defaultdict(list)
    for _p, _o, k, v in confluent.read_to_end(b.bootstrap, "streams-out", PARTITIONS, "read_committed"):
        got[k or b""].append(int(v or b"0"))
    return got


def test_kafka_streams_exactly_once_v2_survives_kill9_of_app_and_broker(fresh_broker: BrokerProcess,
                                                                       tmp_path: Path) -> None:
    b = fresh_broker
    seed = int(os.environ.get("FASTKAFKA_STREAMS_SEED", random.randrange(1 << 30)))
    rnd = random.Random(seed)
    print(f"\nFASTKAFKA_STREAMS_SEED={seed}")
    confluent.create_topic(b.bootstrap, "streams-in", PARTITIONS)
    confluent.create_topic(b.bootstrap, "streams-out", PARTITIONS)
    expected: Counter[bytes] = Counter()
    p = Producer({"bootstrap.servers": b.bootstrap, "enable.idempotence": True, "linger.ms": 20,
                  "queue.buffering.max.messages": 1_000_000})
    for i in range(RECORDS):
        key = b"k%d" % rnd.randrange(KEYS)
        expected[key] += 1
        p.produce("streams-in", key=key, value=b"%d" % i)
        if i % 10_000 == 0:
            p.poll(0)
    assert p.flush(60) == 0
    # Kill points, in committed output updates: the application twice, then the broker twice.
    plan = sorted([("app", rnd.randrange(20_000, 60_000)), ("app", rnd.randrange(60_000, 100_000)),
                   ("broker", rnd.randrange(100_000, 140_000)), ("broker", rnd.randrange(140_000, 180_000))],
                  key=lambda x: x[1])
    app = StreamsApp(b, tmp_path)
    progress = OutputProgress(b)
    t0 = time.monotonic()
    try:
        deadline = time.monotonic() + 300
        while True:
            progress.poll()
            done = progress.updates
            assert time.monotonic() < deadline, f"the application is stuck at {done} updates of {RECORDS}"
            app.ensure_running()
            if plan and done >= plan[0][1]:
                what, at = plan.pop(0)
                print(f"kill -9 the {what} after {done} committed updates (planned {at})")
                if what == "app":
                    app.kill9()
                else:
                    b.kill9()
                    b.start()
                continue
            if not plan and all(progress.latest.get(k) == n for k, n in expected.items()):
                break
        elapsed = time.monotonic() - t0
    finally:
        app.stop()
        progress.close()
    out = _read_committed_output(b)
    wrong = {k: v for k, v in out.items() if v != list(range(1, expected[k] + 1))}
    updates = sum(len(v) for v in out.values())
    print(f"{RECORDS} records counted in {elapsed:.1f} s through {app.starts} application runs ({app.kills} killed) "
          f"and 2 broker kills; {updates} committed updates for {len(out)} keys; keys with a wrong sequence: {len(wrong)}")
    assert not wrong, {k: (expected[k], v[:5], v[-5:], len(v)) for k, v in list(wrong.items())[:3]}
    assert set(out) == set(expected) and updates == RECORDS
