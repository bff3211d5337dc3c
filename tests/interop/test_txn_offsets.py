"""Transactional offset commits (TxnOffsetCommit) driven by confluent-kafka's
`send_offsets_to_transaction`, with the consumer in a classic group and in a KIP-848 group
(group.protocol=consumer); its member id and generation (the member epoch in a KIP-848 group)
go in the request, v3+:

- commit: the group's committed offsets are the positions sent, once the transaction commits;
- abort: offsets sent in an aborted transaction are never visible, the earlier ones stay;
- a read_committed consumer of the group resumes from the committed offsets and reads the
  output topic's committed records only.
Passes against Apache Kafka 4.4 too (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from broker_process import BrokerProcess
from clients import confluent

pytestmark = pytest.mark.interop


def _consumer(bootstrap: str, group: str, group_protocol: str = "classic") -> Consumer:
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "isolation.level": "read_committed", "group.protocol": group_protocol}
    if group_protocol == "classic":
        conf["session.timeout.ms"] = 10000  # a KIP-848 group's session timeout is the broker's
    return Consumer(conf)


def _poll_n(c: Consumer, n: int, timeout_s: float = 60) -> list[bytes]:
    out: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < n:
        assert time.monotonic() < deadline, f"only {len(out)} of {n} records after {timeout_s} s"
        for m in c.consume(num_messages=n - len(out), timeout=0.5):
            assert m.error() is None, m.error()
            out.append(m.value())
    return out


def _committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                  "isolation.level": "read_committed"})
    try:
        return {tp.partition: tp.offset for tp in
                c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)}
    finally:
        c.close()


def _transform(c: Consumer, p: Producer, out_topic: str, n: int, commit: bool) -> dict[int, int]:
    """Consume n records, produce them to out_topic and send the positions, in one transaction
    committed or aborted; returns the positions sent."""
    p.begin_transaction()
    for v in _poll_n(c, n):
        p.produce(out_topic, value=v)
    # Only the partitions read from have a position (-1001 before their first record).
    read = [tp for tp in c.position(c.assignment()) if tp.offset >= 0]
    positions = {tp.partition: tp.offset for tp in read}
    p.send_offsets_to_transaction(read, c.consumer_group_metadata(), 30)
    if commit:
        p.commit_transaction(30)
    else:
        p.abort_transaction(30)
    return positions


@pytest.mark.parametrize("group_protocol", ["classic", "consumer"])
def test_send_offsets_commit_abort_and_resume(broker: BrokerProcess, topic_name: str, group_protocol: str) -> None:
    in_topic, out_topic = topic_name, f"{topic_name}-out"
    group = f"txn-offsets-{uuid.uuid4().hex[:6]}"
    confluent.create_topic(broker.bootstrap, in_topic, 2)
    confluent.create_topic(broker.bootstrap, out_topic, 1)
    src = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(30):
        src.produce(in_topic, value=f"in-{i}".encode(), partition=i % 2)
    src.flush(30)

    c = _consumer(broker.bootstrap, group, group_protocol)
    c.subscribe([in_topic])
    p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": f"txo-{uuid.uuid4().hex[:6]}"})
    p.init_transactions(30)
    try:
        sent = _transform(c, p, out_topic, 10, commit=True)
        assert sum(sent.values()) == 10
        assert _committed(broker.bootstrap, group, in_topic, 2) == {q: sent.get(q, -1001) for q in range(2)}

        # An aborted transaction's offsets never become visible.
        aborted = _transform(c, p, out_topic, 10, commit=False)
        assert sum(aborted.values()) == 20
        assert _committed(broker.bootstrap, group, in_topic, 2) == {q: sent.get(q, -1001) for q in range(2)}
    finally:
        c.close()
        p.flush(10)

    # A new member of the group resumes from the committed offsets: the 20 records after them,
    # the aborted transaction's input included; the output holds only the committed 10.
    resumed = _consumer(broker.bootstrap, group, group_protocol)
    resumed.subscribe([in_topic])
    try:
        rest = _poll_n(resumed, 20)
        assert len(set(rest)) == 20
    finally:
        resumed.close()
    out = _consumer(broker.bootstrap, f"out-{group}")
    out.subscribe([out_topic])
    try:
        first = _poll_n(out, 10)
        assert not out.consume(num_messages=10, timeout=3)  # the aborted 10 are not delivered
    finally:
        out.close()
    assert len(set(first)) == 10
