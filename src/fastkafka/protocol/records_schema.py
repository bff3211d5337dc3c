"""Record schemas by key: KRaft metadata records by apiKey, coordinator and raft records by name."""
from __future__ import annotations

from fastkafka.protocol._generated import (
    GROUP_RECORDS,
    METADATA_RECORDS,
    RAFT_RECORDS,
    SHARE_RECORDS,
    TXN_RECORDS,
)

__all__ = ["GROUP_RECORDS", "METADATA_RECORDS", "RAFT_RECORDS", "SHARE_RECORDS", "TXN_RECORDS"]
