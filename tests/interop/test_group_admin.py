"""Group admin with real tools: Kafka 4.4's kafka-consumer-groups (ConsumerGroupCommand from Maven
Central), confluent-kafka's and kafka-python's admin clients over groups whose offsets real librdkafka consumers
committed: --list (--state), --describe (lag, --members, --state), --reset-offsets (earliest,
latest, offset, datetime, shift-by), --delete-offsets, --delete (refused for a group with a live member), and a
deletion that stays deleted after a broker restart. Passes against Apache Kafka 4.4 too.
"""
from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, ConsumerGroupState, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from broker_process import BrokerProcess
from clients import confluent
from interop_data import sample_records
from kafka_java import run_tool

pytestmark = pytest.mark.interop

GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
# Recent timestamps: records older than log.retention.ms (7 days) would be deleted by retention
# while a test runs (Apache Kafka's check runs every 5 minutes).
BASE_TS = (int(time.time()) - 3600) * 1000


def _group() -> str:
    return f"admin-{uuid.uuid4().hex[:10]}"


def _groups_tool(bootstrap: str, *args: str, check: bool = True) -> str:
    proc = run_tool(GROUP_COMMAND, "--bootstrap-server", bootstrap, *args, check=check)
    return proc.stdout.decode() + proc.stderr.decode()


def _consumer(bootstrap: str, group: str) -> Consumer:
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False, "session.timeout.ms": 30000})


def _consume_and_commit(bootstrap: str, topic: str, group: str, count: int) -> None:
    """A real subscriber reads `count` records, commits them, and leaves the group."""
    c = _consumer(bootstrap, group)
    c.subscribe([topic])
    got = 0
    deadline = time.monotonic() + 60
    try:
        while got < count and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error() is None:
                got += 1
        assert got == count
        c.commit(asynchronous=False)
    finally:
        c.close()


def _committed(bootstrap: str, topic: str, group: str, partitions: int = 3) -> list[int]:
    probe = _consumer(bootstrap, group)
    try:
        return [tp.offset for tp in probe.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)]
    finally:
        probe.close()


def _table(output: str, group: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines() if line.split()[:1] == [group]]


@pytest.fixture
def committed_group(broker: BrokerProcess, topic_name: str) -> Iterator[tuple[str, str]]:
    """A 3-partition topic of 30 records (10 per partition), a group that committed all of them
    and left, then 6 more records: the group's lag is 2 per partition."""
    confluent.create_topic(broker.bootstrap, topic_name, partitions=3)
    confluent.produce(broker.bootstrap, topic_name, sample_records(30, partitions=3, base_ts=BASE_TS))
    group = _group()
    _consume_and_commit(broker.bootstrap, topic_name, group, 30)
    confluent.produce(broker.bootstrap, topic_name, sample_records(6, partitions=3, base_ts=BASE_TS + 1000))
    yield group, topic_name


