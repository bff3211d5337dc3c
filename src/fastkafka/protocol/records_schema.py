"""Record schemas by key (loaded on first access, so importing this module loads no codec).

    METADATA_RECORDS    apiKey -> KRaft metadata record class (TopicRecord, PartitionRecord, ...)
    GROUP_RECORDS       name -> class, every __consumer_offsets key/value schema
    TXN_RECORDS         name -> class, __transaction_state key/value schemas
    SHARE_RECORDS       name -> class, __share_group_state key/value schemas
    RAFT_RECORDS        name -> class (QuorumStateData)
    GROUP_RECORD_TYPES  record type -> (key class, value class), and likewise
    TXN_RECORD_TYPES, SHARE_RECORD_TYPES

A coordinator record's key starts with an int16 "version" that is really its record type (Kafka's
CoordinatorRecordType, the key schema's `apiKey` since Kafka 4.1): LegacyOffsetCommitKey is 0,
OffsetCommitKey 1, GroupMetadataKey 2, ConsumerGroupMetadataKey 3, ... It selects the key schema
(always schema version 0 after the type) and the matching *Value schema; the value carries its own
int16 schema version."""
from __future__ import annotations

from typing import Any

from fastkafka.protocol import _generated

_TABLES = ("METADATA_RECORDS", "GROUP_RECORDS", "TXN_RECORDS", "RAFT_RECORDS", "SHARE_RECORDS")
_TYPE_TABLES = {"GROUP_RECORD_TYPES": "GROUP_RECORDS", "TXN_RECORD_TYPES": "TXN_RECORDS",
                "SHARE_RECORD_TYPES": "SHARE_RECORDS"}


def _record_types(by_name: dict[str, type]) -> dict[int, tuple[type, type]]:
    out: dict[int, tuple[type, type]] = {}
    for name, key_cls in by_name.items():
        if not name.endswith("Key"):
            continue
        value_cls = by_name[name[:-3] + "Value"]
        record_type: int = key_cls.API_KEY  # type: ignore[attr-defined]
        if record_type in out:
            raise AssertionError(f"record type {record_type} claimed by {out[record_type][0].__name__} and {name}")
        out[record_type] = (key_cls, value_cls)
    return out


def __getattr__(name: str) -> Any:
    if name in _TABLES:
        value: Any = getattr(_generated, name)
    elif name in _TYPE_TABLES:
        value = _record_types(getattr(_generated, _TYPE_TABLES[name]))
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [*_TABLES, *_TYPE_TABLES]
