"""DescribeLogDirs (API 35) through Kafka 4.4's `kafka-log-dirs` tool and kafka-python's admin client:
every log dir is listed with the partitions it holds, each with its size on disk (the sum of its
segment files, checked against the files the broker wrote), offset lag 0 and isFuture false.
Holds against Apache Kafka 4.4 as well."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker_process import BrokerProcess
from clients import confluent
from interop_data import Rec
from kafka_java import run_tool

pytestmark = pytest.mark.interop

LOG_DIRS = "org.apache.kafka.tools.LogDirsCommand"


def _segment_bytes(partition_dir: Path) -> int:
    return sum(p.stat().st_size for p in partition_dir.iterdir() if p.name.endswith(".log"))


def _log_dirs_json(bootstrap: str, *extra: str) -> dict:  # type: ignore[type-arg]
    out = run_tool(LOG_DIRS, "--bootstrap-server", bootstrap, "--describe", *extra).stdout.decode()
    # The tool prints two progress lines, then the JSON document on its own line.
    line = next(ln for ln in out.splitlines() if ln.startswith("{"))
    return json.loads(line)  # type: ignore[no-any-return]


def test_kafka_log_dirs_sizes_match_the_files(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, partitions=3)
    # Different amounts per partition; partition 2 stays empty.
    recs = [Rec(0, b"k%d" % i, b"v" * 100, (), 0) for i in range(50)]
    recs += [Rec(1, b"k%d" % i, b"w" * 1000, (), 0) for i in range(20)]
    confluent.produce(broker.bootstrap, topic_name, recs)

    doc = _log_dirs_json(broker.bootstrap, "--topic-list", topic_name)
    assert doc["version"] == 1
    [entry] = doc["brokers"]
    assert entry["broker"] == 1
    [log_dir] = entry["logDirs"]
    assert log_dir["error"] is None
    assert Path(log_dir["logDir"]) == Path(broker.log_dirs[0]).resolve()
    parts = {p["partition"]: p for p in log_dir["partitions"]}
    assert set(parts) == {f"{topic_name}-{i}" for i in range(3)}
    for i in range(3):
        p = parts[f"{topic_name}-{i}"]
        assert p["size"] == _segment_bytes(broker.partition_dir(topic_name, i))
        assert p["offsetLag"] == 0 and p["isFuture"] is False
    assert parts[f"{topic_name}-2"]["size"] == 0
    assert 0 < parts[f"{topic_name}-0"]["size"] < parts[f"{topic_name}-1"]["size"]

    # Without --topic-list every partition of the broker is described, ours among them.
    everything = _log_dirs_json(broker.bootstrap)
    names = {p["partition"] for d in everything["brokers"][0]["logDirs"] for p in d["partitions"]}
    assert {f"{topic_name}-{i}" for i in range(3)} <= names


def test_kafka_python_describe_log_dirs(broker: BrokerProcess, topic_name: str) -> None:
    from kafka.admin import KafkaAdminClient

    confluent.create_topic(broker.bootstrap, topic_name, partitions=1)
    confluent.produce(broker.bootstrap, topic_name, [Rec(0, b"k", b"v" * 500, (), 0) for _ in range(10)])
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        resp = admin.describe_log_dirs()
    finally:
        admin.close()
    # kafka-python 3: one dict per broker, each result as the response's to_dict().
    [per_broker] = resp
    assert per_broker["broker"] == 1
    sizes = {}
    for r in per_broker["log_dirs"]:
        assert r["error_code"] == 0
        assert r["total_bytes"] >= r["usable_bytes"] > 0
        for t in r["topics"]:
            for p in t["partitions"]:
                assert p["offset_lag"] == 0 and p["is_future_key"] is False
                sizes[(t["name"], p["partition_index"])] = p["partition_size"]
    assert sizes[(topic_name, 0)] == _segment_bytes(broker.partition_dir(topic_name, 0))


def test_two_log_dirs(tmp_path: Path, topic_name: str) -> None:
    """Every configured dir is listed (an empty one too); each partition is in exactly one."""
    dirs = [tmp_path / "broker" / "data", tmp_path / "broker" / "data2"]
    b = BrokerProcess(tmp_path / "broker", extra_props={"log.dirs": ",".join(map(str, dirs))})
    b.log_dirs = [str(d) for d in dirs]
    b.start()
    try:
        confluent.create_topic(b.bootstrap, topic_name, partitions=4)
        confluent.produce(b.bootstrap, topic_name, [Rec(i % 4, b"k", b"v" * 200, (), 0) for i in range(40)])
        doc = _log_dirs_json(b.bootstrap, "--topic-list", topic_name)
    finally:
        b.stop()
    [entry] = doc["brokers"]
    by_dir = {Path(d["logDir"]): d for d in entry["logDirs"]}
    assert set(by_dir) == {d.resolve() for d in dirs}
    seen: dict[str, Path] = {}
    for d, info in by_dir.items():
        assert info["error"] is None
        for p in info["partitions"]:
            assert p["partition"] not in seen
            seen[p["partition"]] = d
            assert p["size"] == _segment_bytes(d / p["partition"]) > 0
    assert set(seen) == {f"{topic_name}-{i}" for i in range(4)}
