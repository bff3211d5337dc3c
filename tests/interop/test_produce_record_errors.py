"""Per-record errors on Produce (ProduceResponse v8+ RecordErrors, KIP-467), through real clients.

Kafka's LogValidator rejects a whole batch when some of its records break a per-record rule (a
keyless record on a compacted topic, a CreateTime outside message.timestamp.before/after.max.ms),
and lists each failing record by its index in the batch with its own message. Clients then fail
the listed records with the broker's error and the rest of the batch with a "different record was
invalid" error: librdkafka's _INVALID_DIFFERENT_RECORD (-138), the listed ones INVALID_RECORD (even
when the partition's error is INVALID_TIMESTAMP); kafka-python a KafkaError, and each listed record
the broker's message for it.

Compressed batches are checked record by record too (Kafka decompresses them to validate).

Every test here passes against fastkafka and against Apache Kafka 4.4 (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaError, Producer

from broker_process import BrokerProcess
from clients import confluent

pytestmark = pytest.mark.interop

DAY = 86_400_000
INVALID_DIFFERENT_RECORD = -138  # librdkafka's RD_KAFKA_RESP_ERR__INVALID_DIFFERENT_RECORD


def _produce_one_batch_confluent(bootstrap: str, topic: str, records: list[tuple[bytes | None, int | None]],
                                 compression: str = "none") -> dict[int, int | None]:
    """All records in one batch (one flush after a long linger); the error code of each, by index."""
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "retries": 0, "linger.ms": 2000,
                  "batch.num.messages": 10_000, "compression.type": compression})
    codes: dict[int, int | None] = {}
    for i, (key, ts) in enumerate(records):
        p.produce(topic, key=key, value=b"value-%d" % i, partition=0, timestamp=ts or 0,
                  on_delivery=lambda err, _msg, i=i: codes.__setitem__(i, err.code() if err else None))
    p.flush(60)
    assert len(codes) == len(records)
    return codes


def _produce_one_batch_kafka_python(bootstrap: str, topic: str, records: list[tuple[bytes | None, int | None]],
                                    compression: str | None = None) -> list[BaseException | None]:
    from kafka import KafkaProducer

    kp = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=0, linger_ms=2000, batch_size=1 << 20,
                       compression_type=compression)
    try:
        futures = [kp.send(topic, key=key, value=b"value-%d" % i, partition=0, timestamp_ms=ts)
                   for i, (key, ts) in enumerate(records)]
        kp.flush(60)
        return [f.exception for f in futures]
    finally:
        kp.close()


def _high_watermark(bootstrap: str, topic: str) -> int:
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-watermarks"})
    try:
        return int(c.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)[1])
    finally:
        c.close()


def test_keyless_records_on_a_compacted_topic_fail_one_by_one(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"cleanup.policy": "compact"})
    keyless = set(range(3, 100, 10))
    records = [(None if i in keyless else b"k%d" % i, None) for i in range(100)]
    codes = _produce_one_batch_confluent(broker.bootstrap, topic_name, records)
    assert {i for i, c in codes.items() if c == KafkaError.INVALID_RECORD} == keyless
    assert {i for i, c in codes.items() if c == INVALID_DIFFERENT_RECORD} == set(range(100)) - keyless

    from kafka.errors import InvalidRecordError
    from kafka.errors import KafkaError as KpError

    errors = _produce_one_batch_kafka_python(broker.bootstrap, topic_name, records)
    message = f"Compacted topic cannot accept message without key in topic partition {topic_name}-0"
    for i, e in enumerate(errors):
        if i in keyless:
            assert isinstance(e, InvalidRecordError) and message in str(e), (i, e)
        else:
            assert type(e) is KpError and "part of a batch which had one more more invalid records" in str(e), (i, e)
    assert _high_watermark(broker.bootstrap, topic_name) == 0  # the whole batch was rejected


@pytest.mark.parametrize("compression", ["none", "gzip", "lz4"])
def test_records_outside_the_timestamp_window_fail_one_by_one(broker: BrokerProcess, topic_name: str,
                                                              compression: str) -> None:
    """Two records ten days old in the middle of a batch, on a topic accepting one day back: the
    first and largest timestamps of the batch are in range, so only a walk of the records (also
    inside a compressed batch) finds them."""
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"message.timestamp.before.max.ms": str(DAY)})
    now = int(time.time() * 1000)
    old = {5, 7}
    records = [(b"k", now - 10 * DAY if i in old else now + i) for i in range(20)]
    codes = _produce_one_batch_confluent(broker.bootstrap, topic_name, records, compression)
    # librdkafka fails each listed record with INVALID_RECORD whatever the partition's error (here
    # INVALID_TIMESTAMP) is.
    assert {i for i, c in codes.items() if c == KafkaError.INVALID_RECORD} == old, sorted(codes.items())
    assert {i for i, c in codes.items() if c == INVALID_DIFFERENT_RECORD} == set(range(20)) - old

    from kafka.errors import InvalidRecordError

    errors = _produce_one_batch_kafka_python(broker.bootstrap, topic_name, records,
                                             None if compression == "none" else compression)
    for i in old:
        # Several record errors: kafka-python raises InvalidRecordError with the record's message.
        e = errors[i]
        assert isinstance(e, InvalidRecordError), (i, e)
        assert f"Timestamp {now - 10 * DAY} of message with offset {i} is out of range. " \
               "The timestamp should be within [" in str(e), e
    assert all(errors[i] is not None for i in range(20))
    assert _high_watermark(broker.bootstrap, topic_name) == 0
