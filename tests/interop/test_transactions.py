"""Transactions through the transaction coordinator, driven by confluent-kafka (librdkafka) and
Kafka's `kafka-transactions` tool.

- commit and abort: a transactional producer writes to two partitions; every partition then holds
  the records followed by one control marker (the consumer's next offset advances by one past the
  marker), and a read_committed consumer sees only the committed transaction;
- fencing: a second producer with the same transactional.id fences the first, whose next
  transactional call raises the fatal fenced error;
- a producer that dies with an ongoing transaction: its transaction is aborted when a new producer
  initializes the same transactional.id;
- kafka-transactions list / describe / describe-producers / find-hanging / abort.
Passes against Apache Kafka 4.4 too (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

import kafka_java as kj
from broker_process import BrokerProcess
from clients import confluent

pytestmark = pytest.mark.interop


def _producer(bootstrap: str, txn_id: str) -> Producer:
    return Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 5})


def _read(bootstrap: str, topic: str, partitions: int, isolation: str) -> tuple[list[tuple[int, int, bytes]], dict[int, int]]:
    """Everything readable at `isolation`, and each partition's next position after the last read
    (its end: the high watermark, or the last stable offset for read_committed)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"txn-reader-{uuid.uuid4().hex[:6]}",
                  "enable.partition.eof": True, "enable.auto.commit": False, "isolation.level": isolation})
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        got: list[tuple[int, int, bytes]] = []
        eof: set[int] = set()
        deadline = time.monotonic() + 60
        while len(eof) < partitions:
            assert time.monotonic() < deadline, f"no end of partition after 60 s: {eof}"
            for m in c.consume(num_messages=1000, timeout=0.5):
                if m.error() is None:
                    got.append((m.partition(), m.offset(), m.value()))
                    eof.discard(m.partition())
                elif m.error().code() == -191:  # _PARTITION_EOF
                    eof.add(m.partition())
                else:
                    raise AssertionError(m.error())
        ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)[1]
                for p in range(partitions)}
        return got, ends
    finally:
        c.close()


def _send_txn(p: Producer, topic: str, tag: str, commit: bool, partitions: int = 2) -> None:
    p.begin_transaction()
    for i in range(10):
        p.produce(topic, value=f"{tag}-{i}".encode(), partition=i % partitions)
    p.flush(30)
    if commit:
        p.commit_transaction(30)
    else:
        p.abort_transaction(30)


def test_commit_and_abort(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, 2)
    p = _producer(broker.bootstrap, f"txn-{topic_name}")
    p.init_transactions(30)
    _send_txn(p, topic_name, "committed", commit=True)
    _send_txn(p, topic_name, "aborted", commit=False)
    _send_txn(p, topic_name, "second", commit=True)

    records, ends = _read(broker.bootstrap, topic_name, 2, "read_uncommitted")
    values = sorted(v.decode() for _, _, v in records)
    assert values == sorted([f"{t}-{i}" for t in ("committed", "aborted", "second") for i in range(10)])
    # Per partition: 5 records + 1 marker for each of the three transactions.
    assert ends == {0: 18, 1: 18}
    offsets = sorted((part, off) for part, off, _ in records)
    assert [o for part, o in offsets if part == 0] == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16]

    committed, _ = _read(broker.bootstrap, topic_name, 2, "read_committed")
    assert sorted(v.decode() for _, _, v in committed) == sorted(
        [f"{t}-{i}" for t in ("committed", "second") for i in range(10)])


def test_second_producer_fences_the_first(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, 2)
    txn_id = f"fenced-{topic_name}"
    first = _producer(broker.bootstrap, txn_id)
    first.init_transactions(30)
    first.begin_transaction()
    first.produce(topic_name, value=b"zombie", partition=0)
    first.flush(30)

    second = _producer(broker.bootstrap, txn_id)
    second.init_transactions(60)  # aborts the first producer's open transaction
    _send_txn(second, topic_name, "live", commit=True)

    with pytest.raises(KafkaException) as e:
        first.produce(topic_name, value=b"zombie-2", partition=1)
        first.flush(10)
        first.commit_transaction(30)
    assert e.value.args[0].fatal(), e.value.args[0]

    committed, _ = _read(broker.bootstrap, topic_name, 2, "read_committed")
    assert sorted(v.decode() for _, _, v in committed) == sorted(f"live-{i}" for i in range(10))
    uncommitted, _ = _read(broker.bootstrap, topic_name, 2, "read_uncommitted")
    assert b"zombie" in {v for _, _, v in uncommitted}


