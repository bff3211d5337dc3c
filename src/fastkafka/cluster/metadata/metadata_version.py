"""metadata.version feature levels (Kafka's org.apache.kafka.server.common.MetadataVersion).

Only the levels this node reasons about are named; the level is an int16 carried by
FeatureLevelRecord(name="metadata.version"). Record versions follow the level, as Kafka's
MetadataVersion.partitionRecordVersion() etc. do, so a log written here replays in Kafka.
"""
from __future__ import annotations

FEATURE_NAME = "metadata.version"

IBP_3_3_IV3 = 7
IBP_3_4_IV0 = 8
IBP_3_7_IV2 = 17
IBP_3_9_IV0 = 21
IBP_4_0_IV0 = 22
IBP_4_0_IV1 = 23
IBP_4_0_IV2 = 24
IBP_4_1_IV1 = 27

MINIMUM_VERSION = IBP_3_3_IV3
# Kafka 4.1's LATEST_PRODUCTION; the highest level whose records this node writes and reads.
LATEST_PRODUCTION = IBP_4_1_IV1

_RELEASES = {7: "3.3-IV3", 8: "3.4-IV0", 9: "3.5-IV0", 10: "3.5-IV1", 11: "3.5-IV2", 12: "3.6-IV0",
             13: "3.6-IV1", 14: "3.6-IV2", 15: "3.7-IV0", 16: "3.7-IV1", 17: "3.7-IV2", 18: "3.7-IV3",
             19: "3.7-IV4", 20: "3.8-IV0", 21: "3.9-IV0", 22: "4.0-IV0", 23: "4.0-IV1", 24: "4.0-IV2",
             25: "4.0-IV3", 26: "4.1-IV0", 27: "4.1-IV1"}


def release(level: int) -> str:
    """The release string of a level, e.g. 27 -> "4.1-IV1" (Kafka's MetadataVersion.version())."""
    return _RELEASES.get(level, f"unknown({level})")


def from_release(text: str) -> int:
    """Parse "4.1", "4.1-IV1" or a bare level; "X.Y" means the latest IV of that release."""
    if text.isdigit():
        level = int(text)
    else:
        matches = [lvl for lvl, rel in _RELEASES.items() if rel == text or rel.split("-")[0] == text]
        if not matches:
            raise ValueError(f"Unknown metadata.version '{text}'")
        level = max(matches)
    if not MINIMUM_VERSION <= level <= LATEST_PRODUCTION:
        raise ValueError(f"Unsupported metadata.version {level}: supported {MINIMUM_VERSION}-{LATEST_PRODUCTION}")
    return level


def partition_record_version(level: int) -> int:
    """PartitionRecord/PartitionChangeRecord: v2 adds ELR (4.0-IV1), v1 directories (3.7-IV2)."""
    if level >= IBP_4_0_IV1:
        return 2
    if level >= IBP_3_7_IV2:
        return 1
    return 0


def register_broker_record_version(level: int) -> int:
    """RegisterBrokerRecord: v3 log dirs (3.7-IV2), v2 IsMigratingZkBroker (3.4-IV0), else v1."""
    if level >= IBP_3_7_IV2:
        return 3
    if level >= IBP_3_4_IV0:
        return 2
    return 1
