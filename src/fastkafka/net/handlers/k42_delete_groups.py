"""DeleteGroups (key 42), v0-2: deletes empty groups with their committed offsets (tombstones in
`__consumer_offsets`); NON_EMPTY_GROUP for a group with members, GROUP_ID_NOT_FOUND for an
unknown one, per group, in request order."""
from __future__ import annotations

from typing import Any

from fastkafka.cluster.group import group_admin
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import DeleteGroupsRequest, DeleteGroupsResponse


@handler(42, 0, 2)
def handle_delete_groups(broker: Any, ctx: RequestContext, req: DeleteGroupsRequest) -> DeleteGroupsResponse:
    results = group_admin.delete_groups(broker, list(req.groups_names))
    return DeleteGroupsResponse(throttle_time_ms=0, results=[
        DeleteGroupsResponse.DeletableGroupResult(group_id=g, error_code=e) for g, e in results])
