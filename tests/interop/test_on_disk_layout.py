"""The log directory a clean shutdown leaves is Kafka's: same files, same checkpoint formats.

Kafka's tools and operators read these files directly (kafka-dump-log, kafka-storage info, moving a
log dir between brokers), so the layout is part of the spec. Checked after a SIGTERM of a broker
that holds a 2-partition topic written by an idempotent producer.
"""
from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest
from confluent_kafka import TopicCollection
from confluent_kafka.admin import AdminClient

from broker_process import BrokerProcess
from clients import confluent
from interop_data import sample_records

pytestmark = pytest.mark.interop


def _props(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k] = v
    return out


def _checkpoint(path: Path) -> tuple[int, list[list[str]]]:
    """Kafka's CheckpointFile: version line, entry-count line, then one entry per line."""
    lines = path.read_text().splitlines()
    version, count = int(lines[0]), int(lines[1])
    entries = [ln.split(" ") for ln in lines[2:] if ln]
    assert len(entries) == count, f"{path}: {count} announced, {len(entries)} present"
    return version, entries


def test_clean_shutdown_layout(fresh_broker: BrokerProcess, topic_name: str) -> None:
    b = fresh_broker
    confluent.create_topic(b.bootstrap, topic_name, partitions=2)
    confluent.produce(b.bootstrap, topic_name, sample_records(20, partitions=2))
    admin = AdminClient({"bootstrap.servers": b.bootstrap})  # must outlive the future
    desc = admin.describe_topics(TopicCollection([topic_name]))
    uuid = desc[topic_name].result(timeout=30).topic_id
    # Kafka writes Uuid.toString(): URL-safe base64 of the 16 bytes, unpadded (librdkafka's str() is not URL-safe)
    raw = struct.pack(">qq", uuid.get_most_significant_bits(), uuid.get_least_significant_bits())
    topic_id = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    del admin
    b.stop()

    data = Path(b.log_dirs[0])
    meta = _props(data / "meta.properties")
    assert (meta["version"], meta["node.id"], meta["cluster.id"]) == ("1", "1", b.cluster_id)
    assert meta.get("directory.id")
    assert (data / ".kafka_cleanshutdown").is_file()

    for name in ("recovery-point-offset-checkpoint", "replication-offset-checkpoint"):
        version, entries = _checkpoint(data / name)
        assert version == 0
        mine = sorted((p, o) for t, p, o in entries if t == topic_name)
        assert mine == [("0", "10"), ("1", "10")], (name, entries)
    version, entries = _checkpoint(data / "log-start-offset-checkpoint")
    assert version == 0 and all(o == "0" for t, _, o in entries if t == topic_name)

    for p in (0, 1):
        pdir = data / f"{topic_name}-{p}"
        names = {f.name for f in pdir.iterdir()}
        assert {"00000000000000000000.log", "00000000000000000000.index", "00000000000000000000.timeindex",
                "leader-epoch-checkpoint", "partition.metadata"} <= names, names
        # the producer-state snapshot a clean shutdown writes at the log end offset
        assert "00000000000000000010.snapshot" in names, names
        assert (pdir / "partition.metadata").read_text().splitlines() == ["version: 0", f"topic_id: {topic_id}"]
        version, entries = _checkpoint(pdir / "leader-epoch-checkpoint")
        assert version == 0 and entries == [["0", "0"]]
        # a clean shutdown trims the preallocated index files to their entries
        assert (pdir / "00000000000000000000.index").stat().st_size % 8 == 0
        assert (pdir / "00000000000000000000.timeindex").stat().st_size % 12 == 0
        assert (pdir / "00000000000000000000.index").stat().st_size < 10 * 1024 * 1024
