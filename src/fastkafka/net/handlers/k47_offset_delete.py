"""OffsetDelete (key 47), v0: deletes a group's committed offsets for some partitions, as Kafka's
KafkaApis.handleOffsetDeleteRequest and OffsetMetadataManager.deleteOffsets do.

Unknown topics and partitions answer UNKNOWN_TOPIC_OR_PARTITION without reaching the coordinator;
a topic the group is subscribed to answers GROUP_SUBSCRIBED_TO_TOPIC; the other partitions'
offsets get tombstones in `__consumer_offsets` before the answer. Group-level errors
(GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP for a non-empty group of another protocol type than
"consumer", NOT_COORDINATOR, INVALID_GROUP_ID) are the top-level error code."""
from __future__ import annotations

from typing import Any

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import OffsetDeleteRequest, OffsetDeleteResponse

R = OffsetDeleteResponse


@handler(47, 0, 0)
async def handle_offset_delete(broker: BrokerServices, ctx: RequestContext, req: OffsetDeleteRequest) -> OffsetDeleteResponse:
    codes: dict[tuple[str, int], int] = {}
    valid: list[tuple[str, list[int]]] = []
    image = broker.image
    for t in req.topics:
        topic = image.topics.by_name.get(t.name)
        ok = []
        for p in t.partitions:
            if topic is None or p.partition_index not in topic.partitions:
                codes[(t.name, p.partition_index)] = Errors.UNKNOWN_TOPIC_OR_PARTITION
            else:
                ok.append(p.partition_index)
        if ok:
            valid.append((t.name, ok))
    error = 0
    if not req.group_id:
        error = Errors.INVALID_GROUP_ID
    else:
        try:
            await broker.group_coordinator.ensure_offsets_topic()
            error, deleted = broker.group_coordinator.delete_offsets(req.group_id, valid)
            codes.update(deleted)
        except KafkaError as e:
            error = e.code
    topics: dict[str, list[Any]] = {}
    for (name, partition), code in codes.items():
        topics.setdefault(name, []).append(R.OffsetDeleteResponsePartition(partition_index=partition, error_code=code))
    return R(error_code=error, throttle_time_ms=0, topics=[
        R.OffsetDeleteResponseTopic(name=name, partitions=parts) for name, parts in topics.items()])
