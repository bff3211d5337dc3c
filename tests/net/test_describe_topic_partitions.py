"""DescribeTopicPartitions (75) handler over hand-built metadata images, encoded and decoded: the
cursor pagination of Kafka's KRaftMetadataCache.describeTopicResponse (limit reached inside a topic
and exactly at a topic's end, cursors past the end), INVALID_REQUEST cursors, missing and illegal
names, the broker's max.request.partition.size.limit cap, and the per-partition fields on a
three-broker image (fenced/unregistered/listener-less brokers, offline directories, ELR)."""
from __future__ import annotations

import asyncio
import dataclasses
from types import MappingProxyType, SimpleNamespace

from fastkafka.cluster.metadata.broker_registration import BrokerRegistration, Endpoint
from fastkafka.cluster.metadata.cluster_image import ClusterImage
from fastkafka.cluster.metadata.metadata_image import EMPTY_IMAGE
from fastkafka.cluster.metadata.partition_registration import PartitionRegistration
from fastkafka.cluster.metadata.topic_image import TopicImage, TopicsImage
from fastkafka.net.handlers.k75_describe_topic_partitions import (
    TOPIC_AUTHORIZED_OPERATIONS, handle_describe_topic_partitions)
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse

Req = DescribeTopicPartitionsRequest
DIR_A, DIR_B = b"\xaa" * 16, b"\xbb" * 16


def _broker_reg(bid: int, *, fenced: bool = False, listeners: tuple[str, ...] = ("PLAINTEXT",),
                dirs: tuple[bytes, ...] = ()) -> BrokerRegistration:
    return BrokerRegistration(id=bid, epoch=bid, incarnation_id=bytes(16),
                              listeners={n: Endpoint(n, "h", 9000 + bid, 0) for n in listeners},
                              supported_features={}, rack=None, fenced=fenced, in_controlled_shutdown=False,
                              directories=dirs)


def _image(topics: dict[str, list[PartitionRegistration]], brokers: list[BrokerRegistration] | None = None):  # type: ignore[no-untyped-def]
    imgs = {name: TopicImage(name, bytes([i + 1]) * 16, MappingProxyType({p.partition_id: p for p in parts}))
            for i, (name, parts) in enumerate(topics.items())}
    brokers = brokers if brokers is not None else [_broker_reg(1)]
    return dataclasses.replace(
        EMPTY_IMAGE,
        cluster=ClusterImage(MappingProxyType({b.id: b for b in brokers})),
        topics=TopicsImage(MappingProxyType({t.topic_id: t for t in imgs.values()}), MappingProxyType(imgs)))


def _simple(n: int) -> list[PartitionRegistration]:
    return [PartitionRegistration(partition_id=i, replicas=(1,), isr=(1,), leader=1, leader_epoch=i) for i in range(n)]


def _broker(image, **props: str) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    return SimpleNamespace(image=image, config=SimpleNamespace(get=lambda key: props.get(key)))


def _call(broker: SimpleNamespace, req: Req) -> DescribeTopicPartitionsResponse:
    ctx = RequestContext(api_key=75, api_version=0, correlation_id=1, client_id="t", listener_name="PLAINTEXT",
                         security_protocol="PLAINTEXT", client_address="127.0.0.1", connection_id="c")
    resp = asyncio.run(handle_describe_topic_partitions(broker, ctx, req))
    return DescribeTopicPartitionsResponse.from_bytes(resp.to_bytes(0), 0)


def _req(names: list[str], limit: int = 2000, cursor: tuple[str, int] | None = None) -> Req:
    return Req(topics=[Req.TopicRequest(name=n) for n in names], response_partition_limit=limit,
               cursor=None if cursor is None else Req.Cursor(topic_name=cursor[0], partition_index=cursor[1]))


def _shape(resp: DescribeTopicPartitionsResponse) -> tuple[list[tuple[str, int, list[int]]], tuple[str, int] | None]:
    c = resp.next_cursor
    return ([(t.name, t.error_code, [p.partition_index for p in t.partitions]) for t in resp.topics],
            None if c is None else (c.topic_name, c.partition_index))


def test_pages_follow_the_cursor() -> None:
    b = _broker(_image({"a": _simple(2), "b": _simple(3), "c": _simple(4)}))
    names = ["c", "b", "missing", "a", "a"]
    # Names in order (a, b, c, missing). The limit is used up exactly at a's end: the cursor names
    # b at 0. The missing name takes none of the limit.
    assert _shape(_call(b, _req(names, 2))) == ([("a", 0, [0, 1])], ("b", 0))
    assert _shape(_call(b, _req(names, 2, ("b", 0)))) == ([("b", 0, [0, 1])], ("b", 2))
    assert _shape(_call(b, _req(names, 2, ("b", 2)))) == ([("b", 0, [2]), ("c", 0, [0])], ("c", 1))
    assert _shape(_call(b, _req(names, 2, ("c", 1)))) == ([("c", 0, [1, 2])], ("c", 3))
    assert _shape(_call(b, _req(names, 2, ("c", 3)))) == ([("c", 0, [3]), ("missing", 3, [])], None)
    # Everything at once; the limit is never below 1.
    assert _shape(_call(b, _req(names))) == (
        [("a", 0, [0, 1]), ("b", 0, [0, 1, 2]), ("c", 0, [0, 1, 2, 3]), ("missing", 3, [])], None)
    assert _shape(_call(b, _req(names, 0))) == ([("a", 0, [0])], ("a", 1))
    # Used up at c's end with a (missing) name left: the cursor names it, though it does not exist.
    assert _shape(_call(b, _req(names, -5, ("c", 3)))) == ([("c", 0, [3])], ("missing", 0))


