"""Produce (key 0). Advertised 0-13, served 3-13: v0-2 carry message formats v0/v1, which Kafka 4
removed (KIP-724); they stay in ApiVersions because librdkafka <= 2.11 disables compression when
Produce's minimum is above 0 (KAFKA-18659). v12 is transaction version 2 (KIP-890 part 2): a
transactional batch to a partition not yet in the transaction adds it (the client sends no
AddPartitionsToTxn). v13 names topics by id (KIP-516): an unknown id is UNKNOWN_TOPIC_ID.

Each partition's records are one v2 batch, validated in native code and appended as sent;
compressed batches are always decompressed as a bounded stream and their records walked (Kafka's
LogValidator) before any append: on the loop up to INLINE_DECOMPRESSED_BYTES of records, else
on ReplicaManager's worker threads: the handler then returns an awaitable (it is `ordered`, so the
connection's later requests wait and appends keep request order). The workers also rebuild a big
batch for its topic's compression.type; its append takes the rebuilt batch (`Prebuilt`). A batch failing
per-record rules is rejected whole, its failing records listed in RecordErrors (v8+) by index,
as Kafka does. With acks=0 nothing is sent back, and an error closes the connection so the
producer notices, as Kafka does.

A transactional batch that starts a transaction in a partition is verified with (v3-11) or added
through (v12+) the transaction coordinator first (KIP-890, ReplicaManager). Deliberate gaps:
quotas/throttling.
"""
from __future__ import annotations

from typing import Any

from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import ProduceRequest, ProduceResponse
from fastkafka.storage import TopicPartition
from fastkafka.storage.recompression import Prebuilt

_Topic = ProduceResponse.TopicProduceResponse
_Part = ProduceResponse.PartitionProduceResponse
_BatchError = ProduceResponse.BatchIndexAndErrorMessage


@handler(0, 0, 13, min_accepted=3, ordered=True)
def handle_produce(broker: Any, ctx: RequestContext, req: ProduceRequest) -> Any:
    rm = broker.replica_manager
    by_id = ctx.api_version >= 13
    checked: dict[int, Any] | None = None
    heavy = []
    if req.acks in (-1, 0, 1):
        for t in req.topic_data:
            name = broker.topic_name(t.topic_id) if by_id else t.name
            if name is None:
                continue
            for p in t.partition_data:
                pre = rm.prevalidate(TopicPartition(name, p.index), p.records)
                if pre is True:
                    continue
                if checked is None:
                    checked = {}
                if pre is False:
                    heavy.append((TopicPartition(name, p.index), p))
                else:
                    checked[id(p)] = pre
    if not heavy:
        return _produce(broker, ctx, req, checked)

    async def validate_then_produce() -> ProduceResponse | None:
        assert checked is not None
        for tp, p in heavy:
            checked[id(p)] = await rm.validate_off_loop(tp, p.records)
        return _produce(broker, ctx, req, checked)
    return validate_then_produce()


def _produce(broker: Any, ctx: RequestContext, req: ProduceRequest,
             checked: dict[int, Any] | None) -> ProduceResponse | None:
    """The appends; `checked` maps id(partition data) of the compressed payloads validated
    before (ReplicaManager.prevalidate, on or off the loop) to their error result (None: valid;
    a Prebuilt: valid and rebuilt off the loop)."""
    acks = req.acks
    rm = broker.replica_manager
    by_id = ctx.api_version >= 13
    topics = []
    any_error = False
    not_leader_nodes: set[int] = set()
    # All partitions' appends go to the kernel together when the block ends (io_uring).
    with rm.batched_appends():
        for t in req.topic_data:
            parts = []
            name = broker.topic_name(t.topic_id) if by_id else t.name
            if name is None:
                topics.append(_Topic(topic_id=t.topic_id, partition_responses=[
                    _Part(index=p.index, error_code=Errors.UNKNOWN_TOPIC_ID, base_offset=-1)
                    for p in t.partition_data]))
                any_error = True
                continue
            for p in t.partition_data:
                if acks not in (-1, 0, 1):
                    parts.append(_Part(index=p.index, error_code=Errors.INVALID_REQUIRED_ACKS, base_offset=-1))
                    any_error = True
                    continue
                pre = checked is not None and id(p) in checked
                res = checked[id(p)] if pre else None
                prebuilt = None
                if isinstance(res, Prebuilt):  # rebuilt for the topic's compression.type off the loop
                    prebuilt, res = res, None
                if res is None:
                    res = rm.append_records(TopicPartition(name, p.index), p.records, acks,
                                            transactional_id=req.transactional_id, produce_version=ctx.api_version,
                                            compressed_checked=pre, prebuilt=prebuilt)
                part = _Part(
                    index=p.index, error_code=res.error, base_offset=res.base_offset,
                    log_append_time_ms=res.log_append_time_ms, log_start_offset=res.log_start_offset,
                    error_message=res.error_message if res.error else None,
                    record_errors=[_BatchError(batch_index=i, batch_index_error_message=m) for i, m in res.record_errors],
                )
                if res.error:
                    any_error = True
                    if res.error == Errors.NOT_LEADER_OR_FOLLOWER and ctx.api_version >= 10:
                        leader = broker.partition_leader(name, p.index)
                        if leader is not None:
                            part.current_leader = ProduceResponse.LeaderIdAndEpoch(
                                leader_id=leader[0], leader_epoch=leader[1])
                            not_leader_nodes.add(leader[0])
                parts.append(part)
            topics.append(_Topic(name=name, topic_id=t.topic_id, partition_responses=parts))
    if acks == 0:
        if any_error:
            # The producer expects no response; closing the connection is how Kafka reports errors.
            broker.close_connection(ctx.connection_id)
        return None
    resp = ProduceResponse(responses=topics, throttle_time_ms=0)
    if not_leader_nodes and ctx.api_version >= 10:
        resp.node_endpoints = broker.node_endpoints(ProduceResponse.NodeEndpoint, not_leader_nodes, ctx.listener_name)
    return resp
