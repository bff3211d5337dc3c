"""ElectLeaders / AlterPartitionReassignments / ListPartitionReassignments in the quorum controller
(Kafka's ReplicationControlManager): the single-node answers (election never needed, the only
valid target is the current replica set) and the multi-broker record paths (preferred election,
a reassignment started, listed, cancelled; a reorder completing at once)."""
import asyncio

from fastkafka.cluster.metadata.api_message_and_version import ApiMessageAndVersion
from fastkafka.protocol._generated import metadata_records as mr
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import (
    AlterPartitionReassignmentsRequest, ElectLeadersRequest, ElectLeadersResponse,
    ListPartitionReassignmentsRequest)

from test_quorum_controller import create, make, topic

RT = AlterPartitionReassignmentsRequest.ReassignableTopic
RP = AlterPartitionReassignmentsRequest.ReassignablePartition
ET = ElectLeadersRequest.TopicPartitions
LT = ListPartitionReassignmentsRequest.ListPartitionReassignmentsTopics


def run(coro):
    return asyncio.run(coro)


def elect(c, tps, election_type=0, version=2):
    req = ElectLeadersRequest(election_type=election_type, timeout_ms=1000,
                              topic_partitions=None if tps is None else [ET(topic=t, partitions=ps) for t, ps in tps])
    return c.elect_leaders(req, version)


def reassign(c, parts, allow_rf_change=True, version=1):
    by_topic = {}
    for (t, p), replicas in parts.items():
        by_topic.setdefault(t, []).append(RP(partition_index=p, replicas=replicas))
    req = AlterPartitionReassignmentsRequest(timeout_ms=1000, allow_replication_factor_change=allow_rf_change,
                                             topics=[RT(name=t, partitions=ps) for t, ps in by_topic.items()])
    return c.alter_partition_reassignments(req, version)


def results(resp):
    return {(t.name, p.partition_index): (p.error_code, p.error_message) for t in resp.responses for p in t.partitions}


async def listed(c, topics=None):
    req = ListPartitionReassignmentsRequest(
        timeout_ms=1000, topics=None if topics is None else [LT(name=t, partition_indexes=ps) for t, ps in topics])
    resp = await c.list_partition_reassignments(req, 0)
    assert resp.error_code == 0 and resp.error_message is None
    return {(t.name, p.partition_index): (list(p.replicas), list(p.adding_replicas), list(p.removing_replicas))
            for t in resp.topics for p in t.partitions}


def test_single_node_elections_are_never_needed():
    async def main():
        c, raft = await make()
        await create(c, topic("a", 2))
        n = len(raft.batches)
        resp = await elect(c, [("a", [0, 1, 7]), ("missing", [0])])
        got = {(r.topic, p.partition_id): (p.error_code, p.error_message)
               for r in resp.replica_election_results for p in r.partition_result}
        assert got == {
            ("a", 0): (Errors.ELECTION_NOT_NEEDED, "Leader election not needed for topic partition."),
            ("a", 1): (Errors.ELECTION_NOT_NEEDED, "Leader election not needed for topic partition."),
            ("a", 7): (Errors.UNKNOWN_TOPIC_OR_PARTITION, "No such partition as a-7"),
            ("missing", 0): (Errors.UNKNOWN_TOPIC_OR_PARTITION, "No such topic as missing"),
        }
        # UNCLEAN: a partition with a leader needs none either.
        resp = await elect(c, [("a", [0])], election_type=1)
        assert resp.replica_election_results[0].partition_result[0].error_code == Errors.ELECTION_NOT_NEEDED
        # null = every partition; the ones that need nothing are left out, each topic still listed.
        resp = await elect(c, None)
        assert [(r.topic, r.partition_result) for r in resp.replica_election_results] == [("a", [])]
        # an empty list: nothing to do
        resp = await elect(c, [])
        assert resp.error_code == 0 and resp.replica_election_results == []
        assert len(raft.batches) == n  # nothing written
        try:
            await elect(c, [("a", [0])], election_type=5)
        except KafkaError as e:
            assert e.error == Errors.INVALID_REQUEST and e.message == "Unknown election type 5"
        else:
            raise AssertionError("expected INVALID_REQUEST")
    run(main())


def test_handler_error_response_and_v0_encoding():
    from fastkafka.net.handlers.k43_elect_leaders import _error_response

    req = ElectLeadersRequest(election_type=9, timeout_ms=1, topic_partitions=[ET(topic="a", partitions=[0, 1])])
    resp = _error_response(req, KafkaError(Errors.INVALID_REQUEST, "Unknown election type 9"))
    assert resp.error_code == Errors.INVALID_REQUEST
    assert [(p.partition_id, p.error_code) for p in resp.replica_election_results[0].partition_result] == \
        [(0, Errors.INVALID_REQUEST), (1, Errors.INVALID_REQUEST)]
    for v in (0, 1, 2):
        back = ElectLeadersResponse.from_bytes(resp.to_bytes(v), v)
        assert back.replica_election_results[0].topic == "a"


def test_preferred_election_moves_leadership_back():
    async def main():
        c, raft = await make(brokers=(1, 2))
        await create(c, topic("a", assignments=[(0, [2, 1])]))
        t = c.image.topics.by_name["a"]
        assert t.partitions[0].leader == 2
        # The leader moved to 1 (say broker 2 was fenced meanwhile).
        await raft.append([ApiMessageAndVersion(mr.PartitionChangeRecord(
            partition_id=0, topic_id=t.topic_id, leader=1), 0)])
        p = c.image.topics.by_name["a"].partitions[0]
        assert (p.leader, p.leader_epoch) == (1, 1)
        resp = await elect(c, None)
        assert [(r.topic, [(x.partition_id, x.error_code) for x in r.partition_result])
                for r in resp.replica_election_results] == [("a", [(0, 0)])]
        p = c.image.topics.by_name["a"].partitions[0]
        assert (p.leader, p.leader_epoch) == (2, 2)
        resp = await elect(c, [("a", [0])])
        assert resp.replica_election_results[0].partition_result[0].error_code == Errors.ELECTION_NOT_NEEDED
    run(main())


