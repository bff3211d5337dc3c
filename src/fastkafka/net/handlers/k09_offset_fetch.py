"""OffsetFetch (key 9), v1-9 (v0 removed in Kafka 4.0); v8+ asks for several groups at once.
Null topics (v2+) means every committed offset of the group; a partition without a commit
answers offset -1. Pending transactional offsets (TxnOffsetCommit before its marker) are never
returned; with require_stable (v7+) a partition that has one answers UNSTABLE_OFFSET_COMMIT with
offset -1 (Kafka's OffsetMetadataManager.fetchOffsets / fetchAllOffsets), so the consumer retries
instead of reading a stale offset."""
from __future__ import annotations

from typing import Any

from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import OffsetFetchRequest, OffsetFetchResponse

R = OffsetFetchResponse


def _fetch(broker: Any, group_id: str, topics: list[tuple[str, list[int]]] | None, require_stable: bool = False
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


@handler(9, 1, 9)
async def handle_offset_fetch(broker: Any, ctx: RequestContext, req: OffsetFetchRequest) -> OffsetFetchResponse:
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
    groups = []
    for g in req.groups:
        topics = None if g.topics is None else [(t.name, list(t.partition_indexes)) for t in g.topics]
        error, rows = _fetch(broker, g.group_id, topics, req.require_stable)
        groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id, error_code=error, topics=[
            R.OffsetFetchResponseTopics(name=t, partitions=[R.OffsetFetchResponsePartitions(
                partition_index=p, committed_offset=o, committed_leader_epoch=e, metadata=m, error_code=pe)
                for p, o, e, m, pe in ps]) for t, ps in rows]))
    return R(throttle_time_ms=0, groups=groups)