def test_all_topics_when_the_list_is_empty() -> None:
    b = _broker(_image({"b": _simple(2), "a": _simple(1), "c": _simple(1)}))
    assert _shape(_call(b, _req([]))) == ([("a", 0, [0]), ("b", 0, [0, 1]), ("c", 0, [0])], None)
    assert _shape(_call(b, _req([], 2))) == ([("a", 0, [0]), ("b", 0, [0])], ("b", 1))
    # With all topics the cursor's topic need not exist: topics from that name on.
    assert _shape(_call(b, _req([], 10, ("bb", 0)))) == ([("c", 0, [0])], None)
    assert _shape(_call(b, _req([], 10, ("z", 0)))) == ([], None)


def test_cursor_past_the_end_and_unknown_cursor_topic() -> None:
    b = _broker(_image({"a": _simple(2)}))
    assert _shape(_call(b, _req(["a"], 10, ("a", 2)))) == ([("a", 0, [])], None)
    assert _shape(_call(b, _req(["a"], 10, ("a", 9)))) == ([("a", 0, [])], None)
    # A cursor on a requested topic that does not exist: the error, and the cursor is no problem.
    assert _shape(_call(b, _req(["a", "b"], 10, ("b", 0)))) == ([("b", 3, [])], None)


def test_invalid_cursors_fail_every_requested_topic() -> None:
    b = _broker(_image({"a": _simple(2), "b": _simple(1)}))
    for names, cursor in ((["a", "b"], ("x", 0)), (["b"], ("a", 0)), (["a", "a"], ("a", -1))):
        resp = _call(b, _req(names, 10, cursor))
        assert _shape(resp) == ([(n, 42, []) for n in names], None)
        assert all(t.topic_id == bytes(16) and t.topic_authorized_operations == -2147483648 for t in resp.topics)
    # All topics with a negative cursor partition: nothing was requested, so no topic at all.
    assert _shape(_call(b, _req([], 10, ("a", -1)))) == ([], None)


def test_missing_illegal_and_internal_names() -> None:
    b = _broker(_image({"__consumer_offsets": _simple(1)}))
    resp = _call(b, _req(["no-such", "bad name", "__transaction_state", "__consumer_offsets"]))
    got = {t.name: (t.error_code, t.is_internal, t.topic_id, len(t.partitions)) for t in resp.topics}
    assert got == {"no-such": (3, False, bytes(16), 0), "bad name": (17, False, bytes(16), 0),
                   "__transaction_state": (3, True, bytes(16), 0), "__consumer_offsets": (0, True, b"\x01" * 16, 1)}
    assert [t.name for t in resp.topics] == sorted(got)
    assert all(t.topic_authorized_operations == TOPIC_AUTHORIZED_OPERATIONS == 3576 for t in resp.topics)


def test_broker_limit_caps_the_request() -> None:
    image = _image({"a": _simple(5)})
    assert _shape(_call(_broker(image, **{"max.request.partition.size.limit": "3"}), _req(["a"], 100))) == \
        ([("a", 0, [0, 1, 2])], ("a", 3))
    assert _shape(_call(_broker(image, **{"max.request.partition.size.limit": "3"}), _req(["a"], 2))) == \
        ([("a", 0, [0, 1])], ("a", 2))


def test_partition_fields_across_brokers() -> None:
    brokers = [_broker_reg(1, dirs=(DIR_A,)), _broker_reg(2, fenced=True), _broker_reg(3, listeners=("OTHER",)),
               _broker_reg(4, dirs=(DIR_A,))]
    parts = [
        # Led by a healthy broker; replica 4's directory is not among its online dirs.
        PartitionRegistration(partition_id=0, replicas=(1, 4, 5), isr=(1, 4), leader=1, leader_epoch=7,
                              directories=(DIR_A, DIR_B, bytes(16)), elr=(5,), last_known_elr=(2,)),
        # Led by a fenced broker: still its id (it has the listener); the fenced one is offline.
        PartitionRegistration(partition_id=1, replicas=(2, 1), isr=(2,), leader=2, leader_epoch=3),
        # Led by a broker without this listener, and by nobody.
        PartitionRegistration(partition_id=2, replicas=(3, 1), isr=(3,), leader=3, leader_epoch=1),
        PartitionRegistration(partition_id=3, replicas=(1,), isr=(), leader=-1, leader_epoch=4),
    ]
    resp = _call(_broker(_image({"t": parts}, brokers)), _req(["t"]))
    got = [(p.error_code, p.leader_id, p.leader_epoch, p.replica_nodes, p.isr_nodes, p.eligible_leader_replicas,
            p.last_known_elr, p.offline_replicas) for p in resp.topics[0].partitions]
    assert got == [
        (0, 1, 7, [1, 4, 5], [1, 4], [5], [2], [4, 5]),
        (0, 2, 3, [2, 1], [2], [], [], [2]),
        (0, -1, 1, [3, 1], [3], [], [], [3]),
        (0, -1, 4, [1], [], [], [], []),
    ]
