"""transaction.version (KIP-890 part 2, KIP-584 features) with Kafka 4.4's own tools and Java producer.

- A fresh broker finalizes transaction.version 2 (and group.version 1), as `kafka-storage format`
  does in Kafka 4.x; `kafka-features describe` prints the supported and finalized levels.
- On TV2 the Java 4.4 producer (kafka-producer-perf-test with short transactions) sends no
  AddPartitionsToTxn (Produce v12 adds the partitions) and every EndTxn bumps the producer epoch:
  `kafka-transactions describe` shows an epoch that grew with the transactions, and a
  read_committed consumer sees every record.
- `kafka-features downgrade --feature transaction.version=0` online: a new transactional producer
  keeps epoch 0 (TV0: AddPartitionsToTxn, no bump); `upgrade` back to 2: the epochs grow again.
- Refusals with Kafka's words: a level above the supported range, a downgrade with `upgrade`.

Passes against Apache Kafka 4.4 too (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from broker_process import BrokerProcess
from clients import confluent
from kafka_java import PRODUCER_PERF_TEST, TOPICS, run_tool

pytestmark = pytest.mark.interop

FEATURES = "org.apache.kafka.tools.FeatureCommand"
TRANSACTIONS = "org.apache.kafka.tools.TransactionsCommand"
RECORDS = 3000


def _features(b: BrokerProcess, *args: str, check: bool = True) -> str:
    p = run_tool(FEATURES, "--bootstrap-server", b.bootstrap, *args, check=check)
    return (p.stdout + p.stderr).decode()


def _finalized(b: BrokerProcess) -> dict[str, tuple[str, str, str]]:
    out = {}
    for m in re.finditer(r"Feature: (\S+)\s+SupportedMinVersion: (\S+)\s+SupportedMaxVersion: (\S+)\s+"
                         r"FinalizedVersionLevel: (\S+)", _features(b, "describe")):
        out[m[1]] = (m[2], m[3], m[4])
    return out


def _transactional_run(b: BrokerProcess, topic: str, txn_id: str) -> int:
    """Produce RECORDS in transactions of ~30 ms; returns the producer epoch the coordinator holds."""
    run_tool(PRODUCER_PERF_TEST, "--topic", topic, "--num-records", str(RECORDS), "--record-size", "100",
             "--throughput", "2000", "--transactional-id", txn_id, "--transaction-duration-ms", "30",
             "--producer-props", f"bootstrap.servers={b.bootstrap}", timeout=120)
    out = run_tool(TRANSACTIONS, "--bootstrap-server", b.bootstrap, "describe",
                   "--transactional-id", txn_id).stdout.decode()
    header, row = [line for line in out.splitlines() if line.strip()][:2]
    cols = dict(zip(re.split(r"\s{2,}|\t", header.strip()), re.split(r"\s{2,}|\t", row.strip())))
    assert cols["TransactionState"] in ("CompleteCommit", "Empty"), out
    return int(cols["ProducerEpoch"])


def test_transaction_version_2_by_default_and_online_downgrade_upgrade(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path / "broker")
    b.start()
    try:
        levels = _finalized(b)
        assert levels["transaction.version"] == ("0", "2", "2")
        assert levels["group.version"][2] == "1"
        run_tool(TOPICS, "--bootstrap-server", b.bootstrap, "--create", "--topic", "tv", "--partitions", "3")

        tv2_epoch = _transactional_run(b, "tv", "tv2-producer")
        # Every commit bumped the epoch: dozens of transactions ran (ProducerPerformance commits
        # every 30 ms), so the epoch is far above the one InitProducerId gave.
        assert tv2_epoch >= 5

        assert "transaction.version was downgraded to 0." in _features(
            b, "downgrade", "--feature", "transaction.version=0")
        assert _finalized(b)["transaction.version"][2] == "0"
        assert _transactional_run(b, "tv", "tv0-producer") == 0  # no bump below TV2

        assert "transaction.version was upgraded to 2." in _features(
            b, "upgrade", "--feature", "transaction.version=2")
        assert _transactional_run(b, "tv", "tv2-again") >= 5

        committed = confluent.read_to_end(b.bootstrap, "tv", 3, "read_committed")
        assert len(committed) == 3 * RECORDS

        out = _features(b, "upgrade", "--feature", "transaction.version=3", check=False)
        assert ("Invalid update version 3 for feature transaction.version. Local controller 1 only supports "
                "versions 0-2") in out
        out = _features(b, "upgrade", "--feature", "transaction.version=1", check=False)
        assert "Can't downgrade the version of this feature without setting the upgrade type" in out
        assert _finalized(b)["transaction.version"][2] == "2"
    finally:
        b.stop()
