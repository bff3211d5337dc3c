"""LeaveGroup (key 13), v0-5; v3+ removes a batch of members (KIP-345) with per-member errors; a
member named only by its group.instance.id (empty member id) is the instance's current member, a
stale member id of a static instance is FENCED_INSTANCE_ID."""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import LeaveGroupRequest, LeaveGroupResponse


@handler(13, 0, 5)
def handle_leave_group(broker: BrokerServices, ctx: RequestContext, req: LeaveGroupRequest) -> LeaveGroupResponse:
    gc = broker.group_coordinator
    if ctx.api_version < 3:
        error, per_member = gc.leave_group(req.group_id, [req.member_id])
        return LeaveGroupResponse(throttle_time_ms=0, error_code=error or (per_member[0] if per_member else 0))
    error, per_member = gc.leave_group(req.group_id, [(m.member_id, m.group_instance_id) for m in req.members])
    return LeaveGroupResponse(throttle_time_ms=0, error_code=error, members=[
        LeaveGroupResponse.MemberResponse(member_id=m.member_id, group_instance_id=m.group_instance_id, error_code=e)
        for m, e in zip(req.members, per_member)] if not error else [])
