"""KRaft control records (Kafka's ControlRecordType / ControlRecordUtils): the key is int16 version
(0) + int16 type; the value is the message at its version, written like any flexible message.

LeaderChangeMessage v0 (raft/LeaderChangeMessage.json, flexible 0+):
    int16 Version, int32 LeaderId, compact array Voters{int32 VoterId, tags},
    compact array GrantingVoters{int32 VoterId, tags}, tags
SnapshotHeaderRecord v0: int16 Version, int64 LastContainedLogTimestamp, tags
SnapshotFooterRecord v0: int16 Version, tags
"""
from __future__ import annotations

import struct
from collections.abc import Sequence

LEADER_CHANGE = 2
SNAPSHOT_HEADER = 3
SNAPSHOT_FOOTER = 4
KRAFT_VERSION = 5
KRAFT_VOTERS = 6


def _uvarint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _read_uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def control_key(record_type: int) -> bytes:
    return struct.pack(">hh", 0, record_type)


def control_type(key: bytes | None) -> int:
    """The control record type of a key, -1 (UNKNOWN) if it is too short."""
    if key is None or len(key) < 4:
        return -1
    return int(struct.unpack_from(">h", key, 2)[0])


def _voters(ids: Sequence[int]) -> bytes:
    return _uvarint(len(ids) + 1) + b"".join(struct.pack(">i", v) + b"\x00" for v in ids)


def leader_change_value(leader_id: int, voters: Sequence[int], granting_voters: Sequence[int]) -> bytes:
    return struct.pack(">hi", 0, leader_id) + _voters(voters) + _voters(granting_voters) + b"\x00"


def parse_leader_change(value: bytes) -> tuple[int, list[int], list[int]]:
    """(leader id, voters, granting voters); tagged fields are skipped."""
    _version, leader = struct.unpack_from(">hi", value, 0)
    pos = 6
    lists: list[list[int]] = []
    for _ in range(2):
        n, pos = _read_uvarint(value, pos)
        ids = []
        for _ in range(max(n - 1, 0)):
            ids.append(struct.unpack_from(">i", value, pos)[0])
            pos += 4
            pos = _skip_tags(value, pos)
        lists.append(ids)
    return leader, lists[0], lists[1]


def _skip_tags(buf: bytes, pos: int) -> int:
    n, pos = _read_uvarint(buf, pos)
    for _ in range(n):
        _tag, pos = _read_uvarint(buf, pos)
        size, pos = _read_uvarint(buf, pos)
        pos += size
    return pos


def snapshot_header_value(last_contained_log_timestamp: int) -> bytes:
    return struct.pack(">hq", 0, last_contained_log_timestamp) + b"\x00"


def snapshot_footer_value() -> bytes:
    return struct.pack(">h", 0) + b"\x00"
