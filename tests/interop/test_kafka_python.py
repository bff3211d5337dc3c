"""kafka-python against the broker: admin create, produce every codec, read back by assign()."""
from __future__ import annotations

import pytest

from broker_process import BrokerProcess
from clients import confluent, kafka_python
from interop_data import CODECS, Rec, assert_same_records, counts_by_partition, sample_records, with_expected_offsets

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("codec", CODECS)
def test_produce_and_read_back(broker: BrokerProcess, topic_name: str, codec: str) -> None:
    kafka_python.create_topic(broker.bootstrap, topic_name, partitions=3)
    records = sample_records(null_header_values=False)  # kafka-python refuses None header values
    acks = kafka_python.produce(broker.bootstrap, topic_name, records, compression=codec)
    expected = with_expected_offsets(records)
    assert acks == [(r.partition, r.offset) for r in expected]
    got = kafka_python.consume_assigned(broker.bootstrap, topic_name, counts_by_partition(records))
    assert_same_records(got, expected)


def test_cross_client_read_back(broker: BrokerProcess, topic_name: str) -> None:
    """What kafka-python wrote, librdkafka reads identically (and the other way round)."""
    kafka_python.create_topic(broker.bootstrap, topic_name, partitions=3)
    records = sample_records(30, null_header_values=False)
    kafka_python.produce(broker.bootstrap, topic_name, records, compression="gzip")
    expected = with_expected_offsets(records)
    assert_same_records(confluent.consume_assigned(broker.bootstrap, topic_name, counts_by_partition(records)),
                        expected)
    more = sample_records(30, base_ts=1_600_000_000_000)
    confluent.produce(broker.bootstrap, topic_name, more, compression="snappy")
    got = kafka_python.consume_assigned(broker.bootstrap, topic_name, counts_by_partition(more), start_offset=10)
    assert_same_records(got, with_expected_offsets(more, start=10))


def test_one_megabyte_record(broker: BrokerProcess, topic_name: str) -> None:
    kafka_python.create_topic(broker.bootstrap, topic_name, partitions=1, config={"max.message.bytes": "3145728"})
    big = bytes(range(256)) * 4096
    records = [Rec(0, b"a", b"1", (), 1_700_000_000_000), Rec(0, b"big", big, (), 1_700_000_000_001),
               Rec(0, b"b", b"2", (), 1_700_000_000_002)]
    kafka_python.produce(broker.bootstrap, topic_name, records, max_request_size=3_000_000)
    got = kafka_python.consume_assigned(broker.bootstrap, topic_name, {0: 3})
    assert_same_records(got, with_expected_offsets(records))
