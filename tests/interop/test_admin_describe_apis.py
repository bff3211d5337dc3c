"""DescribeTopicPartitions (75), ListConfigResources (74) and DescribeQuorum (55) driven by real
clients: kafka-python 3.0.12's KafkaAdminClient (describe_topic_partitions with a small partition
limit so that the cursor pages through several topics, list_config_resources, describe_metadata_quorum)
and Apache Kafka 4.4's Java tools (kafka-topics --describe, which uses DescribeTopicPartitions in
4.4; kafka-metadata-quorum describe --status/--replication through the broker and through the
controller listener).

The assertions are what Kafka 4.4 answers on a single combined node, checked against it: the test
passes with FASTKAFKA_TEST_TARGET=apache as well as against fastkafka. Timestamps are only checked
to be present, never compared.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import UnsupportedVersionError

import kafka_java as kj
from broker_process import BrokerProcess

pytestmark = pytest.mark.interop

METADATA_QUORUM = "org.apache.kafka.tools.MetadataQuorumCommand"
# AclEntry.supportedOperations(TOPIC) as a bit field, what Kafka answers without an authorizer.
TOPIC_ALL_OPERATIONS = sum(1 << code for code in (3, 4, 5, 6, 7, 8, 10, 11))
ZERO_DIRECTORY_ID = "AAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture
def admin(broker: BrokerProcess) -> Iterator[KafkaAdminClient]:
    a = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=30000)
    try:
        yield a
    finally:
        a.close()


def _create(admin: KafkaAdminClient, partitions: dict[str, int]) -> None:
    admin.create_topics([NewTopic(name, n, 1) for name, n in partitions.items()])
    # Kafka's broker learns new topics from the metadata log a moment after CreateTopics returns.
    deadline = time.monotonic() + 30
    while True:
        topics = admin.describe_topic_partitions(sorted(partitions))["topics"]
        if all(t["error_code"] == 0 and len(t["partitions"]) == partitions[t["name"]] for t in topics):
            return
        assert time.monotonic() < deadline, topics
        time.sleep(0.2)


def _pages(admin: KafkaAdminClient, topics: list[str], limit: int) -> list[dict]:
    pages, cursor = [], None
    while True:
        page = admin.describe_topic_partitions(topics, response_partition_limit=limit, cursor=cursor)
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50


def test_describe_topic_partitions_pages_through_topics(admin: KafkaAdminClient) -> None:
    prefix = f"dtp-{uuid.uuid4().hex[:8]}"
    sizes = {f"{prefix}-a": 2, f"{prefix}-b": 3, f"{prefix}-c": 4}
    _create(admin, sizes)
    missing = f"{prefix}-0-missing"  # sorts before the others
    requested = [f"{prefix}-c", missing, f"{prefix}-a", f"{prefix}-b", f"{prefix}-a"]

    pages = _pages(admin, requested, limit=2)
    # Topics come in name order, each partition once, at most 2 partitions per response; a missing
    # topic takes none of the limit.
    seen = [(t["name"], p["partition_index"]) for page in pages for t in page["topics"] for p in t["partitions"]]
    assert seen == [(name, i) for name in sorted(sizes) for i in range(sizes[name])]
    assert all(sum(len(t["partitions"]) for t in page["topics"]) <= 2 for page in pages)
    # The cursors: page 1 is the missing topic and a-0, a-1, which uses the limit up exactly at a
    # topic's end, so the cursor names the next topic at 0; then b-0, b-1; b-2, c-0; c-1, c-2; c-3.
    assert [page["next_cursor"] for page in pages] == [
        {"topic_name": f"{prefix}-b", "partition_index": 0},
        {"topic_name": f"{prefix}-b", "partition_index": 2},
        {"topic_name": f"{prefix}-c", "partition_index": 1},
        {"topic_name": f"{prefix}-c", "partition_index": 3},
        None,
    ]
    first = pages[0]["topics"]
    assert [t["name"] for t in first] == [missing, f"{prefix}-a"]
    assert first[0]["error_code"] == 3 and first[0]["partitions"] == [] and first[0]["topic_id"] is None
    for page in pages:
        for t in page["topics"]:
            assert t["topic_authorized_operations"] == TOPIC_ALL_OPERATIONS
            assert t["is_internal"] is False
            for p in t["partitions"]:
                assert p["error_code"] == 0 and p["leader_id"] == 1 and p["leader_epoch"] >= 0
                assert p["replica_nodes"] == [1] and p["isr_nodes"] == [1] and p["offline_replicas"] == []
                # Empty ELR lists on the wire (kafka-python turns [] into None).
                assert p["eligible_leader_replicas"] is None and p["last_known_elr"] is None
    ids = {t["name"]: t["topic_id"] for page in pages for t in page["topics"] if t["error_code"] == 0}
    assert len(set(ids.values())) == 3 and None not in ids.values()

    # One call with the default limit answers everything, without a cursor.
    whole = admin.describe_topic_partitions(requested)
    assert whole["next_cursor"] is None
    assert [(t["name"], len(t["partitions"])) for t in whole["topics"]] == \
        [(missing, 0)] + [(name, sizes[name]) for name in sorted(sizes)]


def test_describe_topic_partitions_cursor_edge_cases(admin: KafkaAdminClient) -> None:
    prefix = f"dtpc-{uuid.uuid4().hex[:8]}"
    a, b = f"{prefix}-a", f"{prefix}-b"
    _create(admin, {a: 2, b: 3})
    # Starting in the middle of a topic; topics before the cursor's are left out.
    page = admin.describe_topic_partitions([a, b], cursor={"topic_name": b, "partition_index": 1})
    assert [(t["name"], [p["partition_index"] for p in t["partitions"]]) for t in page["topics"]] == [(b, [1, 2])]
    assert page["next_cursor"] is None
    # A cursor past the topic's last partition: the topic with no partitions.
    page = admin.describe_topic_partitions([b], cursor={"topic_name": b, "partition_index": 7})
    assert [(t["name"], t["error_code"], t["partitions"]) for t in page["topics"]] == [(b, 0, [])]
    # The cursor's topic must be requested, and its partition must not be negative: INVALID_REQUEST.
    for cursor in ({"topic_name": f"{prefix}-x", "partition_index": 0}, {"topic_name": b, "partition_index": -1}):
        page = admin.describe_topic_partitions([b], cursor=cursor)
        assert [(t["name"], t["error_code"], t["partitions"]) for t in page["topics"]] == [(b, 42, [])]
        assert page["next_cursor"] is None
    # Illegal and internal names.
    page = admin.describe_topic_partitions(["bad name!", "__transaction_state"])
    errors = {t["name"]: (t["error_code"], t["is_internal"]) for t in page["topics"]}
    assert errors["bad name!"] == (17, False)
    assert errors["__transaction_state"][1] is True
    # All topics (an empty list), one partition at a time: a cursor on the first page.
    page = admin.describe_topic_partitions([], response_partition_limit=1)
    assert sum(len(t["partitions"]) for t in page["topics"]) == 1 and page["next_cursor"] is not None
    names = [t["name"] for t in page["topics"]]
    assert names == sorted(names)


def test_list_config_resources(admin: KafkaAdminClient) -> None:
    prefix = f"lcr-{uuid.uuid4().hex[:8]}"
    _create(admin, {f"{prefix}-a": 1, f"{prefix}-b": 1})
    everything = admin.list_config_resources()
    assert everything["broker"] == ["1"] and everything["broker_logger"] == ["1"]
    assert {f"{prefix}-a", f"{prefix}-b"} <= set(everything["topic"])
    assert set(everything) <= {"broker", "broker_logger", "topic", "group", "client_metrics"}
    topics = admin.list_config_resources(["TOPIC"])
    assert set(topics) == {"topic"} and sorted(topics["topic"]) == sorted(everything["topic"])
    assert admin.list_config_resources(["BROKER"]) == {"broker": ["1"]}
    assert admin.list_config_resources(["BROKER_LOGGER", "BROKER"]) == {"broker_logger": ["1"], "broker": ["1"]}
    # No client-metrics subscription exists; groups are listed only once they have dynamic configs.
    assert set(admin.list_config_resources(["CLIENT_METRICS"])) == set()
    assert set(admin.list_config_resources(["GROUP"])) <= {"group"}
    with pytest.raises(UnsupportedVersionError):
        admin.list_config_resources(["UNKNOWN"])


def test_describe_metadata_quorum(admin: KafkaAdminClient, broker: BrokerProcess) -> None:
    q = admin.describe_metadata_quorum()
    (topic,) = q["topics"]
    assert topic["topic_name"] == "__cluster_metadata"
    (p,) = topic["partitions"]
    assert p["error"] is None and p["partition_index"] == 0
    assert p["leader_id"] == 1 and p["leader_epoch"] >= 1 and p["high_watermark"] > 0
    (voter,) = p["current_voters"]
    assert voter["replica_id"] == 1
    assert voter["replica_directory_id"] is None  # static voters (kraft.version 0): no directory id
    assert voter["log_end_offset"] >= p["high_watermark"]
    assert voter["last_fetch_timestamp"] > 0 and voter["last_caught_up_timestamp"] > 0  # the leader: now
    assert p["observers"] == []
    assert q["nodes"] == [{"node_id": 1, "listeners": [
        {"name": "CONTROLLER", "host": "127.0.0.1", "port": broker.controller_port}]}]


def _topics_tool(broker: BrokerProcess, *args: str, check: bool = True) -> tuple[int, str]:
    proc = kj.run_tool(kj.TOPICS, "--bootstrap-server", broker.bootstrap, *args, check=check)
    return proc.returncode, proc.stdout.decode() + proc.stderr.decode()


def test_kafka_topics_describe_pages_with_describe_topic_partitions(admin: KafkaAdminClient,
                                                                   broker: BrokerProcess) -> None:
    prefix = f"ktd-{uuid.uuid4().hex[:8]}"
    sizes = {f"{prefix}-a": 3, f"{prefix}-b": 2}
    _create(admin, sizes)
    ids = {t["name"]: t["topic_id"] for t in admin.describe_topic_partitions(sorted(sizes))["topics"]}
    # Two partitions per response: the Admin client follows the cursor across both topics.
    _, out = _topics_tool(broker, "--describe", "--topic", f"{prefix}-.*", "--partition-size-limit-per-response", "2")
    lines = [line.strip() for line in out.splitlines() if prefix in line]
    headers = [line for line in lines if line.startswith("Topic:") and "PartitionCount:" in line]
    rows = [line for line in lines if "Partition:" in line and "PartitionCount:" not in line]
    assert len(headers) == 2
    for name, n in sizes.items():
        (header,) = [h for h in headers if h.startswith(f"Topic: {name}\t")]
        assert f"PartitionCount: {n}\t" in header and "ReplicationFactor: 1\t" in header
        assert "TopicId: " in header and "TopicId: \t" not in header and ids[name] is not None
        mine = [r for r in rows if r.startswith(f"Topic: {name}\t")]
        assert [r.split("\t")[1:] for r in mine] == [
            [f"Partition: {i}", "Leader: 1", "Replicas: 1", "Isr: 1", "Elr: ", "LastKnownElr:"] for i in range(n)]
    rc, out = _topics_tool(broker, "--describe", "--topic", f"{prefix}-missing", check=False)
    assert rc != 0 and "does not exist" in out


def _quorum_tool(*args: str) -> str:
    return kj.run_tool(METADATA_QUORUM, *args).stdout.decode()


@pytest.mark.parametrize("via", ["broker", "controller"])
def test_kafka_metadata_quorum_describe(broker: BrokerProcess, via: str) -> None:
    bootstrap = (["--bootstrap-server", broker.bootstrap] if via == "broker"
                 else ["--bootstrap-controller", f"127.0.0.1:{broker.controller_port}"])
    status = dict(line.split(":", 1) for line in _quorum_tool(*bootstrap, "describe", "--status").splitlines() if ":" in line)
    status = {k.strip(): v.strip() for k, v in status.items()}
    assert status["ClusterId"] == broker.cluster_id
    assert status["LeaderId"] == "1" and int(status["LeaderEpoch"]) >= 1 and int(status["HighWatermark"]) > 0
    assert status["MaxFollowerLag"] == "0" and status["MaxFollowerLagTimeMs"] == "0"
    assert json.loads(status["CurrentVoters"]) == [
        {"id": 1, "endpoints": [f"CONTROLLER://127.0.0.1:{broker.controller_port}"]}]
    assert json.loads(status["CurrentObservers"]) == []

    rows = [line.split("\t") for line in _quorum_tool(*bootstrap, "describe", "--replication").splitlines() if line]
    header, (row,) = [c.strip() for c in rows[0] if c.strip()], rows[1:]
    assert header == ["NodeId", "DirectoryId", "LogEndOffset", "Lag", "LastFetchTimestamp",
                      "LastCaughtUpTimestamp", "Status"]
    row = dict(zip(header, (c.strip() for c in row)))
    assert row["NodeId"] == "1" and row["DirectoryId"] == ZERO_DIRECTORY_ID and row["Status"] == "Leader"
    assert row["Lag"] == "0" and int(row["LogEndOffset"]) > 0
    assert int(row["LastFetchTimestamp"]) > 0 and int(row["LastCaughtUpTimestamp"]) > 0
