"""The seeds' KafkaJS transactional examples (js/seeds/8*.js), run as written against the broker.

- 80: a transactional producer (transactionalId, idempotent, maxInFlightRequests 1) sends to two partitions
  and commits: read_committed consumers (librdkafka, kafkajs) see both records; each partition holds the
  record and the COMMIT marker.
- 81: the same with the seed's simulated error switched on and the transaction aborted: read_committed
  consumers (librdkafka and kafkajs, whose default is readUncommitted: false) never see the aborted
  records, read_uncommitted ones do.
- 82: the seed's consume-transform-produce loop as written calls the Java producer's methods, which KafkaJS
  does not have (a defect of the seed, the same against Apache Kafka).
- 82b: that loop with KafkaJS's transaction API (transaction.send + transaction.sendOffsets + commit): every
  source record is transformed exactly once into target-topic, and a second run resumes after the offsets
  committed in the transactions.
Each test gets a fresh broker (the examples share topic and transactional ids).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from broker_process import BrokerProcess
from clients import confluent, kafkajs

pytestmark = pytest.mark.interop

SEEDS = Path(__file__).resolve().parent / "js" / "seeds"


def _run(b: BrokerProcess, name: str, expect: int = 1, timeout_ms: int = 60_000) -> tuple[int, str, str]:
    env = {"KAFKA_BOOTSTRAP": b.bootstrap, "SEED_EXPECT": str(expect), "SEED_TIMEOUT_MS": str(timeout_ms),
           "SEED_MARK": "Processed:"}
    proc = kafkajs.run_script(SEEDS / name, env=env, timeout=timeout_ms / 1000 + 30)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def _read(b: BrokerProcess, topic: str, partitions: int, isolation: str) -> list[tuple[int, bytes | None]]:
    """Everything up to the end of each partition (for read_committed: up to the last stable offset)."""
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "seed-tx-reader", "isolation.level": isolation,
                  "enable.partition.eof": True, "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        got: list[tuple[int, bytes | None]] = []
        eof: set[int] = set()
        while len(eof) < partitions:
            m = c.poll(30)
            assert m is not None, f"no end of partition after {got}"
            if m.error() is not None:
                assert m.error().code() == -191, m.error()  # _PARTITION_EOF
                eof.add(m.partition())
                continue
            got.append((m.partition(), m.value()))
        return got
    finally:
        c.close()


def _high_watermarks(b: BrokerProcess, topic: str, partitions: int) -> list[int]:
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "seed-tx-wm"})
    try:
        return [c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in range(partitions)]
    finally:
        c.close()


def test_80_transaction_commit(fresh_broker: BrokerProcess) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "test-topic", 2)
    rc, out, err = _run(b, "80_transaction_commit.js")
    assert rc == 0 and "Transaction committed successfully" in out, out + err
    committed = _read(b, "test-topic", 2, "read_committed")
    assert sorted((p, v.split(b"!")[0]) for p, v in committed if v) == [
        (0, b"key1 Hello KafkaJS user"), (1, b"key2 Hello KafkaJS user")]
    assert _high_watermarks(b, "test-topic", 2) == [2, 2]  # each partition: the record, then the COMMIT marker
    assert sorted(r.key for r in kafkajs.consume_group(b.bootstrap, "test-topic", "seed-80-js", 2)) == [b"key1", b"key2"]


def test_81_transaction_abort_is_never_read_committed(fresh_broker: BrokerProcess) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "test-topic", 2)
    rc, out, err = _run(b, "81_transaction_abort.js")
    assert rc == 0 and "Transaction aborted" in out and "模拟错误,测试事务回滚" in err, out + err
    p = Producer({"bootstrap.servers": b.bootstrap})
    for part in (0, 1):
        p.produce("test-topic", key=b"after", value=b"after-abort", partition=part)
    assert p.flush(30) == 0
    assert sorted(_read(b, "test-topic", 2, "read_committed")) == [(0, b"after-abort"), (1, b"after-abort")]
    uncommitted = _read(b, "test-topic", 2, "read_uncommitted")
    assert len(uncommitted) == 4 and sum(1 for _p, v in uncommitted if v and b"Hello KafkaJS user" in v) == 2
    # KafkaJS consumers read committed by default (readUncommitted: false).
    assert sorted(r.value for r in kafkajs.consume_group(b.bootstrap, "test-topic", "seed-81-js", 2)) == \
        [b"after-abort", b"after-abort"]


def test_82_consume_transform_produce_as_written_is_not_kafkajs_api(fresh_broker: BrokerProcess) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "source-topic", 1)
    rc, out, err = _run(b, "82_consume_transform_produce.js", timeout_ms=5000)
    assert "producer.initTransactions is not a function" in err, out + err
def test_82b_consume_transform_produce_exactly_once(fresh_broker: BrokerProcess) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, "source-topic", 1)
    confluent.create_topic(b.bootstrap, "target-topic", 1)
    p = Producer({"bootstrap.servers": b.bootstrap})
    for i in range(10):
        p.produce("source-topic", value=b"%d" % i)
    assert p.flush(30) == 0
    rc, out, err = _run(b, "82b_consume_transform_produce_fixed.js", expect=10)
    assert rc == 0, out + err
    assert "Transaction aborted" not in err, err
    for i in range(10, 15):
        p.produce("source-topic", value=b"%d" % i)
    assert p.flush(30) == 0
    # A second run resumes after the offsets committed inside the transactions: only the new five.
    rc, out, err = _run(b, "82b_consume_transform_produce_fixed.js", expect=5)
    assert rc == 0, out + err
    assert [ln.split(",")[0] for ln in out.splitlines() if ln.startswith("Processed:")] == \
        [f"Processed: {i} -> {i + 1}" for i in range(10, 15)]
    values = [v for _p, v in _read(b, "target-topic", 1, "read_committed")]
    assert values == [b"%d" % (i + 1) for i in range(15)]
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "e2e-group"})
    try:
        assert c.committed([TopicPartition("source-topic", 0)], timeout=30)[0].offset == 15
    finally:
        c.close()
