"""OffsetCommit / OffsetFetch v10 (KIP-848: topics by id) over a real GroupCoordinator without a
network, encoded and decoded per version: ids are resolved with the broker's topic-id map, an
unknown id is UNKNOWN_TOPIC_ID per partition, the offsets are stored by name (a v10 commit is
fetched by name at v9 and a v9 commit by id at v10), a fetch of all offsets answers each topic's
id and leaves out topics that no longer exist; as Kafka's KafkaApis, topic errors are decided
before the group's, and a commit with no valid partition never reaches the coordinator."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from fake_partition import committed_leader
from fastkafka.cluster.group.group_coordinator import GroupCoordinator
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME
from fastkafka.net.handlers.k08_offset_commit import handle_offset_commit
from fastkafka.net.handlers.k09_offset_fetch import handle_offset_fetch
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import (OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest,
                                         OffsetFetchResponse)

T_ID = bytes(range(1, 17))
UNKNOWN_ID = bytes(range(2, 18))
C, F = OffsetCommitRequest, OffsetFetchRequest


class _Broker:
    def __init__(self) -> None:
        self.config = {"offsets.topic.num.partitions": "1"}
        t = SimpleNamespace(name="t", topic_id=T_ID, partitions={0: None, 1: None})
        self.image = SimpleNamespace(topics=SimpleNamespace(
            by_name={GROUP_METADATA_TOPIC_NAME: object(), "t": t}, by_id={T_ID: t}))
        self.replica_manager = SimpleNamespace(partition=lambda tp: committed_leader(),
                                               append_records=lambda tp, r, acks: SimpleNamespace(error=0))
        self.group_coordinator = GroupCoordinator(self)

    def topic_name(self, topic_id: bytes) -> str | None:
        t = self.image.topics.by_id.get(topic_id)
        return None if t is None else t.name


def _ctx(key: int, v: int) -> RequestContext:
    return RequestContext(api_key=key, api_version=v, correlation_id=1, client_id="c", listener_name="PLAINTEXT",
                          security_protocol="PLAINTEXT", client_address="127.0.0.1:1", connection_id="c")


def _commit(broker: _Broker, v: int, topics: list[tuple[str, bytes, list[int]]], generation: int = -1,
            group: str = "g") -> list[tuple[str, bytes, int, int]]:
    req = C(group_id=group, generation_id_or_member_epoch=generation, member_id="", topics=[
        C.OffsetCommitRequestTopic(name=name, topic_id=tid, partitions=[
            C.OffsetCommitRequestPartition(partition_index=p, committed_offset=10 + p) for p in ps])
        for name, tid, ps in topics])
    resp = asyncio.run(handle_offset_commit(broker, _ctx(8, v), req))
    resp = OffsetCommitResponse.from_bytes(resp.to_bytes(v), v)
    return [(t.name, t.topic_id, p.partition_index, p.error_code) for t in resp.topics for p in t.partitions]


def _fetch(broker: _Broker, v: int, topics: list[tuple[str, bytes, list[int]]] | None) -> Any:
    req = F(require_stable=False, groups=[F.OffsetFetchRequestGroup(group_id="g", topics=None if topics is None else [
        F.OffsetFetchRequestTopics(name=name, topic_id=tid, partition_indexes=ps) for name, tid, ps in topics])])
    resp = asyncio.run(handle_offset_fetch(broker, _ctx(9, v), req))
    [group] = OffsetFetchResponse.from_bytes(resp.to_bytes(v), v).groups
    return group.error_code, [(t.name, t.topic_id, p.partition_index, p.committed_offset, p.error_code)
                              for t in group.topics for p in t.partitions]


def test_commit_and_fetch_by_topic_id() -> None:
    broker = _Broker()
    z = bytes(16)
    assert _commit(broker, 10, [("", T_ID, [0, 7]), ("", UNKNOWN_ID, [0])]) == [
        ("", T_ID, 0, 0), ("", T_ID, 7, Errors.UNKNOWN_TOPIC_OR_PARTITION), ("", UNKNOWN_ID, 0, Errors.UNKNOWN_TOPIC_ID)]
    # Stored by name: v9 reads by name what v10 committed by id; v9 commits, v10 reads by id.
    assert _fetch(broker, 9, [("t", z, [0])]) == (0, [("t", z, 0, 10, 0)])
    assert _commit(broker, 9, [("t", z, [1])]) == [("t", z, 1, 0)]
    assert _fetch(broker, 10, [("", T_ID, [0, 1]), ("", UNKNOWN_ID, [3]), ("", z, [4])]) == (0, [
        ("", T_ID, 0, 10, 0), ("", T_ID, 1, 11, 0),
        ("", UNKNOWN_ID, 3, -1, Errors.UNKNOWN_TOPIC_ID), ("", z, 4, -1, Errors.UNKNOWN_TOPIC_ID)])
    # All offsets: each topic's current id; a topic deleted since (no id any more) is left out.
    assert _commit(broker, 9, [("t", z, [0])]) == [("t", z, 0, 0)]
    del broker.image.topics.by_name["t"]
    broker.image.topics.by_name["gone"] = SimpleNamespace(name="gone", topic_id=UNKNOWN_ID, partitions={0: None})
    assert _commit(broker, 9, [("gone", z, [0])]) == [("gone", z, 0, 0)]
    del broker.image.topics.by_name["gone"]
    broker.image.topics.by_name["t"] = broker.image.topics.by_id[T_ID]
    assert _fetch(broker, 10, None) == (0, [("", T_ID, 0, 10, 0), ("", T_ID, 1, 11, 0)])
    assert [row[0] for row in _fetch(broker, 9, None)[1]] == ["gone", "t", "t"]


def test_topic_errors_come_before_the_group_error() -> None:
    broker = _Broker()
    # Generation 5 of an unknown group is ILLEGAL_GENERATION, but only for the valid partitions.
    assert _commit(broker, 10, [("", T_ID, [0, 9]), ("", UNKNOWN_ID, [0])], generation=5) == [
        ("", T_ID, 0, Errors.ILLEGAL_GENERATION), ("", T_ID, 9, Errors.UNKNOWN_TOPIC_OR_PARTITION),
        ("", UNKNOWN_ID, 0, Errors.UNKNOWN_TOPIC_ID)]
    # No valid partition: the coordinator is not asked, so no group appears.
    assert _commit(broker, 10, [("", UNKNOWN_ID, [0])], group="other") == [("", UNKNOWN_ID, 0, Errors.UNKNOWN_TOPIC_ID)]
    assert broker.group_coordinator.group("other") is None
    assert _commit(broker, 9, [("nope", bytes(16), [0])], generation=5) == [
        ("nope", bytes(16), 0, Errors.UNKNOWN_TOPIC_OR_PARTITION)]


def test_group_error_has_no_topics_from_v8() -> None:
    broker = _Broker()
    broker.replica_manager.partition = lambda tp: SimpleNamespace(is_leader=False)
    for v in (8, 9, 10):
        assert _fetch(broker, v, [("t", T_ID, [0])]) == (Errors.NOT_COORDINATOR, [])
