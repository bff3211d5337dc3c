"""Fetch (key 1), v4-18. Consumers read up to the high watermark (read_uncommitted) or the last
stable offset (read_committed); the request long-polls until `min_bytes` are available or
`max_wait_ms` passes. v13+ name topics by id.

A fetch with a replica id (v15+: ReplicaState) is a follower's: it reads up to the log end, not
the high watermark, gets a diverging epoch (v12+) when its last fetched epoch shows a log that
diverged from the leader's, and its fetch offset is its log end in the leader's view
(ReplicaManager.read_partition), which moves the high watermark and completes acks=all produces.
A replica id that is not one of the partition's followers answers NOT_LEADER_OR_FOLLOWER for that
partition, as Kafka's followerReplicaOrThrow.

v18 (KIP-1166) adds each partition's HighWatermark, a tagged field a follower sends with the high
watermark it knows, so a leader can answer a fetch early when the follower is behind. Kafka's
broker reads it for no consumer fetch (only its KRaft replication does); it is accepted and
ignored; the response is v17's.

Fetch sessions (KIP-227) are answered session-less: a request that asks to create a session
(epoch 0) gets session id 0, which tells the client to keep sending full fetches — what Kafka
does when its session cache is full. An incremental request for a session we never created gets
FETCH_SESSION_ID_NOT_FOUND.

Deliberate gaps: the follower's broker epoch (ReplicaState.replica_epoch) is not checked against
its registration yet; preferred read replicas (KIP-392).
"""
from __future__ import annotations

import asyncio
from typing import Any

from fastkafka.cluster.replication.replica_manager import FetchPartitionRequest
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.encoded_response import OFF_LOOP_PARTITIONS, EncodedBody, encode_off_loop
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import FetchRequest, FetchResponse
from fastkafka.storage import TopicPartition

_Topic = FetchResponse.FetchableTopicResponse
_Part = FetchResponse.PartitionData


@handler(1, 4, 18)
async def handle_fetch(broker: BrokerServices, ctx: RequestContext, req: FetchRequest) -> FetchResponse | EncodedBody:
    v = ctx.api_version
    if v >= 7 and req.session_epoch > 0:
        return FetchResponse(error_code=Errors.FETCH_SESSION_ID_NOT_FOUND, session_id=0, responses=[])
    replica_id = req.replica_state.replica_id if v >= 15 else req.replica_id
    if replica_id < -1:
        replica_id = -1  # -2 and below: debugging or future consumers (Kafka's FetchRequest), not a follower

    # Resolve names (or ids for v13+) up front; unknown topics answer without waiting. A fetch of
    # thousands of partitions is planned in slices (the loop serves others between them).
    plan: list[tuple[Any, str | None, list[Any]]] = []
    wanted: list[FetchPartitionRequest] = []
    for t in req.topics:
        name = broker.topic_name(t.topic_id) if v >= 13 else t.topic
        plan.append((t, name, t.partitions))
        if name is None:
            continue
        for p in t.partitions:
            wanted.append(FetchPartitionRequest(TopicPartition(name, p.partition), p.fetch_offset,
                                                p.partition_max_bytes, p.current_leader_epoch, p.log_start_offset,
                                                p.last_fetched_epoch if v >= 12 else -1))
            if len(wanted) % PLAN_SLICE == 0:
                await asyncio.sleep(0)
    max_bytes = min(req.max_bytes, broker.config.fetch_max_bytes) if v >= 3 else 2**31 - 1
    has_unknown = any(name is None for _, name, _ in plan)
    rm = broker.replica_manager
    results = await rm.fetch_messages(
        wanted, max_wait_ms=0 if has_unknown else req.max_wait_ms, min_bytes=req.min_bytes,
        max_bytes=max_bytes, isolation_level=req.isolation_level, replica_id=replica_id)
    if sum(len(t.partitions) for t in req.topics) > OFF_LOOP_PARTITIONS:
        # Built and encoded on a worker: the loop keeps no reference to plan or results.
        return await encode_off_loop(rm.run_off_loop, lambda: _response(plan, results, v), v)
    return _response(plan, results, v)


# Partitions planned per loop callback (~2 µs each).
PLAN_SLICE = 1024


def _response(plan: list[tuple[Any, str | None, list[Any]]], results: list[Any], v: int) -> FetchResponse:
    it = iter(results)
    topics = []
    for t, name, partitions in plan:
        parts = []
        for p in partitions:
            if name is None:
                parts.append(_Part(partition_index=p.partition, error_code=Errors.UNKNOWN_TOPIC_ID,
                                   high_watermark=-1, records=b""))
                continue
            r = next(it)
            part = _Part(
                partition_index=p.partition, error_code=r.error, high_watermark=r.high_watermark,
                last_stable_offset=r.last_stable_offset, log_start_offset=r.log_start_offset,
                aborted_transactions=([FetchResponse.AbortedTransaction(producer_id=pid, first_offset=fo)
                                       for pid, fo in r.aborted_transactions]
                                      if r.aborted_transactions is not None else None),
                preferred_read_replica=-1,
                records=r.records if r.records is not None else b"",
            )
            if r.diverging_epoch is not None and v >= 12:
                part.diverging_epoch = FetchResponse.EpochEndOffset(epoch=r.diverging_epoch[0],
                                                                    end_offset=r.diverging_epoch[1])
            if r.error in (Errors.NOT_LEADER_OR_FOLLOWER, Errors.FENCED_LEADER_EPOCH) and v >= 12:
                part.current_leader = FetchResponse.LeaderIdAndEpoch(leader_id=r.leader_id, leader_epoch=r.leader_epoch)
            parts.append(part)
        topics.append(_Topic(topic=t.topic if v < 13 else "", topic_id=t.topic_id if v >= 13 else bytes(16),
                             partitions=parts))
    return FetchResponse(throttle_time_ms=0, error_code=0, session_id=0, responses=topics)
