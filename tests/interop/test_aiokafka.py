"""aiokafka against the broker: admin create, idempotent produce with every codec, read back by assign()."""
from __future__ import annotations

import pytest

from broker_process import BrokerProcess
from clients import aiokafka_client as aio
from clients import confluent
from interop_data import CODECS, Rec, assert_same_records, counts_by_partition, sample_records, with_expected_offsets

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("codec", CODECS)
def test_produce_and_read_back(broker: BrokerProcess, topic_name: str, codec: str) -> None:
    aio.create_topic(broker.bootstrap, topic_name, partitions=3)
    records = sample_records()
    acks = aio.produce(broker.bootstrap, topic_name, records, compression=codec)
    expected = with_expected_offsets(records)
    assert acks == [(r.partition, r.offset) for r in expected]
    got = aio.consume_assigned(broker.bootstrap, topic_name, counts_by_partition(records))
    assert_same_records(got, expected)
    # and librdkafka sees exactly the same records
    assert_same_records(confluent.consume_assigned(broker.bootstrap, topic_name, counts_by_partition(records)),
                        expected)


def test_one_megabyte_record(broker: BrokerProcess, topic_name: str) -> None:
    aio.create_topic(broker.bootstrap, topic_name, partitions=1, config={"max.message.bytes": "3145728"})
    big = bytes(range(256)) * 4096
    records = [Rec(0, b"a", b"1", (), 1_700_000_000_000), Rec(0, b"big", big, (("k", None),), 1_700_000_000_001),
               Rec(0, None, b"2", (), 1_700_000_000_002)]
    aio.produce(broker.bootstrap, topic_name, records, max_request_size=3_000_000)
    got = aio.consume_assigned(broker.bootstrap, topic_name, {0: 3})
    assert_same_records(got, with_expected_offsets(records))
