"""The seeds' KafkaJS admin group examples (js/seeds/4*.js), run as written against the broker:
fetchOffsets (with and without resolveOffsets), resetOffsets (latest, earliest), setOffsets (given
offsets, and from fetchTopicOffsetsByTimestamp), listGroups, describeGroups, deleteGroups.

Offsets are committed first by librdkafka (standalone commits, or a subscribed consumer for a live
group); each script runs with node; what it printed and what the group then holds, read back with
librdkafka, are checked. The examples use fixed group and topic names, so each name is used by one
test only on this module's broker.
"""
from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from broker_process import BrokerProcess
from clients import confluent, kafkajs

pytestmark = pytest.mark.interop

SEEDS = Path(__file__).resolve().parent / "js" / "seeds"
# Recent timestamps: records older than log.retention.ms (7 days) would be deleted by retention
# while a test runs (Apache Kafka's check runs every 5 minutes).
BASE_TS = (int(time.time()) - 3600) * 1000
NO_OFFSET = -1001  # librdkafka's OFFSET_INVALID: nothing committed


@pytest.fixture(scope="module")
def groups_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("seed-groups"))
    b.start()
    try:
        yield b
    finally:
        b.stop()


def _run(b: BrokerProcess, name: str, **env: str) -> str:
    proc = kafkajs.run_script(SEEDS / name, env={"KAFKA_BOOTSTRAP": b.bootstrap, **env}, timeout=120)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 0, f"{name} exited {proc.returncode}\n--- stdout\n{out[-4000:]}\n--- stderr\n{err[-4000:]}"
    assert "KafkaJSError" not in err, f"{name}:\n{out[-3000:]}\n{err[-3000:]}"
    return out


def _topic(b: BrokerProcess, topic: str, partitions: int, per_partition: int) -> None:
    """Record i of partition p has timestamp BASE_TS + i (offset i)."""
    confluent.create_topic(b.bootstrap, topic, partitions)
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all"})
    for i in range(per_partition):
        for part in range(partitions):
            p.produce(topic, key=b"k%d" % i, value=b"v%d" % i, partition=part, timestamp=BASE_TS + i)
    assert p.flush(30) == 0


def _commit(b: BrokerProcess, group: str, topic: str, offsets: dict[int, int]) -> None:
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        c.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False)
    finally:
        c.close()


def _committed(b: BrokerProcess, group: str, topic: str, partitions: int) -> list[int]:
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group})
    try:
        return [tp.offset for tp in c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)]
    finally:
        c.close()


def _names() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return f"seed-group-{suffix}", f"seed-topic-{suffix}"


def test_40_admin_fetch_offsets(groups_broker: BrokerProcess) -> None:
    b = groups_broker
    _topic(b, "test-topic", 2, 10)
    _commit(b, "test-group", "test-topic", {0: 3, 1: 7})
    out = _run(b, "40_admin_fetch_offsets.js")
    [line] = [ln for ln in out.splitlines() if ln.startswith("group offsets: ")]
    result = json.loads(line[len("group offsets: "):])
    assert [(t["topic"], [(p["partition"], p["offset"]) for p in t["partitions"]]) for t in result] == \
        [("test-topic", [(0, "3"), (1, "7")])]


def test_41_admin_reset_then_fetch_offsets_resolve(groups_broker: BrokerProcess) -> None:
    b = groups_broker
    group, topic = _names()
    _topic(b, topic, 4, 6)
    _commit(b, group, topic, {p: 2 for p in range(4)})
    out = _run(b, "41_admin_reset_then_fetch_offsets_resolve.js", SEED_GROUP=group, SEED_TOPIC=topic)
    lines = dict(ln.split(": ", 1) for ln in out.splitlines() if ln.startswith(("unresolved: ", "resolved: ")))
    unresolved = json.loads(lines["unresolved"])
    resolved = json.loads(lines["resolved"])
    # The reset stores -1 (latest, unresolved); resolveOffsets asks the broker for the log end.
    assert sorted((p["partition"], p["offset"]) for p in unresolved[0]["partitions"]) == [(p, "-1") for p in range(4)]
    assert sorted((p["partition"], p["offset"]) for p in resolved[0]["partitions"]) == [(p, "6") for p in range(4)]
    assert _committed(b, group, topic, 4) == [6] * 4


def test_42_admin_reset_offsets_latest(groups_broker: BrokerProcess) -> None:
    b = groups_broker
    group, topic = _names()
    _topic(b, topic, 3, 5)
    _commit(b, group, topic, {p: 1 for p in range(3)})
    assert "reset done" in _run(b, "42_admin_reset_offsets.js", SEED_GROUP=group, SEED_TOPIC=topic)
    # kafkajs commits -1 (latest) unresolved, as 41 shows; librdkafka reads a negative commit as none.
    assert _committed(b, group, topic, 3) == [NO_OFFSET] * 3


def test_43_admin_reset_offsets_earliest(groups_broker: BrokerProcess) -> None:
    b = groups_broker
    group, topic = _names()
    _topic(b, topic, 3, 5)
    _commit(b, group, topic, {p: 4 for p in range(3)})
    assert "reset done" in _run(b, "43_admin_reset_offsets_earliest.js", SEED_GROUP=group, SEED_TOPIC=topic)
    # kafkajs commits -2 (earliest) unresolved; librdkafka reads it as OFFSET_BEGINNING.
    assert _committed(b, group, topic, 3) == [-2] * 3


