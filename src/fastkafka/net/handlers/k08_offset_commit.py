"""OffsetCommit (key 8), v2-9 (v0-1 removed in Kafka 4.0). Validates the member and generation
(a generation of -1 with no member id is a standalone commit, allowed while the group has no
members), checks topics exist and metadata size, then writes the offsets to `__consumer_offsets`
before answering. v7+ carries group.instance.id: a stale member id of a static instance is
FENCED_INSTANCE_ID. v9's member epoch applies to the consumer protocol (KIP-848, a later issue)."""
from __future__ import annotations

import time
from typing import Any

from fastkafka.cluster.group.classic_group import OffsetAndMetadata
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import OffsetCommitRequest, OffsetCommitResponse

_Topic = OffsetCommitResponse.OffsetCommitResponseTopic
_Part = OffsetCommitResponse.OffsetCommitResponsePartition


@handler(8, 2, 9)
async def handle_offset_commit(broker: Any, ctx: RequestContext, req: OffsetCommitRequest) -> OffsetCommitResponse:
    gc = broker.group_coordinator

    def all_with(code: int) -> OffsetCommitResponse:
        return OffsetCommitResponse(throttle_time_ms=0, topics=[_Topic(name=t.name, partitions=[
            _Part(partition_index=p.partition_index, error_code=code) for p in t.partitions]) for t in req.topics])

    if not req.group_id:
        return all_with(Errors.INVALID_GROUP_ID)
    try:
        await gc.ensure_offsets_topic()
        group = gc.validate_commit(req.group_id, req.member_id, req.generation_id_or_member_epoch,
                                   req.group_instance_id if ctx.api_version >= 7 else None)
    except KafkaError as e:
        return all_with(e.code)
    now = time.time_ns() // 1_000_000
    # v2-4 may ask for a retention of their own (Kafka's expireTimestampMs); -1 is the broker's.
    retention = req.retention_time_ms if 2 <= ctx.api_version <= 4 else -1
    expire = now + retention if retention != -1 else None
    codes: dict[tuple[str, int], int] = {}
    offsets: dict[tuple[str, int], OffsetAndMetadata] = {}
    image = broker.image
    for t in req.topics:
        topic = image.topics.by_name.get(t.name)
        for p in t.partitions:
            key = (t.name, p.partition_index)
            metadata = p.committed_metadata or ""
            if topic is None or p.partition_index not in topic.partitions:
                codes[key] = Errors.UNKNOWN_TOPIC_OR_PARTITION
            elif len(metadata.encode("utf-16-le")) // 2 > gc.offset_metadata_max_bytes:  # Java String.length()
                codes[key] = Errors.OFFSET_METADATA_TOO_LARGE
            else:
                offsets[key] = OffsetAndMetadata(p.committed_offset, p.committed_leader_epoch, metadata, now, expire)
    error = gc.commit_offsets(group, offsets)
    for key in offsets:
        codes[key] = error
    return OffsetCommitResponse(throttle_time_ms=0, topics=[_Topic(name=t.name, partitions=[
        _Part(partition_index=p.partition_index, error_code=codes[(t.name, p.partition_index)])
        for p in t.partitions]) for t in req.topics])
