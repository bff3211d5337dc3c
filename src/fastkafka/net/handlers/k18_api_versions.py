"""ApiVersions (key 18), v0-5. Built from the handler registry, so the broker never advertises an
API or version it does not serve. v3+ carries the supported and finalized features (KIP-584,
cluster/metadata/features.py): Java's TransactionManager reads the finalized transaction.version
and, at 2, sends Produce v12 / EndTxn v5 / TxnOffsetCommit v5 without AddPartitionsToTxn or
AddOffsetsToTxn (KIP-890 part 2), all served here; a feature at level 0 is left out of the
finalized list, as Kafka does.

Unknown versions are answered in the v0 layout with UNSUPPORTED_VERSION by the connection
(KIP-511); that path calls `api_versions_response` below.

Request checks, in Kafka's order (KafkaApis / ControllerApis with ApiVersionsRequest.isValid):
v3+ software name and version must match Kafka's pattern, and v5's ClusterId and NodeId (KIP-1242)
must be given together (ClusterId null exactly when NodeId is -1); otherwise INVALID_REQUEST. On a
broker listener, a v5 request naming a cluster id other than ours, or a node id other than this
broker's, is REBOOTSTRAP_REQUIRED: the client's bootstrap or metadata points at the wrong node,
and it must rebootstrap. A controller listener does not compare them (Kafka's ControllerApis).
Both errors are Kafka's getErrorResponse: the error code alone, with no API keys or features.
"""
from __future__ import annotations

import re

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import Handler, handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import ApiVersionsRequest, ApiVersionsResponse

# Kafka's ApiVersionsRequest.isValid(): software name/version must match this pattern.
_SOFTWARE_RE = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$")


def api_versions_response(broker: BrokerServices, handlers: dict[int, Handler], error: int = 0) -> ApiVersionsResponse:
    keys = [ApiVersionsResponse.ApiVersion(api_key=h.api_key, min_version=h.min_version, max_version=h.max_version)
            for h in handlers.values()]
    epoch, supported, finalized = broker.features()
    return ApiVersionsResponse(
        error_code=error,
        api_keys=keys,
        throttle_time_ms=0,
        supported_features=[ApiVersionsResponse.SupportedFeatureKey(name=n, min_version=lo, max_version=hi)
                            for n, (lo, hi) in sorted(supported.items())],
        finalized_features_epoch=epoch,
        finalized_features=[ApiVersionsResponse.FinalizedFeatureKey(name=n, max_version_level=v, min_version_level=v)
                            for n, v in sorted(finalized.items())],
    )


def _error_response(error: int) -> ApiVersionsResponse:
    """ApiVersionsRequest.getErrorResponse for an error other than UNSUPPORTED_VERSION."""
    return ApiVersionsResponse(error_code=error, api_keys=[], throttle_time_ms=0)


@handler(18, 0, 5, listeners=("broker", "controller"))
def handle_api_versions(broker: BrokerServices, ctx: RequestContext, req: ApiVersionsRequest) -> ApiVersionsResponse:
    from fastkafka.net.registry import REGISTRY

    v = ctx.api_version
    on_controller = ctx.listener_name in broker.config.controller_listener_names
    handlers = REGISTRY.for_listener("controller" if on_controller else "broker")
    if v >= 5 and (req.cluster_id is None) != (req.node_id == -1):
        return _error_response(Errors.INVALID_REQUEST)
    if v >= 3 and not (
        _SOFTWARE_RE.match(req.client_software_name or "") and _SOFTWARE_RE.match(req.client_software_version or "")
    ):
        return _error_response(Errors.INVALID_REQUEST)
    if v >= 5 and not on_controller and req.cluster_id is not None and (
            req.cluster_id != broker.cluster_id or req.node_id != broker.node_id):
        return _error_response(Errors.REBOOTSTRAP_REQUIRED)
    return api_versions_response(broker, handlers)
