"""Produce (key 0). Advertised 0-13, served 3-13: v0-2 carry message formats v0/v1, which Kafka 4
removed (KIP-724); they stay in ApiVersions because librdkafka <= 2.11 disables compression when
Produce's minimum is above 0 (KAFKA-18659). v12 is transaction version 2 (KIP-890 part 2): a
transactional batch to a partition not yet in the transaction adds it (the client sends no
AddPartitionsToTxn). v13 names topics by id (KIP-516): an unknown id is UNKNOWN_TOPIC_ID.

Each partition's records are one v2 batch, validated in native code and appended as sent;
compressed batches are always decompressed as a bounded stream and their records walked (Kafka's
LogValidator) before any append: on the loop up to INLINE_DECOMPRESSED_BYTES of records, else
on ReplicaManager's worker threads: the handler then returns an awaitable (it is `ordered`, so the
connection's later requests wait and appends keep request order). The workers also rebuild a
batch for its topic's compression.type when the rebuild is too big for the loop
(UnifiedLog.prevalidate); its append takes the rebuilt batch. A batch failing per-record
rules is rejected whole, its failing records listed in RecordErrors (v8+) by index, as Kafka
does. With acks=0 nothing is sent back, and an error closes the connection so the
producer notices, as Kafka does.

A payload of 1 MiB or more (64 KiB or more in a request of 1 MiB or more) always takes the
off-loop route (validated and stamped there) and is written by the log writer thread: the
response then waits (still ordered) until it is in the page cache, and so does any response
whose partition still has such a write in flight. The connection's later frames wait only for
the appends (a `Staged` answer), not for those writes.

A transactional batch that starts a transaction in a partition is verified with (v3-11) or added
through (v12+) the transaction coordinator first (KIP-890, ReplicaManager). Deliberate gaps:
quotas/throttling.
"""
from __future__ import annotations

import asyncio
from typing import Any

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.encoded_response import OFF_LOOP_PARTITIONS, encode_off_loop
from fastkafka.net.registry import Staged, handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import ProduceRequest, ProduceResponse
from fastkafka.storage import TopicPartition
from fastkafka.cluster.replication.replica_manager import OFF_LOOP_REQUEST_BYTES
from fastkafka.storage.unified_log import Prevalidated

# A response listing more record errors than this (or answering more than OFF_LOOP_PARTITIONS
# partitions) is built and encoded on a worker thread.
INLINE_RECORD_ERRORS = 256
# Partitions appended per loop callback: a request of thousands of partitions is appended in
# slices, the loop serving other connections between them (Kafka gives no atomicity across a
# request's partitions; this connection's next frames still wait for all of them). An append
# costs 10-40 µs of loop CPU (more on a loaded machine), and each slice's writes complete as one
# log-writer job whose per-partition completions run in one loop iteration: 256 made slices of
# 5-11 ms CPU; 64 keeps a slice and its completions near 1-3 ms.
APPENDS_PER_SLICE = 64

_Topic = ProduceResponse.TopicProduceResponse
_Part = ProduceResponse.PartitionProduceResponse
_BatchError = ProduceResponse.BatchIndexAndErrorMessage


