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
            for v in range(0, 6):
                req = (ApiVersionsRequest(client_software_name="fastkafka-test", client_software_version="1.0")
                       if v >= 3 else ApiVersionsRequest())
                writer.write(frame(18, v, 100 + v, req.to_bytes(v)))
                cid, resp = await read_response(reader, 18, v)
                assert cid == 100 + v
                assert isinstance(resp, ApiVersionsResponse) and resp.error_code == 0
                keys = {k.api_key: (k.min_version, k.max_version) for k in resp.api_keys}
                assert keys[0] == (0, 13) and keys[1] == (4, 18) and keys[18] == (0, 5) and keys[3] == (0, 13)
            # KIP-511: an unknown version is answered in the v0 layout with UNSUPPORTED_VERSION.
            writer.write(frame(18, 99, 7, b"\x00\x00\x00"))
            cid, resp = await read_response(reader, 18, 0)
            assert cid == 7 and resp.error_code == Errors.UNSUPPORTED_VERSION  # type: ignore[attr-defined]
            assert any(k.api_key == 18 and k.max_version == 5 for k in resp.api_keys)  # type: ignore[attr-defined]
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


def _produce_req(topic: str, parts: dict[int, bytes]):  # type: ignore[no-untyped-def]
    from fastkafka.protocol.messages import ProduceRequest as P

    return P(acks=-1, timeout_ms=1000, topic_data=[P.TopicProduceData(
        name=topic, partition_data=[P.PartitionProduceData(index=i, records=r) for i, r in parts.items()])])


def _batch(n: int, ts: int = 1_700_000_000_000) -> bytes:
    from fastkafka._native.record_batch import MemoryRecordsBuilder

    b = MemoryRecordsBuilder(timestamp_ms=ts)
    for i in range(n):
        b.append(b"k", b"v%d" % i)
    return b.build()


