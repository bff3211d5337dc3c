"""confluent-kafka (librdkafka) against the broker: admin create, produce every codec, read back by assign()."""
from __future__ import annotations

import pytest

from broker_process import BrokerProcess
from clients import confluent
from interop_data import CODECS, Rec, assert_same_records, counts_by_partition, sample_records, with_expected_offsets

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("codec", CODECS)
def test_produce_and_read_back(broker: BrokerProcess, topic_name: str, codec: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, partitions=3)
    records = sample_records()
    acks = confluent.produce(broker.bootstrap, topic_name, records, compression=codec)
    expected = with_expected_offsets(records)
    assert acks == [(r.partition, r.offset) for r in expected]
    got = confluent.consume_assigned(broker.bootstrap, topic_name, counts_by_partition(records))
    assert_same_records(got, expected)


def test_read_from_middle_offset(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, partitions=1)
    records = [Rec(0, f"k{i}".encode(), f"v{i}".encode(), (), 1_700_000_000_000 + i) for i in range(50)]
    confluent.produce(broker.bootstrap, topic_name, records, compression="lz4")
    got = confluent.consume_assigned(broker.bootstrap, topic_name, {0: 13}, start_offset=37)
    assert_same_records(got, with_expected_offsets(records)[37:])


def test_one_megabyte_record(broker: BrokerProcess, topic_name: str) -> None:
    # 1 MiB of value plus key and framing exceeds the 1048588-byte default message.max.bytes,
    # so the topic is created with a larger max.message.bytes, as a Kafka user would.
    confluent.create_topic(broker.bootstrap, topic_name, partitions=1, config={"max.message.bytes": "3145728"})
    big = bytes(range(256)) * 4096
    assert len(big) == 1024 * 1024
    records = [Rec(0, b"small-before", b"x", (), 1_700_000_000_000),
               Rec(0, b"big", big, (("h", b"1"),), 1_700_000_000_001),
               Rec(0, b"small-after", b"y", (), 1_700_000_000_002)]
    confluent.produce(broker.bootstrap, topic_name, records, extra={"message.max.bytes": 3_000_000})
    got = confluent.consume_assigned(broker.bootstrap, topic_name, {0: 3})
    assert_same_records(got, with_expected_offsets(records))


def test_one_megabyte_record_rejected_by_default_limit(broker: BrokerProcess, topic_name: str) -> None:
    """Without raising max.message.bytes the broker must refuse it with MESSAGE_TOO_LARGE (10)."""
    confluent.create_topic(broker.bootstrap, topic_name, partitions=1)
    big = b"z" * (1024 * 1024 + 100)
    with pytest.raises(AssertionError, match="MSG_SIZE_TOO_LARGE|too large"):
        confluent.produce(broker.bootstrap, topic_name, [Rec(0, None, big, (), 1_700_000_000_000)],
                          extra={"message.max.bytes": 3_000_000, "enable.idempotence": False,
                                 "retries": 0})


def test_hundred_thousand_small_records(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, partitions=4)
    n = 100_000
    base = 1_700_000_000_000
    records = [Rec(i % 4, str(i).encode() if i % 3 else None, b"v%06d" % i, (("i", b"%d" % i),) if i % 10 == 0 else (),
                   base + i) for i in range(n)]
    confluent.produce(broker.bootstrap, topic_name, records, compression="zstd",
                      extra={"linger.ms": 20, "batch.num.messages": 10000})
    got = confluent.consume_assigned(broker.bootstrap, topic_name, counts_by_partition(records), timeout=120)
    assert_same_records(got, with_expected_offsets(records))


def test_log_append_time_topic(broker: BrokerProcess, topic_name: str) -> None:
    """message.timestamp.type=LogAppendTime: the broker stamps each batch; readers see its time, not the producer's."""
    import time

    from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Consumer, TopicPartition

    confluent.create_topic(broker.bootstrap, topic_name, partitions=1,
                           config={"message.timestamp.type": "LogAppendTime"})
    before = int(time.time() * 1000)
    records = [Rec(0, b"k%d" % i, b"v%d" % i, (), 1_000_000_000_000 + i) for i in range(30)]
    confluent.produce(broker.bootstrap, topic_name, records, compression="gzip")
    after = int(time.time() * 1000)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused", "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(topic_name, 0, 0)])
        msgs: list = []  # type: ignore[type-arg]
        deadline = time.monotonic() + 30
        while len(msgs) < 30 and time.monotonic() < deadline:
            msgs += [m for m in c.consume(100, timeout=0.5) if m.error() is None]
    finally:
        c.close()
    assert [(m.key(), m.value()) for m in msgs] == [(r.key, r.value) for r in records]
    for m in msgs:
        ts_type, ts = m.timestamp()
        assert ts_type == TIMESTAMP_LOG_APPEND_TIME
        assert before - 1000 <= ts <= after + 1000, (before, ts, after)
