"""Malformed and hostile frames on raw sockets (not a client test): the broker must behave as Kafka does.

Kafka closes the connection on anything it cannot parse (a negative or oversized length prefix,
a truncated header, an unknown API key, an unsupported version of any API but ApiVersions, garbage)
and keeps serving every other connection. ApiVersions is the one exception: an unsupported version
gets an ApiVersionsResponse with error UNSUPPORTED_VERSION (35) in the v0 layout, listing the
ApiVersions range so the client can retry (KIP-511). After all of it, real clients must still work.
"""
from __future__ import annotations

import asyncio
import random
import socket
import struct
from collections.abc import Iterator

import pytest

from broker_process import BrokerProcess
from raw_frames import assert_serves, frame, header, read_frame, read_until_closed

pytestmark = pytest.mark.interop

UNSUPPORTED_VERSION = 35


@pytest.fixture(scope="module")
def abused_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """A broker of this module's own: fuzzing must not disturb the other tests' broker."""
    b = BrokerProcess(tmp_path_factory.mktemp("abused"))
    b.start()
    try:
        yield b
    finally:
        b.stop()


def _connect(b: BrokerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", b.port), timeout=10)


CLOSING_FRAMES = {
    "negative_length": struct.pack(">i", -1) + b"\x00" * 16,
    "most_negative_length": struct.pack(">i", -(2**31)),
    "huge_length": struct.pack(">i", 2**31 - 1) + b"\x00" * 64,
    "over_socket_request_max_bytes": struct.pack(">i", 104857600 + 1) + b"\x00" * 64,
    "empty_frame": frame(b""),
    "truncated_header_1_byte": frame(b"\x00"),
    "truncated_header_no_correlation_id": frame(struct.pack(">hh", 3, 0)),
    "client_id_longer_than_frame": frame(struct.pack(">hhih", 3, 0, 7, 200) + b"abc"),
    "unknown_api_key": frame(header(31999, 0, 7)),
    "negative_api_key": frame(header(-5, 0, 7)),
    "unsupported_metadata_version": frame(header(3, 999, 7) + b"\x00" * 8),
    "garbage": b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "tls_client_hello": bytes.fromhex("16030100a5010000a10303") + bytes(range(32)) + b"\x00" * 40,
}


@pytest.mark.parametrize("name", sorted(CLOSING_FRAMES))
def test_connection_closed_on_malformed_frame(abused_broker: BrokerProcess, name: str) -> None:
    with _connect(abused_broker) as s:
        s.sendall(CLOSING_FRAMES[name])
        read_until_closed(s)
    assert abused_broker.is_alive()


@pytest.mark.parametrize("version", [6, 99, 32767, -1])  # 6: the first after Kafka 4.4's v5
def test_api_versions_unsupported_version_answers_v0_with_ranges(abused_broker: BrokerProcess, version: int) -> None:
    with _connect(abused_broker) as s:
        # a v3+ client would send a flexible header/body; the broker must not need to parse it
        s.sendall(frame(header(18, version, 4242) + b"\x00"))
        resp = read_frame(s)
    correlation_id, error_code = struct.unpack(">ih", resp[:6])
    assert correlation_id == 4242
    assert error_code == UNSUPPORTED_VERSION
    (count,) = struct.unpack(">i", resp[6:10])
    ranges = {}
    for i in range(count):
        key, lo, hi = struct.unpack(">hhh", resp[10 + 6 * i: 16 + 6 * i])
        ranges[key] = (lo, hi)
    assert len(resp) == 10 + 6 * count, "v0 layout: no throttle_time_ms, no tagged fields"
    assert 18 in ranges, ranges
    assert ranges[18][0] == 0 and ranges[18][1] >= 3


def test_api_versions_supported_version_still_works_after_abuse(abused_broker: BrokerProcess) -> None:
    with _connect(abused_broker) as s:
        s.sendall(frame(header(18, 0, 1)))
        resp = read_frame(s)
    correlation_id, error_code, count = struct.unpack(">ihi", resp[:10])
    assert (correlation_id, error_code) == (1, 0)
    keys = {struct.unpack(">h", resp[10 + 6 * i: 12 + 6 * i])[0] for i in range(count)}
    assert {0, 1, 2, 3, 18} <= keys


def _fuzz_frames(rng: random.Random, n: int) -> list[bytes]:
    """Random frames: raw noise, valid-looking headers of real APIs with noise bodies, bit-flipped requests."""
    valid = frame(header(3, 1, 1) + struct.pack(">i", -1))  # Metadata v1, all topics
    frames = []
    for _ in range(n):
        kind = rng.randrange(4)
        if kind == 0:
            frames.append(rng.randbytes(rng.randrange(1, 64)))
        elif kind == 1:
            body = rng.randbytes(rng.randrange(0, 200))
            frames.append(frame(header(rng.randrange(0, 100), rng.randrange(-2, 20), rng.randrange(2**31)) + body))
        elif kind == 2:
            b = bytearray(valid)
            for _ in range(rng.randrange(1, 4)):
                b[rng.randrange(4, len(b))] ^= 1 << rng.randrange(8)
            frames.append(bytes(b))
        else:
            frames.append(frame(rng.randbytes(rng.randrange(0, 300))))
    return frames


async def _abuse(port: int, chunks: list[list[bytes]]) -> None:
    async def one(frames: list[bytes]) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        try:
            writer.write(b"".join(frames))
            await writer.drain()
            writer.write_eof()
            await asyncio.wait_for(reader.read(-1), timeout=20)
        except (OSError, asyncio.TimeoutError):
            pass  # a broker may close early or reset: both are fine, dying is not
        finally:
            writer.close()

    await asyncio.gather(*(one(c) for c in chunks))


def test_seeded_fuzz_many_connections_at_once(abused_broker: BrokerProcess, topic_name: str) -> None:
    rng = random.Random(0xFA57CAFE)
    frames = _fuzz_frames(rng, 2000)
    # one frame per connection for most, a few connections carrying long pipelines of them
    chunks = [[f] for f in frames[:1200]] + [frames[i:i + 100] for i in range(1200, 2000, 100)]
    asyncio.run(_abuse(abused_broker.port, chunks))
    assert_serves(abused_broker, topic_name)


def test_many_half_open_connections_then_client(abused_broker: BrokerProcess, topic_name: str) -> None:
    """Connections that send half a frame and stall must not block the broker for others."""
    socks = []
    try:
        for i in range(100):
            s = _connect(abused_broker)
            s.sendall(struct.pack(">i", 1000) + b"\x00\x03" if i % 2 else b"\x00\x00")
            socks.append(s)
        assert_serves(abused_broker, topic_name)
    finally:
        for s in socks:
            s.close()


def test_clients_work_after_every_malformed_case(abused_broker: BrokerProcess, topic_name: str) -> None:
    for closing in CLOSING_FRAMES.values():
        with _connect(abused_broker) as s:
            s.sendall(closing)
            read_until_closed(s)
    assert_serves(abused_broker, topic_name)