def test_single_node_reassignment_is_a_no_op_or_refused():
    async def main():
        c, raft = await make()
        await create(c, topic("a", 2))
        n = len(raft.batches)
        resp = await reassign(c, {("a", 0): [1], ("a", 1): [1, 2], ("missing", 0): [1], ("a", 5): [1]})
        assert resp.error_code == 0 and resp.allow_replication_factor_change is True
        assert results(resp) == {
            ("a", 0): (0, None),
            ("a", 1): (Errors.INVALID_REPLICA_ASSIGNMENT,
                       "The manual partition assignment includes broker 2, but no such broker is registered."),
            ("missing", 0): (Errors.UNKNOWN_TOPIC_OR_PARTITION, "Unable to find a topic named missing."),
            ("a", 5): (Errors.UNKNOWN_TOPIC_OR_PARTITION, "Unable to find partition a:5."),
        }
        resp = await reassign(c, {("a", 0): [1, 1], ("a", 1): []})
        assert results(resp) == {
            ("a", 0): (Errors.INVALID_REPLICA_ASSIGNMENT,
                       "The manual partition assignment includes the broker 1 more than once."),
            ("a", 1): (Errors.INVALID_REPLICA_ASSIGNMENT,
                       "The manual partition assignment includes an empty replica list."),
        }
        resp = await reassign(c, {("a", 0): None})
        assert results(resp) == {("a", 0): (Errors.NO_REASSIGNMENT_IN_PROGRESS, None)}
        resp = await reassign(c, {("a", 0): [1]}, allow_rf_change=False)
        assert results(resp) == {("a", 0): (0, None)} and resp.allow_replication_factor_change is False
        assert len(raft.batches) == n  # nothing written: no reassignment is ever in progress
        assert await listed(c) == {}
        assert await listed(c, [("a", [0, 1, 9]), ("missing", [0])]) == {}
    run(main())


def test_replication_factor_change_refused_when_disallowed():
    async def main():
        c, raft = await make(brokers=(1, 2, 3))
        await create(c, topic("a", assignments=[(0, [1])]))
        resp = await reassign(c, {("a", 0): [1, 2]}, allow_rf_change=False)
        assert results(resp) == {("a", 0): (Errors.INVALID_REPLICATION_FACTOR,
                                            "The replication factor is changed from 1 to 2")}
        # An invalid assignment is reported before the replication factor (Kafka's order).
        resp = await reassign(c, {("a", 0): [1, 9]}, allow_rf_change=False)
        assert results(resp)[("a", 0)][0] == Errors.INVALID_REPLICA_ASSIGNMENT
    run(main())


def test_reassignment_started_listed_and_cancelled():
    async def main():
        c, raft = await make(brokers=(1, 2, 3))
        await create(c, topic("a", assignments=[(0, [1])]), topic("b", assignments=[(0, [1, 2])]))
        tid = c.image.topics.by_name["a"].topic_id
        # [1] -> [2]: broker 2 is not in the ISR yet, so the reassignment stays in progress.
        resp = await reassign(c, {("a", 0): [2]})
        assert results(resp) == {("a", 0): (0, None)}
        rec = raft.batches[-1][0].message
        assert isinstance(rec, mr.PartitionChangeRecord) and rec.topic_id == tid
        p = c.image.topics.by_name["a"].partitions[0]
        assert (p.replicas, p.adding_replicas, p.removing_replicas, p.isr, p.leader) == ((2, 1), (2,), (1,), (1,), 1)
        assert await listed(c) == {("a", 0): ([2, 1], [2], [1])}
        assert await listed(c, [("b", [0])]) == {}
        # Same target while in progress -> RF check uses where the partition is heading (1).
        resp = await reassign(c, {("a", 0): [2, 3]}, allow_rf_change=False)
        assert results(resp)[("a", 0)] == (Errors.INVALID_REPLICATION_FACTOR,
                                           "The replication factor is changed from 1 to 2")
        # Cancel: back to [1], nothing in progress.
        resp = await reassign(c, {("a", 0): None})
        assert results(resp) == {("a", 0): (0, None)}
        p = c.image.topics.by_name["a"].partitions[0]
        assert (p.replicas, p.adding_replicas, p.removing_replicas, p.leader) == ((1,), (), (), 1)
        assert await listed(c) == {}
        # A reorder of replicas already in the ISR completes at once (no adding/removing).
        resp = await reassign(c, {("b", 0): [2, 1]})
        assert results(resp) == {("b", 0): (0, None)}
        p = c.image.topics.by_name["b"].partitions[0]
        assert (p.replicas, p.adding_replicas, p.removing_replicas, p.leader) == ((2, 1), (), (), 1)
        # Dropping a replica that is in the ISR completes at once too, and bumps the leader epoch.
        epoch = p.leader_epoch
        resp = await reassign(c, {("b", 0): [1]})
        p = c.image.topics.by_name["b"].partitions[0]
        assert (p.replicas, p.isr, p.leader, p.leader_epoch) == ((1,), (1,), 1, epoch + 1)
    run(main())
