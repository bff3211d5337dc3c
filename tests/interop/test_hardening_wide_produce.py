"""Issue 13 hardening, event-loop budget: one Produce request covering thousands of partitions must
not stall the broker.

One request names every partition of a 4,000-partition topic with a 16 KB batch each (64 MB), or
every partition of a 9,999-partition topic with 8 KB each (80 MB). Such a request is what a
producer that batches by broker (the Java client) sends after a linger. librdkafka 2.16 does not:
it sends one ProduceRequest per partition (200 partitions with linger.ms=2000 and batch.size=16384
made 200 requests of 1.1 KB), so the request is sent here on a raw socket (Produce v8, acks=1).
Before, fastkafka received a 64 MB frame in one loop iteration of 34-92 ms CPU (256 KB `bytes`
copied twice), decoded it on the loop (~0.6-2 µs per partition) and appended it in slices of 256
partitions (5-11 ms CPU each); the "30-40 ms callback" was one of those slices with a full
garbage collection (28-44 ms, nothing collected) inside it.

Under the responsiveness probe (worst ApiVersions wait < 100 ms, RSS < 512 MB; fastkafka only)
with the broker's loop monitor at 5 ms (its worst lag printed, not asserted): every partition
answers error 0 at offset 1 (a real client wrote offset 0 first), then a real consumer reads every
record back, then a real client's produce and consume still work.

What Apache Kafka 4.4 answers (FASTKAFKA_TEST_TARGET=apache; fastkafka matches): every partition
error 0, base offset 1, and every record readable. Right after CreateTopics Apache may answer
NOT_LEADER_OR_FOLLOWER for a moment: the real client's first record per partition waits for
every leader (a raw request would not retry), which is why it is written first.
"""
from __future__ import annotations

import socket
import struct
import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from broker_process import BrokerProcess
from clients import confluent
from hostile_batches import _recv_exact, _str, batch, record
from interop_data import Rec
from loop_lag import lag_warn_broker, worst_loop_lag_ms
from responsiveness import responsiveness_probe

pytestmark = pytest.mark.interop

_RECORD_VALUE = 1000  # bytes per record value: 16 records make a 16 KB batch


@pytest.fixture(scope="module")
def wide_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    yield from lag_warn_broker(tmp_path_factory, "wideproduce", stop_timeout=120)



def _wide_topic(b: BrokerProcess, partitions: int) -> str:
    """A topic of `partitions` partitions, each holding one record (offset 0) written by a real
    client, so that every leader is known to answer."""
    topic = f"wide-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=180,
                        request_timeout=180)[topic].result(210)
    deadline = time.monotonic() + 120
    while len(admin.list_topics(topic, timeout=60).topics[topic].partitions) < partitions:
        assert time.monotonic() < deadline, "the partitions never appeared in Metadata"
        time.sleep(0.5)
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 50,
                  "message.timeout.ms": 180000, "queue.buffering.max.messages": 2 * partitions})
    errs: list[object] = []
    for i in range(partitions):
        p.produce(topic, key=b"first", value=b"%d" % i, partition=i,
                  on_delivery=lambda err, msg: errs.append(err) if err is not None else None)
    assert p.flush(240) == 0 and not errs, errs[:5]
    return topic


def _payload(partition: int, records: int) -> bytes:
    """A v2 batch of `records` records of _RECORD_VALUE bytes whose keys name the partition."""
    value = b"%08d" % partition + b"v" * (_RECORD_VALUE - 8)
    return batch(0, b"".join(record(i, key=b"p%d-%d" % (partition, i), value=value) for i in range(records)),
                 records)


def _raw_produce_all(bootstrap: str, topic: str, payloads: list[bytes]) -> list[tuple[int, int, int]]:
    """One Produce v8 (acks=1) carrying payloads[i] for partition i: [(partition, error, base offset)]."""
    host, port = bootstrap.rsplit(":", 1)
    t = topic.encode()
    body = bytearray(struct.pack(">hhih", 0, 8, 9, 6) + b"hostil" + struct.pack(">hhi", -1, 1, 60_000)
                     + struct.pack(">ih", 1, len(t)) + t + struct.pack(">i", len(payloads)))
    for i, p in enumerate(payloads):
        body += struct.pack(">ii", i, len(p)) + p
    with socket.create_connection((host, int(port)), timeout=180) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        del body
        (n,) = struct.unpack(">i", _recv_exact(s, 4))
        r = _recv_exact(s, n)
    pos = 8  # correlation id, topics array length (1)
    _, pos = _str(r, pos)
    (count,) = struct.unpack_from(">i", r, pos)
    pos += 4
    out = []
    for _ in range(count):
        index, code, base = struct.unpack_from(">ihq", r, pos)
        pos += 6 + 24  # index, error, base_offset, log_append_time, log_start_offset
        (nerr,) = struct.unpack_from(">i", r, pos)
        pos += 4
        for _ in range(max(nerr, 0)):
            _m, pos = _str(r, pos + 4)
        _msg, pos = _str(r, pos)
        out.append((index, code, base))
    return out


@pytest.mark.parametrize("partitions,records", [(4_000, 16), (9_999, 8)], ids=["4000x16KB", "9999x8KB"])
def test_one_produce_of_every_partition_keeps_the_broker_responsive(
        wide_broker: BrokerProcess, partitions: int, records: int) -> None:
    b = wide_broker
    topic = _wide_topic(b, partitions)
    payloads = [_payload(i, records) for i in range(partitions)]
    log_start = b.log_path.stat().st_size if b.target == "fastkafka" else 0
    with responsiveness_probe(b) as probe:
        answer = _raw_produce_all(b.bootstrap, topic, payloads)
    del payloads
    assert sorted(answer) == [(i, 0, 1) for i in range(partitions)]
    if b.target == "fastkafka":
        log_end = b.log_path.stat().st_size
        # The byte range is the window to give tools/loop_stalls.py (tail -c +A | head -c B-A).
        print(f"\n[fastkafka] one Produce of {partitions} partitions x {records} KB: loop monitor worst lag "
              f"{worst_loop_lag_ms(b.log_path, log_start)} ms (0: none above 5 ms); {probe.summary()}; "
              f"broker log bytes {log_start}-{log_end}")
    probe.assert_responsive()

    # Every record is read back by a real consumer, in order, after the real client's first one.
    got = confluent.read_to_end(b.bootstrap, topic, partitions, timeout=180)
    assert len(got) == partitions * (records + 1)
    per: dict[int, list[tuple[int, bytes | None, bytes | None]]] = {}
    for p, o, k, v in got:
        per.setdefault(p, []).append((o, k, v))
    assert sorted(per) == list(range(partitions))
    for p, rows in per.items():
        assert [o for o, _k, _v in rows] == list(range(records + 1)), p
        assert rows[0][1:] == (b"first", b"%d" % p)
        assert [k for _o, k, _v in rows[1:]] == [b"p%d-%d" % (p, i) for i in range(records)], p
        assert all(v is not None and v[:8] == b"%08d" % p and len(v) == _RECORD_VALUE for _o, _k, v in rows[1:]), p

    # A real client still works.
    topic2 = f"after-{uuid.uuid4().hex[:6]}"
    confluent.create_topic(b.bootstrap, topic2, 1)
    now = int(time.time() * 1000)
    confluent.produce(b.bootstrap, topic2, [Rec(0, b"k", b"after-%d" % i, (), now) for i in range(5)])
    assert [v for _p, _o, _k, v in confluent.read_to_end(b.bootstrap, topic2, 1, timeout=60)] == \
        [b"after-%d" % i for i in range(5)]
