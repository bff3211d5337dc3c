"""ListGroups (key 16), v0-5: every group this node coordinates, classic and consumer-protocol;
v4 adds the states filter and each group's state, v5 the types filter and each group's type
(Kafka's GroupMetadataManager.listGroups; filters are case-insensitive); the whole response is
COORDINATOR_LOAD_IN_PROGRESS while the coordinator loads."""
from __future__ import annotations

from fastkafka.cluster.group import group_admin
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import KafkaError
from fastkafka.protocol.messages import ListGroupsRequest, ListGroupsResponse


@handler(16, 0, 5)
def handle_list_groups(broker: BrokerServices, ctx: RequestContext, req: ListGroupsRequest) -> ListGroupsResponse:
    v = ctx.api_version
    try:
        groups = group_admin.list_groups(broker, list(req.states_filter) if v >= 4 else [],
                                         list(req.types_filter) if v >= 5 else [])
    except KafkaError as e:
        return ListGroupsResponse(throttle_time_ms=0, error_code=e.code, groups=[])
    return ListGroupsResponse(throttle_time_ms=0, error_code=0, groups=[
        ListGroupsResponse.ListedGroup(group_id=g.group_id, protocol_type=g.protocol_type,
                                       group_state=g.group_state, group_type=g.group_type)
        for g in groups])
