"""Issue 13 hardening, event-loop budget: one big Produce request must not stall the broker.

A 17 MB or 64 MB uncompressed batch (thousands of 1 KB records, one request frame) used to hold
the event loop for one callback of 60-260 ms: its CRC and record walk, a copy, the offset
stamping and the segment write all ran on the loop (bench/bigframe.py). Now the frame lands in a
pooled buffer, the payload is validated and stamped on a worker thread without the GIL, appended
from that buffer without a copy and written by the log writer thread; the acknowledgement waits
for the write. The probe measures every other client's wait meanwhile.

What Apache Kafka 4.4 answers (FASTKAFKA_TEST_TARGET=apache; fastkafka matches): the batch is
accepted (error 0) once the topic's max.message.bytes allows it (socket.request.max.bytes, 100 MB
by default, allows the frame), and a consumer reads every record of it, then the records produced
after it.

The broker runs with fastkafka.event.loop.lag.warn.ms=5 so its loop monitor logs every tick later
than 5 ms: the worst one is printed beside the probe's figure (the probe's wait also counts the
machine's load; the monitor's lag is what the loop itself was busy with, scheduling delays aside).
"""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from broker_process import BrokerProcess
from clients import confluent
from hostile_batches import batch, raw_produce, record
from interop_data import Rec
from loop_lag import lag_warn_broker, worst_loop_lag_ms
from responsiveness import responsiveness_probe

pytestmark = pytest.mark.interop

_MIB = 1 << 20


@pytest.fixture(scope="module")
def lag_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    yield from lag_warn_broker(tmp_path_factory, "bigframe")



def _big_batch(total: int, record_size: int = 1000) -> tuple[int, bytes]:
    value = b"v" * (record_size - 20)
    n = total // record_size
    return n, batch(0, b"".join(record(i, key=b"k%d" % i, value=value) for i in range(n)), n)


def _recs(prefix: str, n: int) -> list[Rec]:
    now = int(time.time() * 1000)
    return [Rec(0, b"k%d" % i, f"{prefix}-{i}".encode(), (), now) for i in range(n)]


@pytest.mark.parametrize("mib", [17, 64])
def test_big_uncompressed_produce_keeps_the_broker_responsive(lag_broker: BrokerProcess, topic_name: str,
                                                              mib: int) -> None:
    broker = lag_broker
    n, hostile = _big_batch(mib * _MIB)
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"max.message.bytes": str(len(hostile) + _MIB)})
    log_start = broker.log_path.stat().st_size
    with responsiveness_probe(broker) as probe:
        answer = raw_produce(broker.bootstrap, topic_name, 0, hostile)
    assert answer == (0, None, [])
    if broker.target == "fastkafka":
        lag = worst_loop_lag_ms(broker.log_path, log_start)
        print(f"[fastkafka] {mib} MiB produce: loop monitor worst lag {lag} ms (0: none above 5 ms)")
    probe.assert_responsive()
    # The batch is readable, and the broker still takes and serves a real client's records after it.
    confluent.produce(broker.bootstrap, topic_name, _recs("after", 5))
    got = confluent.read_to_end(broker.bootstrap, topic_name, 1, timeout=120)
    assert len(got) == n + 5
    assert [o for _p, o, _k, _v in got] == list(range(n + 5))
    assert got[0][2:] == (b"k0", b"v" * 980) and got[n - 1][2] == b"k%d" % (n - 1)
    assert [v for _p, _o, _k, v in got[n:]] == [r.value for r in _recs("after", 5)]


def test_pipelined_big_and_small_produces_keep_order(lag_broker: BrokerProcess, topic_name: str) -> None:
    """A 17 MB batch and small batches right behind it on other connections: the small ones'
    acks come after the big one is written, and offsets follow arrival order."""
    import threading

    broker = lag_broker
    n, big = _big_batch(17 * _MIB)
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"max.message.bytes": str(len(big) + _MIB)})
    small = batch(0, b"".join(record(i, key=b"s", value=b"small-%d" % i) for i in range(3)), 3)
    answers: list[tuple[int, str | None, list]] = []
    t = threading.Thread(target=lambda: answers.append(raw_produce(broker.bootstrap, topic_name, 0, big)))
    t.start()
    smalls = [raw_produce(broker.bootstrap, topic_name, 0, small) for _ in range(5)]
    t.join(120)
    assert answers == [(0, None, [])]
    assert smalls == [(0, None, [])] * 5
    got = confluent.read_to_end(broker.bootstrap, topic_name, 1, timeout=120)
    assert len(got) == n + 15
    assert [o for _p, o, _k, _v in got] == list(range(n + 15))
    assert sum(1 for _p, _o, k, _v in got if k == b"s") == 15