def test_list_and_describe_with_lag(broker: BrokerProcess, committed_group: tuple[str, str]) -> None:
    group, topic = committed_group
    b = broker.bootstrap
    assert group in _groups_tool(b, "--list").split()
    rows = _table(_groups_tool(b, "--list", "--state"), group)
    assert rows == [[group, "Empty"]]
    assert group not in _groups_tool(b, "--list", "--state", "Stable").split()
    assert group in _groups_tool(b, "--list", "--state", "empty").split()
    # ListGroups v5 types (KIP-1043): the tool prints Kafka's GroupType names.
    assert _table(_groups_tool(b, "--list", "--type"), group) == [[group, "Classic"]]
    assert _table(_groups_tool(b, "--list", "--state", "--type", "classic"), group) == [[group, "Classic", "Empty"]]
    assert group not in _groups_tool(b, "--list", "--type", "consumer").split()

    out = _groups_tool(b, "--describe", "--group", group)
    assert f"Consumer group '{group}' has no active members." in out
    rows = _table(out, group)
    # GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
    assert sorted((r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows) == \
        [(topic, p, 10, 12, 2) for p in range(3)]
    state = _table(_groups_tool(b, "--describe", "--group", group, "--state"), group)
    assert len(state) == 1 and state[0][-2:] == ["Empty", "0"], state
    assert f"Consumer group '{group}' has no active members." in \
        _groups_tool(b, "--describe", "--group", group, "--members")

    missing = _group()
    out = _groups_tool(b, "--describe", "--group", missing, check=False)
    # Kafka 4.4 negotiates DescribeGroups v6 and answers GROUP_ID_NOT_FOUND ("Group x not found.");
    # fastkafka serves DescribeGroups up to v5, where Kafka answers an unknown group as Dead with
    # no error, which the tool prints as "does not exist" (SKIPPED_FEATURES.md).
    assert f"Consumer group '{missing}' does not exist." in out or f"Group {missing} not found." in out, out


def test_consumer_protocol_group_listed_and_deleted(broker: BrokerProcess, topic_name: str) -> None:
    """A KIP-848 group (librdkafka with group.protocol=consumer) is listed with type Consumer, and
    deleted once its member has left."""
    b = broker.bootstrap
    confluent.create_topic(b, topic_name, partitions=2)
    group = _group()
    c = Consumer({"bootstrap.servers": b, "group.id": group, "group.protocol": "consumer",
                  "enable.auto.commit": False})
    c.subscribe([topic_name])
    try:
        deadline = time.monotonic() + 60
        while len(c.assignment()) < 2 and time.monotonic() < deadline:
            c.poll(0.2)
        assert len(c.assignment()) == 2
        c.commit(offsets=[TopicPartition(topic_name, 0, 0)], asynchronous=False)
        assert _table(_groups_tool(b, "--list", "--state", "--type", "consumer"), group) == \
            [[group, "Consumer", "Stable"]]
        assert group not in _groups_tool(b, "--list", "--type", "classic").split()
        assert "NON_EMPTY_GROUP" in _groups_tool(b, "--delete", "--group", group, check=False) or \
            "not empty" in _groups_tool(b, "--delete", "--group", group, check=False)
    finally:
        c.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and \
            _table(_groups_tool(b, "--list", "--state"), group) != [[group, "Empty"]]:
        time.sleep(0.5)
    out = _groups_tool(b, "--delete", "--group", group)
    assert f"Deletion of requested consumer groups ('{group}') was successful." in out, out
    assert group not in _groups_tool(b, "--list").split()


def test_describe_and_delete_a_live_group(broker: BrokerProcess, committed_group: tuple[str, str]) -> None:
    group, topic = committed_group
    b = broker.bootstrap
    c = _consumer(b, group)
    c.subscribe([topic])
    try:
        deadline = time.monotonic() + 60
        while not c.assignment() and time.monotonic() < deadline:
            c.poll(0.2)
        assert len(c.assignment()) == 3
        members = _table(_groups_tool(b, "--describe", "--group", group, "--members"), group)
        # GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS
        assert len(members) == 1 and members[0][-1] == "3" and members[0][2] == "/127.0.0.1", members
        state = _table(_groups_tool(b, "--describe", "--group", group, "--state"), group)
        assert state[0][-3:] == ["range", "Stable", "1"] or state[0][-3:-1] == ["Stable", "1"], state
        assert [group, "Stable"] in _table(_groups_tool(b, "--list", "--state"), group)
        out = _groups_tool(b, "--delete", "--group", group, check=False)
        assert "NON_EMPTY_GROUP" in out or "The group is not empty" in out, out
    finally:
        c.close()
    assert _committed(b, topic, group) == [10, 10, 10]  # the refused deletion kept the offsets


@pytest.mark.parametrize("how,expected", [
    (["--to-earliest"], [0, 0, 0]),
    (["--to-latest"], [12, 12, 12]),
    (["--to-offset", "4"], [4, 4, 4]),
    (["--shift-by", "-3"], [7, 7, 7]),
    # Record i went to partition i % 3 with timestamp BASE_TS + i: the first at or after
    # BASE_TS + 15 is offset 5 in every partition.
    (["--to-datetime", datetime.datetime.fromtimestamp((BASE_TS + 15) / 1000, datetime.timezone.utc)
      .strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]], [5, 5, 5]),
])
def test_reset_offsets(broker: BrokerProcess, committed_group: tuple[str, str], how: list[str],
                       expected: list[int]) -> None:
    group, topic = committed_group
    b = broker.bootstrap
    plan = _groups_tool(b, "--reset-offsets", "--group", group, "--topic", topic, *how, "--dry-run")
    assert sorted(int(r[-1]) for r in _table(plan, group)) == expected
    assert _committed(b, topic, group) == [10, 10, 10]  # a dry run changes nothing
    _groups_tool(b, "--reset-offsets", "--group", group, "--topic", topic, *how, "--execute")
    assert _committed(b, topic, group) == expected
    described = _table(_groups_tool(b, "--describe", "--group", group), group)
    assert sorted(int(r[5]) for r in described) == [12 - e for e in expected]  # lag follows


def test_delete_offsets(broker: BrokerProcess, committed_group: tuple[str, str]) -> None:
    group, topic = committed_group
    b = broker.bootstrap
    out = _groups_tool(b, "--delete-offsets", "--group", group, "--topic", f"{topic}:0,2")
    # TOPIC PARTITION STATUS
    rows = [ln.split() for ln in out.splitlines() if ln.split()[:1] == [topic]]
    assert sorted(rows) == [[topic, "0", "Successful"], [topic, "2", "Successful"]], out
    assert _committed(b, topic, group) == [-1001, 10, -1001]
    out = _groups_tool(b, "--delete-offsets", "--group", group, "--topic", topic)
    assert _committed(b, topic, group) == [-1001] * 3


