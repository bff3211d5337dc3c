"""DescribeTopicPartitions (key 75), v0: topic and partition metadata with ELR, paginated (KIP-966).

Kafka's DescribeTopicPartitionsRequestHandler and KRaftMetadataCache.describeTopicResponse, answered
from the metadata image only:
- An empty topic list means every topic; otherwise the named topics (duplicates once). Only names
  >= the cursor's topic name are considered, in name order; with a topic list the cursor's topic
  must be one of them, and a cursor partition < 0 is INVALID_REQUEST (every requested topic then
  carries the error, as Kafka's DescribeTopicPartitionsRequest.getErrorResponse).
- At most max(min(max.request.partition.size.limit, ResponsePartitionLimit), 1) partitions are
  returned, starting at the cursor's partition for the cursor's topic and at 0 for the others.
  When a topic is cut short, NextCursor names it and its first partition left out; when the limit
  is used up exactly at a topic boundary and more topics follow, NextCursor names the next topic
  at partition 0 (that topic need not exist). A cursor past a topic's last partition yields the
  topic with no partitions.
- A missing name is UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION if the name is illegal),
  zero topic id, and uses none of the limit; topics that vanish between listing and describing
  are skipped when all topics were asked for.
- Partitions carry no error code: the leader is -1 when it has no endpoint on this listener;
  replicas and ISR are unfiltered; offline replicas are those on brokers that are unregistered,
  fenced, lack the listener or have the replica's directory offline; ELR and last known ELR are
  lists (empty, never null).
- TopicAuthorizedOperations: Kafka computes it for every returned topic; without an authorizer
  that is every operation a TOPIC supports (AuthHelper.authorizedOperations).

Event-loop budget: the answer is built and encoded in slices of a few ms from the one image taken
at the start (net/sliced_encoding.py); "every topic" comes from the image's sorted names (cached
per topics image); a request naming 1,000+ topics is decoded in slices (net/sliced_decoding.py).
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastkafka.cluster.metadata.topic_image import sorted_topic_names
from fastkafka.cluster.topic import is_internal, topic_name_error
from fastkafka.cluster.authorized_operations import TOPIC_OPERATIONS
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.net.sliced_decoding import PendingRequest, sliced_request
from fastkafka.net.sliced_encoding import SlicedEncoder
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse

_Topic = DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic
_Part = DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponsePartition
_Cursor = DescribeTopicPartitionsResponse.Cursor
_ZERO_UUID = bytes(16)

# No authorizer: every operation a topic supports (KIP-430; 3576).
TOPIC_AUTHORIZED_OPERATIONS = TOPIC_OPERATIONS

MAX_REQUEST_PARTITION_SIZE_LIMIT = "max.request.partition.size.limit"

# Kafka's DirectoryId sentinels (Uuid(0, 0), Uuid(0, 1), Uuid(0, 2)).
_DIR_UNASSIGNED = bytes(16)
_DIR_LOST = bytes(15) + b"\x01"
_DIR_MIGRATING = bytes(15) + b"\x02"

# Partitions of one topic in one answer before they are built and encoded in slices.
_SLICED_PARTITIONS = 200


class _InvalidRequest(Exception):
    pass


def _has_online_dir(broker_dirs: tuple[bytes, ...], directory: bytes) -> bool:
    """Kafka's BrokerRegistration.hasOnlineDir / DirectoryId.isOnline."""
    if not broker_dirs or directory in (_DIR_UNASSIGNED, _DIR_MIGRATING):
        return True
    if directory == _DIR_LOST:
        return False
    return directory in broker_dirs


def offline_replicas(brokers: Mapping[int, Any], partition: Any, listener_name: str) -> list[int]:
    """KRaftMetadataCache.getOfflineReplicas: replicas whose broker is unregistered, fenced, has no
    endpoint for the listener, or holds the replica in a directory that is not online."""
    out = []
    for i, replica in enumerate(partition.replicas):
        b = brokers.get(replica)
        if b is None or b.fenced or listener_name not in b.listeners:
            out.append(replica)
            continue
        directory = partition.directories[i] if i < len(partition.directories) else _DIR_UNASSIGNED
        if not _has_online_dir(tuple(b.directories), directory):
            out.append(replica)
    return out


def _partition(brokers: Mapping[int, Any], topic: Any, pid: int, listener_name: str) -> Any | None:
    p = topic.partitions.get(pid)
    if p is None:  # ids are 0..n-1 in a valid image; Kafka logs and skips
        return None
    b = brokers.get(p.leader)
    # getAliveEndpoint: any registration with the listener, fenced or not.
    leader = p.leader if b is not None and b.node(listener_name) is not None else -1
    return _Part(
        error_code=0, partition_index=pid, leader_id=leader, leader_epoch=p.leader_epoch,
        replica_nodes=list(p.replicas), isr_nodes=list(p.isr),
        eligible_leader_replicas=list(p.elr), last_known_elr=list(p.last_known_elr),
        offline_replicas=offline_replicas(brokers, p, listener_name))


