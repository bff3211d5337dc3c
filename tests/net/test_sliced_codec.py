"""Big Metadata / DescribeTopicPartitions answers built and encoded in slices, and big requests
decoded in slices (net/sliced_encoding.py, net/sliced_decoding.py): the bytes are those of the
generated codec, per version; the all-topics Metadata answer is cached per topics and cluster
image and rebuilt when either changes; a request naming thousands of topics reaches the handler
undecoded and decodes to the same request."""
from __future__ import annotations

import asyncio
import dataclasses
from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest

from fastkafka._native.wire import Reader
from fastkafka.cluster.metadata.broker_registration import BrokerRegistration, Endpoint
from fastkafka.cluster.metadata.cluster_image import ClusterImage
from fastkafka.cluster.metadata.metadata_image import EMPTY_IMAGE
from fastkafka.cluster.metadata.partition_registration import PartitionRegistration
from fastkafka.cluster.metadata.topic_image import TopicImage, TopicsImage
from fastkafka.net import sliced_encoding
from fastkafka.net.handlers import k03_metadata
from fastkafka.net.handlers.k03_metadata import handle_metadata
from fastkafka.net.handlers.k75_describe_topic_partitions import handle_describe_topic_partitions
from fastkafka.net.request_context import RequestContext
from fastkafka.net.sliced_decoding import PendingRequest, sliced_request
from fastkafka.protocol.messages import (
    DescribeTopicPartitionsRequest,
    DescribeTopicPartitionsResponse,
    ListPartitionReassignmentsRequest,
    MetadataRequest,
    MetadataResponse,
)


def _image(topics: dict[str, int]) -> Any:
    imgs = {}
    for i, (name, n) in enumerate(topics.items()):
        parts = {p: PartitionRegistration(partition_id=p, replicas=(1,), isr=(1,), leader=1, leader_epoch=p)
                 for p in range(n)}
        imgs[name] = TopicImage(name, i.to_bytes(16, "big"), MappingProxyType(parts))
    reg = BrokerRegistration(id=1, epoch=1, incarnation_id=bytes(16), listeners={"PLAINTEXT": Endpoint("PLAINTEXT", "h", 9092, 0)},
                             supported_features={}, rack=None, fenced=False, in_controlled_shutdown=False)
    return dataclasses.replace(
        EMPTY_IMAGE, cluster=ClusterImage(MappingProxyType({1: reg})),
        topics=TopicsImage(MappingProxyType({t.topic_id: t for t in imgs.values()}), MappingProxyType(imgs)))


def _broker(image: Any) -> SimpleNamespace:
    return SimpleNamespace(image=image, cluster_id="cid", config=SimpleNamespace(auto_create_topics_enable=False,
                                                                                  get=lambda key: None),
                           alive_brokers=lambda listener: [(1, "h", 9092, None)])


def _ctx(key: int, v: int) -> RequestContext:
    return RequestContext(api_key=key, api_version=v, correlation_id=1, client_id="t", listener_name="PLAINTEXT",
                          security_protocol="PLAINTEXT", client_address="127.0.0.1", connection_id="c")


@pytest.fixture(autouse=True)
def _tiny_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sliced_encoding, "SLICE_SECONDS", 0.0)  # a new piece at every clock look
    k03_metadata._ALL_TOPICS_CACHE.clear()
    k03_metadata._BIG_CACHE.clear()


TOPICS = {f"t{i:04d}": 1 + i % 3 for i in range(1500)} | {"big": 1200}


@pytest.mark.parametrize("v", [1, 8, 9, 12, 13])
def test_all_topics_metadata_is_the_generated_encoding(v: int) -> None:
    image = _image(TOPICS)
    req = MetadataRequest(topics=None if v else [], allow_auto_topic_creation=False,
                          include_topic_authorized_operations=v >= 8)

    async def run() -> tuple[Any, Any]:
        first = await handle_metadata(_broker(image), _ctx(3, v), req)
        second = await handle_metadata(_broker(image), _ctx(3, v), req)
        return first, second

    first, second = asyncio.run(run())
    assert isinstance(first.topics, sliced_encoding.EncodedArray) and len(first.topics._pieces) > 10
    assert second.topics is first.topics  # cached for this image
    got = MetadataResponse.from_bytes(first.to_bytes(v), v)
    assert [t.name for t in got.topics] == sorted(TOPICS)
    for t in got.topics:
        assert t.error_code == 0 and [p.partition_index for p in t.partitions] == list(range(TOPICS[t.name]))
        assert all(p.leader_id == 1 and p.replica_nodes == [1] and p.offline_replicas == [] for p in t.partitions)
    # The same answer built from plain objects encodes to the same bytes.
    plain = MetadataResponse.from_bytes(first.to_bytes(v), v)
    assert plain.to_bytes(v) == first.to_bytes(v)


