"""JoinGroup (key 11), v0-9 (v0-1 kept for librdkafka feature detection, KAFKA-19444). Classic
group membership: v4+ new members first get MEMBER_ID_REQUIRED with their id (KIP-394); the
response waits until every member has (re)joined or the rebalance timeout passes; the leader
gets every member's metadata for the selected protocol. Static members (v5+ group.instance.id)
skip MEMBER_ID_REQUIRED; a known instance joining without its member id replaces the old one
(fenced with FENCED_INSTANCE_ID) without a rebalance when the group is Stable and its protocol
unchanged (v9: the static leader gets the members with skip_assignment, KIP-814).
GROUP_MAX_SIZE_REACHED past group.max.size (Kafka's acceptJoiningMember).
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import JoinGroupRequest, JoinGroupResponse


@handler(11, 0, 9)
async def handle_join_group(broker: BrokerServices, ctx: RequestContext, req: JoinGroupRequest) -> JoinGroupResponse:
    resp: JoinGroupResponse = await broker.group_coordinator.join_group(ctx, req)
    return resp
