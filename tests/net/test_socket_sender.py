"""SocketSender (net/socket_sender.py): bytes and file regions leave in order, exactly once, with
sendfile for regions, across full socket buffers; and a Fetch served through it returns the same
bytes as one served by reading the segment in (sendfile disabled), under uvloop and asyncio."""
from __future__ import annotations

import asyncio
import os
import socket
import struct

import pytest

from fastkafka._native.wire import FileRegion, Writer
from fastkafka.net.socket_sender import SocketSender

from .conftest import Broker, make_config
from .test_connection import _produce_req, frame, read_response


def test_writer_splices_file_regions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A FileRegion passed as bytes is length-prefixed and spliced, not copied; getvalue() reads
    it in so the encoding is the same as with the bytes themselves."""
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    fd = os.open(path, os.O_RDONLY)
    try:
        region = FileRegion(fd, 2, 5)
        w = Writer()
        w.int16(7)
        w.bytes_(region)
        w.compact_bytes(FileRegion(fd, 0, 0))
        w.compact_bytes(region)
        w.int8(1)
        assert w.spliced_size == 10
        parts = w.parts()
        assert [type(p) for p in parts] == [bytes, FileRegion, bytes, FileRegion, bytes]
        plain = Writer()
        plain.int16(7)
        plain.bytes_(b"23456")
        plain.compact_bytes(b"")
        plain.compact_bytes(b"23456")
        plain.int8(1)
        assert w.getvalue() == plain.getvalue()
        assert b"".join(p if isinstance(p, bytes) else p.read_bytes() for p in parts) == plain.getvalue()
    finally:
        os.close(fd)


def test_writer_extend_keeps_file_regions_spliced(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A body encoded apart (EncodedBody, on a worker) joins the frame with Writer.extend: its
    bytes copied, its regions spliced at the same places, still not read in."""
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    fd = os.open(path, os.O_RDONLY)
    try:
        body = Writer()
        body.int8(3)
        body.bytes_(FileRegion(fd, 2, 5))
        body.int16(9)
        body.compact_bytes(FileRegion(fd, 0, 4))
        frame_w = Writer()
        frame_w.int32(42)
        frame_w.compact_bytes(FileRegion(fd, 8, 2))
        frame_w.extend(body)
        frame_w.int8(1)
        assert frame_w.spliced_size == 11
        assert [type(p) for p in frame_w.parts()] == [bytes, FileRegion, bytes, FileRegion, bytes, FileRegion, bytes]
        plain = Writer()
        plain.int32(42)
        plain.compact_bytes(b"89")
        plain.int8(3)
        plain.bytes_(b"23456")
        plain.int16(9)
        plain.compact_bytes(b"0123")
        plain.int8(1)
        assert frame_w.getvalue() == plain.getvalue()
        with pytest.raises(ValueError):
            body.extend(body)
    finally:
        os.close(fd)


