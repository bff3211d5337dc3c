"""COORDINATOR_LOAD_IN_PROGRESS with real clients: a broker restart with a large
`__consumer_offsets` (thousands of commits) loads it in the background after the listeners open;
meanwhile the group APIs answer COORDINATOR_LOAD_IN_PROGRESS (FindCoordinator answers normally),
and confluent-kafka (librdkafka) and kafka-python consumers retry through it and then resume at
their groups' committed offsets.

On fastkafka the load is held for a few seconds with FASTKAFKA_TEST_GROUP_LOAD_DELAY_MS (a
test-only knob, see group_coordinator.py) so the window is certain; the clients' own logs must
show the error. Against Apache Kafka (no such knob; its load of a few thousand records is too
quick to observe reliably) the same test checks only the resumption.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from broker_process import BrokerProcess
from clients import confluent
from interop_data import sample_records

pytestmark = pytest.mark.interop

PARTITIONS = 3
LOAD_DELAY_MS = 4000


class _Lines(logging.Handler):
    """Keeps every formatted log line of a logger (clients log from their own threads)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock2:
            self.lines.append(record.getMessage())

    def text(self) -> str:
        with self._lock2:
            return "\n".join(self.lines)


def _commit_many(bootstrap: str, topic: str, group: str, commits: int) -> None:
    """`commits` offset commits of `group` (assign(), no subscription), most of them asynchronous."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        for i in range(commits):
            c.commit(offsets=[TopicPartition(topic, p, i + 1) for p in range(PARTITIONS)], asynchronous=True)
            if i % 500 == 0:
                c.poll(0)
        c.commit(offsets=[TopicPartition(topic, p, 1) for p in range(PARTITIONS)], asynchronous=False)
    finally:
        c.close()


def _commit(bootstrap: str, topic: str, group: str, offsets: dict[int, int]) -> None:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        c.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False)
    finally:
        c.close()


def _confluent_consume(bootstrap: str, topic: str, group: str, count: int, lines: _Lines,
                       out: dict[str, Any]) -> None:
    logger = logging.getLogger(f"rdkafka.{group}")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(lines)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "session.timeout.ms": 10000, "debug": "cgrp",
                  "logger": logger})
    got = []
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + 25
        while len(got) < count and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                got.append((m.partition(), m.offset()))
    finally:
        c.close()
    out[group] = got


def _kafka_python_consume(bootstrap: str, topic: str, group: str, count: int, out: dict[str, Any]) -> None:
    from kafka import KafkaConsumer

    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=25000)
    got = []
    try:
        for m in c:
            got.append((m.partition, m.offset))
            if len(got) >= count:
                break
    finally:
        c.close()
    out[group] = got


def test_clients_retry_through_coordinator_load_in_progress_and_resume(
        fresh_broker: BrokerProcess, topic_name: str, target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, topic_name, partitions=PARTITIONS)
    confluent.produce(b.bootstrap, topic_name, sample_records(90, partitions=PARTITIONS,
                                                              base_ts=int(time.time() * 1000) - 60_000))
    # Thousands of commits in __consumer_offsets, then each tested group's own commits.
    _commit_many(b.bootstrap, topic_name, "load-bulk", 3000)
    committed = {0: 10, 1: 20, 2: 5}
    _commit(b.bootstrap, topic_name, "load-cc", committed)
    _commit(b.bootstrap, topic_name, "load-kp", committed)
    expected = sorted((p, o) for p in range(PARTITIONS) for o in range(committed[p], 30))

    if target == "fastkafka":
        monkeypatch.setenv("FASTKAFKA_TEST_GROUP_LOAD_DELAY_MS", str(LOAD_DELAY_MS))
    b.restart()
    monkeypatch.delenv("FASTKAFKA_TEST_GROUP_LOAD_DELAY_MS", raising=False)

    kp_lines = _Lines()
    kp_logger = logging.getLogger("kafka.coordinator")
    kp_logger.addHandler(kp_lines)
    previous_level = kp_logger.level
    kp_logger.setLevel(logging.DEBUG)
    rd_lines = _Lines()
    out: dict[str, Any] = {}
    threads = [threading.Thread(target=_confluent_consume,
                                args=(b.bootstrap, topic_name, "load-cc", len(expected), rd_lines, out)),
               threading.Thread(target=_kafka_python_consume,
                                args=(b.bootstrap, topic_name, "load-kp", len(expected), out))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        kp_logger.removeHandler(kp_lines)
        kp_logger.setLevel(previous_level)

    # Both resumed at the committed offsets: exactly the records after them, none before.
    assert sorted(out["load-cc"]) == expected
    assert sorted(out["load-kp"]) == expected
    if target == "fastkafka":
        assert "Coordinator load in progress" in rd_lines.text() or \
            "COORDINATOR_LOAD_IN_PROGRESS" in rd_lines.text(), rd_lines.text()[-4000:]
        assert "CoordinatorLoadInProgress" in kp_lines.text() or "is loading the group" in kp_lines.text(), \
            kp_lines.text()[-4000:]
