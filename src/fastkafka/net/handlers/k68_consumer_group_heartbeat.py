"""ConsumerGroupHeartbeat (key 68), v0: the consumer group protocol of KIP-848 (Java consumers
with `group.protocol=consumer`). Joins (epoch 0), heartbeats, leaves (epoch -1 / -2) and
answers the member's epoch and assignment; the logic lives in ConsumerGroupManager.

v1 (KIP-1082: the client generates its member id; SubscribedTopicRegex) is marked
latestVersionUnstable in the spec copy we generate from, but Kafka 4.x brokers serve it and
librdkafka's consumer protocol requires it, so it is advertised.
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse


@handler(68, 0, 1)
def handle_consumer_group_heartbeat(broker: BrokerServices, ctx: RequestContext,
                                    req: ConsumerGroupHeartbeatRequest) -> ConsumerGroupHeartbeatResponse:
    def error(code: int, message: str | None) -> ConsumerGroupHeartbeatResponse:
        return ConsumerGroupHeartbeatResponse(throttle_time_ms=0, error_code=code, error_message=message,
                                              member_id=None, member_epoch=0, heartbeat_interval_ms=0)

    manager = broker.consumer_group_manager
    if not manager.enabled:
        return error(Errors.UNSUPPORTED_VERSION, "The consumer group protocol is not enabled "
                     "(group.coordinator.rebalance.protocols).")
    if ctx.api_version >= 1 and not req.member_id:
        return error(Errors.INVALID_REQUEST, "MemberId can't be empty.")
    try:
        manager.check_coordinator(req.group_id)
        owned = None if req.topic_partitions is None else [(tp.topic_id, list(tp.partitions))
                                                           for tp in req.topic_partitions]
        result = manager.heartbeat(
            group_id=req.group_id, member_id=req.member_id, member_epoch=req.member_epoch,
            instance_id=req.instance_id, rack_id=req.rack_id, rebalance_timeout_ms=req.rebalance_timeout_ms,
            subscribed_topic_names=None if req.subscribed_topic_names is None else list(req.subscribed_topic_names),
            subscribed_topic_regex=getattr(req, "subscribed_topic_regex", None),
            server_assignor=req.server_assignor, owned=owned, client_id=ctx.client_id or "",
            client_host="/" + ctx.client_address.rsplit(":", 1)[0])
    except KafkaError as e:
        return error(e.code, e.message or None)
    assignment = None
    if result.assignment is not None:
        assignment = ConsumerGroupHeartbeatResponse.Assignment(topic_partitions=[
            ConsumerGroupHeartbeatResponse.TopicPartitions(topic_id=t, partitions=sorted(ps))
            for t, ps in sorted(result.assignment.items())])
    return ConsumerGroupHeartbeatResponse(throttle_time_ms=0, error_code=0, error_message=None,
                                          member_id=result.member_id, member_epoch=result.member_epoch,
                                          heartbeat_interval_ms=result.heartbeat_interval_ms, assignment=assignment)