def test_all_topics_cache_follows_the_image() -> None:
    image = _image({"a": 1, "b": 2})
    req = MetadataRequest(topics=None, allow_auto_topic_creation=False)

    async def run() -> list[str]:
        first = await handle_metadata(_broker(image), _ctx(3, 12), req)
        newer = _image({"a": 1, "b": 2, "c": 1})
        second = await handle_metadata(_broker(newer), _ctx(3, 12), req)
        assert second.topics is not first.topics
        return [t.name for t in MetadataResponse.from_bytes(second.to_bytes(12), 12).topics]

    assert asyncio.run(run()) == ["a", "b", "c"]


def test_concurrent_all_topics_requests_share_one_build() -> None:
    image = _image(TOPICS)
    req = MetadataRequest(topics=None, allow_auto_topic_creation=False)

    async def run() -> list[Any]:
        return await asyncio.gather(*(handle_metadata(_broker(image), _ctx(3, 12), req) for _ in range(3)))

    a, b, c = asyncio.run(run())
    assert a.topics is b.topics is c.topics


def test_describe_topic_partitions_pages_in_slices() -> None:
    image = _image(TOPICS)
    names: list[str] = []
    cursor = None
    pages = 0
    while True:
        req = DescribeTopicPartitionsRequest(topics=[], response_partition_limit=2000, cursor=cursor)
        resp = asyncio.run(handle_describe_topic_partitions(_broker(image), _ctx(75, 0), req))
        got = DescribeTopicPartitionsResponse.from_bytes(resp.to_bytes(0), 0)
        pages += 1
        for t in got.topics:
            if not names or names[-1] != t.name:
                names.append(t.name)
        if got.next_cursor is None:
            break
        cursor = DescribeTopicPartitionsRequest.Cursor(topic_name=got.next_cursor.topic_name,
                                                       partition_index=got.next_cursor.partition_index)
    assert names == sorted(TOPICS) and pages == -(-sum(TOPICS.values()) // 2000)


@pytest.mark.parametrize("cls,element,v", [
    (DescribeTopicPartitionsRequest, DescribeTopicPartitionsRequest.TopicRequest, 0),
    (MetadataRequest, MetadataRequest.MetadataRequestTopic, 1),
    (MetadataRequest, MetadataRequest.MetadataRequestTopic, 12),
    (ListPartitionReassignmentsRequest, ListPartitionReassignmentsRequest.ListPartitionReassignmentsTopics, 0),
])
def test_big_requests_decode_in_slices_to_the_same_request(cls: Any, element: Any, v: int) -> None:
    prefix = 0
    if cls is MetadataRequest:
        req = cls(topics=[element(name=f"t{i}") for i in range(1500)], allow_auto_topic_creation=v < 4,
                  include_topic_authorized_operations=v >= 8)
    elif cls is ListPartitionReassignmentsRequest:
        req = cls(timeout_ms=12345, topics=[element(name=f"t{i}", partition_indexes=[0, i]) for i in range(1500)])
        prefix = 4
    else:
        req = cls(topics=[element(name=f"t{i}") for i in range(1500)], response_partition_limit=7,
                  cursor=cls.Cursor(topic_name="t3", partition_index=2))
    data = req.to_bytes(v)
    decoder = sliced_request(cls, element, "topics", prefix_bytes=prefix)
    pending = decoder.decode(Reader(data, 0), v)
    assert isinstance(pending, PendingRequest)
    assert asyncio.run(pending.decode()) == cls.decode(Reader(data, 0), v)
    small = cls(topics=[element(name="x")])
    assert decoder.decode(Reader(small.to_bytes(v), 0), v) == small
    if cls is ListPartitionReassignmentsRequest:  # a null array (every reassignment) is decoded at once
        every = cls(timeout_ms=5, topics=None)
        assert decoder.decode(Reader(every.to_bytes(v), 0), v) == every
