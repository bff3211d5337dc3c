"""The group coordinator's broker keys: every `offsets.*` / `offset.*` / `group.*` key the group
code reads is defined in BROKER_CONFIG_DEFS with Kafka 4.1's type and default (GroupCoordinatorConfig)
and documented; Kafka's validators reject bad values at start-up; offset.metadata.max.bytes is
applied as Kafka does (String.length(), UTF-16 code units)."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fake_partition import committed_leader
from fastkafka.broker_config_docs import broker_doc
from fastkafka.cluster.group.group_coordinator import GroupCoordinator
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME
from fastkafka.config import BROKER_CONFIG_DEFS, ConfigError, KafkaConfig, default_single_node_props
from fastkafka.net.handlers.k08_offset_commit import handle_offset_commit
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import OffsetCommitRequest

SRC = Path(__file__).resolve().parents[2] / "src" / "fastkafka"

# Kafka 4.1 GroupCoordinatorConfig: (type, default).
KAFKA_41 = {
    "offsets.topic.num.partitions": ("int", "50"),
    "offsets.topic.replication.factor": ("short", "3"),
    "offsets.topic.segment.bytes": ("int", "104857600"),
    "offsets.topic.compression.codec": ("int", "0"),
    "offsets.load.buffer.size": ("int", "5242880"),
    "offsets.retention.minutes": ("int", "10080"),
    "offsets.retention.check.interval.ms": ("long", "600000"),
    "offsets.commit.timeout.ms": ("int", "5000"),
    "offset.metadata.max.bytes": ("int", "4096"),
    "group.min.session.timeout.ms": ("int", "6000"),
    "group.max.session.timeout.ms": ("int", "1800000"),
    "group.initial.rebalance.delay.ms": ("int", "3000"),
    "group.max.size": ("int", str(2**31 - 1)),
    "group.coordinator.rebalance.protocols": ("list", "classic,consumer"),
    "group.consumer.session.timeout.ms": ("int", "45000"),
    "group.consumer.min.session.timeout.ms": ("int", "45000"),
    "group.consumer.max.session.timeout.ms": ("int", "60000"),
    "group.consumer.heartbeat.interval.ms": ("int", "5000"),
    "group.consumer.min.heartbeat.interval.ms": ("int", "5000"),
    "group.consumer.max.heartbeat.interval.ms": ("int", "15000"),
    "group.consumer.max.size": ("int", str(2**31 - 1)),
    "group.consumer.assignors": ("list", "uniform,range"),
    "group.consumer.migration.policy": ("string", "bidirectional"),
}


def _keys_read_by_group_code() -> set[str]:
    keys: set[str] = set()
    files = list((SRC / "cluster" / "group").glob("*.py")) + list((SRC / "net" / "handlers").glob("k*.py"))
    for f in files:
        keys |= set(re.findall(r'"((?:offsets?|group)\.[a-z.]+[a-z])"', f.read_text()))
    return keys


def test_every_key_the_group_code_reads_is_defined_and_documented() -> None:
    read = _keys_read_by_group_code()
    assert "offsets.retention.check.interval.ms" in read and "offset.metadata.max.bytes" in read
    missing = sorted(k for k in read if k not in BROKER_CONFIG_DEFS)
    assert missing == []
    for key in read | set(KAFKA_41):
        assert broker_doc(key), key


def test_types_and_defaults_are_kafkas() -> None:
    for key, (type_, default) in KAFKA_41.items():
        d = BROKER_CONFIG_DEFS[key]
        assert (d.type, d.default) == (type_, default), key


@pytest.mark.parametrize("key,value", [
    ("offsets.retention.check.interval.ms", "0"),
    ("offsets.retention.check.interval.ms", "soon"),
    ("offsets.retention.minutes", "0"),
    ("offsets.topic.segment.bytes", "0"),
    ("offsets.load.buffer.size", "0"),
    ("offsets.commit.timeout.ms", "0"),
    ("offsets.topic.replication.factor", "0"),
    ("group.max.size", "0"),
    ("group.consumer.max.size", "0"),
    ("group.consumer.migration.policy", "sideways"),
])
def test_kafkas_validators_reject_bad_values(tmp_path: Path, key: str, value: str) -> None:
    props = {**default_single_node_props(str(tmp_path)), key: value}
    with pytest.raises(ConfigError, match=re.escape(key)):
        KafkaConfig(props)


def test_good_values_are_accepted(tmp_path: Path) -> None:
    KafkaConfig({**default_single_node_props(str(tmp_path)), "offsets.retention.check.interval.ms": str(2**40),
                 "group.consumer.migration.policy": "UPGRADE"})


def test_offset_metadata_max_bytes_counts_java_chars() -> None:
    class _Broker:
        def __init__(self) -> None:
            self.config = {"offsets.topic.num.partitions": "1", "offset.metadata.max.bytes": "4"}
            t = SimpleNamespace(name="t", partitions={0: None})
            self.image = SimpleNamespace(topics=SimpleNamespace(by_name={GROUP_METADATA_TOPIC_NAME: object(), "t": t}))
            self.replica_manager = SimpleNamespace(partition=lambda tp: committed_leader(),
                                                   append_records=lambda tp, r, acks: SimpleNamespace(error=0))
            self.group_coordinator = GroupCoordinator(self)

    broker = _Broker()
    ctx = RequestContext(api_key=8, api_version=9, correlation_id=1, client_id="c", listener_name="PLAINTEXT",
                         security_protocol="PLAINTEXT", client_address="127.0.0.1:1", connection_id="c")

    def commit(metadata: str) -> int:
        R = OffsetCommitRequest
        resp: Any = asyncio.run(handle_offset_commit(broker, ctx, R(
            group_id="g", generation_id_or_member_epoch=-1, member_id="", topics=[R.OffsetCommitRequestTopic(
                name="t", partitions=[R.OffsetCommitRequestPartition(partition_index=0, committed_offset=1,
                                                                      committed_metadata=metadata)])])))
        return int(resp.topics[0].partitions[0].error_code)

    assert commit("éééé") == 0  # 4 chars, 8 UTF-8 bytes
    assert commit("abcde") == Errors.OFFSET_METADATA_TOO_LARGE
