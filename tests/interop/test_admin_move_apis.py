"""The admin APIs that elect or move replicas, on one node, through kafka-python 3.0.12's
KafkaAdminClient and Apache Kafka 4.4's own tools:

- ElectLeaders (43): the only replica always leads, so every existing partition answers
  ELECTION_NOT_NEEDED (PREFERRED and UNCLEAN), a missing one UNKNOWN_TOPIC_OR_PARTITION with
  Kafka's message; `kafka-leader-election` prints exactly what it prints against Apache Kafka.
- AlterPartitionReassignments (45) / ListPartitionReassignments (46): the current replica set
  completes at once, other brokers are INVALID_REPLICA_ASSIGNMENT, cancelling finds
  NO_REASSIGNMENT_IN_PROGRESS, nothing is ever listed; `kafka-reassign-partitions`
  --generate/--execute/--verify/--list/--cancel print what they print against Apache Kafka.

Every test passes against fastkafka and against Apache Kafka 4.4.0 (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker_process import BrokerProcess
from kafka_java import run_tool

pytestmark = pytest.mark.interop

LEADER_ELECTION = "org.apache.kafka.tools.LeaderElectionCommand"
REASSIGN = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand"


def _admin(broker: BrokerProcess):  # type: ignore[no-untyped-def]
    from kafka.admin import KafkaAdminClient

    return KafkaAdminClient(bootstrap_servers=broker.bootstrap)


def _create(admin, name: str, partitions: int) -> None:  # type: ignore[no-untyped-def]
    from kafka.admin import NewTopic

    admin.create_topics([NewTopic(name, partitions, 1)])


def test_elect_leaders_kafka_python(broker: BrokerProcess, topic_name: str) -> None:
    admin = _admin(broker)
    try:
        _create(admin, topic_name, 2)
        missing = topic_name + "-missing"
        for election_type in (0, 1):  # PREFERRED, UNCLEAN
            resp = admin.elect_leaders(election_type, {topic_name: [0, 1, 5], missing: [0]}, raise_errors=False)
            assert resp.error_code == 0
            got = {(r.topic, p.partition_id): (p.error_code, p.error_message)
                   for r in resp.replica_election_results for p in r.partition_result}
            assert got == {
                (topic_name, 0): (84, "Leader election not needed for topic partition."),
                (topic_name, 1): (84, "Leader election not needed for topic partition."),
                (topic_name, 5): (3, f"No such partition as {topic_name}-5"),
                (missing, 0): (3, f"No such topic as {missing}"),
            }
    finally:
        admin.close()


def test_kafka_leader_election_tool(broker: BrokerProcess, topic_name: str) -> None:
    admin = _admin(broker)
    try:
        _create(admin, topic_name, 1)
    finally:
        admin.close()

    def tool(*args: str):  # type: ignore[no-untyped-def]
        return run_tool(LEADER_ELECTION, "--bootstrap-server", broker.bootstrap, *args, check=False)

    # Every partition: the ones needing no election are not reported, so nothing is printed.
    p = tool("--election-type", "preferred", "--all-topic-partitions")
    assert (p.returncode, p.stdout.decode()) == (0, "")
    for election in ("preferred", "unclean"):
        p = tool("--election-type", election, "--topic", topic_name, "--partition", "0")
        assert (p.returncode, p.stdout.decode()) == (0, f"Valid replica already elected for partitions {topic_name}-0\n")
    missing = topic_name + "-missing"
    p = tool("--election-type", "preferred", "--topic", missing, "--partition", "0")
    assert p.returncode == 1
    assert p.stdout.decode() == (
        f"Error completing leader election (PREFERRED) for partition: {missing}-0: "
        f"org.apache.kafka.common.errors.UnknownTopicOrPartitionException: No such topic as {missing}\n")
    assert p.stderr.decode().startswith("1 replica(s) could not be elected\n")


def test_partition_reassignments_kafka_python(broker: BrokerProcess, topic_name: str) -> None:
    from kafka import TopicPartition
    from kafka.errors import (
        InvalidReplicationAssignmentError, NoReassignmentInProgressError, UnknownTopicOrPartitionError)

    admin = _admin(broker)
    try:
        _create(admin, topic_name, 2)
        tp0, tp1 = TopicPartition(topic_name, 0), TopicPartition(topic_name, 1)
        missing = TopicPartition(topic_name + "-missing", 0)
        result = admin.alter_partition_reassignments({
            tp0: [1],  # the current replica set: done at once
            tp1: [1, 2],  # broker 2 is not registered
            TopicPartition(topic_name, 9): [1],
            missing: [1],
        })
        assert result == {
            tp0: None,
            tp1: InvalidReplicationAssignmentError,
            TopicPartition(topic_name, 9): UnknownTopicOrPartitionError,
            missing: UnknownTopicOrPartitionError,
        }
        assert admin.alter_partition_reassignments({tp0: [1, 1]}) == {tp0: InvalidReplicationAssignmentError}
        assert admin.alter_partition_reassignments({tp0: None}) == {tp0: NoReassignmentInProgressError}
        assert admin.list_partition_reassignments() == {}
        assert admin.list_partition_reassignments({topic_name: [0, 1], missing.topic: [0]}) == {}
    finally:
        admin.close()


def test_kafka_reassign_partitions_tool(broker: BrokerProcess, topic_name: str, tmp_path: Path) -> None:
    admin = _admin(broker)
    try:
        _create(admin, topic_name, 2)
    finally:
        admin.close()
    log_dir = broker.log_dirs[0]

    def tool(*args: str) -> tuple[int, str]:
        p = run_tool(REASSIGN, "--bootstrap-server", broker.bootstrap, *args, check=False)
        return p.returncode, p.stdout.decode()

    def plan(log_dirs: str) -> str:
        return json.dumps({"version": 1, "partitions": [
            {"topic": topic_name, "partition": p, "replicas": [1], "log_dirs": [log_dirs]} for p in (0, 1)]},
            separators=(",", ":"))

    move = tmp_path / "move.json"
    move.write_text(json.dumps({"topics": [{"topic": topic_name}], "version": 1}))
    assert tool("--generate", "--topics-to-move-json-file", str(move), "--broker-list", "1") == (0, (
        "Current partition replica assignment\n" + plan(log_dir) + "\n\n"
        "Proposed partition reassignment configuration\n" + plan("any") + "\n"))

    target = tmp_path / "plan.json"
    target.write_text(plan("any"))
    assert tool("--execute", "--reassignment-json-file", str(target)) == (0, (
        "Current partition replica assignment\n\n" + plan(log_dir) + "\n\n"
        "Save this to use as the --reassignment-json-file option during rollback\n"
        f"Successfully started partition reassignments for {topic_name}-0,{topic_name}-1\n"))
    assert tool("--verify", "--reassignment-json-file", str(target)) == (0, (
        "Status of partition reassignment:\n"
        f"Reassignment of partition {topic_name}-0 is completed.\n"
        f"Reassignment of partition {topic_name}-1 is completed.\n\n"
        "Clearing broker-level throttles on broker 1\n"
        f"Clearing topic-level throttles on topic {topic_name}\n"))
    assert tool("--list") == (0, "No partition reassignments found.\n")
    assert tool("--cancel", "--reassignment-json-file", str(target)) == (0, (
        "None of the specified partition reassignments are active.\n"
        "None of the specified partition moves are active."
        "Clearing broker-level throttles on broker 1\n"
        f"Clearing topic-level throttles on topic {topic_name}\n"))
