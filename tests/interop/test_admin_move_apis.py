"""The admin APIs that elect or move replicas, on one node, through kafka-python 3.0.12's
KafkaAdminClient and Apache Kafka 4.4's own tools:

- ElectLeaders (43): the only replica always leads, so every existing partition answers
  ELECTION_NOT_NEEDED (PREFERRED and UNCLEAN), a missing one UNKNOWN_TOPIC_OR_PARTITION with
  Kafka's message; `kafka-leader-election` prints exactly what it prints against Apache Kafka.
- AlterPartitionReassignments (45) / ListPartitionReassignments (46): the current replica set
  completes at once, other brokers are INVALID_REPLICA_ASSIGNMENT, cancelling finds
  NO_REASSIGNMENT_IN_PROGRESS, nothing is ever listed; `kafka-reassign-partitions`
  --generate/--execute/--verify/--list/--cancel print what they print against Apache Kafka.
- AlterReplicaLogDirs (34), on a broker with two `log.dirs`: a partition with data moves to the
  other dir (DescribeLogDirs then lists it there, not as a future replica), every record still
  reads back at the same offset, and the broker restarts with it there; an unknown dir is
  LOG_DIR_NOT_FOUND, an unknown partition UNKNOWN_TOPIC_OR_PARTITION.

Every test passes against fastkafka and against Apache Kafka 4.4.0 (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from broker_process import BrokerProcess, running_broker
from clients import confluent
from interop_data import Rec
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


def _replica_dirs(admin, topic: str) -> dict[int, list[tuple[str, bool]]]:  # type: ignore[no-untyped-def]
    """partition -> [(log dir, is future)] from DescribeLogDirs."""
    out: dict[int, list[tuple[str, bool]]] = {}
    [per_broker] = admin.describe_log_dirs()
    for d in per_broker["log_dirs"]:
        assert d["error_code"] == 0
        for t in d["topics"]:
            if t["name"] == topic:
                for p in t["partitions"]:
                    out.setdefault(p["partition_index"], []).append((d["log_dir"], p["is_future_key"]))
    return out


def test_alter_replica_log_dirs_moves_a_partition(tmp_path: Path, topic_name: str) -> None:
    from kafka import TopicPartitionReplica
    from kafka.errors import LogDirNotFoundError, NoError, UnknownTopicOrPartitionError

    dirs = [str(tmp_path / "broker" / "data"), str(tmp_path / "broker" / "data2")]
    with running_broker(tmp_path / "broker", {"log.dirs": ",".join(dirs), "log.segment.bytes": str(1 << 20)}) as b:
        b.log_dirs = dirs
        confluent.create_topic(b.bootstrap, topic_name, partitions=2)
        # A few segments' worth in partition 0, a little in partition 1.
        recs = [Rec(0, b"k%d" % i, b"v%d" % i + b"x" * 1000, (), 0) for i in range(3000)]
        recs += [Rec(1, b"k%d" % i, b"w%d" % i, (), 0) for i in range(10)]
        confluent.produce(b.bootstrap, topic_name, recs)
        before = sorted(confluent.read_to_end(b.bootstrap, topic_name, 2))

        admin = _admin(b)
        try:
            where = _replica_dirs(admin, topic_name)
            src = where[0][0][0]
            dest = next(d for d in dirs if d != src)
            result = admin.alter_replica_log_dirs({
                TopicPartitionReplica(topic_name, 0, 1): dest,
                TopicPartitionReplica(topic_name, 1, 1): "/no/such/dir",
                TopicPartitionReplica(topic_name, 7, 1): dest,
                TopicPartitionReplica(topic_name + "-missing", 0, 1): dest,
            })
            assert result == {
                TopicPartitionReplica(topic_name, 0, 1): NoError,
                TopicPartitionReplica(topic_name, 1, 1): LogDirNotFoundError,
                TopicPartitionReplica(topic_name, 7, 1): UnknownTopicOrPartitionError,
                TopicPartitionReplica(topic_name + "-missing", 0, 1): UnknownTopicOrPartitionError,
            }
            # The copy runs in the background; until it is swapped in, partition 0 is listed in
            # both dirs (the destination as a future replica).
            deadline = time.monotonic() + 60
            while _replica_dirs(admin, topic_name)[0] != [(dest, False)]:
                assert time.monotonic() < deadline, _replica_dirs(admin, topic_name)
                time.sleep(0.2)
            # Asking again for where it is now is a no-op.
            assert admin.alter_replica_log_dirs({TopicPartitionReplica(topic_name, 0, 1): dest}) == \
                {TopicPartitionReplica(topic_name, 0, 1): NoError}
        finally:
            admin.close()
        assert sorted(confluent.read_to_end(b.bootstrap, topic_name, 2)) == before
        assert (Path(dest) / f"{topic_name}-0").is_dir() and not (Path(src) / f"{topic_name}-0").exists()
        # Appends go on into the moved log, and a restart loads it from its new dir.
        confluent.produce(b.bootstrap, topic_name, [Rec(0, b"after", b"move", (), 0)])
        b.restart()
        after = sorted(confluent.read_to_end(b.bootstrap, topic_name, 2))
        assert after == sorted(before + [(0, 3000, b"after", b"move")])