async def describe_topic_response(image: Any, names: Iterable[str], listener_name: str, start_index: Any,
                                  max_partitions: int, ignore_missing: bool,
                                  version: int) -> DescribeTopicPartitionsResponse:
    """KRaftMetadataCache.describeTopicResponse over `names` (sorted by the caller): the topics
    and partitions are built and encoded in slices (`SlicedEncoder`) from the one image given."""
    remaining = max_partitions
    brokers = image.cluster.brokers
    by_name = image.topics.by_name
    next_cursor = None
    enc = SlicedEncoder(version)
    for name in names:
        if remaining <= 0:
            # The limit ran out exactly at a topic boundary: resume at this topic's start.
            next_cursor = _Cursor(topic_name=name, partition_index=0)
            break
        topic = by_name.get(name)
        if topic is None:
            if not ignore_missing:
                err = Errors.INVALID_TOPIC_EXCEPTION if topic_name_error(name) else Errors.UNKNOWN_TOPIC_OR_PARTITION
                if enc.add(_Topic(error_code=err, name=name, topic_id=_ZERO_UUID, is_internal=is_internal(name),
                                  partitions=[], topic_authorized_operations=TOPIC_AUTHORIZED_OPERATIONS)):
                    await enc.pause()
            elif enc.tick():
                await enc.pause()
            continue
        # KRaftMetadataCache.partitionMetadataForDescribeTopicResponse: partitions [start, upper)
        # with upper = min(partition count, start + remaining); the next index when some are left.
        count = len(topic.partitions)
        upper = min(count, start_index(name) + remaining)
        pids = range(start_index(name), upper)
        parts: Any
        if len(pids) >= _SLICED_PARTITIONS:
            penc = SlicedEncoder(version)
            for pid in pids:
                part = _partition(brokers, topic, pid, listener_name)
                if (penc.add(part) if part is not None else penc.tick()):
                    await penc.pause()
            parts = penc.result()
        else:
            parts = [q for q in (_partition(brokers, topic, pid, listener_name) for pid in pids) if q is not None]
        if enc.add(_Topic(error_code=0, name=name, topic_id=topic.topic_id, is_internal=is_internal(name),
                          partitions=parts, topic_authorized_operations=TOPIC_AUTHORIZED_OPERATIONS)):
            await enc.pause()
        if upper < count:
            next_cursor = _Cursor(topic_name=name, partition_index=upper)
            break
        remaining -= len(parts)
    return DescribeTopicPartitionsResponse(throttle_time_ms=0, topics=enc.result(), next_cursor=next_cursor)


@handler(75, 0, 0, request_type=sliced_request(DescribeTopicPartitionsRequest,
                                               DescribeTopicPartitionsRequest.TopicRequest, "topics"))
async def handle_describe_topic_partitions(broker: BrokerServices, ctx: RequestContext,
                                           req: DescribeTopicPartitionsRequest | PendingRequest
                                           ) -> DescribeTopicPartitionsResponse:
    if isinstance(req, PendingRequest):  # thousands of names (kafka-topics --describe): in slices
        req = await req.decode()
    image = broker.image
    cursor = req.cursor
    try:
        names = _topics_to_describe(image, req)
    except _InvalidRequest:
        return DescribeTopicPartitionsResponse(throttle_time_ms=0, topics=[
            _Topic(error_code=Errors.INVALID_REQUEST, name=t.name, topic_id=_ZERO_UUID, is_internal=False, partitions=[])
            for t in req.topics])
    cursor_topic = cursor.topic_name if cursor is not None else None
    limit = int(broker.config.get(MAX_REQUEST_PARTITION_SIZE_LIMIT) or 2000)
    return await describe_topic_response(
        image, names, ctx.listener_name,
        lambda name: cursor.partition_index if name == cursor_topic else 0,
        max(min(limit, req.response_partition_limit), 1),
        ignore_missing=not req.topics, version=ctx.api_version)


def _topics_to_describe(image: Any, req: DescribeTopicPartitionsRequest) -> Sequence[str]:
    cursor = req.cursor
    first = cursor.topic_name if cursor is not None else ""
    if not req.topics:
        # Every topic >= the cursor's, from the image's sorted names (cached per image): no
        # per-request pass over every topic.
        every = sorted_topic_names(image.topics)
        names: Sequence[str] = every[bisect.bisect_left(every, first):] if first else every
    else:
        requested = {t.name for t in req.topics if t.name >= first}
        if cursor is not None and cursor.topic_name not in requested:
            raise _InvalidRequest(f"DescribeTopicPartitionsRequest topic list should contain the cursor topic: "
                                  f"{cursor.topic_name}")
        # Java's String.compareTo orders by UTF-16 code units; topic names are ASCII, so this agrees.
        names = sorted(requested)
    if cursor is not None and cursor.partition_index < 0:
        raise _InvalidRequest(f"DescribeTopicPartitionsRequest cursor partition must be valid: {cursor}")
    return names
