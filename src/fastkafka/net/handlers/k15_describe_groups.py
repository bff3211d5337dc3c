"""DescribeGroups (key 15), v0-6: classic groups with their state, protocol type, the selected
protocol and members (metadata and assignment bytes while Stable). An unknown group, or one of
another type (a consumer-protocol group), is answered as state "Dead": with no error up to v5,
and from v6 (KIP-1043) with GROUP_ID_NOT_FOUND and Kafka's message ("Group g not found." /
"Group g is not a classic group.") in the per-group error_message; coordinator errors carry no
message, as in Kafka.
Authorized operations (v3+) are filled only when requested; without an authorizer they are
every operation a GROUP supports, as Kafka's AuthHelper computes them. Like Kafka, describing
never creates `__consumer_offsets` (clients find the coordinator first, which does)."""
from __future__ import annotations

from fastkafka.cluster.authorized_operations import AUTHORIZED_OPERATIONS_OMITTED, GROUP_OPERATIONS
from fastkafka.cluster.group import group_admin
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import DescribeGroupsRequest, DescribeGroupsResponse

R = DescribeGroupsResponse


@handler(15, 0, 6)
def handle_describe_groups(broker: BrokerServices, ctx: RequestContext, req: DescribeGroupsRequest) -> DescribeGroupsResponse:
    include_ops = ctx.api_version >= 3 and req.include_authorized_operations
    out = []
    for group_id in req.groups:
        d = group_admin.describe_group(broker, group_id, ctx.api_version)
        ops = GROUP_OPERATIONS if include_ops and d.error_code == 0 else AUTHORIZED_OPERATIONS_OMITTED
        out.append(R.DescribedGroup(
            error_code=d.error_code, error_message=d.error_message, group_id=d.group_id, group_state=d.group_state, protocol_type=d.protocol_type,
            protocol_data=d.protocol_data, authorized_operations=ops, members=[R.DescribedGroupMember(
                member_id=m.member_id, group_instance_id=m.group_instance_id, client_id=m.client_id,
                client_host=m.client_host, member_metadata=m.member_metadata,
                member_assignment=m.member_assignment) for m in d.members]))
    return R(throttle_time_ms=0, groups=out)
