"""OffsetFetch (key 9), v1-10 (v0 removed in Kafka 4.0); v8+ asks for several groups at once.
Null topics (v2+) means every committed offset of the group; a partition without a commit
answers offset -1. Pending transactional offsets (TxnOffsetCommit before its marker) are never
returned; with require_stable (v7+) a partition that has one answers UNSTABLE_OFFSET_COMMIT with
offset -1 (Kafka's OffsetMetadataManager.fetchOffsets / fetchAllOffsets), so the consumer retries
instead of reading a stale offset. From v8 a group-level error is answered without topics (Kafka's
OffsetFetchResponse.groupError).

v10 (KIP-848) names topics by id instead of by name, as Kafka's KafkaApis: requested ids are
resolved with the broker's topic-id map, an unknown (or zero) id answers UNKNOWN_TOPIC_ID with
offset -1 for each of its partitions, after the resolved topics; for all topics (null) the
committed offsets, stored by name in `__consumer_offsets`, are answered with their topic's
current id, and those of topics that no longer exist are left out."""
from __future__ import annotations

from typing import Any

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import OffsetFetchRequest, OffsetFetchResponse

R = OffsetFetchResponse


def _fetch(broker: BrokerServices, group_id: str, topics: list[tuple[str, list[int]]] | None, require_stable: bool = False
           ) -> tuple[int, list[tuple[str, list[tuple[int, int, int, str, int]]]]]:
    """(group error, [(topic, [(partition, offset, leader_epoch, metadata, error)])])."""
    gc = broker.group_coordinator
    try:
        committed = gc.fetch_offsets(group_id)
    except KafkaError as e:
        return e.code, [(t, [(p, -1, -1, "", 0) for p in ps]) for t, ps in (topics or [])]
    unstable = gc.pending_offset_partitions(group_id) if require_stable else set()
    if topics is None:
        by_topic: dict[str, list[int]] = {}
        for (t, p) in sorted(committed):
            by_topic.setdefault(t, []).append(p)
        topics = list(by_topic.items())
    out = []
    for t, ps in topics:
        rows: list[tuple[int, int, int, str, int]] = []
        for p in ps:
            om = committed.get((t, p))
            if (t, p) in unstable:
                rows.append((p, -1, -1, "", int(Errors.UNSTABLE_OFFSET_COMMIT)))
            else:
                rows.append((p, om.offset, om.leader_epoch, om.metadata, 0) if om else (p, -1, -1, "", 0))
        out.append((t, rows))
    return 0, out


@handler(9, 1, 10)
async def handle_offset_fetch(broker: BrokerServices, ctx: RequestContext, req: OffsetFetchRequest) -> OffsetFetchResponse:
    v = ctx.api_version
    gc = broker.group_coordinator
    if v < 8:
        topics = None if req.topics is None else [(t.name, list(t.partition_indexes)) for t in req.topics]
        try:
            await gc.ensure_offsets_topic()
        except KafkaError:
            pass
        error, rows = _fetch(broker, req.group_id, topics, v >= 7 and req.require_stable)
        return R(throttle_time_ms=0, error_code=error, topics=[R.OffsetFetchResponseTopic(name=t, partitions=[
            R.OffsetFetchResponsePartition(partition_index=p, committed_offset=o, committed_leader_epoch=e,
                                           metadata=m, error_code=pe if v >= 2 else (error or pe))
            for p, o, e, m, pe in ps]) for t, ps in rows])
    use_topic_ids = v >= 10
    zero_id = bytes(16)
    groups = []
    for g in req.groups:
        unknown_ids: list[Any] = []  # v10 topics whose id names no topic
        if g.topics is None:
            topics = None
        elif use_topic_ids:
            topics = []
            for t in g.topics:
                name = broker.topic_name(t.topic_id) if t.topic_id != zero_id else None
                if name is None:
                    unknown_ids.append(t)
                else:
                    topics.append((name, list(t.partition_indexes)))
        else:
            topics = [(t.name, list(t.partition_indexes)) for t in g.topics]
        error, rows = _fetch(broker, g.group_id, topics, req.require_stable)
        if error:
            groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id, error_code=error, topics=[]))
            continue
        out_topics = []
        for t, ps in rows:
            topic_id = zero_id
            if use_topic_ids:
                topic = broker.image.topics.by_name.get(t)
                if topic is None:
                    if g.topics is None:
                        continue  # all offsets: a deleted topic has no id to answer with
                else:
                    topic_id = topic.topic_id
            out_topics.append(R.OffsetFetchResponseTopics(name=t, topic_id=topic_id, partitions=[
                R.OffsetFetchResponsePartitions(partition_index=p, committed_offset=o, committed_leader_epoch=e,
                                                metadata=m, error_code=pe)
                for p, o, e, m, pe in ps]))
        for t in unknown_ids:
            out_topics.append(R.OffsetFetchResponseTopics(name="", topic_id=t.topic_id, partitions=[
                R.OffsetFetchResponsePartitions(partition_index=p, committed_offset=-1, committed_leader_epoch=-1,
                                                metadata="", error_code=Errors.UNKNOWN_TOPIC_ID)
                for p in t.partition_indexes]))
        groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id, error_code=0, topics=out_topics))
    return R(throttle_time_ms=0, groups=groups)
