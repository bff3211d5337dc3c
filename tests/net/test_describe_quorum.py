"""DescribeQuorum (55) handler on an in-process KafkaRaftServer, v0-2 encoded and decoded: the
one-voter quorum with static voters (no directory id, the controller.quorum.voters endpoint) and
with controller.quorum.bootstrap.servers (the metadata log directory's id, the bound controller
listener); requests for anything but `__cluster_metadata-0` get UNKNOWN_TOPIC_OR_PARTITION per
partition; a node that does not lead answers NOT_LEADER_OR_FOLLOWER."""
from __future__ import annotations

import base64

from fastkafka.cluster.format import format_storage, random_uuid
from fastkafka.net.handlers.k55_describe_quorum import handle_describe_quorum
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import DescribeQuorumRequest, DescribeQuorumResponse
from fastkafka.storage.meta_properties import read_meta_properties

from .conftest import Broker, make_config

Req = DescribeQuorumRequest


def _request(topics: list[tuple[str, list[int]]]) -> Req:
    return Req(topics=[Req.TopicData(topic_name=t, partitions=[Req.PartitionData(partition_index=p)
                                                                for p in ps]) for t, ps in topics])


def _call(server, version: int, req: Req, listener: str = "PLAINTEXT") -> DescribeQuorumResponse:  # type: ignore[no-untyped-def]
    ctx = RequestContext(api_key=55, api_version=version, correlation_id=1, client_id="t", listener_name=listener,
                         security_protocol="PLAINTEXT", client_address="127.0.0.1", connection_id="c")
    req = Req.from_bytes(req.to_bytes(version), version)
    resp = handle_describe_quorum(server, ctx, req)
    return DescribeQuorumResponse.from_bytes(resp.to_bytes(version), version)


METADATA = [("__cluster_metadata", [0])]


def test_static_voter_every_version(tmp_path, run) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, **{"controller.quorum.voters": "1@127.0.0.1:19093"})
    format_storage(config, random_uuid())

    async def go() -> None:
        async with Broker(config) as b:
            hw = b.server.raft.high_watermark
            for version in range(3):
                for listener in ("PLAINTEXT", "CONTROLLER"):
                    resp = _call(b.server, version, _request(METADATA), listener)
                    assert resp.error_code == 0
                    (t,) = resp.topics
                    (p,) = t.partitions
                    assert (t.topic_name, p.partition_index, p.error_code) == ("__cluster_metadata", 0, 0)
                    assert (p.leader_id, p.leader_epoch, p.high_watermark) == (1, 1, hw)
                    (v,) = p.current_voters
                    assert (v.replica_id, v.log_end_offset, v.replica_directory_id) == (1, hw, bytes(16))
                    assert p.observers == []
                    if version >= 1:  # the leader reports "now" for itself
                        assert v.last_fetch_timestamp > 0 and v.last_caught_up_timestamp == v.last_fetch_timestamp
                    else:
                        assert v.last_fetch_timestamp == -1  # not on the wire before v1
                    if version >= 2:
                        assert [(n.node_id, [(x.name, x.host, x.port) for x in n.listeners]) for n in resp.nodes] == \
                            [(1, [("CONTROLLER", "127.0.0.1", 19093)])]
                    else:
                        assert resp.nodes == []

    run(go())


def test_bootstrap_servers_quorum_reports_directory_id_and_bound_listener(tmp_path, run) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, **{"controller.quorum.voters": "",
                                      "controller.quorum.bootstrap.servers": "127.0.0.1:19093"})
    format_storage(config, random_uuid())
    meta = read_meta_properties(config.metadata_log_dir)
    assert meta is not None and meta.directory_id

    async def go() -> None:
        async with Broker(config) as b:
            resp = _call(b.server, 2, _request(METADATA))
            (v,) = resp.topics[0].partitions[0].current_voters
            assert base64.urlsafe_b64encode(v.replica_directory_id).decode().rstrip("=") == meta.directory_id
            host, port = b.server.socket_server.bound["CONTROLLER"]
            assert [(x.name, x.port) for n in resp.nodes for x in n.listeners] == [("CONTROLLER", port)]

    run(go())


def test_wrong_topic_or_partition_and_not_leader(tmp_path, run) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path)
    format_storage(config, random_uuid())

    async def go() -> None:
        async with Broker(config) as b:
            for topics in ([("__cluster_metadata", [1])], [("other", [0])], [("__cluster_metadata", [0, 0])],
                           METADATA + [("other", [3])], []):
                for version in range(3):
                    resp = _call(b.server, version, _request(topics))
                    assert resp.error_code == 0 and resp.nodes == []
                    got = [(t.topic_name, [(p.partition_index, p.error_code) for p in t.partitions]) for t in resp.topics]
                    assert got == [(t, [(p, Errors.UNKNOWN_TOPIC_OR_PARTITION) for p in ps]) for t, ps in topics]
                    if version >= 2 and topics:
                        assert resp.topics[0].partitions[0].error_message == "This server does not host this topic-partition."
            b.server.raft.leader_id = -1  # as after a failed fsync of the metadata log
            try:
                resp = _call(b.server, 2, _request(METADATA))
                (p,) = resp.topics[0].partitions
                assert (p.partition_index, p.error_code) == (0, Errors.NOT_LEADER_OR_FOLLOWER)
            finally:
                b.server.raft.leader_id = 1

    run(go())