def _tx_tool(bootstrap: str, *args: str) -> str:
    out = kj.run_tool("org.apache.kafka.tools.TransactionsCommand", "--bootstrap-server", bootstrap, *args)
    return out.stdout.decode()


def test_kafka_transactions_tool(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, 1)
    txn_id = f"tool-{topic_name}"
    p = _producer(broker.bootstrap, txn_id)
    p.init_transactions(30)
    _send_txn(p, topic_name, "done", commit=True, partitions=1)
    p.begin_transaction()
    p.produce(topic_name, value=b"open", partition=0)
    p.flush(30)  # an ongoing transaction, left open: its first record is at 11 (10 records + marker)

    listed = _tx_tool(broker.bootstrap, "list")
    assert listed.splitlines()[0].split() == ["TransactionalId", "Coordinator", "ProducerId", "TransactionState"]
    row = next((line.split() for line in listed.splitlines() if line.split()[:1] == [txn_id]), listed)
    assert row[3] == "Ongoing", listed

    described = _tx_tool(broker.bootstrap, "describe", "--transactional-id", txn_id)
    header, values = described.splitlines()[:2]
    assert "TransactionState" in header.split() and "Ongoing" in values.split()
    assert f"{topic_name}-0" in values

    producers = _tx_tool(broker.bootstrap, "describe-producers", "--topic", topic_name, "--partition", "0")
    lines = producers.strip().splitlines()
    assert lines[0].split()[-1] == "CurrentTransactionStartOffset" and len(lines) == 2
    assert lines[1].split()[0] == row[2] and lines[1].split()[-1] == "11"

    # The coordinator knows the open transaction and its partition: it is not hanging.
    hanging = _tx_tool(broker.bootstrap, "find-hanging", "--broker-id", "1", "--max-transaction-timeout", "0")
    assert topic_name not in hanging, hanging

    # Abort it from the partition's side (WriteTxnMarkers with the producer's id and epoch).
    _tx_tool(broker.bootstrap, "abort", "--topic", topic_name, "--partition", "0", "--start-offset", "11")
    committed, ends = _read(broker.bootstrap, topic_name, 1, "read_committed")
    assert sorted(v.decode() for _, _, v in committed) == sorted(f"done-{i}" for i in range(10))
    assert ends[0] == 13  # the last stable offset moved past the abort marker
    producers = _tx_tool(broker.bootstrap, "describe-producers", "--topic", topic_name, "--partition", "0")
    assert producers.strip().splitlines()[1].split()[-1] == "None"


def test_transaction_state_survives_restart(fresh_broker: BrokerProcess, topic_name: str) -> None:
    """`__transaction_state` is replayed at start-up: the open transaction of a producer that was
    cut off by a restart is known to the coordinator and aborted when a new producer initializes
    the same transactional.id, and the producer epoch continues."""
    b = fresh_broker
    confluent.create_topic(b.bootstrap, topic_name, 2)
    txn_id = f"restart-{topic_name}"
    p = _producer(b.bootstrap, txn_id)
    p.init_transactions(30)
    _send_txn(p, topic_name, "before", commit=True)
    p.begin_transaction()
    for i in range(4):
        p.produce(topic_name, value=f"open-{i}".encode(), partition=i % 2)
    p.flush(30)
    b.restart()

    described = _tx_tool(b.bootstrap, "describe", "--transactional-id", txn_id)
    assert "Ongoing" in described.splitlines()[1].split()

    p2 = _producer(b.bootstrap, txn_id)
    p2.init_transactions(60)
    _send_txn(p2, topic_name, "after", commit=True)
    described = _tx_tool(b.bootstrap, "describe", "--transactional-id", txn_id)
    header, values = (line.split() for line in described.splitlines()[:2])
    row = dict(zip(header, values))
    assert row["TransactionState"] == "CompleteCommit" and int(row["ProducerEpoch"]) >= 2

    committed, _ = _read(b.bootstrap, topic_name, 2, "read_committed")
    assert sorted(v.decode() for _, _, v in committed) == sorted(
        [f"{t}-{i}" for t in ("before", "after") for i in range(10)])


