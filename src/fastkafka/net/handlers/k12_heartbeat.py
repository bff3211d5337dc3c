"""Heartbeat (key 12), v0-4: keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to
rejoin, ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID that it was fenced, FENCED_INSTANCE_ID (v3+) that
a newer member joined with its group.instance.id."""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import HeartbeatRequest, HeartbeatResponse


@handler(12, 0, 4)
def handle_heartbeat(broker: BrokerServices, ctx: RequestContext, req: HeartbeatRequest) -> HeartbeatResponse:
    return HeartbeatResponse(throttle_time_ms=0, error_code=broker.group_coordinator.heartbeat(
        req.group_id, req.member_id, req.generation_id, req.group_instance_id if ctx.api_version >= 3 else None))
