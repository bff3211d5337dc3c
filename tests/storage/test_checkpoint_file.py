import os

import pytest

from fastkafka.protocol.errors import KafkaError
from fastkafka.storage.checkpoint_file import OffsetCheckpointFile
from fastkafka.storage.leader_epoch_file_cache import EpochEntry, LeaderEpochFileCache
from fastkafka.storage.meta_properties import MetaProperties, read_meta_properties, write_meta_properties
from fastkafka.storage.partition_metadata_file import PartitionMetadataFile, uuid_from_string, uuid_to_string
from fastkafka.storage.topic_partition import TopicPartition


def test_offset_checkpoint_round_trip_and_format(tmp_path):
    f = OffsetCheckpointFile(str(tmp_path / "recovery-point-offset-checkpoint"))
    offsets = {TopicPartition("foo", 1): 5, TopicPartition("bar-baz", 2): 10}
    f.write(offsets)
    assert f.read() == offsets
    text = (tmp_path / "recovery-point-offset-checkpoint").read_text()
    assert text == "0\n2\nbar-baz 2 10\nfoo 1 5\n"
    assert not os.path.exists(str(tmp_path / "recovery-point-offset-checkpoint.tmp"))


def test_offset_checkpoint_overwrite_and_empty(tmp_path):
    f = OffsetCheckpointFile(str(tmp_path / "cp"))
    f.write({TopicPartition("a", 0): 1})
    f.write({})
    assert f.read() == {}
    assert OffsetCheckpointFile(str(tmp_path / "missing")).read() == {}


@pytest.mark.parametrize("content", [
    "1\n0\n",  # unknown version
    "0\n2\nfoo 1 5\n",  # count mismatch
    "0\n1\nfoo 1\n",  # malformed line
    "0\n1\nfoo x 5\n",
    "",
])
def test_malformed_checkpoint_raises(tmp_path, content):
    p = tmp_path / "cp"
    p.write_text(content)
    with pytest.raises(KafkaError):
        OffsetCheckpointFile(str(p)).read()


def test_leader_epoch_cache_assign_and_persist(tmp_path):
    path = str(tmp_path / "leader-epoch-checkpoint")
    c = LeaderEpochFileCache(path)
    c.assign(0, 0)
    c.assign(0, 5)  # same epoch, later offset: no change
    c.assign(2, 10)
    c.assign(3, 20)
    assert c.entries == [EpochEntry(0, 0), EpochEntry(2, 10), EpochEntry(3, 20)]
    assert open(path).read() == "0\n3\n0 0\n2 10\n3 20\n"
    assert LeaderEpochFileCache(path).entries == c.entries
    assert c.epoch_for_offset(15) == 2 and c.epoch_for_offset(25) == 3
    assert c.end_offset_for(2, 100) == (2, 20)
    assert c.end_offset_for(1, 100) == (0, 10)
    assert c.end_offset_for(3, 100) == (3, 100)
    assert c.end_offset_for(-1, 100) == (-1, -1)
    c.truncate_from_end(15)
    assert c.entries == [EpochEntry(0, 0), EpochEntry(2, 10)]
    c.truncate_from_start(12)
    assert c.entries == [EpochEntry(2, 12)]
    # a lower epoch at a lower offset supersedes later entries (non-monotonic truncation)
    c.assign(5, 30)
    c.assign(4, 11)
    assert c.entries == [EpochEntry(4, 11)]


def test_leader_epoch_truncation_at_load_is_written_only_if_not_undone(tmp_path):
    """Kafka's truncateFromEndAsyncFlush: the load-time truncation stays in memory; re-assigning
    the same entry (a restarted leader) writes nothing; otherwise flush_if_stale writes it."""
    path = tmp_path / "leader-epoch-checkpoint"
    c = LeaderEpochFileCache(str(path))
    c.assign(0, 0)
    c.assign(1, 10)
    before = path.stat().st_mtime_ns, path.stat().st_ino
    c.truncate_from_end(10, persist=False)
    assert c.is_stale and path.read_text() == "0\n2\n0 0\n1 10\n"
    c.assign(1, 10)
    assert not c.is_stale and (path.stat().st_mtime_ns, path.stat().st_ino) == before
    c.truncate_from_end(10, persist=False)
    c.flush_if_stale()
    assert not c.is_stale and path.read_text() == "0\n1\n0 0\n"
    assert LeaderEpochFileCache(str(path)).entries == [EpochEntry(0, 0)]


def test_partition_metadata_file(tmp_path):
    topic_id = bytes(range(16))
    f = PartitionMetadataFile(str(tmp_path / "partition.metadata"))
    f.write(topic_id)
    assert (tmp_path / "partition.metadata").read_text() == f"version: 0\ntopic_id: {uuid_to_string(topic_id)}\n"
    assert f.read() == topic_id
    assert uuid_to_string(topic_id) == "AAECAwQFBgcICQoLDA0ODw"
    assert uuid_from_string("AAECAwQFBgcICQoLDA0ODw") == topic_id
    (tmp_path / "partition.metadata").write_text("version: 1\ntopic_id: x\n")
    with pytest.raises(KafkaError):
        f.read()


def test_meta_properties(tmp_path):
    m = MetaProperties(version=1, cluster_id="MkU3OEVBNTcwNTJENDM2Qg", node_id=3, directory_id="AAECAwQFBgcICQoLDA0ODw")
    write_meta_properties(str(tmp_path), m)
    text = (tmp_path / "meta.properties").read_text()
    assert "node.id=3\n" in text and "version=1\n" in text and "cluster.id=MkU3OEVBNTcwNTJENDM2Qg\n" in text
    assert text.startswith("#\n#")
    assert read_meta_properties(str(tmp_path)) == m
    assert read_meta_properties(str(tmp_path / "nope")) is None
    # A file written by Kafka's kafka-storage format
    (tmp_path / "meta.properties").write_text(
        "#\n#Tue Oct 29 10:00:00 UTC 2024\nnode.id=1\ndirectory.id=J8aAPcfLQt2bqs1JT_rMgQ\nversion=1\ncluster.id=abc\n")
    got = read_meta_properties(str(tmp_path))
    assert got is not None and got.node_id == 1 and got.cluster_id == "abc" and got.directory_id == "J8aAPcfLQt2bqs1JT_rMgQ"


def test_leader_epoch_assign_writes_the_file_and_leaves_the_fsync_to_the_log_flush(tmp_path, monkeypatch):
    """KAFKA-15046: an assignment (on the append path) writes the checkpoint but does not fsync
    it; UnifiedLog.flush does, through sync(), before moving the recovery point."""
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    path = str(tmp_path / "leader-epoch-checkpoint")
    c = LeaderEpochFileCache(path)
    c.assign(0, 0)
    c.assign(3, 7)
    assert open(path).read() == "0\n2\n0 0\n3 7\n"  # written through: a kill -9 keeps it
    assert synced == []
    c.sync()
    assert len(synced) == 2  # the file and its directory
    c.sync()
    assert len(synced) == 2  # nothing written since