def test_timed_out_transaction_is_aborted_by_the_coordinator(tmp_path: Path, topic_name: str) -> None:
    """transaction.timeout.ms: the coordinator aborts a transaction left open past its timeout
    (checked every transaction.abort.timed.out.transaction.cleanup.interval.ms), so the last
    stable offset moves on and read_committed consumers see what follows."""
    b = BrokerProcess(tmp_path / "broker",
                      extra_props={"transaction.abort.timed.out.transaction.cleanup.interval.ms": "500"})
    b.start()
    try:
        confluent.create_topic(b.bootstrap, topic_name, 1)
        txn_id = f"timeout-{topic_name}"
        p = Producer({"bootstrap.servers": b.bootstrap, "transactional.id": txn_id,
                      "transaction.timeout.ms": 2000, "linger.ms": 5})
        p.init_transactions(30)
        p.begin_transaction()
        p.produce(topic_name, value=b"abandoned", partition=0)
        p.flush(30)
        deadline = time.monotonic() + 60
        while True:
            described = _tx_tool(b.bootstrap, "describe", "--transactional-id", txn_id)
            header, values = (line.split() for line in described.splitlines()[:2])
            if dict(zip(header, values))["TransactionState"] == "CompleteAbort":
                break
            assert time.monotonic() < deadline, described
            time.sleep(0.5)
        committed, ends = _read(b.bootstrap, topic_name, 1, "read_committed")
        assert committed == [] and ends[0] == 2  # the record and the coordinator's abort marker
    finally:
        b.stop()


def test_java_transactional_copier_exactly_once(broker: BrokerProcess, topic_name: str) -> None:
    """Kafka's TransactionalMessageCopier (Java 4.4 clients): read_committed consumer ->
    transactional producer with sendOffsetsToTransaction (AddOffsetsToTxn, TxnOffsetCommit), with
    random aborts (aborted work is re-read from the committed offsets). The output holds every
    input record exactly once, in order."""
    src, dst = f"{topic_name}-in", f"{topic_name}-out"
    confluent.create_topic(broker.bootstrap, src, 1)
    confluent.create_topic(broker.bootstrap, dst, 1)
    n = 3000
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(n):
        p.produce(src, key=str(i).encode(), value=f"v{i}".encode(), partition=0)
    assert p.flush(30) == 0
    kj.run_tool("org.apache.kafka.tools.TransactionalMessageCopier", "--broker-list", broker.bootstrap,
                "--input-topic", src, "--input-partition", "0", "--output-topic", dst,
                "--transactional-id", f"copier-{topic_name}", "--consumer-group", f"copier-{topic_name}",
                "--max-messages", str(n), "--transaction-size", "200", "--enable-random-aborts",
                timeout=300)
    out, _ = _read(broker.bootstrap, dst, 1, "read_committed")
    assert [v.decode() for _, _, v in out] == [f"v{i}" for i in range(n)]


def test_aiokafka_and_kafka_python_transactions(broker: BrokerProcess, topic_name: str) -> None:
    """The transactional producers of aiokafka and kafka-python (their own InitProducerId,
    AddPartitionsToTxn, EndTxn code): a committed and an aborted transaction each; read_committed
    sees the committed ones only."""
    import asyncio

    from aiokafka import AIOKafkaProducer
    from kafka import KafkaProducer

    confluent.create_topic(broker.bootstrap, topic_name, 2)

    async def aio() -> None:
        p = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, transactional_id=f"aio-{topic_name}")
        await p.start()
        try:
            for tag, commit in (("aio-c", True), ("aio-a", False)):
                await p.begin_transaction()
                for i in range(6):
                    await p.send(topic_name, value=f"{tag}-{i}".encode(), partition=i % 2)
                if commit:
                    await p.commit_transaction()
                else:
                    await p.abort_transaction()
        finally:
            await p.stop()

    asyncio.run(aio())

    kp = KafkaProducer(bootstrap_servers=broker.bootstrap, transactional_id=f"kp-{topic_name}")
    try:
        kp.init_transactions()
        for tag, commit in (("kp-c", True), ("kp-a", False)):
            kp.begin_transaction()
            for i in range(6):
                kp.send(topic_name, value=f"{tag}-{i}".encode(), partition=i % 2)
            kp.flush()
            if commit:
                kp.commit_transaction()
            else:
                kp.abort_transaction()
    finally:
        kp.close()

    committed, _ = _read(broker.bootstrap, topic_name, 2, "read_committed")
    assert sorted(v.decode() for _, _, v in committed) == sorted(
        f"{t}-{i}" for t in ("aio-c", "kp-c") for i in range(6))
    everything, ends = _read(broker.bootstrap, topic_name, 2, "read_uncommitted")
    assert len(everything) == 24 and ends == {0: 16, 1: 16}  # 12 records + 4 markers per partition
