"""Raw-socket helpers for the tests that send what no real client would (test_malformed_frames.py,
test_hardening_net.py): request frames built by hand, responses read frame by frame, and the check
that a real client still produces and consumes after the abuse.

Invariants: nothing here interprets a response beyond its 4-byte size prefix; every read has a
timeout, so a broker that neither answers nor closes fails the test instead of hanging it.
"""
from __future__ import annotations

import socket
import struct

import pytest

from broker_process import BrokerProcess
from clients import confluent
from interop_data import Rec, assert_same_records, with_expected_offsets


def header(api_key: int, api_version: int, correlation_id: int, client_id: bytes | None = b"fuzz") -> bytes:
    """A request header v1 (client id as a nullable STRING, no tagged fields)."""
    cid = struct.pack(">h", -1) if client_id is None else struct.pack(">h", len(client_id)) + client_id
    return struct.pack(">hhi", api_key, api_version, correlation_id) + cid


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def recv_exact(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def read_frame(s: socket.socket, timeout: float = 30.0) -> bytes:
    """The next response frame, without its size prefix."""
    s.settimeout(timeout)
    return recv_exact(s, struct.unpack(">i", recv_exact(s, 4))[0])


def read_until_closed(s: socket.socket, timeout: float = 15.0) -> bytes:
    """Everything the broker sends before it closes the connection; fails if it never closes."""
    s.settimeout(timeout)
    data = bytearray()
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return bytes(data)
            data += chunk
    except ConnectionResetError:
        return bytes(data)
    except socket.timeout:
        pytest.fail(f"broker kept the connection open for {timeout}s after a request it cannot parse")


def assert_serves(b: BrokerProcess, topic: str) -> None:
    """The broker process is alive and a real client can still produce and consume on new connections."""
    assert b.is_alive(), f"broker died:\n{b.log_tail()}"
    records = [Rec(0, b"k%d" % i, b"after-abuse-%d" % i, (("h", b"v"),), 1_700_000_000_000 + i) for i in range(20)]
    confluent.create_topic(b.bootstrap, topic, partitions=1)
    confluent.produce(b.bootstrap, topic, records)
    assert_same_records(confluent.consume_assigned(b.bootstrap, topic, {0: 20}), with_expected_offsets(records))