@handler(0, 0, 13, min_accepted=3, ordered=True)
def handle_produce(broker: BrokerServices, ctx: RequestContext, req: ProduceRequest) -> Any:
    rm = broker.replica_manager
    by_id = ctx.api_version >= 13
    if ctx.size >= OFF_LOOP_REQUEST_BYTES and req.acks in (-1, 0, 1):
        return _big_request(broker, ctx, req)
    checked: dict[int, Any] | None = None
    heavy = []
    if req.acks in (-1, 0, 1):
        for t in req.topic_data:
            name = broker.topic_name(t.topic_id) if by_id else t.name
            if name is None:
                continue
            for p in t.partition_data:
                pre = rm.prevalidate(TopicPartition(name, p.index), p.records, ctx.size)
                if pre is True:
                    continue
                if checked is None:
                    checked = {}
                if pre is False:
                    heavy.append((TopicPartition(name, p.index), p))
                else:
                    checked[id(p)] = pre
    if not heavy:
        resp = _run(_produce(broker, ctx, req, checked))
        # Appended already; only the acknowledgement waits for the log writer thread.
        return Staged(resp) if isinstance(resp, asyncio.Future) else resp
    applied = asyncio.get_running_loop().create_future()

    async def validate_then_produce() -> ProduceResponse | None:
        assert checked is not None
        try:
            for tp, p in heavy:
                checked[id(p)] = await rm.validate_off_loop(tp, p.records)
            resp = _run(_produce(broker, ctx, req, checked))
        finally:
            # The connection's next frames may go now: this request's appends are made.
            if not applied.done():
                applied.set_result(None)
        return await resp if isinstance(resp, asyncio.Future) else resp
    return Staged(validate_then_produce(), applied)


def _big_request(broker: BrokerServices, ctx: RequestContext, req: ProduceRequest) -> Staged:
    """A request of OFF_LOOP_REQUEST_BYTES or more (it may carry thousands of partitions):
    every payload validated and stamped in one worker job, appended in slices of
    APPENDS_PER_SLICE partitions (one loop callback each), written by the log writer thread, the
    response encoded on a worker thread when it is large."""
    rm = broker.replica_manager
    by_id = ctx.api_version >= 13
    applied = asyncio.get_running_loop().create_future()

    async def produce() -> ProduceResponse | None:
        try:
            topics = [(broker.topic_name(t.topic_id) if by_id else t.name, t.partition_data) for t in req.topic_data]
            checked = await rm.validate_many_off_loop(topics)
            steps = _produce(broker, ctx, req, checked)
            while True:
                try:
                    next(steps)
                except StopIteration as done:
                    resp = done.value
                    break
                await asyncio.sleep(0)  # let the loop serve others between slices
        finally:
            if not applied.done():
                applied.set_result(None)
        return await resp if isinstance(resp, asyncio.Future) else resp
    return Staged(produce(), applied)


