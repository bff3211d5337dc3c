"""Hardening of the network layer (issue 13): hostile requests on raw sockets, then real clients.

Rows covered here:
- Fetch with a negative partition_max_bytes: Kafka 4.4's log read refuses a negative max size and
  its ReplicaManager answers that partition alone with UNKNOWN_SERVER_ERROR (-1), no records; the
  other partitions of the same request are served and the connection stays open (driven against
  Apache 4.4: both -1 and -100 give error -1, 0 records).
- FindCoordinator with a null key (v0-v3) or a null element in coordinator_keys (v4+): Kafka
  cannot parse the request (InvalidRequestException "Error getting request for apiKey:
  FIND_COORDINATOR") and closes the connection; so do we, without a traceback in the log.
- 20 connections each sending a 100 MB frame header and 99 MB of body: the request memory pool
  (queued.max.request.bytes) keeps the broker's RSS bounded and the probe answered, and the
  memory comes back after the connections close.

Raw sockets only send what no real client would; after each abuse a real client produces and
consumes. Bounds (probe wait, RSS) apply to fastkafka only (see responsiveness.py).
"""
from __future__ import annotations

import socket
import struct
import sys
import time
from collections.abc import Iterator

import pytest

from fastkafka._native.wire import Reader
from fastkafka.protocol.messages import FetchRequest, FetchResponse

from broker_process import BrokerProcess
from clients import confluent
from interop_data import Rec
from raw_frames import assert_serves, frame, header, read_frame, read_until_closed
from responsiveness import responsiveness_probe

pytestmark = pytest.mark.interop

UNKNOWN_SERVER_ERROR = -1


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("hardening-net"))
    b.start()
    try:
        yield b
    finally:
        b.stop()


def _tracebacks(b: BrokerProcess) -> int:
    return b.log_tail(50_000_000).count("Traceback (most recent call last)") if b.target == "fastkafka" else 0


def _api_versions_ok(s: socket.socket, corr: int) -> None:
    s.sendall(frame(header(18, 0, corr)))
    resp = read_frame(s)
    assert struct.unpack(">ih", resp[:6]) == (corr, 0)


@pytest.mark.parametrize("max_bytes", [-1, -100, -(2**31)])
def test_fetch_negative_partition_max_bytes(broker: BrokerProcess, max_bytes: int) -> None:
    topic = f"neg-max-{abs(max_bytes)}"
    confluent.create_topic(broker.bootstrap, topic, partitions=2)
    confluent.produce(broker.bootstrap, topic, [Rec(p, b"k", b"v" * 50, (), 1_700_000_000_000) for p in (0, 1)])
    before = _tracebacks(broker)
    T, P = FetchRequest.FetchTopic, FetchRequest.FetchPartition
    req = FetchRequest(replica_id=-1, max_wait_ms=0, min_bytes=1, max_bytes=1 << 20, isolation_level=0,
                       session_id=0, session_epoch=-1,
                       topics=[T(topic=topic, partitions=[P(partition=0, fetch_offset=0, partition_max_bytes=max_bytes),
                                                          P(partition=1, fetch_offset=0, partition_max_bytes=1 << 20)])])
    with socket.create_connection(("127.0.0.1", broker.port), timeout=30) as s:
        s.sendall(frame(header(1, 11, 77) + req.to_bytes(11)))
        raw = read_frame(s)
        assert struct.unpack(">i", raw[:4])[0] == 77
        resp = FetchResponse.decode(Reader(raw[4:]), 11)
        parts = {p.partition_index: p for t in resp.responses for p in t.partitions}
        assert resp.error_code == 0
        # Kafka 4.4: the partition with the negative max answers UNKNOWN_SERVER_ERROR, no records
        assert parts[0].error_code == UNKNOWN_SERVER_ERROR
        assert parts[0].records is None or len(parts[0].records) == 0
        # ... and the other partition of the same request is served as usual
        assert parts[1].error_code == 0 and parts[1].records is not None and len(parts[1].records) > 0
        _api_versions_ok(s, 78)  # the connection stays open
    assert _tracebacks(broker) == before, broker.log_tail()
    assert_serves(broker, f"after-neg-max-{abs(max_bytes)}")


