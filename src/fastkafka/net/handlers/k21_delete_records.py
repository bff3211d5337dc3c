"""DeleteRecords (key 21), v0-2: moves each partition's log start offset up to the given offset
(-1 = the high watermark); whole segments below it are deleted. An offset beyond the high
watermark is OFFSET_OUT_OF_RANGE; the response carries the new low watermark."""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import DeleteRecordsRequest, DeleteRecordsResponse
from fastkafka.storage import TopicPartition

_Topic = DeleteRecordsResponse.DeleteRecordsTopicResult
_Part = DeleteRecordsResponse.DeleteRecordsPartitionResult
HIGH_WATERMARK = -1


@handler(21, 0, 2)
def handle_delete_records(broker: BrokerServices, ctx: RequestContext, req: DeleteRecordsRequest) -> DeleteRecordsResponse:
    topics = []
    for t in req.topics:
        parts = []
        for p in t.partitions:
            try:
                plog = broker.replica_manager.leader_partition(TopicPartition(t.name, p.partition_index)).log
                target = plog.high_watermark if p.offset == HIGH_WATERMARK else p.offset
                if target < 0:
                    raise KafkaError(Errors.OFFSET_OUT_OF_RANGE, f"Invalid offset {p.offset}")
                plog.maybe_increment_log_start_offset(target)
                parts.append(_Part(partition_index=p.partition_index, low_watermark=plog.log_start_offset, error_code=0))
            except KafkaError as e:
                parts.append(_Part(partition_index=p.partition_index, low_watermark=-1, error_code=e.code))
        topics.append(_Topic(name=t.name, partitions=parts))
    return DeleteRecordsResponse(throttle_time_ms=0, topics=topics)