def test_44_admin_set_offsets(groups_broker: BrokerProcess) -> None:
    b = groups_broker
    _topic(b, "custom-topic", 4, 40)
    assert "set done" in _run(b, "44_admin_set_offsets.js")
    assert _committed(b, "my-consumer-group", "custom-topic", 4) == [35, NO_OFFSET, NO_OFFSET, 19]


def test_45_admin_set_offsets_by_timestamp(groups_broker: BrokerProcess) -> None:
    b = groups_broker
    group, topic = _names()
    _topic(b, topic, 3, 20)
    _commit(b, group, topic, {p: 20 for p in range(3)})
    out = _run(b, "45_admin_set_offsets_by_timestamp.js", SEED_GROUP=group, SEED_TOPIC=topic,
               SEED_TIMESTAMP=str(BASE_TS + 12))
    assert "set done" in out
    assert _committed(b, group, topic, 3) == [12] * 3


def test_46_admin_list_groups(groups_broker: BrokerProcess) -> None:
    b = groups_broker
    group, topic = _names()
    _topic(b, topic, 1, 3)
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe([topic])
    try:
        got = 0
        deadline = time.monotonic() + 30
        while got < 3 and time.monotonic() < deadline:
            m = c.poll(0.5)
            got += m is not None and m.error() is None
        c.commit(asynchronous=False)
    finally:
        c.close()
    out = _run(b, "46_admin_list_groups.js")
    listed = json.loads(out.strip().splitlines()[-1])
    assert {"groupId": group, "protocolType": "consumer"} in listed["groups"]


def _decode_assignment(data: bytes) -> dict[str, list[int]]:
    """ConsumerProtocolAssignment: version, [topic, [partition]], user data."""
    pos = 2
    (n,) = struct.unpack_from(">i", data, pos)
    pos += 4
    out = {}
    for _ in range(n):
        (ln,) = struct.unpack_from(">h", data, pos)
        name = data[pos + 2:pos + 2 + ln].decode()
        pos += 2 + ln
        (k,) = struct.unpack_from(">i", data, pos)
        out[name] = list(struct.unpack_from(">%di" % k, data, pos + 4))
        pos += 4 + 4 * k
    return out


def test_47_admin_describe_groups(groups_broker: BrokerProcess) -> None:
    b = groups_broker
    _topic(b, "testgroup-topic", 2, 1)
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "testgroup", "client.id": "test-client"})
    c.subscribe(["testgroup-topic"])
    try:
        deadline = time.monotonic() + 30
        while len(c.assignment()) < 2 and time.monotonic() < deadline:
            c.poll(0.2)
        assert len(c.assignment()) == 2
        out = _run(b, "47_admin_describe_groups.js")
    finally:
        c.close()
    [group] = json.loads(out.strip().splitlines()[-1])["groups"]
    assert (group["errorCode"], group["groupId"], group["state"], group["protocolType"], group["protocol"]) == \
        (0, "testgroup", "Stable", "consumer", "range")
    [member] = group["members"]
    assert member["clientId"] == "test-client" and member["clientHost"] == "/127.0.0.1"
    assert member["memberId"].startswith("test-client-")
    assert _decode_assignment(base64.b64decode(member["memberAssignment"])) == {"testgroup-topic": [0, 1]}
    assert b"testgroup-topic" in base64.b64decode(member["memberMetadata"])


def test_48_admin_delete_groups(groups_broker: BrokerProcess) -> None:
    b = groups_broker
    group, topic = _names()
    _topic(b, topic, 1, 3)
    _commit(b, group, topic, {0: 2})
    _commit(b, "group-test", topic, {0: 1})
    out = _run(b, "48_admin_delete_groups.js", SEED_GROUP=group)
    deleted = [json.loads(ln[len("deleted: "):]) for ln in out.splitlines() if ln.startswith("deleted: ")]
    assert deleted == [[{"groupId": group, "errorCode": 0}], [{"groupId": "group-test", "errorCode": 0}]]
    [caught] = [ln for ln in out.splitlines() if ln.startswith("caught: ")]
    name, groups = caught[len("caught: "):].split(" ", 1)
    assert name == "KafkaJSDeleteGroupsError"
    assert json.loads(groups) == [[g, "GROUP_ID_NOT_FOUND"] for g in ("a", "b", "c")]
    listed = {g.group_id for g in AdminClient({"bootstrap.servers": b.bootstrap}).list_consumer_groups(
        request_timeout=30).result().valid}
    assert group not in listed and "group-test" not in listed
    assert _committed(b, group, topic, 1) == [NO_OFFSET]


def test_49_consumer_describe_group(groups_broker: BrokerProcess) -> None:
    b = groups_broker
    group, topic = _names()
    _topic(b, topic, 2, 1)
    out = _run(b, "49_consumer_describe_group.js", SEED_GROUP=group, SEED_TOPIC=topic)
    [data] = [json.loads(ln) for ln in out.splitlines() if ln.startswith('{"errorCode"')]
    assert (data["errorCode"], data["groupId"], data["state"], data["protocolType"], data["protocol"]) == \
        (0, group, "Stable", "consumer", "RoundRobinAssigner")
    [member] = data["members"]
    assert member["clientId"] == "my-app" and member["clientHost"] == "/127.0.0.1"
    assert member["memberId"].startswith("my-app-")
    # RoundRobinAssigner lists partitions in the metadata's order, which the broker does not fix.
    assert {t: sorted(ps) for t, ps in _decode_assignment(base64.b64decode(member["memberAssignment"])).items()} == \
        {topic: [0, 1]}
