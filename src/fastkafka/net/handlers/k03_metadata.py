"""Metadata (key 3), v0-13 (v0-3 kept for kafka-python/aiokafka, KAFKA-18648).

Answers from the metadata image only. Brokers are listed with their endpoint for the listener the
request arrived on. Missing topics are auto-created through the controller when the request
allows it (v4+ flag; always for v0-3) and `auto.create.topics.enable` is true; names that are
not legal get INVALID_TOPIC_EXCEPTION. v12+ may name topics by id (UNKNOWN_TOPIC_ID if unknown);
v10-11 carry the id field but, as in Kafka, a null name or a non-zero id there is INVALID_REQUEST
(Kafka throws InvalidRequestException and answers MetadataRequest.getErrorResponse: every
requested topic with the error, no brokers).
In KRaft, ControllerId is a live broker's id, since clients cannot talk to controllers.

v13 (KIP-1102) adds a top-level ErrorCode. Kafka 4.4's broker sets it only in that error
response (to the request's error); a normal answer has NONE. REBOOTSTRAP_REQUIRED is a code
clients act on when they receive it, but Kafka's Metadata handler never sends it (only
ApiVersions v5 does, for a cluster or node id mismatch), so neither does fastkafka.
"""
from __future__ import annotations

import asyncio
from typing import Any

from fastkafka.cluster.topic import is_internal, topic_name_error
from fastkafka.cluster.authorized_operations import AUTHORIZED_OPERATIONS_OMITTED, authorized_operations
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import MetadataRequest, MetadataResponse

_Broker = MetadataResponse.MetadataResponseBroker
_Topic = MetadataResponse.MetadataResponseTopic
_Part = MetadataResponse.MetadataResponsePartition
_ZERO_UUID = bytes(16)


_BIG_TOPIC_PARTITIONS = 1000
# Partitions built per event-loop turn for a big topic (a few ms of Python each).
_SLICE_PARTITIONS = 250
# Built partition lists of big topics, by (id(topic image), alive brokers): the topic image is
# immutable and kept in the value, so its id is not reused while the entry lives. Clients poll
# Metadata of a 10,000-partition topic many times while it is created; it is built once.
_BIG_CACHE: dict[tuple[int, frozenset[int]], tuple[Any, list[Any]]] = {}
_BIG_CACHE_ENTRIES = 8


async def _big_partitions(topic: Any, alive: set[int]) -> list[Any]:
    """A big topic's partition list, built on the event loop in slices (another thread would
    hold the GIL the loop needs: measured 100-330 ms waits on a loaded machine) from the one
    immutable topic image taken at the start, so the answer is a consistent snapshot. Shared
    between answers: encoding only reads it."""
    key = (id(topic), frozenset(alive))
    hit = _BIG_CACHE.get(key)
    if hit is not None and hit[0] is topic:
        return hit[1]
    pids = sorted(topic.partitions)
    parts: list[Any] = []
    for i in range(0, len(pids), _SLICE_PARTITIONS):
        parts += _partitions(topic, alive, pids[i:i + _SLICE_PARTITIONS])
        await asyncio.sleep(0)  # the loop serves others between slices
    while len(_BIG_CACHE) >= _BIG_CACHE_ENTRIES:
        del _BIG_CACHE[next(iter(_BIG_CACHE))]  # oldest first
    _BIG_CACHE[key] = (topic, parts)
    return parts


def _partitions(topic: Any, alive: set[int], pids: list[int] | None = None) -> list[Any]:
    parts = []
    for pid in sorted(topic.partitions) if pids is None else pids:
        p = topic.partitions[pid]
        leader_alive = p.leader in alive
        parts.append(_Part(
            error_code=0 if leader_alive else Errors.LEADER_NOT_AVAILABLE,
            partition_index=pid,
            leader_id=p.leader if leader_alive else -1,
            leader_epoch=p.leader_epoch,
            replica_nodes=list(p.replicas),
            isr_nodes=list(p.isr),
            offline_replicas=[r for r in p.replicas if r not in alive],
        ))
    return parts


@handler(3, 0, 13)
async def handle_metadata(broker: BrokerServices, ctx: RequestContext, req: MetadataRequest) -> MetadataResponse:
    v = ctx.api_version
    image = broker.image
    all_topics = req.topics is None or (v == 0 and not req.topics)
    if not all_topics and v < 12 and any(t.name is None or (v >= 10 and t.topic_id != _ZERO_UUID)
                                         for t in req.topics):
        # "Topic name can not be null" / "Topic IDs are not supported in requests for version v"
        return MetadataResponse(
            throttle_time_ms=0, brokers=[], cluster_id=None, controller_id=-1, error_code=Errors.INVALID_REQUEST,
            topics=[_Topic(error_code=Errors.INVALID_REQUEST, name=t.name or "", topic_id=t.topic_id if v >= 10
                           else _ZERO_UUID, is_internal=False, partitions=[],
                           topic_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED) for t in req.topics],
            cluster_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED)
    # KIP-430: every topic's (and, v8-10, the cluster's) allowed operations when asked.
    topic_ops = authorized_operations("topic", v >= 8 and req.include_topic_authorized_operations)
    cluster_ops = authorized_operations("cluster", 8 <= v <= 10 and req.include_cluster_authorized_operations)
    topics_out: list[Any] = []
    if all_topics:
        names: list[str] = sorted(image.topics.by_name)
    else:
        names = []
        for t in req.topics:
            if t.name is None:  # by id (v12+: the check above refused it before)
                topic = image.topics.by_id.get(t.topic_id)
                if topic is None:
                    topics_out.append(_Topic(error_code=Errors.UNKNOWN_TOPIC_ID, name=None, topic_id=t.topic_id,
                                             topic_authorized_operations=topic_ops))
                else:
                    names.append(topic.name)
            else:
                names.append(t.name)
        allow_auto = req.allow_auto_topic_creation if v >= 4 else True
        missing = [n for n in dict.fromkeys(names) if n not in image.topics.by_name and topic_name_error(n) is None]
        if missing and allow_auto and broker.config.auto_create_topics_enable:
            await broker.auto_create_topics(missing)
            image = broker.image
    for name in dict.fromkeys(names):
        topic = image.topics.by_name.get(name)
        if topic is None:
            err = Errors.INVALID_TOPIC_EXCEPTION if topic_name_error(name) else Errors.UNKNOWN_TOPIC_OR_PARTITION
            topics_out.append(_Topic(error_code=err, name=name, topic_id=_ZERO_UUID, is_internal=False,
                                     topic_authorized_operations=topic_ops))
            continue
        alive = {b[0] for b in broker.alive_brokers(ctx.listener_name)}  # is_broker_alive, once
        if len(topic.partitions) >= _BIG_TOPIC_PARTITIONS:
            parts = await _big_partitions(topic, alive)  # ~50 ms for 10,000: in slices, cached
        else:
            parts = _partitions(topic, alive)
        topics_out.append(_Topic(error_code=0, name=name, topic_id=topic.topic_id, is_internal=is_internal(name),
                                 partitions=parts, topic_authorized_operations=topic_ops))
    brokers = [_Broker(node_id=b[0], host=b[1], port=b[2], rack=b[3]) for b in broker.alive_brokers(ctx.listener_name)]
    return MetadataResponse(
        throttle_time_ms=0,
        brokers=brokers,
        cluster_id=broker.cluster_id,
        controller_id=brokers[0].node_id if brokers else -1,
        topics=topics_out,
        cluster_authorized_operations=cluster_ops,
        error_code=0,
    )
