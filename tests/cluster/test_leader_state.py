"""LeaderState (Kafka's raft.LeaderState): the high watermark is the end offset a majority of
voters reached, moves only past the epoch's start offset and never back; follower fetch and
caught-up times follow Kafka's ReplicaState.updateFollowerState; observers come and, idle for the
session timeout, go. Also the RaftClient's DescribeQuorum view of a one-voter quorum."""
from __future__ import annotations

import pytest

from fastkafka.cluster.kraft.leader_state import OBSERVER_SESSION_TIMEOUT_MS, LeaderState, VoterNode
from fastkafka.cluster.metadata.metadata_loader import MetadataLoader
from fastkafka.protocol.errors import Errors, KafkaError

DIR = b"\x07" * 16


def test_single_voter_high_watermark_follows_the_flushed_end() -> None:
    ls = LeaderState(1, epoch=3, epoch_start_offset=10, voters=[VoterNode(1)])
    assert ls.high_watermark == -1
    assert not ls.update_local_state(10)  # nothing of epoch 3 yet
    assert ls.high_watermark == -1
    assert ls.update_local_state(11) and ls.high_watermark == 11
    assert not ls.update_local_state(11)
    with pytest.raises(ValueError):
        ls.update_local_state(5)


def test_three_voters_need_a_majority() -> None:
    ls = LeaderState(1, epoch=2, epoch_start_offset=0, voters=[VoterNode(1), VoterNode(2), VoterNode(3)])
    assert not ls.update_local_state(20)  # the leader alone is no majority
    assert ls.update_replica_state(3, bytes(16), now_ms=1000, fetch_offset=8)
    assert ls.high_watermark == 8
    assert ls.update_replica_state(2, bytes(16), now_ms=1000, fetch_offset=15) and ls.high_watermark == 15
    assert not ls.update_replica_state(3, bytes(16), now_ms=1001, fetch_offset=9)  # 15 is still the median
    # Observers never count towards the high watermark.
    assert not ls.update_replica_state(7, DIR, now_ms=1001, fetch_offset=20)
    assert ls.high_watermark == 15
    assert sorted(s.node_id for s in ls.voters()) == [1, 2, 3]
    with pytest.raises(ValueError):
        ls.update_replica_state(1, bytes(16), now_ms=1, fetch_offset=1)
    assert not ls.update_replica_state(-1, bytes(16), now_ms=1, fetch_offset=1)  # a consumer, not a replica


def test_follower_fetch_and_caught_up_times() -> None:
    ls = LeaderState(1, epoch=1, epoch_start_offset=0, voters=[VoterNode(1), VoterNode(2)])
    ls.update_local_state(100)
    ls.update_replica_state(2, bytes(16), now_ms=1000, fetch_offset=50)
    s = ls.voter_states[2]
    assert (s.end_offset, s.last_fetch_timestamp, s.last_caught_up_timestamp) == (50, 1000, -1)
    # Reaching the leader's end offset of the previous fetch: caught up as of that fetch.
    ls.update_local_state(120)
    ls.update_replica_state(2, bytes(16), now_ms=2000, fetch_offset=100)
    assert (s.last_fetch_timestamp, s.last_caught_up_timestamp) == (2000, 1000)
    # Reaching the leader's current end: caught up now.
    ls.update_replica_state(2, bytes(16), now_ms=3000, fetch_offset=120)
    assert (s.end_offset, s.last_fetch_timestamp, s.last_caught_up_timestamp) == (120, 3000, 3000)


def test_idle_observers_are_forgotten() -> None:
    ls = LeaderState(1, epoch=1, epoch_start_offset=0, voters=[VoterNode(1)])
    ls.update_local_state(5)
    ls.update_replica_state(4, DIR, now_ms=1000, fetch_offset=5)
    assert [(o.node_id, o.directory_id, o.end_offset) for o in ls.observers(1000)] == [(4, DIR, 5)]
    assert ls.observers(1000 + OBSERVER_SESSION_TIMEOUT_MS - 1) != []
    assert ls.observers(1000 + OBSERVER_SESSION_TIMEOUT_MS) == []


def test_raft_client_describes_its_one_voter_quorum(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastkafka.cluster.kraft.raft_client import RaftClient

    voter = VoterNode(1, listeners=(("CONTROLLER", "127.0.0.1", 9093),))
    raft = RaftClient(1, [1], str(tmp_path), MetadataLoader(), voter_nodes=[voter])
    raft.start()
    try:
        q = raft.describe_quorum(now=123)
        assert (q.leader_id, q.leader_epoch, q.high_watermark, q.observers) == (1, 1, 1, [])
        (v,) = q.voters
        assert (v.node_id, v.directory_id, v.end_offset, v.listeners) == (1, bytes(16), 1, voter.listeners)
        raft.set_voter_listeners(1, [("CONTROLLER", "h", 1)])
        assert raft.describe_quorum().voters[0].listeners == (("CONTROLLER", "h", 1),)
        raft.leader_id = -1  # as after a failed fsync: no longer the leader
        with pytest.raises(KafkaError) as e:
            raft.describe_quorum()
        assert e.value.code == Errors.NOT_LEADER_OR_FOLLOWER
    finally:
        raft.close()