def test_delete_group_survives_restart(fresh_broker: BrokerProcess, topic_name: str) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, topic_name, partitions=3)
    confluent.produce(b.bootstrap, topic_name, sample_records(30, partitions=3, base_ts=BASE_TS))
    gone, kept = _group(), _group()
    for g in (gone, kept):
        _consume_and_commit(b.bootstrap, topic_name, g, 30)
    out = _groups_tool(b.bootstrap, "--delete", "--group", gone)
    assert f"Deletion of requested consumer groups ('{gone}') was successful." in out, out
    assert gone not in _groups_tool(b.bootstrap, "--list").split()
    out = _groups_tool(b.bootstrap, "--delete", "--group", gone, check=False)
    assert "GROUP_ID_NOT_FOUND" in out or "does not exist" in out, out
    b.restart()
    listed = _groups_tool(b.bootstrap, "--list").split()
    assert gone not in listed and kept in listed
    assert _committed(b.bootstrap, topic_name, gone) == [-1001] * 3  # no committed offset
    assert _committed(b.bootstrap, topic_name, kept) == [10, 10, 10]


def test_confluent_admin_client(broker: BrokerProcess, committed_group: tuple[str, str]) -> None:
    group, topic = committed_group
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    listed = admin.list_consumer_groups(request_timeout=30).result()
    assert group in {g.group_id for g in listed.valid}
    empty = admin.list_consumer_groups(states={ConsumerGroupState.EMPTY}, request_timeout=30).result()
    assert group in {g.group_id for g in empty.valid}
    stable = admin.list_consumer_groups(states={ConsumerGroupState.STABLE}, request_timeout=30).result()
    assert group not in {g.group_id for g in stable.valid}

    described = admin.describe_consumer_groups([group], request_timeout=30)[group].result()
    assert described.state == ConsumerGroupState.EMPTY and described.members == []

    offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result()
    assert sorted((tp.topic, tp.partition, tp.offset) for tp in offsets.topic_partitions) == \
        [(topic, p, 10) for p in range(3)]
    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(
        group, [TopicPartition(topic, p, p + 1) for p in range(3)])])[group].result()
    assert _committed(broker.bootstrap, topic, group) == [1, 2, 3]

    admin.delete_consumer_groups([group], request_timeout=30)[group].result()
    assert group not in {g.group_id for g in admin.list_consumer_groups(request_timeout=30).result().valid}
    with pytest.raises(Exception) as err:
        admin.delete_consumer_groups([group], request_timeout=30)[group].result()
    assert "GROUP_ID_NOT_FOUND" in str(err.value) or "not found" in str(err.value).lower()


def test_confluent_admin_describe_live_group(broker: BrokerProcess, committed_group: tuple[str, str]) -> None:
    group, topic = committed_group
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "client.id": "live-member",
                  "partition.assignment.strategy": "roundrobin"})
    c.subscribe([topic])
    try:
        deadline = time.monotonic() + 60
        while len(c.assignment()) < 3 and time.monotonic() < deadline:
            c.poll(0.2)
        assert len(c.assignment()) == 3
        stable = admin.list_consumer_groups(states={ConsumerGroupState.STABLE}, request_timeout=30).result()
        assert group in {g.group_id for g in stable.valid}
        d = admin.describe_consumer_groups([group], include_authorized_operations=True,
                                           request_timeout=30)[group].result()
        assert (d.state, d.partition_assignor, d.is_simple_consumer_group) == \
            (ConsumerGroupState.STABLE, "roundrobin", False)
        [m] = d.members
        assert (m.client_id, m.host) == ("live-member", "/127.0.0.1")
        assert sorted((tp.topic, tp.partition) for tp in m.assignment.topic_partitions) == \
            [(topic, p) for p in range(3)]
        # No authorizer: every operation a group supports (Kafka's AuthHelper.authorizedOperations).
        assert sorted(op.name for op in d.authorized_operations) == \
            ["ALTER_CONFIGS", "DELETE", "DESCRIBE", "DESCRIBE_CONFIGS", "READ"]
        with pytest.raises(Exception) as err:
            admin.delete_consumer_groups([group], request_timeout=30)[group].result()
        assert "NON_EMPTY_GROUP" in str(err.value) or "not empty" in str(err.value)
    finally:
        c.close()


def test_kafka_python_admin(broker: BrokerProcess, committed_group: tuple[str, str]) -> None:
    from kafka import KafkaAdminClient

    group, topic = committed_group
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        mine = [g for g in admin.list_groups() if g["group_id"] == group]
        assert mine == [{"group_id": group, "protocol_type": "consumer", "group_state": "Empty",
                         "group_type": "classic"}]
        assert group in {g["group_id"] for g in admin.list_groups(states_filter=["empty"])}
        assert group not in {g["group_id"] for g in admin.list_groups(states_filter=["Stable"])}
        assert group not in {g["group_id"] for g in admin.list_groups(types_filter=["consumer"])}
        d = admin.describe_groups([group])[group]
        assert (d["group_state"], d["protocol_type"], d["members"], d["error"]) == ("Empty", "consumer", [], None)
        offsets = admin.list_group_offsets({group: None})[group]
        assert sorted((tp.partition, om.offset) for tp, om in offsets.items()) == [(p, 10) for p in range(3)]
        assert admin.delete_groups([group]) == {group: "OK"}
        assert group not in {g["group_id"] for g in admin.list_groups()}
        assert _committed(broker.bootstrap, topic, group) == [-1001] * 3  # the offsets went with it
    finally:
        admin.close()
