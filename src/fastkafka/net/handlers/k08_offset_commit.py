"""OffsetCommit (key 8), v2-10 (v0-1 removed in Kafka 4.0). As Kafka's KafkaApis, the topics are
checked first: an unknown topic id (v10) is UNKNOWN_TOPIC_ID, an unknown topic or partition
UNKNOWN_TOPIC_OR_PARTITION, per partition; only the partitions that remain go to the group
coordinator (none left: it is not asked, so no group is created). It validates the member and
generation (a generation of -1 with no member id is a standalone commit, allowed while the group
has no members), checks the metadata size, then writes the offsets to `__consumer_offsets` before
answering; a group-level error is answered for those partitions only. v7+ carries
group.instance.id: a stale member id of a static instance is FENCED_INSTANCE_ID. v9's member
epoch applies to the consumer protocol (KIP-848).

v10 (KIP-848) names topics by id instead of by name, in the request and the response. The id is
resolved with the broker's topic-id map (the metadata image); the coordinator keeps storing topic
names in `__consumer_offsets`, as Kafka does, so an offset committed by id is fetched by name and
vice versa."""
from __future__ import annotations

import time

from fastkafka.cluster.group.classic_group import OffsetAndMetadata
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import OffsetCommitRequest, OffsetCommitResponse

_Topic = OffsetCommitResponse.OffsetCommitResponseTopic
_Part = OffsetCommitResponse.OffsetCommitResponsePartition


@handler(8, 2, 10)
async def handle_offset_commit(broker: BrokerServices, ctx: RequestContext, req: OffsetCommitRequest) -> OffsetCommitResponse:
    gc = broker.group_coordinator
    use_topic_ids = ctx.api_version >= 10
    image = broker.image
    # Per request topic: its name (None for an unknown id) and each partition's error so far.
    names = [(broker.topic_name(t.topic_id) if use_topic_ids else t.name) for t in req.topics]
    codes: list[dict[int, int]] = []
    valid = False
    for t, name in zip(req.topics, names):
        topic = image.topics.by_name.get(name) if name is not None else None
        tcodes: dict[int, int] = {}
        for p in t.partitions:
            if name is None:
                tcodes[p.partition_index] = Errors.UNKNOWN_TOPIC_ID
            elif topic is None or p.partition_index not in topic.partitions:
                tcodes[p.partition_index] = Errors.UNKNOWN_TOPIC_OR_PARTITION
            else:
                tcodes[p.partition_index] = -1  # not decided yet
                valid = True
        codes.append(tcodes)

    def response() -> OffsetCommitResponse:
        return OffsetCommitResponse(throttle_time_ms=0, topics=[
            _Topic(name=name if name is not None else "", topic_id=t.topic_id if use_topic_ids else bytes(16),
                   partitions=[_Part(partition_index=p.partition_index, error_code=tcodes[p.partition_index])
                               for p in t.partitions])
            for t, name, tcodes in zip(req.topics, names, codes)])

    def pending_with(code: int) -> OffsetCommitResponse:
        for tcodes in codes:
            for p, c in tcodes.items():
                if c == -1:
                    tcodes[p] = code
        return response()

    if not valid:
        return response()
    if not req.group_id:
        return pending_with(Errors.INVALID_GROUP_ID)
    try:
        await gc.ensure_offsets_topic()
        group = gc.validate_commit(req.group_id, req.member_id, req.generation_id_or_member_epoch,
                                   req.group_instance_id if ctx.api_version >= 7 else None)
    except KafkaError as e:
        return pending_with(e.code)
    now = time.time_ns() // 1_000_000
    # v2-4 may ask for a retention of their own (Kafka's expireTimestampMs); -1 is the broker's.
    retention = req.retention_time_ms if 2 <= ctx.api_version <= 4 else -1
    expire = now + retention if retention != -1 else None
    offsets: dict[tuple[str, int], OffsetAndMetadata] = {}
    for t, name, tcodes in zip(req.topics, names, codes):
        for p in t.partitions:
            if tcodes[p.partition_index] != -1:
                continue
            metadata = p.committed_metadata or ""
            if len(metadata.encode("utf-16-le")) // 2 > gc.offset_metadata_max_bytes:  # Java String.length()
                tcodes[p.partition_index] = Errors.OFFSET_METADATA_TOO_LARGE
            else:
                assert name is not None
                offsets[(name, p.partition_index)] = OffsetAndMetadata(
                    p.committed_offset, p.committed_leader_epoch, metadata, now, expire)
    error = gc.commit_offsets(group, offsets) if offsets else 0
    if offsets and not error:
        error = await gc.wait_committed(req.group_id)  # answered once committed (high watermark)
    return pending_with(error)
