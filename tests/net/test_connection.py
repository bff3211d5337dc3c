"""Framing, header handling, ordering and error handling of net/connection.py against the real
server (in process, ephemeral ports), under uvloop and plain asyncio."""
from __future__ import annotations

import asyncio
import struct

from fastkafka._native.wire import Reader, Writer
from fastkafka.protocol import api
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse

from .conftest import Broker


def frame(api_key: int, version: int, correlation_id: int, body: bytes, client_id: str | None = "test") -> bytes:
    w = Writer()
    w.int16(api_key)
    w.int16(version)
    w.int32(correlation_id)
    w.string(client_id)
    if api_key in api.REQUESTS and api.request_header_version(api_key, version) >= 2:
        w.uvarint(0)
    head = w.getvalue()
    return struct.pack(">i", len(head) + len(body)) + head + body


async def read_response(reader: asyncio.StreamReader, api_key: int, version: int) -> tuple[int, object]:
    size = struct.unpack(">i", await reader.readexactly(4))[0]
    data = await reader.readexactly(size)
    r = Reader(data)
    correlation_id = r.int32()
    if api.response_header_version(api_key, version) >= 1:
        n = r.uvarint()
        assert n == 0
    return correlation_id, api.RESPONSES[api_key].decode(r, version)


def test_api_versions_every_version_and_unknown(run, broker_config) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        async with Broker(broker_config) as b:
            reader, writer = await asyncio.open_connection(b.host, b.port)
            for v in range(0, 5):
                req = (ApiVersionsRequest(client_software_name="fastkafka-test", client_software_version="1.0")
                       if v >= 3 else ApiVersionsRequest())
                writer.write(frame(18, v, 100 + v, req.to_bytes(v)))
                cid, resp = await read_response(reader, 18, v)
                assert cid == 100 + v
                assert isinstance(resp, ApiVersionsResponse) and resp.error_code == 0
                keys = {k.api_key: (k.min_version, k.max_version) for k in resp.api_keys}
                assert keys[0] == (0, 11) and keys[1] == (4, 17) and keys[18] == (0, 4) and keys[3] == (0, 12)
            # KIP-511: an unknown version is answered in the v0 layout with UNSUPPORTED_VERSION.
            writer.write(frame(18, 99, 7, b"\x00\x00\x00"))
            cid, resp = await read_response(reader, 18, 0)
            assert cid == 7 and resp.error_code == Errors.UNSUPPORTED_VERSION  # type: ignore[attr-defined]
            assert any(k.api_key == 18 and k.max_version == 4 for k in resp.api_keys)  # type: ignore[attr-defined]
            writer.close()

    run(main())


def test_pipelined_requests_answer_in_order(run, broker_config) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        async with Broker(broker_config) as b:
            reader, writer = await asyncio.open_connection(b.host, b.port)
            frames = []
            expected = []
            for i in range(60):
                if i % 2:
                    frames.append(frame(3, 12, i, MetadataRequest(topics=None).to_bytes(12)))
                    expected.append((i, 3, 12))
                else:
                    frames.append(frame(18, 3, i, ApiVersionsRequest(client_software_name="a",
                                                                      client_software_version="1").to_bytes(3)))
                    expected.append((i, 18, 3))
            writer.write(b"".join(frames))  # all in one segment: the server must cut and order them
            for cid_expected, key, v in expected:
                cid, resp = await read_response(reader, key, v)
                assert cid == cid_expected
                if key == 3:
                    assert isinstance(resp, MetadataResponse)
                    assert [br.port for br in resp.brokers] == [b.port]
            writer.close()

    run(main())


def test_oversized_and_garbage_frames_close_only_that_connection(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastkafka.cluster.format import format_storage, random_uuid

    from .conftest import make_config

    config = make_config(tmp_path, **{"socket.request.max.bytes": "1000"})
    format_storage(config, random_uuid())

    async def main() -> None:
        async with Broker(config) as b:
            good_r, good_w = await asyncio.open_connection(b.host, b.port)
            for payload in (struct.pack(">i", 5000) + b"x" * 10,   # over socket.request.max.bytes
                            struct.pack(">i", -1),                  # negative size
                            struct.pack(">i", 3) + b"abc",          # shorter than a header
                            frame(999, 0, 1, b""),                  # unknown API key
                            frame(3, 99, 1, b""),                   # unsupported version of Metadata
                            frame(3, 12, 1, b"\xff\xff\xff")):      # body that does not decode
                r, w = await asyncio.open_connection(b.host, b.port)
                w.write(payload)
                assert await r.read() == b""  # the broker closed it without answering
                w.close()
            good_w.write(frame(3, 12, 42, MetadataRequest(topics=None).to_bytes(12)))
            cid, resp = await read_response(good_r, 3, 12)
            assert cid == 42 and isinstance(resp, MetadataResponse)
            good_w.close()

    run(main())


def test_offset_for_leader_epoch_after_produce(run, broker_config) -> None:  # type: ignore[no-untyped-def]
    from fastkafka._native.record_batch import MemoryRecordsBuilder
    from fastkafka.protocol.messages import (
        CreateTopicsRequest, OffsetForLeaderEpochRequest, ProduceRequest)

    async def call(reader, writer, key, v, cid, req):  # type: ignore[no-untyped-def]
        writer.write(frame(key, v, cid, req.to_bytes(v)))
        got_cid, resp = await read_response(reader, key, v)
        assert got_cid == cid
        return resp

    async def main() -> None:
        async with Broker(broker_config) as b:
            reader, writer = await asyncio.open_connection(b.host, b.port)
            T = CreateTopicsRequest.CreatableTopic
            resp = await call(reader, writer, 19, 7, 1, CreateTopicsRequest(
                topics=[T(name="e", num_partitions=1, replication_factor=1)], timeout_ms=1000))
            assert resp.topics[0].error_code == 0
            batch = MemoryRecordsBuilder(timestamp_ms=1_700_000_000_000)
            for i in range(5):
                batch.append(b"k", b"v%d" % i)
            P = ProduceRequest
            resp = await call(reader, writer, 0, 9, 2, P(acks=-1, timeout_ms=1000, topic_data=[P.TopicProduceData(
                name="e", partition_data=[P.PartitionProduceData(index=0, records=batch.build())])]))
            assert resp.responses[0].partition_responses[0].error_code == 0
            O = OffsetForLeaderEpochRequest
            for requested, expected in ((0, (0, 5)), (7, (-1, -1)), (-1, (-1, -1))):
                resp = await call(reader, writer, 23, 4, 3, O(replica_id=-1, topics=[O.OffsetForLeaderTopic(
                    topic="e", partitions=[O.OffsetForLeaderPartition(partition=0, leader_epoch=requested)])]))
                p = resp.topics[0].partitions[0]
                assert (p.error_code, p.leader_epoch, p.end_offset) == (0, *expected)
            # A client that believes in a newer leader epoch than ours is told so (KIP-320).
            resp = await call(reader, writer, 23, 4, 4, O(replica_id=-1, topics=[O.OffsetForLeaderTopic(
                topic="e", partitions=[O.OffsetForLeaderPartition(partition=0, current_leader_epoch=9,
                                                                  leader_epoch=0)])]))
            assert resp.topics[0].partitions[0].error_code == Errors.UNKNOWN_LEADER_EPOCH
            writer.close()

    run(main())
