"""TxnOffsetCommit (key 28), v0-6 (KafkaApis.handleTxnOffsetCommitRequest,
GroupCoordinatorService.commitTransactionalOffsets, OffsetMetadataManager.commitTransactionalOffset).
v5 is transaction version 2: the client sends no AddOffsetsToTxn, the group's offsets partition
is added to the transaction here. v6 names topics by id (KIP-1319): an unknown id is
UNKNOWN_TOPIC_ID; offsets are still stored by topic name, as Kafka does.

Unknown topics or partitions answer UNKNOWN_TOPIC_OR_PARTITION and are left out; the rest is
committed as a whole: INVALID_GROUP_ID, the coordinator's state (NOT_COORDINATOR,
COORDINATOR_LOAD_IN_PROGRESS, which v0-1 clients get as COORDINATOR_NOT_AVAILABLE), the
transaction's verification (KIP-890: the offsets partition must have been added by
AddOffsetsToTxn), the group and member (v3+: member id, generation, group.instance.id) answer for
every partition; OFFSET_METADATA_TOO_LARGE is per partition. The accepted offsets are written in
one transactional batch of the producer and stay pending (invisible to OffsetFetch) until the
transaction's marker. No authorizer: Kafka's TRANSACTIONAL_ID/GROUP/TOPIC checks are moot.
"""
from __future__ import annotations

import time
from typing import Any

from fastkafka.cluster.group.classic_group import OffsetAndMetadata
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import TxnOffsetCommitRequest, TxnOffsetCommitResponse

_Topic = TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic
_Part = TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition


@handler(28, 0, 6)
async def handle_txn_offset_commit(broker: BrokerServices, ctx: RequestContext,
                                   req: TxnOffsetCommitRequest) -> TxnOffsetCommitResponse:
    v = ctx.api_version
    gc = broker.group_coordinator
    codes: dict[tuple[str, int], int] = {}
    valid: list[tuple[str, Any]] = []  # (topic, partition data) of existing partitions
    image = broker.image
    ids: dict[str, bytes] = {}  # v6: the response names topics by the ids the request used
    unknown_ids: list[tuple[bytes, list[int]]] = []
    for t in req.topics:
        name = t.name
        if v >= 6:
            name = broker.topic_name(t.topic_id)
            if name is None:
                unknown_ids.append((t.topic_id, [p.partition_index for p in t.partitions]))
                continue
            ids[name] = t.topic_id
        topic_image = image.topics.by_name.get(name)
        for p in t.partitions:
            if topic_image is None or p.partition_index not in topic_image.partitions:
                codes[(name, p.partition_index)] = Errors.UNKNOWN_TOPIC_OR_PARTITION
            else:
                valid.append((name, p))

    def respond() -> TxnOffsetCommitResponse:
        by_topic: dict[str, list[Any]] = {}
        for (topic, partition), code in codes.items():
            if code == Errors.COORDINATOR_LOAD_IN_PROGRESS and v < 2:
                code = Errors.COORDINATOR_NOT_AVAILABLE  # KAFKA-7296: 0.11-2.0 clients crash on it
            by_topic.setdefault(topic, []).append(_Part(partition_index=partition, error_code=code))
        out = [_Topic(name=name, topic_id=ids.get(name, bytes(16)), partitions=parts)
               for name, parts in by_topic.items()]
        out += [_Topic(topic_id=tid, partitions=[_Part(partition_index=i, error_code=Errors.UNKNOWN_TOPIC_ID)
                                                 for i in indexes]) for tid, indexes in unknown_ids]
        return TxnOffsetCommitResponse(throttle_time_ms=0, topics=out)

    def all_valid(code: int) -> TxnOffsetCommitResponse:
        for topic, p in valid:
            codes[(topic, p.partition_index)] = code
        return respond()

    if not valid:
        return respond()
    if not req.group_id:
        return all_valid(Errors.INVALID_GROUP_ID)
    member_id = req.member_id if v >= 3 else ""
    generation_id = req.generation_id_or_member_epoch if v >= 3 else -1
    instance_id = req.group_instance_id if v >= 3 else None
    try:
        gc.check_coordinator(req.group_id)
        error = gc.verify_transaction(req.group_id, req.transactional_id, req.producer_id, req.producer_epoch, v)
        if error:
            return all_valid(error)
        group = gc.validate_txn_commit(req.group_id, member_id, generation_id, instance_id)
    except KafkaError as e:
        return all_valid(e.code)
    now = time.time_ns() // 1_000_000
    offsets: dict[tuple[str, int], OffsetAndMetadata] = {}
    for topic, p in valid:
        key = (topic, p.partition_index)
        metadata = p.committed_metadata or ""
        if len(metadata.encode("utf-16-le")) // 2 > gc.offset_metadata_max_bytes:  # Java String.length()
            codes[key] = Errors.OFFSET_METADATA_TOO_LARGE
        else:
            offsets[key] = OffsetAndMetadata(p.committed_offset, p.committed_leader_epoch if v >= 2 else -1,
                                             metadata, now)
    error = gc.commit_transactional_offsets(group, req.producer_id, req.producer_epoch, offsets)
    if offsets and not error:
        error = await gc.wait_committed(req.group_id)  # answered once committed (high watermark)
    if error:
        return all_valid(error)  # a failed write answers every partition, as Kafka's getErrorResponse
    for key in offsets:
        codes[key] = 0
    return respond()
