"""IncrementalAlterConfigs (key 44), v0-1: SET / DELETE / APPEND / SUBTRACT per key (KIP-339).
The broker's ConfigAdminManager checks each resource and applies BROKER_LOGGER changes itself;
TOPIC and BROKER resources go to the quorum controller, which validates and writes ConfigRecords
through the KRaft log (they take effect when the broker publishes the new image)."""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse


@handler(44, 0, 1, listeners=("broker", "controller"))
async def handle_incremental_alter_configs(broker: BrokerServices, ctx: RequestContext,
                                           req: IncrementalAlterConfigsRequest) -> IncrementalAlterConfigsResponse:
    resp: IncrementalAlterConfigsResponse = await broker.config_admin.incremental_alter_configs(req, ctx.api_version)
    return resp
