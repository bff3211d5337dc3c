"""What Kafka 4.4.0's newer API versions change, through Kafka 4.4's Java tools (which negotiate
them): DescribeGroups v6 (KIP-1043) makes describing a missing group an error
(kafka-consumer-groups --describe prints GroupIdNotFoundException "Group g not found." instead of
"does not exist"); ListTransactions v2 (KIP-1152) filters by a transactional id regular expression
matched against the whole id (kafka-transactions list --transactional-id-pattern), and a pattern
RE2J rejects fails with INVALID_REGULAR_EXPRESSION; DescribeCluster v2 (KIP-1073) lists fenced
brokers on request (kafka-cluster list-endpoints --include-fenced-brokers); ListOffsets v11
(KIP-1023) answers EARLIEST_PENDING_UPLOAD with no offset when there is no tiered storage
(kafka-get-offsets --time earliest-pending-upload prints no line).
Passes against Apache Kafka 4.4 too (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Producer

from broker_process import BrokerProcess
from clients import confluent
from kafka_java import run_tool

pytestmark = pytest.mark.interop

GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
TRANSACTIONS_COMMAND = "org.apache.kafka.tools.TransactionsCommand"


def _tool(main_class: str, *args: str, check: bool = True) -> tuple[int, str]:
    proc = run_tool(main_class, *args, check=check)
    return proc.returncode, proc.stdout.decode() + proc.stderr.decode()


def test_describe_missing_group_is_group_id_not_found(broker: BrokerProcess) -> None:
    group = f"missing-{uuid.uuid4().hex[:10]}"
    for extra in ((), ("--state",), ("--members",)):
        _, out = _tool(GROUP_COMMAND, "--bootstrap-server", broker.bootstrap, "--describe", "--group", group, *extra)
        assert f"GroupIdNotFoundException: Group {group} not found." in out, out
        assert "does not exist" not in out, out


def test_list_transactions_by_pattern(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, 1)
    uid = uuid.uuid4().hex[:8]
    ids = [f"pat-{uid}-1", f"pat-{uid}-22", f"other-pat-{uid}-1"]
    producers = []
    for tid in ids:
        p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": tid})
        p.init_transactions(30)
        p.begin_transaction()
        p.produce(topic_name, value=b"x", partition=0)
        p.flush(30)
        producers.append(p)
    try:
        def listed(pattern: str) -> list[str]:
            _, out = _tool(TRANSACTIONS_COMMAND, "--bootstrap-server", broker.bootstrap, "list",
                           "--transactional-id-pattern", pattern)
            lines = out.splitlines()
            assert lines[0].split() == ["TransactionalId", "Coordinator", "ProducerId", "TransactionState"], out
            return sorted(line.split()[0] for line in lines[1:] if line.strip())

        assert listed(f"pat-{uid}-.*") == ids[:2]
        assert listed(f"pat-{uid}-\\d") == ids[:1]  # the whole id must match, not a prefix
        assert listed(f".*pat-{uid}-1") == sorted([ids[0], ids[2]])
        for bad in ("[", "(a)\\1"):  # a syntax error; a backreference (RE2J has none)
            rc, out = _tool(TRANSACTIONS_COMMAND, "--bootstrap-server", broker.bootstrap, "list",
                            "--transactional-id-pattern", bad, check=False)
            assert rc != 0 and "INVALID_REGULAR_EXPRESSION" in out, out
    finally:
        for p in producers:
            p.abort_transaction(30)


def test_list_endpoints_with_fenced_brokers(broker: BrokerProcess) -> None:
    for extra in ((), ("--include-fenced-brokers",)):
        _, out = _tool("org.apache.kafka.tools.ClusterTool", "list-endpoints", "--bootstrap-server", broker.bootstrap,
                       *extra)
        rows = [line.split() for line in out.splitlines() if line.strip()]
        assert rows[0][:3] == ["ID", "HOST", "PORT"], out
        assert [r[0] for r in rows[1:]] == ["1"], out
        if extra:
            assert "STATE" in rows[0] and rows[1][rows[0].index("STATE")] == "unfenced", out


def test_earliest_pending_upload_without_tiered_storage(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, 1)
    _, pending = _tool("org.apache.kafka.tools.GetOffsetShell", "--bootstrap-server", broker.bootstrap,
                       "--topic", topic_name, "--time", "earliest-pending-upload")
    assert topic_name not in pending, pending  # offset -1: the tool prints no line for the partition
    _, latest = _tool("org.apache.kafka.tools.GetOffsetShell", "--bootstrap-server", broker.bootstrap,
                      "--topic", topic_name, "--time", "latest")
    assert f"{topic_name}:0:0" in latest, latest
