"""A consumer group (KIP-848) survives a broker restart: two librdkafka members
(`group.protocol=consumer`, tests/interop/clients/member_process.py) own a 6-partition topic; the
broker is restarted under them; afterwards they keep their partitions (no revocation, no lost
partitions, no partition moving to the other member), consume the new records of their own
partitions, and Kafka's kafka-consumer-groups --describe shows the group with both members.
Kafka persists the group in `__consumer_offsets` (ConsumerGroup* records) and replays it at load,
so the members' epochs are still valid after the restart.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from broker_process import BrokerProcess
from clients import confluent
from kafka_java import run_tool

pytestmark = pytest.mark.interop

MEMBER = Path(__file__).resolve().parent / "clients" / "member_process.py"
GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
PARTITIONS = 6
BROKER_PROPS = {
    # A session long enough to span the restart, heartbeats quick enough to keep the test short.
    "group.consumer.session.timeout.ms": "30000",
    "group.consumer.min.session.timeout.ms": "6000",
    "group.consumer.heartbeat.interval.ms": "500",
    "group.consumer.min.heartbeat.interval.ms": "500",
}


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path, extra_props=BROKER_PROPS)
    b.start()
    try:
        yield b
    finally:
        b.stop()


class _Member:
    def __init__(self, b: BrokerProcess, topic: str, group: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(MEMBER), b.bootstrap, topic, group, "group.protocol=consumer",
             "reconnect.backoff.max.ms=1000"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.append(json.loads(line))

    def owned(self) -> set[int]:
        owned: set[int] = set()
        for e in list(self.events):
            if e["ev"] == "assign":
                owned |= set(e["parts"])
            elif e["ev"] in ("revoke", "lost"):
                owned -= set(e["parts"])
        return owned

    def values(self) -> dict[str, int]:
        return {e["v"]: e["p"] for e in list(self.events) if e["ev"] == "rec"}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self._reader.join(timeout=10)


def _wait(what: str, check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _produce(bootstrap: str, topic: str, values: list[str]) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i, v in enumerate(values):
        p.produce(topic, value=v.encode(), partition=i % PARTITIONS)
    assert p.flush(30) == 0


def test_members_keep_their_partitions_across_a_broker_restart(broker: BrokerProcess, topic_name: str) -> None:
    b, group = broker, f"{topic_name}-g"
    confluent.create_topic(b.bootstrap, topic_name, PARTITIONS)
    members = [_Member(b, topic_name, group), _Member(b, topic_name, group)]
    try:
        first = [f"a{i}" for i in range(60)]
        _produce(b.bootstrap, topic_name, first)

        def settled() -> bool:
            owned = [m.owned() for m in members]
            got = set().union(*(m.values() for m in members))
            return all(owned) and set().union(*owned) == set(range(PARTITIONS)) and \
                not (owned[0] & owned[1]) and set(first) <= got

        _wait("two members sharing the six partitions", settled)
        time.sleep(2)  # a few heartbeats at the stable epoch (and auto-commits)
        owned_before = [m.owned() for m in members]
        events_before = [len(m.events) for m in members]

        b.restart()

        second = [f"b{i}" for i in range(60)]
        _produce(b.bootstrap, topic_name, second)
        _wait("the new records consumed",
              lambda: set(second) <= set().union(*(m.values() for m in members)), timeout=60)
        time.sleep(2)  # more heartbeats after the restart

        for m, owned, n in zip(members, owned_before, events_before):
            after = m.events[n:]
            moves = [e for e in after if e["ev"] in ("assign", "revoke", "lost")]
            assert moves == [], moves  # the members kept their partitions, nothing was reassigned
            assert m.owned() == owned
            for e in after:
                if e["ev"] == "rec" and e["v"].startswith("b"):
                    assert e["p"] in owned, e  # each member read only its own partitions

        described = run_tool(GROUP_COMMAND, "--bootstrap-server", b.bootstrap, "--describe", "--group", group,
                             "--members", "--verbose").stdout.decode()
        lines = [ln.split() for ln in described.splitlines() if ln.startswith(group)]
        assert len(lines) == 2, described
        state = run_tool(GROUP_COMMAND, "--bootstrap-server", b.bootstrap, "--describe", "--group", group,
                         "--state").stdout.decode()
        row = next(ln.split() for ln in state.splitlines() if ln.startswith(group))
        assert row[-2:] == ["Stable", "2"], state
    finally:
        for m in members:
            m.stop()