def test_produce_errors_are_per_partition(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A corrupt batch (CRC) gets CORRUPT_MESSAGE and an oversized one MESSAGE_TOO_LARGE, for their
    partition only; the good partition in the same request is appended; the connection stays up."""
    import time

    from fastkafka.cluster.format import format_storage, random_uuid
    from fastkafka.protocol.messages import CreateTopicsRequest

    from .conftest import make_config

    config = make_config(tmp_path, **{"num.partitions": "3", "message.max.bytes": "2000"})
    format_storage(config, random_uuid())

    async def main() -> None:
        async with Broker(config) as b:
            reader, writer = await asyncio.open_connection(b.host, b.port)
            writer.write(frame(19, 7, 1, CreateTopicsRequest(topics=[CreateTopicsRequest.CreatableTopic(
                name="p", num_partitions=-1, replication_factor=-1)], timeout_ms=1000).to_bytes(7)))
            _, resp = await read_response(reader, 19, 7)
            assert resp.topics[0].error_code == 0 and resp.topics[0].num_partitions == 3
            now = int(time.time() * 1000)
            corrupt = bytearray(_batch(3, now))
            corrupt[-1] ^= 0x55
            writer.write(frame(0, 9, 2, _produce_req("p", {0: _batch(3, now), 1: bytes(corrupt),
                                                           2: _batch(400, now)}).to_bytes(9)))
            _, resp = await read_response(reader, 0, 9)
            codes = {p.index: (p.error_code, p.base_offset) for p in resp.responses[0].partition_responses}
            assert codes == {0: (0, 0), 1: (Errors.CORRUPT_MESSAGE, -1), 2: (Errors.MESSAGE_TOO_LARGE, -1)}
            writer.write(frame(0, 9, 3, _produce_req("p", {0: _batch(2, now)}).to_bytes(9)))
            _, resp = await read_response(reader, 0, 9)
            assert resp.responses[0].partition_responses[0].base_offset == 3
            writer.close()

    run(main())


def test_fetch_long_polls_until_data_arrives(run, broker_config) -> None:  # type: ignore[no-untyped-def]
    """Fetch with min_bytes=1 parks until a produce on another connection appends (DelayedFetch);
    with nothing appended it returns empty when max_wait_ms passes."""
    from fastkafka.protocol.messages import CreateTopicsRequest, FetchRequest

    def fetch_req(offset: int, max_wait: int):  # type: ignore[no-untyped-def]
        F = FetchRequest
        return F(replica_id=-1, max_wait_ms=max_wait, min_bytes=1, max_bytes=1 << 20, isolation_level=0,
                 topics=[F.FetchTopic(topic="lp", partitions=[F.FetchPartition(
                     partition=0, fetch_offset=offset, partition_max_bytes=1 << 20)])])

    async def main() -> None:
        async with Broker(broker_config) as b:
            r1, w1 = await asyncio.open_connection(b.host, b.port)
            r2, w2 = await asyncio.open_connection(b.host, b.port)
            w1.write(frame(19, 7, 1, CreateTopicsRequest(topics=[CreateTopicsRequest.CreatableTopic(
                name="lp", num_partitions=1, replication_factor=1)], timeout_ms=1000).to_bytes(7)))
            await read_response(r1, 19, 7)
            # Nothing to read: the fetch waits out max_wait_ms and answers with no records.
            w1.write(frame(1, 11, 2, fetch_req(0, 50).to_bytes(11)))
            _, resp = await read_response(r1, 1, 11)
            part = resp.responses[0].partitions[0]
            assert part.error_code == 0 and bytes(part.records) == b"" and part.high_watermark == 0
            # A long fetch is parked; a produce on another connection completes it with the data.
            w1.write(frame(1, 11, 3, fetch_req(0, 30_000).to_bytes(11)))
            pending = asyncio.ensure_future(read_response(r1, 1, 11))
            await asyncio.sleep(0.2)
            assert not pending.done()
            w2.write(frame(0, 9, 4, _produce_req("lp", {0: _batch(4)}).to_bytes(9)))
            await read_response(r2, 0, 9)
            _, resp = await asyncio.wait_for(pending, 20)
            part = resp.responses[0].partitions[0]
            from fastkafka._native.record_batch import iter_records

            assert part.high_watermark == 4
            assert [(r.offset, r.value) for r in iter_records(bytes(part.records))] == [
                (i, b"v%d" % i) for i in range(4)]
            w1.close()
            w2.close()

    run(main())


def test_handler_exception_is_answered_with_the_apis_error_response(run, broker_config, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """Kafka's KafkaApis.handleError: a handler that raises (synchronously or in its task) gets the
    API's error response, UNKNOWN_SERVER_ERROR per partition (or the KafkaError's code), one WARN
    line without a stack; the connection stays open for the next request."""
    import dataclasses
    import logging

    from fastkafka.net.registry import REGISTRY
    from fastkafka.protocol.errors import KafkaError

    def boom(broker, ctx, request):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    async def boom_later(broker, ctx, request):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0)
        raise KafkaError(Errors.NOT_COORDINATOR)

    monkeypatch.setitem(REGISTRY._handlers, 2, dataclasses.replace(REGISTRY._handlers[2], fn=boom))
    monkeypatch.setitem(REGISTRY._handlers, 8, dataclasses.replace(REGISTRY._handlers[8], fn=boom_later))

    async def main() -> None:
        async with Broker(broker_config) as b:
            reader, writer = await asyncio.open_connection(b.host, b.port)
            req = api.REQUESTS[2]()
            mod = __import__(api.REQUESTS[2].__module__, fromlist=["x"])
            t = mod._ListOffsetsRequest_ListOffsetsTopic(name="t", partitions=[
                mod._ListOffsetsRequest_ListOffsetsPartition(partition_index=3, timestamp=-1)])
            req.topics = [t]
            oc = api.REQUESTS[8](group_id="g")
            writer.write(frame(2, 7, 1, req.to_bytes(7)) + frame(8, 8, 2, oc.to_bytes(8))
                         + frame(18, 0, 3, b""))
            cid, resp = await read_response(reader, 2, 7)
            assert cid == 1
            assert [(x.name, [(p.partition_index, p.error_code) for p in x.partitions]) for x in resp.topics] == \
                [("t", [(3, Errors.UNKNOWN_SERVER_ERROR)])]
            cid, resp = await read_response(reader, 8, 8)
            assert cid == 2
            cid, resp = await read_response(reader, 18, 0)
            assert cid == 3 and resp.error_code == 0
            writer.close()

    with caplog.at_level(logging.WARNING, logger="fastkafka.net.connection"):
        run(main())
    lines = [r for r in caplog.records if "handler failed" in r.getMessage()]
    assert len(lines) == 2 and all(r.exc_info is None for r in lines), [r.getMessage() for r in lines]
    assert "answering UNKNOWN_SERVER_ERROR" in lines[0].getMessage()
    assert "answering NOT_COORDINATOR" in lines[1].getMessage()


def test_big_produce_pipelined_with_small_ones(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A 2 MiB batch is written by the log writer thread: the connection's next Produce requests
    are appended as soon as the big one is (offsets in arrival order), while every response,
    the big one's first, waits for the write."""
    import threading
    import time

    from fastkafka.cluster.format import format_storage, random_uuid
    from fastkafka.protocol.messages import CreateTopicsRequest
    from fastkafka.storage import TopicPartition
    from fastkafka.storage.file_records import log_writer

    from .conftest import make_config

    config = make_config(tmp_path, **{"message.max.bytes": str(4 << 20)})
    format_storage(config, random_uuid())

    async def main() -> None:
        async with Broker(config) as b:
            reader, writer = await asyncio.open_connection(b.host, b.port)
            writer.write(frame(19, 7, 1, CreateTopicsRequest(topics=[CreateTopicsRequest.CreatableTopic(
                name="big", num_partitions=1, replication_factor=-1)], timeout_ms=1000).to_bytes(7)))
            _, resp = await read_response(reader, 19, 7)
            assert resp.topics[0].error_code == 0
            now = int(time.time() * 1000)
            from fastkafka._native.record_batch import MemoryRecordsBuilder

            mb = MemoryRecordsBuilder(timestamp_ms=now)
            for i in range(2100):
                mb.append(b"k", b"x" * 1000)
            big = mb.build()
            assert len(big) > 2 << 20
            gate = threading.Event()
            log_writer().submit(gate.wait, 10)  # the big write waits behind this
            writer.write(frame(0, 9, 10, _produce_req("big", {0: big}).to_bytes(9)))
            for c in range(11, 14):
                writer.write(frame(0, 9, c, _produce_req("big", {0: _batch(2, now)}).to_bytes(9)))
            log = b.server.replica_manager.partition(TopicPartition("big", 0)).log
            for _ in range(500):
                if log.log_end_offset == 2106:
                    break
                await asyncio.sleep(0.01)
            assert log.log_end_offset == 2106  # all four appended while the big write waits
            assert log.high_watermark == 0
            pending = asyncio.ensure_future(read_response(reader, 0, 9))
            await asyncio.sleep(0.1)
            assert not pending.done()  # nothing acknowledged before the write
            gate.set()
            cid, resp = await pending
            assert (cid, resp.responses[0].partition_responses[0].base_offset) == (10, 0)
            for c, base in ((11, 2100), (12, 2102), (13, 2104)):
                cid, resp = await read_response(reader, 0, 9)
                assert (cid, resp.responses[0].partition_responses[0].error_code,
                        resp.responses[0].partition_responses[0].base_offset) == (c, 0, base)
            assert log.high_watermark == 2106
            writer.close()

    run(main())


