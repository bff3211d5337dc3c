import asyncio
import json
import os
import random

import pytest

from fastkafka.cluster.kraft import control_records as cr
from fastkafka.cluster.metadata.broker_registration import Endpoint
from fastkafka.cluster.metadata.metadata_loader import MetadataLoader
from fastkafka.protocol.errors import KafkaError
from fastkafka.protocol.messages import CreateTopicsRequest



@pytest.fixture(autouse=True)
def _kraft_imports():
    global KafkaMetadataLog, ElectionState, FileQuorumState, RaftClient
    from fastkafka.cluster.kraft.kafka_metadata_log import KafkaMetadataLog
    from fastkafka.cluster.kraft.quorum_state import ElectionState, FileQuorumState
    from fastkafka.cluster.kraft.raft_client import RaftClient

from fastkafka.cluster.kraft.batch_codec import NativeBatchCodec  # noqa: E402
from fastkafka.cluster.kraft.raft_client import _DefaultSerde  # noqa: E402

CODEC = NativeBatchCodec()
SERDE = _DefaultSerde()


def open_node(tmp_path, **kw):
    from fastkafka.cluster.controller.quorum_controller import QuorumController
    loader = MetadataLoader()
    raft = RaftClient(1, [1], str(tmp_path), loader, codec=CODEC, serde=SERDE)
    raft.start()
    return raft, loader, QuorumController(raft, loader, node_id=1, rng=random.Random(3), **kw)


async def populate(c):
    await c.bootstrap()
    await c.register_broker(1, b"\x01" * 16, [Endpoint("PLAINTEXT", "localhost", 9092, 0)],
                            {"metadata.version": (7, 27)}, "r1")
    T = CreateTopicsRequest.CreatableTopic
    C = CreateTopicsRequest.CreatableTopicConfig
    await c.create_topics(CreateTopicsRequest(topics=[
        T(name="a", num_partitions=3, replication_factor=1, assignments=[], configs=[C(name="retention.ms", value="5")]),
        T(name="b", num_partitions=1, replication_factor=1, assignments=[], configs=[])],
        timeout_ms=0, validate_only=False), 7)
    await c.allocate_producer_ids(1, -1)


def test_fresh_start_elects_self_and_writes_quorum_state(tmp_path):
    raft, loader, _ = open_node(tmp_path)
    assert raft.epoch == 1 and raft.leader_id == 1 and raft.high_watermark == 1
    data = json.loads((tmp_path / "__cluster_metadata-0" / "quorum-state").read_text())
    assert data == {"clusterId": "", "leaderId": 1, "leaderEpoch": 1, "votedId": 1, "appliedOffset": 0,
                    "currentVoters": [{"voterId": 1}], "data_version": 0}
    headers = [h for h, _ in raft.log.read_batches()]
    assert len(headers) == 1 and headers[0].is_control and headers[0].partition_leader_epoch == 1
    (key, value), = CODEC.records(next(raft.log.read_batches())[1])
    assert cr.control_type(key) == cr.LEADER_CHANGE
    assert cr.parse_leader_change(value) == (1, [1], [1])
    raft.close()
    raft2, _, _ = open_node(tmp_path)
    assert raft2.epoch == 2  # a restart is a new election
    raft2.close()


def test_replay_after_restart_gives_identical_image(tmp_path):
    raft, loader, c = open_node(tmp_path)
    asyncio.run(populate(c))
    img = loader.image
    assert set(img.topics.by_name) == {"a", "b"} and img.producer_ids.next_producer_id == 1000
    raft.close()
    raft2, loader2, c2 = open_node(tmp_path)
    img2 = loader2.image
    assert img2.topics == img.topics and img2.cluster == img.cluster and img2.configs == img.configs
    assert img2.features == img.features and img2.producer_ids == img.producer_ids
    assert img2.provenance.last_contained_offset == img.provenance.last_contained_offset + 1  # + new LeaderChange
    # and the controller continues from the replayed state
    assert asyncio.run(c2.allocate_producer_ids(1, -1)) == (1000, 1000)
    raft2.close()


def test_batches_carry_offsets_and_epoch(tmp_path):
    raft, loader, c = open_node(tmp_path)
    asyncio.run(populate(c))
    expected = 0
    for h, _ in raft.log.read_batches():
        assert h.base_offset == expected and h.partition_leader_epoch == 1
        expected = h.last_offset + 1
    assert expected == raft.log.log_end_offset == raft.high_watermark
    raft.close()


