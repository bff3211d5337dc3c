"""Record schemas by key: KRaft metadata records by apiKey, coordinator and raft records by name
(loaded on first access)."""
from __future__ import annotations

from typing import Any

from fastkafka.protocol import _generated

_TABLES = ("METADATA_RECORDS", "GROUP_RECORDS", "TXN_RECORDS", "RAFT_RECORDS", "SHARE_RECORDS")


def __getattr__(name: str) -> Any:
    if name in _TABLES:
        return getattr(_generated, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_TABLES)
