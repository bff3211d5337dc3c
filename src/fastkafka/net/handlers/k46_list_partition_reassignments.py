"""ListPartitionReassignments (key 46), v0. Answered by the quorum controller
(ReplicationControlManager.listPartitionReassignments) from the latest committed metadata: the
partitions with adding or removing replicas, with their replicas, adding and removing lists.
`topics` null lists every ongoing reassignment; named topics or partitions that do not exist or
have none in progress are left out without an error. On one node nothing is ever in progress.
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.net.sliced_decoding import PendingRequest, sliced_request
from fastkafka.protocol.messages import ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse


# kafka-topics --describe names every partition of every topic: 10,000 topics were ~100 ms of
# decoding in one callback; 1,000 topics or more are decoded in slices by the handler.
@handler(46, 0, 0, listeners=("broker", "controller"),
         request_type=sliced_request(ListPartitionReassignmentsRequest,
                                     ListPartitionReassignmentsRequest.ListPartitionReassignmentsTopics,
                                     "topics", prefix_bytes=4))  # TimeoutMs (int32) comes first
async def handle_list_partition_reassignments(
        broker: BrokerServices, ctx: RequestContext,
        req: ListPartitionReassignmentsRequest | PendingRequest) -> ListPartitionReassignmentsResponse:
    if isinstance(req, PendingRequest):
        req = await req.decode()
    resp: ListPartitionReassignmentsResponse = await broker.controller.list_partition_reassignments(req, ctx.api_version)
    return resp
