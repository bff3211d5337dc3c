"""OffsetForLeaderEpoch (key 23), v2-4 (v0-1 removed in Kafka 4.0). KIP-320: a consumer (or a
follower) asks for the end offset of a leader epoch to detect log truncation. The answer comes
from the leader-epoch cache: the largest epoch <= the requested one and the start offset of the
next epoch (or the log end offset for the latest epoch); UNDEFINED (-1, -1) when the requested
epoch is older than anything in the log.
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import KafkaError
from fastkafka.protocol.messages import OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse
from fastkafka.storage import TopicPartition

_Topic = OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult
_Part = OffsetForLeaderEpochResponse.EpochEndOffset


@handler(23, 2, 4)
def handle_offset_for_leader_epoch(broker: BrokerServices, ctx: RequestContext,
                                   req: OffsetForLeaderEpochRequest) -> OffsetForLeaderEpochResponse:
    topics = []
    for t in req.topics:
        parts = []
        for p in t.partitions:
            try:
                part = broker.replica_manager.leader_partition(TopicPartition(t.topic, p.partition))
                part.check_leader_epoch(p.current_leader_epoch)
                epoch, end = part.log.end_offset_for_epoch(p.leader_epoch)
                parts.append(_Part(error_code=0, partition=p.partition, leader_epoch=epoch, end_offset=end))
            except KafkaError as e:
                parts.append(_Part(error_code=e.code, partition=p.partition, leader_epoch=-1, end_offset=-1))
        topics.append(_Topic(topic=t.topic, partitions=parts))
    return OffsetForLeaderEpochResponse(throttle_time_ms=0, topics=topics)
