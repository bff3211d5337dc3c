"""kafkajs 2.2.4 against the broker: admin createTopics, produce every codec it can, verify with librdkafka.

kafkajs has no assign(): it reads with consumer groups (consumer.run). Most tests verify what
kafkajs writes with confluent-kafka's assign(); one reads it back with a kafkajs consumer group.
Snappy, LZ4 and ZSTD use the codec packages the kafkajs docs name (kafkajs-snappy, kafkajs-lz4,
@kafkajs/zstd; the last one's native addon is built as C++17 by tools/setup_test_env.sh).
"""
from __future__ import annotations

import pytest

from broker_process import BrokerProcess
from clients import confluent, kafkajs
from interop_data import CODECS, Rec, assert_same_records, counts_by_partition, sample_records, with_expected_offsets

pytestmark = pytest.mark.interop


def _expected_acks(expected: list[Rec]) -> list[list[int]]:
    first: dict[int, int] = {}
    for r in expected:
        first.setdefault(r.partition, r.offset)
    return sorted([p, o] for p, o in first.items())


@pytest.mark.parametrize("codec", CODECS)
def test_produce_and_read_back(broker: BrokerProcess, topic_name: str, codec: str) -> None:
    records = sample_records(null_header_values=False)  # kafkajs 2.2.4 crashes sizing a null header value
    result = kafkajs.produce(broker.bootstrap, topic_name, records, compression=codec, create_partitions=3)
    assert result["created"] is True
    expected = with_expected_offsets(records)
    assert sorted(result["acks"]) == _expected_acks(expected)  # type: ignore[arg-type]
    got = confluent.consume_assigned(broker.bootstrap, topic_name, counts_by_partition(records))
    assert_same_records(got, expected)


def test_non_idempotent_producer(broker: BrokerProcess, topic_name: str) -> None:
    records = sample_records(20, partitions=2, null_header_values=False)
    kafkajs.produce(broker.bootstrap, topic_name, records, compression="gzip", idempotent=False,
                    create_partitions=2)
    got = confluent.consume_assigned(broker.bootstrap, topic_name, counts_by_partition(records))
    assert_same_records(got, with_expected_offsets(records))


def test_one_megabyte_record(broker: BrokerProcess, topic_name: str) -> None:
    big = bytes(range(256)) * 4096
    records = [Rec(0, b"a", b"1", (), 1_700_000_000_000), Rec(0, b"big", big, (("h", b"v"),), 1_700_000_000_001),
               Rec(0, b"b", None, (), 1_700_000_000_002)]
    kafkajs.produce(broker.bootstrap, topic_name, records, create_partitions=1,
                    config={"max.message.bytes": "3145728"})
    got = confluent.consume_assigned(broker.bootstrap, topic_name, {0: 3})
    assert_same_records(got, with_expected_offsets(records))


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_kafkajs_reads_back_its_own_records_with_a_consumer_group(fresh_broker: BrokerProcess, topic_name: str,
                                                                  codec: str) -> None:
    """kafkajs writes, the broker restarts, and a kafkajs consumer group (consumer.run/eachMessage,
    fromBeginning) reads every record back byte-identical."""
    b = fresh_broker
    records = sample_records(45, partitions=3, null_header_values=False)
    kafkajs.produce(b.bootstrap, topic_name, records, compression=codec, create_partitions=3)
    b.restart()
    expected = with_expected_offsets(records)
    got = kafkajs.consume_group(b.bootstrap, topic_name, f"group-{topic_name}", len(expected))
    assert_same_records(got, expected)
