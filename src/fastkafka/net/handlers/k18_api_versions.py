"""ApiVersions (key 18), v0-4. Built from the handler registry, so the broker never advertises an
API or version it does not serve. v3+ carries the supported and finalized features (KIP-584);
Only `metadata.version` is advertised. `transaction.version` 2 must never appear finalized: Java's
TransactionManager reads the finalized level and then relies on Produce v12 and TxnOffsetCommit v5
(KIP-890 part 2), which the protocol specs we generate from do not define (they stop at v11 and v4);
at level 0 Kafka leaves it out of the finalized list too.

Unknown versions are answered in the v0 layout with UNSUPPORTED_VERSION by the connection
(KIP-511); that path calls `api_versions_response` below.
"""
from __future__ import annotations

import re
from typing import Any

from fastkafka.net.registry import Handler, handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import ApiVersionsRequest, ApiVersionsResponse

# Kafka's ApiVersionsRequest.isValid(): software name/version must match this pattern.
_SOFTWARE_RE = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$")


def api_versions_response(broker: Any, handlers: dict[int, Handler], error: int = 0) -> ApiVersionsResponse:
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


@handler(18, 0, 4, listeners=("broker", "controller"))
def handle_api_versions(broker: Any, ctx: RequestContext, req: ApiVersionsRequest) -> ApiVersionsResponse:
    from fastkafka.net.registry import REGISTRY

    kind = "controller" if ctx.listener_name in broker.config.controller_listener_names else "broker"
    handlers = REGISTRY.for_listener(kind)
    if ctx.api_version >= 3 and not (
        _SOFTWARE_RE.match(req.client_software_name or "") and _SOFTWARE_RE.match(req.client_software_version or "")
    ):
        return api_versions_response(broker, handlers, Errors.INVALID_REQUEST)
    return api_versions_response(broker, handlers)
