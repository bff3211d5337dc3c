"""Flush policy as Kafka: by default nothing is fsynced on append (the page cache is trusted and the
recovery point only moves on segment roll); `flush.messages` flushes on append; `flush.ms` flushes
from the log flusher that runs every log.flush.scheduler.interval.ms; the recovery point is
checkpointed to `recovery-point-offset-checkpoint` every log.flush.offset.checkpoint.interval.ms.
Records are produced by librdkafka; the checkpoint file is Kafka's on-disk format, so these checks
hold for Apache Kafka too. After `kill -9` every acknowledged record is read back."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from broker_process import BrokerProcess
from clients import confluent, kafka_python
from interop_data import Rec

pytestmark = pytest.mark.interop


def _recovery_points(log_dir: str) -> dict[str, int]:
    path = Path(log_dir) / "recovery-point-offset-checkpoint"
    if not path.exists():
        return {}
    lines = path.read_text().splitlines()
    assert lines[0] == "0"  # version
    assert int(lines[1]) == len(lines) - 2
    out: dict[str, int] = {}
    for line in lines[2:]:
        topic, partition, offset = line.split(" ")
        out[f"{topic}-{partition}"] = int(offset)
    return out


def _wait_for(what: str, check, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (got := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return got


def _records(n: int) -> list[Rec]:
    now = int(time.time() * 1000)
    return [Rec(0, b"k%d" % i, b"v%d" % i, (), now) for i in range(n)]


def test_flush_messages_and_flush_ms_move_the_checkpointed_recovery_point(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path / "broker", extra_props={
        "log.initial.task.delay.ms": "0",
        "log.flush.offset.checkpoint.interval.ms": "100",
        "log.flush.scheduler.interval.ms": "100",
        # flush.ms defaults to log.flush.interval.ms, else to log.flush.scheduler.interval.ms
        # (Kafka's synonyms): keep the broker-wide default at "never".
        "log.flush.interval.ms": str(2**63 - 1),
    })
    b.start()
    try:
        topics = {"flush-default": {}, "flush-messages": {"flush.messages": "1"},
                  "flush-ms": {"flush.ms": "200"}}
        for name, cfg in topics.items():
            confluent.create_topic(b.bootstrap, name, 1, cfg)
            confluent.produce(b.bootstrap, name, _records(50))
        log_dir = b.log_dirs[0]
        # flush.messages=1: every append is flushed; flush.ms=200: the flusher catches up.
        _wait_for("flushed recovery points", lambda: _recovery_points(log_dir).get("flush-messages-0") == 50
                  and _recovery_points(log_dir).get("flush-ms-0") == 50)
        # Default policy: no fsync on append, the recovery point stays at the segment start.
        assert _recovery_points(log_dir)["flush-default-0"] == 0

        # kill -9 loses nothing acknowledged: the page cache survives a process crash, and
        # recovery rescans from each log's recovery point.
        b.kill9()
        b.start()
        for name in topics:
            got = kafka_python.consume_assigned(b.bootstrap, name, {0: 50})
            assert [r.value for r in got] == [b"v%d" % i for i in range(50)]
    finally:
        if b.is_alive():
            b.stop()
