"""CreateTopics (key 19), v2-7 (v0-1 removed in Kafka 4.0). Forwarded to the quorum controller,
which validates (names, partitions, replication factor, assignments, configs), writes TopicRecord,
PartitionRecords and ConfigRecords to the metadata log, and answers per topic; validateOnly
writes nothing. Served on broker and controller listeners, as Kafka does."""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import CreateTopicsRequest, CreateTopicsResponse


@handler(19, 2, 7, listeners=("broker", "controller"))
async def handle_create_topics(broker: BrokerServices, ctx: RequestContext, req: CreateTopicsRequest) -> CreateTopicsResponse:
    resp: CreateTopicsResponse = await broker.controller.create_topics(req, ctx.api_version)
    return resp
