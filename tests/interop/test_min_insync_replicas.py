"""min.insync.replicas with acks=all, as Apache Kafka 4.4 answers it (both targets run it).

A topic of replication factor 1 whose `min.insync.replicas` is 2 can never have two in-sync
replicas. Kafka 4.4's Partition.appendRecordsToLeader compares the ISR size with the *effective*
minimum ISR, `min(min.insync.replicas, replicas)` (KIP-966), so such a topic takes acks=all
writes: Apache 4.4 acknowledged them here, and fastkafka refused them with NOT_ENOUGH_REPLICAS
until the replication issue. Where the replicas exist but are out of the ISR, NOT_ENOUGH_REPLICAS
is covered by tests/cluster/test_partition_replication.py.
"""
from __future__ import annotations

import uuid

from confluent_kafka import KafkaError, Producer  # noqa: F401 (KafkaError: the type of the outcome)

from clients import confluent


def _produce_one(bootstrap: str, topic: str, acks: str) -> KafkaError | None:
    p = Producer({"bootstrap.servers": bootstrap, "acks": acks, "retries": 0,
                  "enable.idempotence": False, "message.timeout.ms": 10000})
    outcome: list[KafkaError | None] = []
    p.produce(topic, value=b"v", partition=0, on_delivery=lambda err, msg: outcome.append(err))
    assert p.flush(30) == 0
    return outcome[0]


def test_acks_all_on_a_topic_with_fewer_replicas_than_min_insync_is_accepted(broker) -> None:  # type: ignore[no-untyped-def]
    topic = f"minisr-{uuid.uuid4().hex[:8]}"
    confluent.create_topic(broker.bootstrap, topic, 1, {"min.insync.replicas": "2"})
    err_all = _produce_one(broker.bootstrap, topic, "all")
    err_one = _produce_one(broker.bootstrap, topic, "1")
    print(f"[{broker.target}] acks=all: {err_all!r}; acks=1: {err_one!r}")
    assert err_one is None
    assert err_all is None
