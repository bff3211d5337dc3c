"""AlterPartitionReassignments (key 45), v0-1. Handed to the quorum controller
(ReplicationControlManager.alterPartitionReassignments), which validates each partition's target
replica set and writes the PartitionChangeRecords of all accepted ones as one atomic batch.

Per partition (Kafka's order of checks): UNKNOWN_TOPIC_OR_PARTITION for a missing topic or
partition; `replicas` null cancels, NO_REASSIGNMENT_IN_PROGRESS when none is ongoing;
INVALID_REPLICA_ASSIGNMENT for an empty list, an unregistered broker or a repeated one; with v1's
`allow_replication_factor_change` false (KIP-860), INVALID_REPLICATION_FACTOR when the count
differs from the one the partition has (or is heading for). A target equal to the current
replica set writes nothing and succeeds: no reassignment is left in progress.

On a single node the only valid target is the node itself, which is always the current replica
set: a reassignment there is either that no-op or refused, exactly as Apache Kafka answers.
v1's response echoes `allow_replication_factor_change`.
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse


@handler(45, 0, 1, listeners=("broker", "controller"))
async def handle_alter_partition_reassignments(
        broker: BrokerServices, ctx: RequestContext, req: AlterPartitionReassignmentsRequest) -> AlterPartitionReassignmentsResponse:
    resp: AlterPartitionReassignmentsResponse = await broker.controller.alter_partition_reassignments(req, ctx.api_version)
    return resp