FIND_COORDINATOR_NULLS = {
    # v0: key STRING only; v1-v2: key + key_type; v3: flexible header and compact string (0 = null)
    "v0_null_key": header(10, 0, 5) + struct.pack(">h", -1),
    "v1_null_key": header(10, 1, 5) + struct.pack(">hb", -1, 0),
    "v2_null_key": header(10, 2, 5) + struct.pack(">hb", -1, 1),
    "v3_null_key": header(10, 3, 5) + b"\x00" + b"\x00" + b"\x00" + b"\x00",
    # v4+: coordinator_keys, a compact array (2 = one element) whose element is a null string (0)
    "v4_null_coordinator_key": header(10, 4, 5) + b"\x00" + b"\x00" + b"\x02" + b"\x00" + b"\x00",
}


@pytest.mark.parametrize("name", sorted(FIND_COORDINATOR_NULLS))
def test_find_coordinator_null_key_closes_the_connection(broker: BrokerProcess, name: str) -> None:
    before = _tracebacks(broker)
    with socket.create_connection(("127.0.0.1", broker.port), timeout=30) as s:
        s.sendall(frame(FIND_COORDINATOR_NULLS[name]))
        # Kafka 4.4 cannot parse it (InvalidRequestException) and closes without an answer
        assert read_until_closed(s) == b""
    # a well-formed FindCoordinator on another connection is still answered
    with socket.create_connection(("127.0.0.1", broker.port), timeout=30) as s:
        s.sendall(frame(header(10, 1, 6) + struct.pack(">h", 3) + b"grp" + b"\x00"))
        assert struct.unpack(">i", read_frame(s)[:4])[0] == 6
    assert _tracebacks(broker) == before, broker.log_tail()
    assert broker.is_alive()


def test_real_clients_after_null_keys(broker: BrokerProcess) -> None:
    assert_serves(broker, "after-null-keys")


_BIG_FRAME_SENDER = r"""
import socket, struct, sys, threading
port = int(sys.argv[1])
size, body, chunk = 104857600, 99 * 2**20, bytes(1 << 20)
socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(20)]
def send(s):
    s.settimeout(8)
    try:
        s.sendall(struct.pack(">i", size))
        for _ in range(body // len(chunk)):
            s.sendall(chunk)
    except OSError:
        pass  # the broker stopped reading this connection (it waits for pool memory)
threads = [threading.Thread(target=send, args=(s,)) for s in socks]
for t in threads:
    t.start()
for t in threads:
    t.join(120)
print("sent", flush=True)
sys.stdin.read()
for s in socks:
    s.close()
"""


def test_twenty_connections_with_100mb_frames_stay_bounded(broker: BrokerProcess) -> None:
    """20 connections each announce a 100 MB frame (socket.request.max.bytes, so valid) and send
    99 MB of its body, never the rest. fastkafka: queued.max.request.bytes (default: one maximum
    request) lets one connection buffer its body while the others stop being read, so RSS stays
    bounded, the probe is answered throughout, and the memory is unmapped once they close.
    Apache 4.4's default pool is unbounded (-1): it buffers what it reads; measured, not bounded."""
    import subprocess

    import psutil

    # The senders run in their own process so their 2 GB of sendall does not steal the probe's GIL.
    sender = subprocess.Popen([sys.executable, "-c", _BIG_FRAME_SENDER, str(broker.port)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    with responsiveness_probe(broker) as probe:
        assert sender.stdout is not None and sender.stdout.readline().strip() == "sent", "sender failed"
        time.sleep(1)
        sender.communicate("", timeout=60)  # closes the 20 connections and exits
        time.sleep(2)
    probe.assert_responsive()
    if broker.target == "fastkafka":
        rss = psutil.Process(broker.proc.pid).memory_info().rss
        print(f"RSS after the connections closed: {rss / 2**20:.0f} MB")
        assert rss < 256 * 2**20, f"RSS did not come back: {rss / 2**20:.0f} MB"
        assert _tracebacks(broker) == 0, broker.log_tail()
    elif "java.lang.OutOfMemoryError" in broker.log_tail(50_000_000):
        # Apache 4.4's default queued.max.request.bytes=-1 reads every body it is sent: 20 x 99 MB
        # exceed the harness's heap (-Xmx768m, broker_process.py), its network processors die
        # ("Processor got uncaught exception. java.lang.OutOfMemoryError: Java heap space") and the
        # listener stops answering (ApiVersions timeouts, then connection refused). Seen on every run
        # on 2 cores; the bounded pool this test checks is what fastkafka does instead.
        pytest.skip("Apache 4.4 (queued.max.request.bytes=-1, -Xmx768m): java.lang.OutOfMemoryError in its "
                    "network processors after 20 x 99 MB request bodies; it no longer serves clients")
    assert_serves(broker, "after-100mb-frames")
