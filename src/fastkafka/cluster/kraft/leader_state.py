"""LeaderState: what the leader of the metadata quorum knows about every replica (Kafka's
raft.LeaderState and its ReplicaState), the source of DescribeQuorum.

The leader tracks one ReplicaState per voter (keyed by node id) and per observer (keyed by node id
and directory id): the replica's log end offset as last reported, the leader's wall clock at its
last fetch, and the last time it had caught up with the leader's log end. The leader's own state
holds only its end offset, which moves after each flush (`update_local_state`). Followers and
observers move their state by fetching (`update_replica_state`), which a multi-voter quorum's
Fetch handling will call; with one voter nothing else fetches, so the leader is the only replica.

Invariants: the high watermark is the largest end offset reached by a majority of the voters (the
leader counts), never moves back, and first moves only once an offset of the leader's own epoch is
replicated (it must exceed `epoch_start_offset`, KRaft's rule). Observers idle for
OBSERVER_SESSION_TIMEOUT_MS are forgotten when the states are read.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

# Kafka's LeaderState.OBSERVER_SESSION_TIMEOUT_MS.
OBSERVER_SESSION_TIMEOUT_MS = 300_000
NO_DIRECTORY_ID = bytes(16)  # Kafka's ReplicaKey.NO_DIRECTORY_ID (Uuid.ZERO_UUID)


@dataclasses.dataclass(frozen=True, slots=True)
class VoterNode:
    """A voter of the quorum (Kafka's VoterSet.VoterNode): its id, its metadata log directory id
    (NO_DIRECTORY_ID with static voters, kraft.version 0) and its controller listeners as
    (listener name, host, port)."""

    node_id: int
    directory_id: bytes = NO_DIRECTORY_ID
    listeners: tuple[tuple[str, str, int], ...] = ()


@dataclasses.dataclass(slots=True)
class ReplicaState:
    node_id: int
    directory_id: bytes = NO_DIRECTORY_ID
    listeners: tuple[tuple[str, str, int], ...] = ()
    end_offset: int = -1  # -1: unknown
    last_fetch_timestamp: int = -1
    last_fetch_leader_log_end_offset: int = -1
    last_caught_up_timestamp: int = -1

    def update_follower_state(self, now_ms: int, fetch_offset: int, leader_end_offset: int) -> None:
        """Kafka's ReplicaState.updateFollowerState: caught up now if the fetch reached the leader's
        end; caught up as of the previous fetch if it reached the leader's end at that fetch."""
        if leader_end_offset >= 0:
            if fetch_offset >= leader_end_offset:
                self.last_caught_up_timestamp = max(self.last_caught_up_timestamp, now_ms)
            elif self.last_fetch_leader_log_end_offset > 0 and fetch_offset >= self.last_fetch_leader_log_end_offset:
                self.last_caught_up_timestamp = max(self.last_caught_up_timestamp, self.last_fetch_timestamp)
            self.last_fetch_leader_log_end_offset = leader_end_offset
        self.last_fetch_timestamp = max(self.last_fetch_timestamp, now_ms)
        self.end_offset = fetch_offset


class LeaderState:
    """Owned by the RaftClient while it leads an epoch; replaced at every election."""

    def __init__(self, local_id: int, epoch: int, epoch_start_offset: int, voters: Sequence[VoterNode]) -> None:
        self.local_id = local_id
        self.epoch = epoch
        self.epoch_start_offset = epoch_start_offset
        self.high_watermark = -1  # -1: not known yet in this epoch
        self.voter_states: dict[int, ReplicaState] = {
            v.node_id: ReplicaState(v.node_id, v.directory_id, v.listeners) for v in voters}
        self.observer_states: dict[tuple[int, bytes], ReplicaState] = {}
        if local_id not in self.voter_states:
            raise ValueError(f"The leader {local_id} is not a voter of {sorted(self.voter_states)}")

    def update_local_state(self, end_offset: int) -> bool:
        """The leader's log end offset after a flush; True if the high watermark moved."""
        local = self.voter_states[self.local_id]
        if local.end_offset > end_offset:
            raise ValueError(f"Non-monotonic update of the local end offset: {local.end_offset} -> {end_offset}")
        local.end_offset = end_offset
        return self._maybe_update_high_watermark()

    def update_replica_state(self, node_id: int, directory_id: bytes, now_ms: int, fetch_offset: int) -> bool:
        """A fetch from another replica; True if the high watermark moved. Negative ids (not a
        replica) are ignored, as in Kafka."""
        if node_id < 0:
            return False
        if node_id == self.local_id:
            raise ValueError(f"Remote replica id {node_id} matches the local leader id")
        state = self.voter_states.get(node_id)
        is_voter = state is not None and (state.directory_id == NO_DIRECTORY_ID or state.directory_id == directory_id)
        if not is_voter:
            state = self.observer_states.setdefault((node_id, directory_id), ReplicaState(node_id, directory_id))
        assert state is not None
        state.update_follower_state(now_ms, fetch_offset, self.voter_states[self.local_id].end_offset)
        return is_voter and self._maybe_update_high_watermark()

    def observers(self, now_ms: int) -> list[ReplicaState]:
        """Kafka's observerStates(currentTimeMs): drops observers idle for the session timeout."""
        for key, state in list(self.observer_states.items()):
            if now_ms - state.last_fetch_timestamp >= OBSERVER_SESSION_TIMEOUT_MS and key[0] != self.local_id:
                del self.observer_states[key]
        return list(self.observer_states.values())

    def voters(self) -> list[ReplicaState]:
        return list(self.voter_states.values())

    def _maybe_update_high_watermark(self) -> bool:
        # Voters by descending end offset (unknown last); the one at index n/2 is on a majority.
        ordered = sorted(self.voter_states.values(),
                         key=lambda s: (s.end_offset < 0, -s.end_offset, s.node_id))
        candidate = ordered[len(ordered) // 2].end_offset
        if candidate < 0 or candidate <= self.epoch_start_offset or candidate <= self.high_watermark:
            return False
        self.high_watermark = candidate
        return True
