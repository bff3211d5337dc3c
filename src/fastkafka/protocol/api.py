"""API registry over the generated codec: classes by API key, Kafka's names, header versions.

Classes load on first use, so a process imports only the message modules of the APIs it serves."""
from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from fastkafka.protocol._generated import API_INDEX

API_NAMES: dict[int, str] = {k: v[0] for k, v in API_INDEX.items()}

_API_VERSIONS = 18
_CONTROLLED_SHUTDOWN = 7


class _LazyClasses(Mapping[int, type]):
    """api_key -> request (slot 2) or response (slot 3) class, imported when first looked up."""

    def __init__(self, slot: int) -> None:
        self._slot = slot
        self._loaded: dict[int, type] = {}

    def __getitem__(self, api_key: int) -> type:
        cls = self._loaded.get(api_key)
        if cls is None:
            entry = API_INDEX[api_key]
            module = importlib.import_module(f"fastkafka.protocol._generated.{entry[1]}")
            cls = self._loaded[api_key] = getattr(module, entry[self._slot])
        return cls

    def __iter__(self) -> Iterator[int]:
        return iter(API_INDEX)

    def __len__(self) -> int:
        return len(API_INDEX)


REQUESTS: Mapping[int, type] = _LazyClasses(2)
RESPONSES: Mapping[int, type] = _LazyClasses(3)


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