def test_writer_inlines_small_regions_within_budget(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Regions up to max_region bytes are read in (while the budget lasts), bigger ones stay
    spliced; the encoding is unchanged. A region past the end of its file raises and leaves the
    Writer as it was."""
    path = tmp_path / "f"
    path.write_bytes(bytes(range(200)))
    fd = os.open(path, os.O_RDONLY)
    try:
        def build() -> Writer:
            w = Writer(16)
            w.int32(7)
            w.bytes_(FileRegion(fd, 0, 10))      # small: inlined
            w.int8(1)
            w.bytes_(FileRegion(fd, 10, 100))    # big: stays spliced
            w.compact_bytes(FileRegion(fd, 110, 20))  # small, 30 of the budget of 35: inlined
            w.bytes_(FileRegion(fd, 130, 25))    # small but past the budget: spliced
            w.int8(2)
            return w
        w = build()
        before = w.getvalue()
        assert w.inline_small_regions(30, 35) == 30
        assert w.getvalue() == before
        assert w.spliced_size == 125
        assert [type(p) for p in w.parts()] == [bytes, FileRegion, bytes, FileRegion, bytes]
        w = build()
        assert w.inline_small_regions(1000, 1 << 20) == 155 and w.spliced_size == 0
        assert w.parts() == [before]
        bad = Writer()
        bad.int8(5)
        bad.bytes_(FileRegion(fd, 190, 20))  # the file ends 10 bytes into it
        good = bad.getvalue
        with pytest.raises(OSError):
            bad.inline_small_regions(100, 100)
        assert bad.spliced_size == 20 and len(bad) == 5
        del good
    finally:
        os.close(fd)


@pytest.mark.parametrize("loop_kind", ["uvloop", "asyncio"])
def test_sender_keeps_order_across_full_socket_buffers(tmp_path, loop_kind) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(8 << 20)  # the 40 regions below total ~7.3 MB
    path = tmp_path / "seg"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    pieces: list[bytes | FileRegion] = []
    expected = bytearray()
    pos = 0
    for i in range(40):
        head = b"H%03d" % i
        size = (i * 37_000) % 400_000 + 1
        pieces.append(head)
        pieces.append(FileRegion(fd, pos, size))
        expected += head + data[pos:pos + size]
        pos += size

    async def main() -> tuple[bytes, int, int]:
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
        loop = asyncio.get_running_loop()
        events: list[str] = []
        errors: list[OSError] = []
        sender = SocketSender(loop, a.fileno(), on_pause=lambda: events.append("pause"),
                              on_resume=lambda: events.append("resume"), on_error=errors.append,
                              high_water=64 * 1024)
        for i in range(0, len(pieces), 7):
            sender.write(pieces[i:i + 7])
        received = bytearray()
        while len(received) < len(expected) and not errors:
            received += await asyncio.wait_for(loop.sock_recv(b, 1 << 20), 30)
        assert not errors and sender.idle and sender.buffered == 0
        assert events[0] == "pause" and events[-1] == "resume"
        sent_by_sendfile = sender.bytes_sendfile
        sender.close()
        a.close()
        b.close()
        return bytes(received), sent_by_sendfile, len(events)

    try:
        if loop_kind == "uvloop":
            import uvloop

            got, by_sendfile, _ = uvloop.run(main())
        else:
            got, by_sendfile, _ = asyncio.run(main())
    finally:
        os.close(fd)
    assert got == bytes(expected)
    assert by_sendfile == pos


def test_sender_fails_the_connection_when_the_file_is_shorter(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "short"
    path.write_bytes(b"abc")
    fd = os.open(path, os.O_RDONLY)

    async def main() -> list[OSError]:
        a, b = socket.socketpair()
        a.setblocking(False)
        errors: list[OSError] = []
        sender = SocketSender(asyncio.get_running_loop(), a.fileno(), on_pause=lambda: None,
                              on_resume=lambda: None, on_error=errors.append)
        sender.write([b"x", FileRegion(fd, 0, 10)])
        a.close()
        b.close()
        return errors

    try:
        errors = asyncio.run(main())
    finally:
        os.close(fd)
    assert len(errors) == 1


def _fetch(offset: int, max_bytes: int = 64 << 20):  # type: ignore[no-untyped-def]
    from fastkafka.protocol.messages import FetchRequest as F

    return F(replica_id=-1, max_wait_ms=0, min_bytes=1, max_bytes=max_bytes, isolation_level=0,
             topics=[F.FetchTopic(topic="zc", partitions=[
                 F.FetchPartition(partition=p, fetch_offset=offset, partition_max_bytes=8 << 20) for p in range(2)])])


@pytest.mark.parametrize("sendfile", ["true", "false"])
def test_fetch_bytes_identical_with_and_without_sendfile(run, tmp_path, sendfile) -> None:  # type: ignore[no-untyped-def]
    """Multi-megabyte fetches over two partitions and several segments; pipelined with small
    requests, the responses come back complete and in order either way."""
    from fastkafka._native.record_batch import MemoryRecordsBuilder
    from fastkafka.cluster.format import format_storage, random_uuid
    from fastkafka.protocol.messages import CreateTopicsRequest, MetadataRequest

    config = make_config(tmp_path, **{"fastkafka.network.sendfile.enable": sendfile, "log.segment.bytes": "1048576"})
    format_storage(config, random_uuid())
    batches = []
    for i in range(24):
        b = MemoryRecordsBuilder(timestamp_ms=1_700_000_000_000)
        for j in range(100):
            b.append(b"k%d" % j, os.urandom(1000))
        batches.append(b.build())

    async def main() -> None:
        async with Broker(config) as b:
            assert b.server.socket_server.sendfile_enabled is (sendfile == "true")
            r, w = await asyncio.open_connection(b.host, b.port)
            w.write(frame(19, 7, 1, CreateTopicsRequest(topics=[CreateTopicsRequest.CreatableTopic(
                name="zc", num_partitions=2, replication_factor=1)], timeout_ms=1000).to_bytes(7)))
            await read_response(r, 19, 7)
            for n, batch in enumerate(batches):
                w.write(frame(0, 9, 100 + n, _produce_req("zc", {0: batch, 1: batch}).to_bytes(9)))
                _, resp = await read_response(r, 0, 9)
                assert all(p.error_code == 0 for t in resp.responses for p in t.partition_responses)
            # Pipeline: fetch, metadata, fetch, metadata ... all answered in order.
            for i in range(4):
                w.write(frame(1, 12, 1000 + 2 * i, _fetch(0).to_bytes(12)))
                w.write(frame(3, 12, 1001 + 2 * i, MetadataRequest(topics=None).to_bytes(12)))
            for i in range(4):
                cid, fr = await read_response(r, 1, 12)
                assert cid == 1000 + 2 * i
                for part in fr.responses[0].partitions:
                    got = bytes(part.records)
                    # Whole batches from offset 0, as produced, up to the 8 MiB partition limit: the
                    # broker only assigned baseOffset [0:8] and partitionLeaderEpoch [12:16].
                    pos = 0
                    for k, batch in enumerate(batches):
                        if pos + len(batch) > len(got):
                            break
                        seg = got[pos:pos + len(batch)]
                        assert struct.unpack(">q", seg[:8])[0] == k * 100
                        assert seg[8:12] == batch[8:12] and seg[16:] == batch[16:]
                        pos += len(batch)
                    assert len(got) >= 1_000_000
                cid, _ = await read_response(r, 3, 12)
                assert cid == 1001 + 2 * i
            if sendfile == "true":
                conn = next(iter(b.server.socket_server.connections))
                assert conn._sender is not None and conn._sender.bytes_sendfile > 8_000_000
            w.close()

    run(main())
