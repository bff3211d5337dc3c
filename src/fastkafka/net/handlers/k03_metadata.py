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

Event-loop budget (11,500 topics held the loop 100-300 ms per answer): the topic array is built
and encoded in slices of a few ms (net/sliced_encoding.py) from the one image taken at the start;
the all-topics array is cached per (topics image, cluster image, version, listener, authorized
operations flag) and shared by concurrent requests; a big topic's partition array is cached per
topic image; a request naming 1,000+ topics is decoded in slices (net/sliced_decoding.py).
"""
from __future__ import annotations

import asyncio
from typing import Any

from fastkafka.cluster.metadata.topic_image import sorted_topic_names
from fastkafka.cluster.topic import is_internal, topic_name_error
from fastkafka.cluster.authorized_operations import AUTHORIZED_OPERATIONS_OMITTED, authorized_operations
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.net.sliced_decoding import PendingRequest, sliced_request
from fastkafka.net.sliced_encoding import EncodedArray, SlicedEncoder
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import MetadataRequest, MetadataResponse

_Broker = MetadataResponse.MetadataResponseBroker
_Topic = MetadataResponse.MetadataResponseTopic
_Part = MetadataResponse.MetadataResponsePartition
_ZERO_UUID = bytes(16)


# Partitions a topic needs before its list is built and encoded in slices (below: well under a
# millisecond of Python) and before that encoding is cached.
_SLICED_PARTITIONS = 200
_BIG_TOPIC_PARTITIONS = 1000
# Encoded partition arrays of big topics, by (id(topic image), version, alive brokers): the topic
# image is immutable and kept in the value, so its id is not reused while the entry lives. Clients
# poll Metadata of a 10,000-partition topic many times while it is created; it is built once.
_BIG_CACHE: dict[tuple[int, int, frozenset[int]], tuple[Any, EncodedArray]] = {}
_BIG_CACHE_ENTRIES = 8

# The all-topics answer's encoded topic array, by (version, listener, topic authorized operations):
# it depends only on the topics image and the cluster image (which brokers are alive on the
# listener), both immutable and kept in the value; a request whose image holds other ones (every
# topic or broker change makes new ones) builds again. Concurrent requests share one build.
_ALL_TOPICS_CACHE: dict[tuple[int, str, int], tuple[Any, Any, asyncio.Future[EncodedArray]]] = {}
_ALL_TOPICS_CACHE_ENTRIES = 8


def _partition(topic: Any, alive: set[int] | frozenset[int], pid: int) -> Any:
    p = topic.partitions[pid]
    leader_alive = p.leader in alive
    return _Part(
        error_code=0 if leader_alive else Errors.LEADER_NOT_AVAILABLE,
        partition_index=pid,
        leader_id=p.leader if leader_alive else -1,
        leader_epoch=p.leader_epoch,
        replica_nodes=list(p.replicas),
        isr_nodes=list(p.isr),
        offline_replicas=[r for r in p.replicas if r not in alive],
    )


def _partitions(topic: Any, alive: set[int] | frozenset[int]) -> list[Any]:
    return [_partition(topic, alive, pid) for pid in sorted(topic.partitions)]


async def _sliced_partitions(topic: Any, alive: frozenset[int], version: int) -> EncodedArray:
    """A big topic's partition array, built and encoded on the event loop in slices (another
    thread would hold the GIL the loop needs: measured 100-330 ms waits on a loaded machine) from
    the one immutable topic image taken at the start, so the answer is a consistent snapshot.
    Cached for topics of _BIG_TOPIC_PARTITIONS or more (shared between answers: read only)."""
    big = len(topic.partitions) >= _BIG_TOPIC_PARTITIONS
    key = (id(topic), version, alive)
    if big:
        hit = _BIG_CACHE.get(key)
        if hit is not None and hit[0] is topic:
            return hit[1]
    enc = SlicedEncoder(version)
    for pid in sorted(topic.partitions):
        if enc.add(_partition(topic, alive, pid)):
            await enc.pause()  # the loop serves others between slices
    parts = enc.result()
    if big:
        while len(_BIG_CACHE) >= _BIG_CACHE_ENTRIES:
            del _BIG_CACHE[next(iter(_BIG_CACHE))]  # oldest first
        _BIG_CACHE[key] = (topic, parts)
    return parts


async def _topic_entry(topic: Any, name: str, alive: frozenset[int], version: int, topic_ops: int) -> Any:
    if len(topic.partitions) >= _SLICED_PARTITIONS:
        parts: Any = await _sliced_partitions(topic, alive, version)
    else:
        parts = _partitions(topic, alive)
    return _Topic(error_code=0, name=name, topic_id=topic.topic_id, is_internal=is_internal(name),
                  partitions=parts, topic_authorized_operations=topic_ops)


async def _encode_topics(image: Any, names: list[str], alive: frozenset[int], version: int, topic_ops: int,
                         enc: SlicedEncoder) -> EncodedArray:
    """The topic array for `names` (each once, in order), built and encoded in slices."""
    by_name = image.topics.by_name
    for name in names:
        topic = by_name.get(name)
        if topic is None:
            err = Errors.INVALID_TOPIC_EXCEPTION if topic_name_error(name) else Errors.UNKNOWN_TOPIC_OR_PARTITION
            entry = _Topic(error_code=err, name=name, topic_id=_ZERO_UUID, is_internal=False,
                           topic_authorized_operations=topic_ops)
        else:
            entry = await _topic_entry(topic, name, alive, version, topic_ops)
        if enc.add(entry):
            await enc.pause()
    return enc.result()


async def _all_topics(image: Any, listener_name: str, alive: frozenset[int], version: int,
                      topic_ops: int) -> EncodedArray:
    """Every topic's entry, encoded for `version`; cached per image (see _ALL_TOPICS_CACHE)."""
    key = (version, listener_name, topic_ops)
    hit = _ALL_TOPICS_CACHE.get(key)
    if hit is not None and hit[0] is image.topics and hit[1] is image.cluster:
        fut = hit[2]
        if not fut.done() or fut.exception() is None:
            return await asyncio.shield(fut)  # another request's build: its cancellation is not ours
    fut = asyncio.get_running_loop().create_future()
    _ALL_TOPICS_CACHE.pop(key, None)
    while len(_ALL_TOPICS_CACHE) >= _ALL_TOPICS_CACHE_ENTRIES:
        del _ALL_TOPICS_CACHE[next(iter(_ALL_TOPICS_CACHE))]  # oldest first
    _ALL_TOPICS_CACHE[key] = (image.topics, image.cluster, fut)
    try:
        topics = await _encode_topics(image, sorted_topic_names(image.topics), alive, version, topic_ops,
                                      SlicedEncoder(version))
    except BaseException as e:
        if _ALL_TOPICS_CACHE.get(key, (None, None, None))[2] is fut:
            del _ALL_TOPICS_CACHE[key]
        if isinstance(e, asyncio.CancelledError):
            fut.cancel()
        else:
            fut.set_exception(e)
            fut.exception()  # retrieved: nobody else may be waiting
        raise
    fut.set_result(topics)
    return topics


