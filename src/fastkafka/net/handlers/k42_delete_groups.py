"""DeleteGroups (key 42), v0-3: deletes empty groups with their committed offsets (tombstones in
`__consumer_offsets`); NON_EMPTY_GROUP for a group with members, GROUP_ID_NOT_FOUND for an
unknown one, per group. Like Kafka's KafkaApis, a group named twice is handled (and answered)
once.

v3 adds a per-group error_message. Kafka 4.4 fills it only for GROUP_DELETION_FAILED, the error
a streams group's topology-description plugin failure produces (below v3 that error is sent as
UNKNOWN_SERVER_ERROR); the coordinator's own errors (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND,
NOT_COORDINATOR, ...) carry no message. fastkafka has no streams groups, so every message is
null, as Kafka's would be for the same groups."""
from __future__ import annotations

from fastkafka.cluster.group import group_admin
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import DeleteGroupsRequest, DeleteGroupsResponse


@handler(42, 0, 3)
def handle_delete_groups(broker: BrokerServices, ctx: RequestContext, req: DeleteGroupsRequest) -> DeleteGroupsResponse:
    results = group_admin.delete_groups(broker, list(dict.fromkeys(req.groups_names)))
    return DeleteGroupsResponse(throttle_time_ms=0, results=[
        DeleteGroupsResponse.DeletableGroupResult(group_id=g, error_code=e, error_message=None) for g, e in results])
