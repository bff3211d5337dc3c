"""JoinGroup (key 11), v0-9 (v0-1 kept for librdkafka feature detection, KAFKA-19444). Classic
group membership: v4+ new members first get MEMBER_ID_REQUIRED with their id (KIP-394); the
response waits until every member has (re)joined or the rebalance timeout passes; the leader
gets every member's metadata for the selected protocol.

Deliberate gaps: static membership beyond accepting group.instance.id (replacement and fencing
with FENCED_INSTANCE_ID arrive with the consumer-group issue).
"""
from __future__ import annotations

from typing import Any

from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import JoinGroupRequest, JoinGroupResponse


@handler(11, 0, 9)
async def handle_join_group(broker: Any, ctx: RequestContext, req: JoinGroupRequest) -> JoinGroupResponse:
    resp: JoinGroupResponse = await broker.group_coordinator.join_group(ctx, req)
    return resp
