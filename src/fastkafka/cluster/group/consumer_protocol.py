"""The embedded consumer protocol of classic groups (Kafka's ConsumerProtocol): a JoinGroup
protocol's metadata is a ConsumerProtocolSubscription, a SyncGroup assignment a
ConsumerProtocolAssignment, each an int16 version followed by the struct in that version
(non-flexible, versions 0-3).

The group coordinator reads them only to move a group between the classic and the consumer
protocol (KIP-848's online migration): a classic group's members' subscriptions and assignments
become consumer group members, a consumer group's classic members get their target assignment
serialized in the version of their subscription. As Kafka's deserializers, a version above the
highest known one is read as the highest (forward compatibility), a negative one is malformed.

Pure functions; ValueError for malformed bytes.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from fastkafka.protocol._generated.data_types import ConsumerProtocolAssignment, ConsumerProtocolSubscription

HIGHEST_VERSION = 3


@dataclass
class Subscription:
    version: int
    topics: list[str]
    owned_partitions: dict[str, list[int]] = field(default_factory=dict)
    rack_id: str | None = None
    user_data: bytes | None = None


def _version(data: bytes) -> int:
    if len(data) < 2:
        raise ValueError("consumer protocol data without a version")
    (version,) = struct.unpack_from(">h", data)
    if version < 0:
        raise ValueError(f"unsupported consumer protocol version {version}")
    return int(min(version, HIGHEST_VERSION))


def version_of(data: bytes) -> int:
    """Kafka's ConsumerProtocol.deserializeVersion (clamped as its serializer clamps)."""
    return _version(data)


def parse_subscription(data: bytes) -> Subscription:
    version = _version(data)
    try:
        s = ConsumerProtocolSubscription.from_bytes(memoryview(data)[2:], version)
    except Exception as e:  # noqa: BLE001 - the codec's errors for truncated input vary
        raise ValueError(f"malformed consumer protocol subscription: {e}") from e
    owned: dict[str, list[int]] = {}
    for tp in (s.owned_partitions or []) if version >= 1 else []:
        owned.setdefault(tp.topic, []).extend(tp.partitions)
    user_data = None if s.user_data is None else bytes(s.user_data)
    return Subscription(version, list(s.topics or []), owned, s.rack_id or None, user_data)


def parse_assignment(data: bytes) -> tuple[dict[str, list[int]], bytes | None]:
    """(topic -> partitions, user data) of a ConsumerProtocolAssignment."""
    version = _version(data)
    try:
        a = ConsumerProtocolAssignment.from_bytes(memoryview(data)[2:], version)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"malformed consumer protocol assignment: {e}") from e
    out: dict[str, list[int]] = {}
    for tp in a.assigned_partitions or []:
        out.setdefault(tp.topic, []).extend(tp.partitions)
    return out, None if a.user_data is None else bytes(a.user_data)


def serialize_assignment(partitions: dict[str, list[int]], version: int) -> bytes:
    """Kafka's ConsumerProtocol.serializeAssignment (no user data), topics and partitions sorted."""
    version = max(0, min(version, HIGHEST_VERSION))
    A = ConsumerProtocolAssignment
    body = A(assigned_partitions=[A.TopicPartition(topic=t, partitions=sorted(ps))  # type: ignore[attr-defined]
                                  for t, ps in sorted(partitions.items()) if ps], user_data=None).to_bytes(version)
    return struct.pack(">h", version) + bytes(body)
