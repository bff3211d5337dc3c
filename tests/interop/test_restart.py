"""Durability across broker restarts: acks=all data survives SIGTERM and kill -9, byte-identical.

Each test owns its broker (`fresh_broker`), stops it the hard or the soft way on the same log dirs,
starts it again, and reads back with two different clients; producing after the restart must
continue the offsets where they were.
"""
from __future__ import annotations

import dataclasses

import pytest

from broker_process import BrokerProcess
from clients import confluent, kafka_python
from interop_data import Rec, assert_same_records, counts_by_partition, sample_records, with_expected_offsets

pytestmark = pytest.mark.interop


def _produce_round(b: BrokerProcess, topic: str, n: int, base_ts: int, codec: str, partitions: int = 3) -> list[Rec]:
    records = sample_records(n, partitions=partitions, base_ts=base_ts)
    confluent.produce(b.bootstrap, topic, records, compression=codec)
    return records


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_acked_records_survive_restart(fresh_broker: BrokerProcess, topic_name: str, how: str) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, topic_name, partitions=3)
    first = _produce_round(b, topic_name, 90, 1_600_000_000_000, "none")
    second = _produce_round(b, topic_name, 60, 1_600_000_100_000, "zstd")
    if how == "sigterm":
        b.restart()
    else:
        b.kill9()
        b.start()
    expected = with_expected_offsets(first + second)
    counts = counts_by_partition(expected)
    assert_same_records(confluent.consume_assigned(b.bootstrap, topic_name, counts), expected)
    # offsets continue after the restart, and a different client reads everything identically
    third = _produce_round(b, topic_name, 30, 1_600_000_200_000, "lz4")
    expected = with_expected_offsets(first + second + third)
    got = kafka_python.consume_assigned(b.bootstrap, topic_name, counts_by_partition(expected))
    assert_same_records(got, expected)


def test_two_restarts_in_a_row(fresh_broker: BrokerProcess, topic_name: str) -> None:
    """A restart must also recover what the previous recovery left (clean shutdown, then crash)."""
    b = fresh_broker
    confluent.create_topic(b.bootstrap, topic_name, partitions=1)
    a = _produce_round(b, topic_name, 40, 1_600_000_000_000, "gzip", partitions=1)
    b.restart()
    c = _produce_round(b, topic_name, 40, 1_600_000_100_000, "snappy", partitions=1)
    b.kill9()
    b.start()
    expected = with_expected_offsets(a + c)
    got = confluent.consume_assigned(b.bootstrap, topic_name, {0: 80})
    assert_same_records(got, expected)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_torn_tail_of_active_segment_loses_only_that_batch(fresh_broker: BrokerProcess, topic_name: str,
                                                           damage: str) -> None:
    """kill -9, then tear (cut short) or corrupt (flip a byte of) the last batch of the active
    segment: recovery checks CRCs, truncates exactly that batch, and the broker carries on."""
    b = fresh_broker
    confluent.create_topic(b.bootstrap, topic_name, partitions=1)
    sent: list[Rec] = []
    for i in range(3):
        sent += _produce_round(b, topic_name, 20, 1_600_000_000_000 + i * 1000, "none", partitions=1)
    b.kill9()
    seg = b.partition_dir(topic_name, 0) / "00000000000000000000.log"
    data = bytearray(seg.read_bytes())
    starts, pos = [], 0
    while pos + 61 <= len(data):
        starts.append(pos)
        pos += 12 + int.from_bytes(data[pos + 8:pos + 12], "big")
    assert pos == len(data) and len(starts) >= 3
    last = starts[-1]
    kept_count = sum(int.from_bytes(data[s + 57:s + 61], "big") for s in starts[:-1])
    if damage == "truncate":
        seg.write_bytes(bytes(data[:len(data) - 7]))
    else:
        data[-3] ^= 0xFF
        seg.write_bytes(bytes(data))
    b.start()
    kept = with_expected_offsets(sent)[:kept_count]
    assert_same_records(confluent.consume_assigned(b.bootstrap, topic_name, {0: kept_count}), kept)
    # Nothing of the damaged batch is served, and the segment ends where that batch began.
    assert _end_offset(b.bootstrap, topic_name) == kept_count
    assert seg.stat().st_size == last
    # The log takes new data at the offset where the torn batch began.
    more = _produce_round(b, topic_name, 5, 1_600_000_900_000, "none", partitions=1)
    expected = with_expected_offsets(sent[:kept_count] + more)
    assert_same_records(confluent.consume_assigned(b.bootstrap, topic_name, {0: len(expected)}), expected)


def _end_offset(bootstrap: str, topic: str) -> int:
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-watermarks"})
    try:
        return int(c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1])
    finally:
        c.close()


def test_every_client_reads_back_its_records_after_a_restart(fresh_broker: BrokerProcess, topic_name: str) -> None:
    """Each client writes its own partition; after SIGTERM + start, each Python client reads its
    own records back byte-identical (kafkajs has no assign(): its records are read by librdkafka
    here, and by kafkajs itself once consumer groups exist)."""
    from clients import aiokafka_client, kafkajs

    b = fresh_broker
    confluent.create_topic(b.bootstrap, topic_name, partitions=4)

    def recs(partition: int, null_headers: bool, base_ts: int) -> list[Rec]:
        return [dataclasses.replace(r, partition=partition)
                for r in sample_records(25, partitions=1, null_header_values=null_headers, base_ts=base_ts)]

    sent = {
        0: recs(0, True, 1_600_000_000_000),
        1: recs(1, False, 1_600_000_100_000),
        2: recs(2, True, 1_600_000_200_000),
        3: recs(3, False, 1_600_000_300_000),
    }
    confluent.produce(b.bootstrap, topic_name, sent[0], compression="zstd")
    kafka_python.produce(b.bootstrap, topic_name, sent[1], compression="gzip")
    aiokafka_client.produce(b.bootstrap, topic_name, sent[2], compression="lz4")
    kafkajs.produce(b.bootstrap, topic_name, sent[3], compression="gzip")
    b.restart()
    readers = {0: confluent.consume_assigned, 1: kafka_python.consume_assigned,
               2: aiokafka_client.consume_assigned, 3: confluent.consume_assigned}
    for p, reader in readers.items():
        expected = with_expected_offsets(sent[p])
        assert_same_records(reader(b.bootstrap, topic_name, {p: len(expected)}), expected)