def _raw_produce_partitions(bootstrap: str, topic: str, payloads: list[bytes]) -> list[tuple[int, int]]:
    """One Produce v8 (acks=1) carrying payloads[i] for partition i: [(partition, error_code)]."""
    import socket
    import struct

    from hostile_batches import _recv_exact, _str

    host, port = bootstrap.rsplit(":", 1)
    t = topic.encode()
    body = bytearray(struct.pack(">hhih", 0, 8, 9, 6) + b"hostil" + struct.pack(">hhi", -1, 1, 30_000)
                     + struct.pack(">ih", 1, len(t)) + t + struct.pack(">i", len(payloads)))
    for i, p in enumerate(payloads):
        body += struct.pack(">ii", i, len(p)) + p
    with socket.create_connection((host, int(port)), timeout=120) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        (n,) = struct.unpack(">i", _recv_exact(s, 4))
        r = _recv_exact(s, n)
    pos = 8  # correlation id, topics array length (1)
    _, pos = _str(r, pos)
    (count,) = struct.unpack_from(">i", r, pos)
    pos += 4
    out = []
    for _ in range(count):
        index, code = struct.unpack_from(">ih", r, pos)
        pos += 6 + 24
        (nerr,) = struct.unpack_from(">i", r, pos)
        pos += 4
        for _ in range(max(nerr, 0)):
            _m, pos = _str(r, pos + 4)
        _msg, pos = _str(r, pos)
        out.append((index, code))
    return out


def test_many_mid_size_payloads_in_one_big_request(lag_broker: BrokerProcess, topic_name: str) -> None:
    """20 partitions of 0.9 MB each in one 18 MB request: each payload is under 1 MiB, the request
    is not, so every payload is validated and written off the loop too."""
    broker = lag_broker
    parts = 20
    n, payload = _big_batch(900_000)
    confluent.create_topic(broker.bootstrap, topic_name, parts)
    # One record per partition first: a real client waits for every partition's leader (Apache
    # answers NOT_LEADER_OR_FOLLOWER for a moment after CreateTopics; a raw request would not retry).
    now = int(time.time() * 1000)
    confluent.produce(broker.bootstrap, topic_name, [Rec(i, b"first", b"first", (), now) for i in range(parts)])
    log_start = broker.log_path.stat().st_size
    with responsiveness_probe(broker) as probe:
        answer = _raw_produce_partitions(broker.bootstrap, topic_name, [payload] * parts)
    assert sorted(answer) == [(i, 0) for i in range(parts)]
    if broker.target == "fastkafka":
        lag = worst_loop_lag_ms(broker.log_path, log_start)
        print(f"[fastkafka] {parts} x 0.9 MB produce: loop monitor worst lag {lag} ms (0: none above 5 ms)")
    probe.assert_responsive()
    got = confluent.read_to_end(broker.bootstrap, topic_name, parts, timeout=120)
    assert len(got) == parts * (n + 1)
    assert sorted({p for p, _o, _k, _v in got}) == list(range(parts))
    assert all(o == 0 for _p, o, k, _v in got if k == b"first")


def test_big_batch_of_records_with_bad_timestamps(lag_broker: BrokerProcess, topic_name: str) -> None:
    """17 MB of 100-byte records, every timestamp ten days old on a topic accepting one hour:
    INVALID_TIMESTAMP with Kafka's message and record errors. Apache lists all 178,000 failing
    records; fastkafka lists the first 1,000 (as for compressed batches: the count of a 64 MB
    batch of tiny records would make a 67 MB response of millions of entries), built without a
    Python object per record."""
    broker = lag_broker
    n = 17 * _MIB // 100
    old = int(time.time() * 1000) - 10 * 86_400_000
    hostile = batch(0, b"".join(record(i, value=b"v" * 80) for i in range(n)), n, base_ts=old)
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"max.message.bytes": str(len(hostile) + _MIB),
                                                            "message.timestamp.before.max.ms": "3600000"})
    log_start = broker.log_path.stat().st_size
    with responsiveness_probe(broker) as probe:
        code, msg, errors = raw_produce(broker.bootstrap, topic_name, 0, hostile)
    assert (code, msg) == (32, "One or more records have been rejected due to invalid timestamp")
    assert len(errors) == (1000 if broker.target == "fastkafka" else n)
    assert [i for i, _m in errors[:3]] == [0, 1, 2]
    assert errors[0][1] is not None and errors[0][1].startswith(f"Timestamp {old} of message with offset 0 is out of range.")
    if broker.target == "fastkafka":
        lag = worst_loop_lag_ms(broker.log_path, log_start)
        print(f"[fastkafka] {n} bad timestamps: loop monitor worst lag {lag} ms (0: none above 5 ms)")
    probe.assert_responsive()
    confluent.produce(broker.bootstrap, topic_name, _recs("after", 5))
    assert [v for _p, _o, _k, v in confluent.read_to_end(broker.bootstrap, topic_name, 1)] == \
        [r.value for r in _recs("after", 5)]
