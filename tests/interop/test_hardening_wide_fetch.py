"""Issue 13 hardening, event-loop budget: a consumer of 9,999 partitions must not stall the broker.

A librdkafka consumer that assign()s every partition of a 9,999-partition topic sends one
ListOffsets and then Fetch requests naming all 9,999 partitions; an AdminClient list_offsets of
them sends one ListOffsets of 9,999. Before, fastkafka read, built and encoded such a request in
one loop callback (100-400 ms measured at 10,000 partitions: every partition's segment lookup,
then ~25 ms to build and ~15 ms to encode the response). Now the reads run in slices of
READ_SLICE partitions and the response is built and encoded on a worker (net/encoded_response.py).

Under the responsiveness probe (worst ApiVersions wait < 100 ms, RSS < 512 MB; fastkafka only)
with the broker's loop monitor at 5 ms (its worst lag printed, not asserted): every record, one per
partition, is read back; every partition's latest offset is 1; then a real client's produce and
consume still work. Passes against Apache 4.4 (bounds not applied)."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

from broker_process import BrokerProcess
from loop_lag import lag_warn_broker, worst_loop_lag_ms
from responsiveness import responsiveness_probe

pytestmark = pytest.mark.interop

PARTITIONS = 9_999  # the most one CreateTopics may make (1 TopicRecord + 9,999 PartitionRecords)


@pytest.fixture(scope="module")
def wide_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    yield from lag_warn_broker(tmp_path_factory, "widefetch", stop_timeout=120)



def _wide_topic(b: BrokerProcess) -> str:
    """A 9,999-partition topic holding one record per partition (value = the partition number)."""
    topic = f"wide-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)], operation_timeout=180,
                        request_timeout=180)[topic].result(210)
    deadline = time.monotonic() + 120
    while len(admin.list_topics(topic, timeout=60).topics[topic].partitions) < PARTITIONS:
        assert time.monotonic() < deadline, "the partitions never appeared in Metadata"
        time.sleep(0.5)
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 50,
                  "message.timeout.ms": 180000, "queue.buffering.max.messages": 2 * PARTITIONS})
    errs: list[object] = []
    for i in range(PARTITIONS):
        p.produce(topic, value=b"%d" % i, partition=i,
                  on_delivery=lambda err, msg: errs.append(err) if err is not None else None)
    assert p.flush(240) == 0 and not errs, errs[:5]
    return topic


def test_consumer_of_9999_partitions_keeps_the_broker_responsive(wide_broker: BrokerProcess) -> None:
    b = wide_broker
    topic = _wide_topic(b)
    log_start = b.log_path.stat().st_size if b.target == "fastkafka" else 0
    with responsiveness_probe(b) as probe:
        # ListOffsets of 9,999 partitions (latest) through the admin client.
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        futs = admin.list_offsets({TopicPartition(topic, i): OffsetSpec.latest() for i in range(PARTITIONS)},
                                  request_timeout=120)
        latest = {tp.partition: f.result(150).offset for tp, f in futs.items()}
        # A consumer assigned every partition from the beginning: ListOffsets (earliest) and Fetch
        # requests of all 9,999 partitions, then long polls of them all at the end of the log.
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": f"g-{topic}", "enable.auto.commit": False,
                      "fetch.wait.max.ms": 100})
        got: dict[int, bytes] = {}
        try:
            c.assign([TopicPartition(topic, i, OFFSET_BEGINNING) for i in range(PARTITIONS)])
            deadline = time.monotonic() + 180
            while len(got) < PARTITIONS and time.monotonic() < deadline:
                for m in c.consume(10_000, 1.0):
                    assert m.error() is None, m.error()
                    got[m.partition()] = m.value()
            t_end = time.monotonic() + 2  # long polls over every partition, nothing new
            while time.monotonic() < t_end:
                assert not c.consume(1000, 0.2)
        finally:
            c.close()
    assert latest == {i: 1 for i in range(PARTITIONS)}
    assert got == {i: b"%d" % i for i in range(PARTITIONS)}
    if b.target == "fastkafka":
        print(f"[fastkafka] 9,999-partition ListOffsets + Fetch: loop monitor worst lag "
              f"{worst_loop_lag_ms(b.log_path, log_start)} ms (0: none above 5 ms)")
    probe.assert_responsive()

    # A real client still works.
    topic2 = f"after-{uuid.uuid4().hex[:6]}"
    admin2 = AdminClient({"bootstrap.servers": b.bootstrap})  # kept alive until the result is in
    admin2.create_topics([NewTopic(topic2, 1, 1)])[topic2].result(60)
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all"})
    for i in range(10):
        p.produce(topic2, value=b"v%d" % i)
    assert p.flush(60) == 0
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": topic2, "auto.offset.reset": "earliest"})
    c.subscribe([topic2])
    vals: list[bytes] = []
    try:
        deadline = time.monotonic() + 60
        while len(vals) < 10 and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                vals.append(m.value())
    finally:
        c.close()
    assert vals == [b"v%d" % i for i in range(10)]
