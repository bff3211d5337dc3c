"""API registry over the generated codec: classes by API key, Kafka's names, header versions."""
from __future__ import annotations

from fastkafka.protocol._generated import APIS

REQUESTS: dict[int, type] = {k: v[1] for k, v in APIS.items()}
RESPONSES: dict[int, type] = {k: v[2] for k, v in APIS.items()}
API_NAMES: dict[int, str] = {k: v[0] for k, v in APIS.items()}

_API_VERSIONS = 18
_CONTROLLED_SHUTDOWN = 7


def is_flexible(api_key: int, api_version: int) -> bool:
    fv = REQUESTS[api_key].FLEXIBLE_VERSIONS  # type: ignore[attr-defined]
    return fv is not None and api_version >= fv[0] and (fv[1] is None or api_version <= fv[1])


def request_header_version(api_key: int, api_version: int) -> int:
    """2 for flexible versions (tagged fields), else 1; ControlledShutdown v0 used header v0."""
    if api_key == _CONTROLLED_SHUTDOWN and api_version == 0:
        return 0
    return 2 if is_flexible(api_key, api_version) else 1


def response_header_version(api_key: int, api_version: int) -> int:
    """1 for flexible versions, else 0. ApiVersionsResponse always uses header v0 so that a
    client can parse it before it knows which versions the broker speaks (KIP-511)."""
    if api_key == _API_VERSIONS:
        return 0
    return 1 if is_flexible(api_key, api_version) else 0
