"""DescribeQuorum (key 55), v0-2: the KRaft quorum of `__cluster_metadata-0` (KIP-595, KIP-836,
KIP-853), as Kafka's KafkaRaftClient.handleDescribeQuorumRequest and RaftUtil answer it.

Served on the controller listener and on the broker listener: a Kafka broker forwards the request
to the active controller and relays its answer; here the broker and the quorum leader are the same
process, so both listeners answer from the local RaftClient.
- The request must name exactly one topic, `__cluster_metadata`, with exactly partition 0;
  otherwise every requested partition gets UNKNOWN_TOPIC_OR_PARTITION.
- A node that does not lead the quorum answers NOT_LEADER_OR_FOLLOWER for `__cluster_metadata-0`.
- The leader reports its id, epoch, high watermark, the voters and the observers, each with its
  log end offset (-1 unknown) and, from v1, its last fetch and last caught-up times (the leader
  itself: now; a replica that never fetched: -1). v2 adds each replica's directory id (zero with
  static voters, kraft.version 0) and the voters' controller listeners.
"""
from __future__ import annotations

from typing import Any

from fastkafka.cluster.kraft.raft_client import now_ms
from fastkafka.cluster.topic import METADATA_TOPIC_NAME
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import BROKER, CONTROLLER, handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import MESSAGES, Errors, KafkaError
from fastkafka.protocol.messages import DescribeQuorumRequest, DescribeQuorumResponse

_R = DescribeQuorumResponse
METADATA_PARTITION = 0


def _valid_topic_partition(req: DescribeQuorumRequest) -> bool:
    return (len(req.topics) == 1 and req.topics[0].topic_name == METADATA_TOPIC_NAME
            and len(req.topics[0].partitions) == 1
            and req.topics[0].partitions[0].partition_index == METADATA_PARTITION)


def _replica_states(states: Any, leader_id: int, now: int) -> list[Any]:
    out = []
    for s in states:
        leader = s.node_id == leader_id
        out.append(_R.ReplicaState(
            replica_id=s.node_id, replica_directory_id=s.directory_id, log_end_offset=s.end_offset,
            last_fetch_timestamp=now if leader else s.last_fetch_timestamp,
            last_caught_up_timestamp=now if leader else s.last_caught_up_timestamp))
    return out


@handler(55, 0, 2, listeners=(BROKER, CONTROLLER))
def handle_describe_quorum(broker: BrokerServices, ctx: RequestContext, req: DescribeQuorumRequest) -> DescribeQuorumResponse:
    if not _valid_topic_partition(req):
        code = Errors.UNKNOWN_TOPIC_OR_PARTITION
        return _R(error_code=0, topics=[
            _R.TopicData(topic_name=t.topic_name, partitions=[
                _R.PartitionData(partition_index=p.partition_index, error_code=code, error_message=MESSAGES[code])
                for p in t.partitions])
            for t in req.topics])
    now = now_ms()
    try:
        q = broker.raft.describe_quorum(now)
    except KafkaError as e:
        return _R(error_code=0, topics=[_R.TopicData(topic_name=METADATA_TOPIC_NAME, partitions=[
            _R.PartitionData(partition_index=METADATA_PARTITION, error_code=e.code, error_message=e.message)])])
    partition = _R.PartitionData(
        partition_index=METADATA_PARTITION, error_code=0, leader_id=q.leader_id, leader_epoch=q.leader_epoch,
        high_watermark=q.high_watermark,
        current_voters=_replica_states(q.voters, q.leader_id, now),
        observers=_replica_states(q.observers, q.leader_id, now))
    nodes = [_R.Node(node_id=v.node_id, listeners=[_R.Listener(name=n, host=h, port=p) for n, h, p in v.listeners])
             for v in q.voters]
    return _R(error_code=0, topics=[_R.TopicData(topic_name=METADATA_TOPIC_NAME, partitions=[partition])],
              nodes=nodes)
