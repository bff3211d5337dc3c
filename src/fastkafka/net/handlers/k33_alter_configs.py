"""AlterConfigs (key 33), v0-2: replaces a resource's whole set of dynamic configs (the legacy,
non-incremental API). The broker's ConfigAdminManager checks each resource (duplicates, nulls,
broker ids, keys that cannot change dynamically), then the quorum controller validates and
writes ConfigRecords (topics and brokers); validate_only writes nothing."""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import AlterConfigsRequest, AlterConfigsResponse


@handler(33, 0, 2, listeners=("broker", "controller"))
async def handle_alter_configs(broker: BrokerServices, ctx: RequestContext, req: AlterConfigsRequest) -> AlterConfigsResponse:
    resp: AlterConfigsResponse = await broker.config_admin.alter_configs(req, ctx.api_version)
    return resp
