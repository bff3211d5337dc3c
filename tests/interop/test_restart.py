"""Durability across broker restarts: acks=all data survives SIGTERM and kill -9, byte-identical.

Each test owns its broker (`fresh_broker`), stops it the hard or the soft way on the same log dirs,
starts it again, and reads back with two different clients; producing after the restart must
continue the offsets where they were.
"""
from __future__ import annotations

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
