"""DescribeProducers (key 61), v0 (KafkaApis.handleDescribeProducersRequest /
ReplicaManager.activeProducerState): a partition leader's active producers, read from the
partition log's producer state without changing it: id, epoch, last sequence, last timestamp,
coordinator epoch of the last marker and the first offset of the open transaction (-1 if none).
UNKNOWN_TOPIC_OR_PARTITION for a partition this broker does not host, NOT_LEADER_OR_FOLLOWER
when it is not the leader.
"""
from __future__ import annotations

from typing import Any

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import DescribeProducersRequest, DescribeProducersResponse
from fastkafka.storage import TopicPartition

_Topic = DescribeProducersResponse.TopicResponse
_Part = DescribeProducersResponse.PartitionResponse
_State = DescribeProducersResponse.ProducerState


def _partition(broker: BrokerServices, topic: str, index: int) -> Any:
    part = broker.replica_manager.partition(TopicPartition(topic, index))
    if part is None:
        return _Part(partition_index=index, error_code=Errors.UNKNOWN_TOPIC_OR_PARTITION, error_message=None,
                     active_producers=[])
    if not part.is_leader:
        return _Part(partition_index=index, error_code=Errors.NOT_LEADER_OR_FOLLOWER, error_message=None,
                     active_producers=[])
    producers = [
        _State(producer_id=e.producer_id, producer_epoch=e.producer_epoch, last_sequence=e.last_seq,
               last_timestamp=e.last_timestamp, coordinator_epoch=e.coordinator_epoch,
               current_txn_start_offset=-1 if e.current_txn_first_offset is None else e.current_txn_first_offset)
        for e in part.log.producer_state_manager.active_producers().values()]
    return _Part(partition_index=index, error_code=0, error_message=None, active_producers=producers)


@handler(61, 0, 0)
async def handle_describe_producers(broker: BrokerServices, ctx: RequestContext,
                                    req: DescribeProducersRequest) -> DescribeProducersResponse:
    return DescribeProducersResponse(throttle_time_ms=0, topics=[
        _Topic(name=t.name, partitions=[_partition(broker, t.name, p) for p in t.partition_indexes])
        for t in req.topics])