@handler(3, 0, 13, request_type=sliced_request(MetadataRequest, MetadataRequest.MetadataRequestTopic, "topics"))
async def handle_metadata(broker: BrokerServices, ctx: RequestContext,
                          req: MetadataRequest | PendingRequest) -> MetadataResponse:
    if isinstance(req, PendingRequest):  # thousands of topics named: decoded in slices
        req = await req.decode()
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
    alive_nodes = broker.alive_brokers(ctx.listener_name)
    alive = frozenset(b[0] for b in alive_nodes)
    topics_out: Any
    if all_topics:
        topics_out = await _all_topics(image, ctx.listener_name, alive, v, topic_ops)
    else:
        enc = SlicedEncoder(v)
        names = []
        for t in req.topics:
            if t.name is None:  # by id (v12+: the check above refused it before)
                topic = image.topics.by_id.get(t.topic_id)
                if topic is None:
                    if enc.add(_Topic(error_code=Errors.UNKNOWN_TOPIC_ID, name=None, topic_id=t.topic_id,
                                      topic_authorized_operations=topic_ops)):
                        await enc.pause()
                else:
                    names.append(topic.name)
            else:
                names.append(t.name)
        names = list(dict.fromkeys(names))
        allow_auto = req.allow_auto_topic_creation if v >= 4 else True
        if allow_auto and broker.config.auto_create_topics_enable:
            missing = [n for n in names if n not in image.topics.by_name and topic_name_error(n) is None]
            if missing:
                await broker.auto_create_topics(missing)
                image = broker.image
                alive_nodes = broker.alive_brokers(ctx.listener_name)
                alive = frozenset(b[0] for b in alive_nodes)
        topics_out = await _encode_topics(image, names, alive, v, topic_ops, enc)
    brokers = [_Broker(node_id=b[0], host=b[1], port=b[2], rack=b[3]) for b in alive_nodes]
    return MetadataResponse(
        throttle_time_ms=0,
        brokers=brokers,
        cluster_id=broker.cluster_id,
        controller_id=brokers[0].node_id if brokers else -1,
        topics=topics_out,
        cluster_authorized_operations=cluster_ops,
        error_code=0,
    )
