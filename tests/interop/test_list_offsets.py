"""ListOffsets through real clients: earliest, latest, by timestamp, max timestamp (KIP-734),
and after DeleteRecords moved the log start."""
from __future__ import annotations

import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from broker_process import BrokerProcess
from clients import confluent, kafka_python
from interop_data import Rec

pytestmark = pytest.mark.interop

BASE = 1_700_000_000_000


def _records(topic_partition: int = 0) -> list[Rec]:
    # Timestamps rise by 1 s per record, except record 7 which carries the maximum.
    return [Rec(topic_partition, f"k{i}".encode(), f"v{i}".encode(), (),
                BASE + (10**6 if i == 7 else i * 1000)) for i in range(20)]


def test_offsets_by_timestamp_librdkafka_and_kafka_python(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, partitions=1)
    confluent.produce(broker.bootstrap, topic_name, _records())
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    tp = TopicPartition(topic_name, 0)
    specs = {
        "earliest": OffsetSpec.earliest(), "latest": OffsetSpec.latest(),
        "max": OffsetSpec.max_timestamp(), "t5": OffsetSpec.for_timestamp(BASE + 5000),
        "t5.5": OffsetSpec.for_timestamp(BASE + 5500), "future": OffsetSpec.for_timestamp(BASE + 10**9),
    }
    got = {}
    for name, spec in specs.items():
        info = admin.list_offsets({tp: spec}, request_timeout=30)[tp].result()
        got[name] = (info.offset, info.timestamp)
    assert got["earliest"][0] == 0 and got["latest"][0] == 20
    assert got["max"] == (7, BASE + 10**6)
    # The first offset whose timestamp is >= the target (record 7 is later than all of them).
    assert got["t5"] == (5, BASE + 5000)
    assert got["t5.5"] == (6, BASE + 6000)
    assert got["future"][0] == -1

    # kafka-python asks the same questions with ListOffsets v5
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KTP

    c = KafkaConsumer(bootstrap_servers=broker.bootstrap)
    try:
        ktp = KTP(topic_name, 0)
        assert c.beginning_offsets([ktp]) == {ktp: 0}
        assert c.end_offsets([ktp]) == {ktp: 20}
        found = c.offsets_for_times({ktp: BASE + 5500})[ktp]
        assert (found.offset, found.timestamp) == (6, BASE + 6000)
    finally:
        c.close()

    # DeleteRecords moves the log start: earliest follows it, reads below it are out of range.
    for future in admin.delete_records([TopicPartition(topic_name, 0, 12)]).values():
        assert future.result().low_watermark == 12
    info = admin.list_offsets({tp: OffsetSpec.earliest()}, request_timeout=30)[tp].result()
    assert info.offset == 12
    recs = kafka_python.consume_assigned(broker.bootstrap, topic_name, {0: 8}, start_offset=12)
    assert [r.offset for r in recs] == list(range(12, 20))
