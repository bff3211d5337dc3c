"""CreatePartitions (key 37), v0-3. Forwarded to the quorum controller (PartitionRecords for the
new partitions); INVALID_PARTITIONS when the count does not grow, validateOnly writes nothing."""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import CreatePartitionsRequest, CreatePartitionsResponse


@handler(37, 0, 3, listeners=("broker", "controller"))
async def handle_create_partitions(broker: BrokerServices, ctx: RequestContext, req: CreatePartitionsRequest) -> CreatePartitionsResponse:
    resp: CreatePartitionsResponse = await broker.controller.create_partitions(req, ctx.api_version)
    return resp
