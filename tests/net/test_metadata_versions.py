"""Metadata (key 3) over a stand-in image, without a network, encoded and decoded per version:
v13's top-level ErrorCode is NONE for a normal answer; topics by id from v12 (UNKNOWN_TOPIC_ID for
an unknown id); at v10-11 a null name or a topic id is INVALID_REQUEST for every requested topic
and no brokers, as Kafka's InvalidRequestException / MetadataRequest.getErrorResponse."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from fastkafka.net.handlers.k03_metadata import handle_metadata
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import MetadataRequest, MetadataResponse

_TID = bytes(range(1, 17))
_UNKNOWN = bytes(range(2, 18))


def _broker() -> Any:
    part = SimpleNamespace(leader=1, leader_epoch=3, replicas=[1], isr=[1])
    topic = SimpleNamespace(name="t", topic_id=_TID, partitions={0: part})
    image = SimpleNamespace(topics=SimpleNamespace(by_name={"t": topic}, by_id={_TID: topic}), cluster=SimpleNamespace())
    return SimpleNamespace(image=image, cluster_id="cid", config=SimpleNamespace(auto_create_topics_enable=False),
                           is_broker_alive=lambda node, listener: node == 1,
                           alive_brokers=lambda listener: [(1, "h1", 9092, None)])


def _metadata(v: int, topics: list[MetadataRequest.MetadataRequestTopic] | None) -> MetadataResponse:
    ctx = RequestContext(api_key=3, api_version=v, correlation_id=1, client_id="cli", listener_name="PLAINTEXT",
                         security_protocol="PLAINTEXT", client_address="10.0.0.7:5555", connection_id="c")
    resp = asyncio.run(handle_metadata(_broker(), ctx, MetadataRequest(topics=topics, allow_auto_topic_creation=False)))
    return MetadataResponse.from_bytes(resp.to_bytes(v), v)


def test_v13_top_level_error_is_none() -> None:
    resp = _metadata(13, [MetadataRequest.MetadataRequestTopic(name="t"),
                          MetadataRequest.MetadataRequestTopic(name="missing")])
    assert resp.error_code == 0 and resp.cluster_id == "cid" and [b.node_id for b in resp.brokers] == [1]
    assert [(t.name, t.error_code) for t in resp.topics] == [("t", 0), ("missing", Errors.UNKNOWN_TOPIC_OR_PARTITION)]
    assert _metadata(13, None).topics[0].topic_id == _TID


def test_topic_ids_from_v12_only() -> None:
    by_id = [MetadataRequest.MetadataRequestTopic(name=None, topic_id=_TID),
             MetadataRequest.MetadataRequestTopic(name=None, topic_id=_UNKNOWN)]
    for v in (12, 13):
        resp = _metadata(v, by_id)
        assert {(t.name, t.topic_id, t.error_code) for t in resp.topics} == {
            (None, _UNKNOWN, Errors.UNKNOWN_TOPIC_ID), ("t", _TID, 0)}
    for v in (10, 11):
        for topics in (by_id, [MetadataRequest.MetadataRequestTopic(name="t", topic_id=_TID)]):
            resp = _metadata(v, topics)
            assert resp.brokers == [] and all(t.error_code == Errors.INVALID_REQUEST for t in resp.topics)
            assert len(resp.topics) == len(topics) and all(t.name in ("", "t") for t in resp.topics)
