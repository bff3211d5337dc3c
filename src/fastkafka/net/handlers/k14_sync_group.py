"""SyncGroup (key 14), v0-5. The leader sends the assignment; every member's SyncGroup waits for
it and gets its own share. v5 checks protocol type and name against the group's."""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import SyncGroupRequest, SyncGroupResponse


@handler(14, 0, 5)
async def handle_sync_group(broker: BrokerServices, ctx: RequestContext, req: SyncGroupRequest) -> SyncGroupResponse:
    error, assignment, group = await broker.group_coordinator.sync_group(ctx, req)
    return SyncGroupResponse(throttle_time_ms=0, error_code=error,
                             protocol_type=group.protocol_type if group is not None and not error else None,
                             protocol_name=group.protocol_name if group is not None and not error else None,
                             assignment=assignment)
