"""ListConfigResources (key 74), v0-1 (v0 was ListClientMetricsResources; KIP-1142 generalised it).

Kafka's KafkaApis.handleListConfigResources, answered from the metadata image:
- The types a version supports: v0 CLIENT_METRICS only (its request has no type list); v1 TOPIC,
  BROKER, BROKER_LOGGER, CLIENT_METRICS and GROUP. An empty list means every supported type; any
  requested type outside them fails the whole request with UNSUPPORTED_VERSION and no resources.
- Resources are listed type by type in Kafka's order: GROUP (groups that have dynamic group
  configs: GroupConfigManager.groupIds), CLIENT_METRICS (the client-metrics subscriptions, i.e.
  CLIENT_METRICS config resources), BROKER_LOGGER and BROKER (every registered broker with an
  endpoint on the request's listener, fenced or not: MetadataCache.getBrokerNodes), TOPIC (every
  topic). Kafka lists topics in hash-set order; here they are sorted, which no client relies on.
- Without an authorizer the DESCRIBE_CONFIGS-on-cluster check always passes.
"""
from __future__ import annotations

from typing import Any

from fastkafka.cluster.metadata.config_resource import ConfigResourceType
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import ListConfigResourcesRequest, ListConfigResourcesResponse

_Resource = ListConfigResourcesResponse.ConfigResource

# ListConfigResourcesRequest.supportedResourceTypes, by request version.
_V0_TYPES = frozenset({ConfigResourceType.CLIENT_METRICS})
_V1_TYPES = frozenset({ConfigResourceType.TOPIC, ConfigResourceType.BROKER, ConfigResourceType.BROKER_LOGGER,
                       ConfigResourceType.CLIENT_METRICS, ConfigResourceType.GROUP})


def supported_resource_types(version: int) -> frozenset[int]:
    return _V0_TYPES if version == 0 else _V1_TYPES


def list_config_resources(image: Any, listener_name: str, types: set[int]) -> list[tuple[str, int]]:
    """(name, type) pairs in KafkaApis.handleListConfigResources's order."""
    out: list[tuple[str, int]] = []
    by_type: dict[int, list[str]] = {}
    for res in image.configs.data:
        by_type.setdefault(res.type, []).append(res.name)
    for t in (ConfigResourceType.GROUP, ConfigResourceType.CLIENT_METRICS):
        if t in types:
            out.extend((name, t) for name in sorted(by_type.get(t, ())))
    brokers = image.cluster.brokers
    node_ids = [bid for bid in sorted(brokers) if brokers[bid].node(listener_name) is not None]
    for t in (ConfigResourceType.BROKER_LOGGER, ConfigResourceType.BROKER):
        if t in types:
            out.extend((str(bid), t) for bid in node_ids)
    if ConfigResourceType.TOPIC in types:
        out.extend((name, ConfigResourceType.TOPIC) for name in sorted(image.topics.by_name))
    return out


@handler(74, 0, 1)
def handle_list_config_resources(broker: BrokerServices, ctx: RequestContext,
                                 req: ListConfigResourcesRequest) -> ListConfigResourcesResponse:
    supported = supported_resource_types(ctx.api_version)
    requested = set(req.resource_types) if ctx.api_version >= 1 and req.resource_types else set(supported)
    if not requested <= supported:
        return ListConfigResourcesResponse(throttle_time_ms=0, error_code=Errors.UNSUPPORTED_VERSION,
                                           config_resources=[])
    return ListConfigResourcesResponse(throttle_time_ms=0, error_code=0, config_resources=[
        _Resource(resource_name=name, resource_type=t)
        for name, t in list_config_resources(broker.image, ctx.listener_name, requested)])
