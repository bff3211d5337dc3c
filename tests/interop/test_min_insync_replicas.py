"""min.insync.replicas with acks=all, as Apache Kafka 4.4 answers it (both targets run it).

A topic of replication factor 1 whose `min.insync.replicas` is 2 can never have two in-sync
replicas. Kafka's Partition.appendRecordsToLeader compares the ISR size with the *effective*
minimum ISR (`min(min.insync.replicas, replicas)`) or with the configured value; which one it uses
decides whether such a topic accepts acks=all writes. This test pins what Apache 4.4 does, so the
replicated commit path (issue 14) keeps it: acks=1 and acks=0 are never refused for the ISR size.
"""
from __future__ import annotations

import uuid

from confluent_kafka import KafkaError, Producer

from clients import confluent


def _produce_one(bootstrap: str, topic: str, acks: str) -> KafkaError | None:
    p = Producer({"bootstrap.servers": bootstrap, "acks": acks, "retries": 0,
                  "enable.idempotence": False, "message.timeout.ms": 10000})
    outcome: list[KafkaError | None] = []
    p.produce(topic, value=b"v", partition=0, on_delivery=lambda err, msg: outcome.append(err))
    assert p.flush(30) == 0
    return outcome[0]


def test_acks_all_on_a_topic_with_fewer_replicas_than_min_insync(broker) -> None:  # type: ignore[no-untyped-def]
    topic = f"minisr-{uuid.uuid4().hex[:8]}"
    confluent.create_topic(broker.bootstrap, topic, 1, {"min.insync.replicas": "2"})
    err_all = _produce_one(broker.bootstrap, topic, "all")
    err_one = _produce_one(broker.bootstrap, topic, "1")
    print(f"[{broker.target}] acks=all: {err_all!r}; acks=1: {err_one!r}")
    assert err_one is None
    assert err_all is not None and err_all.code() == KafkaError.NOT_ENOUGH_REPLICAS, err_all