def test_wide_produce_decoded_off_loop_keeps_order_and_bad_big_frames_close(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A Produce frame of OFF_LOOP_DECODE_BYTES or more (here 500 partitions of a 50-record batch,
    under LARGE_FRAME so it takes the ordinary read path) is decoded on a worker: the ApiVersions
    and Produce pipelined behind it in the same write are answered after it, in order, and the
    Produce behind it lands after it. A frame that size whose body does not decode closes only its
    connection, without an answer."""
    import time

    from fastkafka.cluster.format import format_storage, random_uuid
    from fastkafka.net.connection import OFF_LOOP_DECODE_BYTES
    from fastkafka.net.memory_pool import LARGE_FRAME
    from fastkafka.protocol.messages import CreateTopicsRequest
    from fastkafka.storage import TopicPartition

    from .conftest import make_config

    config = make_config(tmp_path)
    format_storage(config, random_uuid())
    parts = 500

    async def main() -> None:
        async with Broker(config) as b:
            reader, writer = await asyncio.open_connection(b.host, b.port)
            writer.write(frame(19, 7, 1, CreateTopicsRequest(topics=[CreateTopicsRequest.CreatableTopic(
                name="wide", num_partitions=parts, replication_factor=-1)], timeout_ms=5000).to_bytes(7)))
            _, resp = await read_response(reader, 19, 7)
            assert resp.topics[0].error_code == 0
            rm = b.server.replica_manager
            for _ in range(1000):  # every partition's log made and led (created in the background)
                if all((p := rm.partition(TopicPartition("wide", i))) is not None and p.is_leader for i in range(parts)):
                    break
                await asyncio.sleep(0.02)
            now = int(time.time() * 1000)
            wide = frame(0, 9, 10, _produce_req("wide", {i: _batch(50, now) for i in range(parts)}).to_bytes(9))
            assert OFF_LOOP_DECODE_BYTES <= len(wide) < LARGE_FRAME
            writer.write(wide + frame(18, 3, 11, ApiVersionsRequest(client_software_name="a",
                                                                     client_software_version="1").to_bytes(3))
                         + frame(0, 9, 12, _produce_req("wide", {7: _batch(2, now)}).to_bytes(9)))
            cid, resp = await read_response(reader, 0, 9)
            assert cid == 10
            got = {p.index: (p.error_code, p.base_offset) for p in resp.responses[0].partition_responses}
            assert got == {i: (0, 0) for i in range(parts)}
            cid, resp = await read_response(reader, 18, 3)
            assert cid == 11 and resp.error_code == 0
            cid, resp = await read_response(reader, 0, 9)
            assert cid == 12 and resp.responses[0].partition_responses[0].base_offset == 50
            # The same frame cut short (its partition array claims more than it holds).
            bad = wide[:4 + OFF_LOOP_DECODE_BYTES + 100]
            bad = struct.pack(">i", len(bad) - 4) + bad[4:]
            r, w = await asyncio.open_connection(b.host, b.port)
            w.write(bad)
            assert await r.read() == b""
            w.close()
            writer.write(frame(18, 3, 13, ApiVersionsRequest(client_software_name="a",
                                                             client_software_version="1").to_bytes(3)))
            cid, resp = await read_response(reader, 18, 3)
            assert cid == 13 and resp.error_code == 0
            writer.close()

    run(main())


def test_closed_connections_are_freed_without_the_cycle_collector(run, broker_config) -> None:  # type: ignore[no-untyped-def]
    """A closed connection goes by reference counting (the sender drops the connection's bound
    methods when it closes), and connections share one read buffer: under connection churn
    (a fuzzer closing ~3,500 connections a second) closed connections waiting for a full
    collection, each with its own 256 KiB buffer, grew the broker by ~350 MB in 30 s, and a
    gc.freeze() (GcPolicy) would keep any it caught alive until the next thaw."""
    import gc
    import weakref

    async def main() -> None:
        async with Broker(broker_config) as b:
            ss = b.server.socket_server
            assert ss is not None
            refs = []
            gc.collect()
            gc.disable()
            try:
                for i in range(20):
                    reader, writer = await asyncio.open_connection(b.host, b.port)
                    writer.write(frame(18, 3, i, ApiVersionsRequest(client_software_name="t",
                                                                     client_software_version="1").to_bytes(3)))
                    await read_response(reader, 18, 3)
                    conns = [c for c in ss.connections if weakref.ref(c) not in refs]
                    assert conns and all(c._scratch is ss.read_scratch for c in conns)
                    refs.extend(weakref.ref(c) for c in conns)
                    if i % 2:
                        writer.close()  # the client closes
                    else:
                        conns[-1].close()  # the broker closes
                    await asyncio.sleep(0.05)
                    del conns
                for _ in range(50):
                    if all(r() is None for r in refs):
                        break
                    await asyncio.sleep(0.05)
                alive = [r() for r in refs if r() is not None]
                assert not alive, f"{len(alive)} closed connections still referenced: {gc.get_referrers(alive[0])}"
            finally:
                gc.enable()

    run(main())