@pytest.mark.parametrize("cut", [1, 30, 61])
def test_torn_tail_is_truncated(tmp_path, cut):
    raft, loader, c = open_node(tmp_path)
    asyncio.run(populate(c))
    good_end = raft.log.log_end_offset
    img = loader.image
    raft.close()
    seg = tmp_path / "__cluster_metadata-0" / "00000000000000000000.log"
    size = seg.stat().st_size
    extra = CODEC.build(good_end, 1, 0, [(None, b"garbage-record")])
    with open(seg, "ab") as f:
        f.write(extra[:-cut] if cut < len(extra) else extra[:1])
    log = KafkaMetadataLog.open(str(tmp_path), CODEC)
    assert log.truncated_bytes > 0 and seg.stat().st_size == size and log.log_end_offset == good_end
    log.close()
    raft2, loader2, _ = open_node(tmp_path)
    assert loader2.image.topics == img.topics
    raft2.close()


def test_corrupt_batch_in_the_middle_truncates_from_there(tmp_path):
    raft, loader, c = open_node(tmp_path)
    asyncio.run(populate(c))
    batches = [(h.position, h.size) for h, _ in raft.log.read_batches()]
    raft.close()
    seg = tmp_path / "__cluster_metadata-0" / "00000000000000000000.log"
    data = bytearray(seg.read_bytes())
    pos, size = batches[3]
    data[pos + size - 1] ^= 0xFF  # CRC mismatch in batch 3
    seg.write_bytes(bytes(data))
    log = KafkaMetadataLog.open(str(tmp_path), CODEC)
    assert seg.stat().st_size == pos
    log.close()


def test_quorum_state_round_trip_and_epoch_is_never_reused(tmp_path):
    qs = FileQuorumState(str(tmp_path))
    assert qs.read() is None
    qs.write(ElectionState(epoch=7, leader_id=1, voted_id=1, voters=(1,)))
    assert qs.read() == ElectionState(epoch=7, leader_id=1, voted_id=1, voters=(1,))
    qs.write(ElectionState(epoch=8, leader_id=1, voted_id=-1, voted_directory_id=b"\x07" * 16), version=1)
    st = qs.read()
    assert st.epoch == 8 and st.voted_directory_id == b"\x07" * 16
    d = tmp_path / "m"
    d.mkdir()
    (d / "__cluster_metadata-0").mkdir()
    FileQuorumState(str(d / "__cluster_metadata-0")).write(ElectionState(epoch=41, leader_id=1, voters=(1,)))
    raft, _, _ = open_node(d)
    assert raft.epoch == 42
    raft.close()


def test_multi_voter_quorum_is_refused(tmp_path):
    with pytest.raises(KafkaError):
        RaftClient(1, [1, 2, 3], str(tmp_path), MetadataLoader(), codec=CODEC, serde=SERDE).start()


def test_format_storage_and_bootstrap(tmp_path):
    from fastkafka.cluster.kraft.format_storage import format_storage, read_bootstrap_checkpoint
    from fastkafka.storage.meta_properties import read_meta_properties
    d1, d2 = str(tmp_path / "d1"), str(tmp_path / "d2")
    done = format_storage([d1, d2], "MkU3OEVBNTcwNTJENDM2Qk", 1, features={"group.version": 1},
                          codec=CODEC, serde=SERDE)
    assert done == [d1, d2]
    meta = read_meta_properties(d1)
    assert meta.node_id == 1 and meta.cluster_id == "MkU3OEVBNTcwNTJENDM2Qk" and meta.version == 1
    assert meta.directory_id != read_meta_properties(d2).directory_id
    recs = read_bootstrap_checkpoint(d1, codec=CODEC, serde=SERDE)
    assert [(r.message.name, r.message.feature_level) for r in recs] == [("metadata.version", 27), ("group.version", 1)]
    assert read_bootstrap_checkpoint(d2, codec=CODEC, serde=SERDE) is None
    with pytest.raises(KafkaError):
        format_storage([d1], "MkU3OEVBNTcwNTJENDM2Qk", 1, codec=CODEC, serde=SERDE)
    assert format_storage([d1], "MkU3OEVBNTcwNTJENDM2Qk", 1, ignore_formatted=True, codec=CODEC, serde=SERDE) == []
    with pytest.raises(KafkaError):
        format_storage([d1], "other", 1, ignore_formatted=True, codec=CODEC, serde=SERDE)
    raft, loader, c = open_node(d1)
    assert asyncio.run(c.bootstrap(recs))
    assert loader.image.features.all_levels() == {"metadata.version": 27, "group.version": 1}
    raft.close()