def _run(steps: Any) -> Any:
    """Run _produce's slices back to back (a request small enough for one callback)."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def _produce(broker: BrokerServices, ctx: RequestContext, req: ProduceRequest,
             checked: dict[int, Any] | None) -> Any:
    """The appends, as a generator that yields between slices of APPENDS_PER_SLICE partitions
    (no io_uring or background batch is open across a yield) and returns the response: a
    ProduceResponse, None (acks=0), or a future when a partition's log is still being written or
    the response is encoded on a worker thread. `checked` maps id(partition data) of the payloads
    validated before (ReplicaManager.prevalidate, on or off the loop) to their error result (None
    or a Prevalidated: valid)."""
    acks = req.acks
    rm = broker.replica_manager
    by_id = ctx.api_version >= 13
    topics = []
    any_error = False
    not_leader_nodes: set[int] = set()
    written: list[asyncio.Future[None]] = []
    replicated: list[tuple[Any, asyncio.Future[int]]] = []  # (partition response, its DelayedProduce)
    many_errors: list[tuple[Any, Any]] = []  # (partition response, its record errors) to list off the loop
    count = 0
    batch = rm.batched_appends()
    batch.__enter__()  # a slice's appends go to the kernel together when it ends (io_uring)
    try:
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
                count += 1
                if count % APPENDS_PER_SLICE == 0:
                    batch.__exit__(None, None, None)
                    batch = None
                    yield
                    batch = rm.batched_appends()
                    batch.__enter__()
                if acks not in (-1, 0, 1):
                    parts.append(_Part(index=p.index, error_code=Errors.INVALID_REQUIRED_ACKS, base_offset=-1))
                    any_error = True
                    continue
                pre = checked is not None and id(p) in checked
                res = checked[id(p)] if pre else None
                validated = res if isinstance(res, Prevalidated) else None
                if res is None or validated is not None:
                    res = rm.append_records(TopicPartition(name, p.index), p.records, acks,
                                            transactional_id=req.transactional_id, produce_version=ctx.api_version,
                                            compressed_checked=pre, validated=validated)
                    if res.written is not None:
                        written.append(res.written)
                errors = res.record_errors
                part = _Part(
                    index=p.index, error_code=res.error, base_offset=res.base_offset,
                    log_append_time_ms=res.log_append_time_ms, log_start_offset=res.log_start_offset,
                    error_message=res.error_message if res.error else None,
                    record_errors=[] if len(errors) > INLINE_RECORD_ERRORS else _batch_errors(errors),
                )
                if len(errors) > INLINE_RECORD_ERRORS:
                    many_errors.append((part, errors))
                if res.replicated is not None:
                    replicated.append((part, res.replicated))
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
    finally:
        if batch is not None:
            batch.__exit__(None, None, None)
    if acks == 0:
        if any_error:
            # The producer expects no response; closing the connection is how Kafka reports errors.
            broker.close_connection(ctx.connection_id)
        return None
    resp = ProduceResponse(responses=topics, throttle_time_ms=0)
    if not_leader_nodes and ctx.api_version >= 10:
        resp.node_endpoints = broker.node_endpoints(ProduceResponse.NodeEndpoint, not_leader_nodes, ctx.listener_name)
    encode = None
    if many_errors or count > OFF_LOOP_PARTITIONS:
        def build() -> ProduceResponse:
            # On a worker thread: the loop no longer touches `resp`.
            for part, errors in many_errors:
                part.record_errors = _batch_errors(errors)
            return resp

        def encode() -> Any:
            return encode_off_loop(rm.run_off_loop, build, ctx.api_version)
    if written or replicated or encode is not None:
        # Acknowledged = in the log (acks=1: once the log writer has the bytes in the page cache)
        # and, for acks=all, committed: the high watermark passed it (DelayedProduce). A response
        # encoded off the loop is encoded once its acks=all partitions have their final errors.
        encoded = encode() if encode is not None and not replicated else encode
        return asyncio.ensure_future(_after(written, resp, replicated, req.timeout_ms, encoded))
    return resp


def _batch_errors(errors: Any) -> list[Any]:
    return [_BatchError(batch_index=i, batch_index_error_message=m) for i, m in errors]


async def _after(written: list[asyncio.Future[None]], resp: ProduceResponse,
                 replicated: list[tuple[Any, asyncio.Future[int]]], timeout_ms: int, encoded: Any) -> Any:
    """The response once its appends are written and its acks=all partitions committed (or timed
    out); `encoded`: None (answer `resp`), the off-loop encoding of it under way (a future), or
    the function that starts it (after the errors are final)."""
    for w in written:
        await asyncio.shield(w)
    if replicated:
        await _await_replication(replicated, timeout_ms)
    if encoded is None:
        return resp
    return await (encoded if isinstance(encoded, asyncio.Future) else encoded())


async def _await_replication(replicated: list[tuple[Any, asyncio.Future[int]]], timeout_ms: int) -> None:
    """Kafka's DelayedProduce: each acks=all partition answers with its error once committed
    (NONE, NOT_ENOUGH_REPLICAS_AFTER_APPEND) or leadership is lost (NOT_LEADER_OR_FOLLOWER); the
    ones still waiting after the request's timeout_ms answer REQUEST_TIMED_OUT, keeping their base
    offset (the records stay in the log; the producer retries or not, as with Kafka)."""
    futures = [f for _, f in replicated]
    pending = [f for f in futures if not f.done()]
    if pending:
        await asyncio.wait(pending, timeout=max(timeout_ms, 0) / 1000)
    for part, fut in replicated:
        if fut.done():
            error = fut.result()
        else:
            fut.cancel()  # the partition drops it at its next completion pass
            error = Errors.REQUEST_TIMED_OUT
        if error:
            part.error_code = error
            part.error_message = None
