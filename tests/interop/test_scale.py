"""Many partitions: one broker with a 10,000-partition topic, driven by librdkafka.

- a 10,000-partition topic made as Kafka 4.4 allows it: one operation writes at most 10,000
  metadata records (MAX_RECORDS_PER_USER_OP), so CreateTopics of all 10,000 at once is
  POLICY_VIOLATION; CreateTopics of 5,000 then CreatePartitions to 10,000 works; then a full
  Metadata answer listing them all with a leader;
- one record produced to every partition (acks=all, idempotent) and read back from all of them by
  one consumer assigned to the 10,000 partitions;
- the resource budget the README states: about one file descriptor per segment plus sockets
  (indexes are mmap'd and their fds closed), two mappings per segment;
- a clean restart, then a second record per partition and `kill -9`: after each restart every
  partition's log end offset is right and every record reads back.
Durations and resource figures are printed (pytest -s), never asserted."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic, OffsetSpec

from broker_process import BrokerProcess

pytestmark = pytest.mark.interop

TOPIC = "many"
PARTITIONS = 10_000


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path)
    b.start()
    try:
        yield b
    finally:
        b.stop(timeout=120)


def _produce_one_per_partition(bootstrap: str, round_: int) -> dict[int, int]:
    """partition -> offset of the acknowledged record."""
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 50})
    acked: dict[int, int] = {}
    errors: list[str] = []

    def cb(err, msg) -> None:  # type: ignore[no-untyped-def]
        if err is not None:
            errors.append(str(err))
        else:
            acked[msg.partition()] = msg.offset()

    for part in range(PARTITIONS):
        p.produce(TOPIC, value=b"%d-%d" % (round_, part), partition=part, on_delivery=cb)
        if part % 1000 == 0:
            p.poll(0)
    assert p.flush(180) == 0 and not errors, errors[:5]
    return acked


def _read_from(bootstrap: str, offset: int) -> dict[int, list[bytes]]:
    """Every record at or after `offset` in every partition, up to the high watermarks."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-assign-only", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    out: dict[int, list[bytes]] = {}
    try:
        c.assign([TopicPartition(TOPIC, p, offset) for p in range(PARTITIONS)])
        at_eof: set[int] = set()
        deadline = time.monotonic() + 180
        while len(at_eof) < PARTITIONS and time.monotonic() < deadline:
            for m in c.consume(num_messages=10_000, timeout=1.0):
                if m.error() is not None:
                    assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                    at_eof.add(m.partition())
                    continue
                out.setdefault(m.partition(), []).append(m.value())
        assert len(at_eof) == PARTITIONS, f"{PARTITIONS - len(at_eof)} partitions not read to their end"
        return out
    finally:
        c.close()


def _log_end_offsets(admin: AdminClient) -> dict[int, int]:
    futures = admin.list_offsets({TopicPartition(TOPIC, p): OffsetSpec.latest() for p in range(PARTITIONS)},
                                 request_timeout=120)
    return {tp.partition: f.result().offset for tp, f in futures.items()}


def _resources(b: BrokerProcess) -> tuple[int, int, float]:
    """(open fds, memory mappings, RSS MiB) of the broker process."""
    assert b.proc is not None
    proc = psutil.Process(b.proc.pid)
    with open(f"/proc/{proc.pid}/maps") as f:
        maps = sum(1 for _ in f)
    return proc.num_fds(), maps, proc.memory_info().rss / 2**20


def test_ten_thousand_partitions(broker: BrokerProcess) -> None:
    b = broker
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    t = time.monotonic()
    with pytest.raises(KafkaException) as refused:
        admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)], request_timeout=300,
                            operation_timeout=300)[TOPIC].result(timeout=360)
    assert refused.value.args[0].code() == KafkaError.POLICY_VIOLATION
    assert "excessively large batch operation" in refused.value.args[0].str()
    admin.create_topics([NewTopic(TOPIC, PARTITIONS // 2, 1)], request_timeout=300,
                        operation_timeout=300)[TOPIC].result(timeout=360)
    admin.create_partitions([NewPartitions(TOPIC, PARTITIONS)], request_timeout=300,
                            operation_timeout=300)[TOPIC].result(timeout=360)
    # Apache Kafka's brokers learn of new partitions asynchronously: wait until Metadata shows them.
    deadline = time.monotonic() + 120
    while len(admin.list_topics(TOPIC, timeout=60).topics[TOPIC].partitions) < PARTITIONS:
        assert time.monotonic() < deadline, "the new partitions never appeared in Metadata"
        time.sleep(0.5)
    created = time.monotonic() - t
    t = time.monotonic()
    md = admin.list_topics(timeout=120)
    metadata = time.monotonic() - t
    parts = md.topics[TOPIC].partitions
    assert len(parts) == PARTITIONS and all(p.leader == 1 for p in parts.values())

    t = time.monotonic()
    assert _produce_one_per_partition(b.bootstrap, 0) == {p: 0 for p in range(PARTITIONS)}
    produced = time.monotonic() - t
    t = time.monotonic()
    assert _read_from(b.bootstrap, 0) == {p: [b"0-%d" % p] for p in range(PARTITIONS)}
    consumed = time.monotonic() - t

    fds, maps, rss = _resources(b)
    segments = PARTITIONS + 50  # a segment per partition, the internal topics' and the metadata log's
    print(f"\n10,000 partitions: create {created:.1f} s, full Metadata {metadata:.2f} s, "
          f"produce 1/partition {produced:.1f} s, read back {consumed:.1f} s; "
          f"broker: {fds} fds, {maps} mappings, RSS {rss:.0f} MiB")
    # The budget the README states: one fd per segment (.log; index fds are closed once mapped)
    # plus a few hundred for sockets and the runtime; two mappings per segment.
    assert fds < segments + 300
    assert maps < 2 * segments + 1000

    t = time.monotonic()
    b.stop(timeout=120)
    stopped = time.monotonic() - t
    t = time.monotonic()
    b.start(timeout=300)
    print(f"clean shutdown {stopped:.1f} s, start-up {time.monotonic() - t:.1f} s")
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    assert _log_end_offsets(admin) == {p: 1 for p in range(PARTITIONS)}

    assert _produce_one_per_partition(b.bootstrap, 1) == {p: 1 for p in range(PARTITIONS)}
    b.kill9()
    t = time.monotonic()
    b.start(timeout=300)
    print(f"start-up after kill -9: {time.monotonic() - t:.1f} s")
    t = time.monotonic()
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    assert _log_end_offsets(admin) == {p: 2 for p in range(PARTITIONS)}
    listed = time.monotonic() - t
    t = time.monotonic()
    assert _read_from(b.bootstrap, 0) == {p: [b"0-%d" % p, b"1-%d" % p] for p in range(PARTITIONS)}
    print(f"ListOffsets of 10,000 partitions {listed:.1f} s, read back {time.monotonic() - t:.1f} s")
