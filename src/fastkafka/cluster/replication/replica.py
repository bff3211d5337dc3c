"""Replica: what a partition's leader knows of one follower, as Kafka's `kafka.cluster.Replica`.

The leader learns a follower's position only from that follower's Fetch requests: the fetch
offset is the follower's log end offset (everything below it is in the follower's log), and the
leader's log end offset at the time of the fetch tells whether the follower was caught up then.

Invariants (Kafka's ReplicaState):
- `log_end_offset` is -1 until the first fetch of this leadership (a new leader knows nothing of
  its followers); it only changes through `update_fetch_state`.
- `last_caught_up_time_ms` is the time of the latest fetch whose offset reached the leader's log
  end offset as of the previous fetch, or as of this one (Kafka's rule: a follower fetching at
  the rate the leader appends is caught up even though it never reaches the moving end).
- A follower is caught up while `last_caught_up_time_ms` is within `replica.lag.time.max.ms`;
  only a caught-up follower of the current leader epoch may join the ISR.

Owned by the `Partition` that leads; the event loop is its only writer.
"""
from __future__ import annotations

__all__ = ["Replica"]


class Replica:
    __slots__ = ("broker_id", "log_end_offset", "log_start_offset", "broker_epoch", "last_fetch_time_ms",
                 "last_fetch_leader_log_end_offset", "last_caught_up_time_ms")

    def __init__(self, broker_id: int) -> None:
        self.broker_id = broker_id
        self.log_end_offset = -1
        self.log_start_offset = -1
        self.broker_epoch = -1
        self.last_fetch_time_ms = 0
        self.last_fetch_leader_log_end_offset = 0
        self.last_caught_up_time_ms = 0

    def update_fetch_state(self, fetch_offset: int, log_start_offset: int, fetch_time_ms: int,
                           leader_end_offset: int, broker_epoch: int = -1) -> None:
        """A Fetch from this follower at `fetch_offset` (its log end) was served when the leader's
        log ended at `leader_end_offset` (Kafka's Replica.updateFetchStateOrThrow)."""
        if fetch_offset >= leader_end_offset:
            self.last_caught_up_time_ms = max(self.last_caught_up_time_ms, fetch_time_ms)
        elif fetch_offset >= self.last_fetch_leader_log_end_offset:
            self.last_caught_up_time_ms = max(self.last_caught_up_time_ms, self.last_fetch_time_ms)
        self.log_start_offset = log_start_offset
        self.log_end_offset = fetch_offset
        self.broker_epoch = broker_epoch
        self.last_fetch_leader_log_end_offset = leader_end_offset
        self.last_fetch_time_ms = fetch_time_ms

    def reset_replica_state(self, now_ms: int, leader_end_offset: int, is_new_leader: bool,
                            is_follower_in_sync: bool) -> None:
        """This node became the partition's leader (Kafka's Replica.resetReplicaState): a new
        leader knows no follower's position; an in-sync follower counts as caught up now, so it
        is not shrunk out of the ISR before its first fetch."""
        if is_new_leader:
            self.log_end_offset = -1
            self.log_start_offset = -1
            self.broker_epoch = -1
        self.last_caught_up_time_ms = now_ms if is_follower_in_sync else 0
        self.last_fetch_leader_log_end_offset = leader_end_offset
        self.last_fetch_time_ms = 0

    def is_caught_up(self, leader_end_offset: int, now_ms: int, replica_lag_time_max_ms: int) -> bool:
        """Caught up to `leader_end_offset`, or recently enough (Kafka's ReplicaState.isCaughtUp)."""
        return (leader_end_offset == self.log_end_offset
                or now_ms - self.last_caught_up_time_ms <= replica_lag_time_max_ms)

    def __repr__(self) -> str:
        return (f"Replica(broker_id={self.broker_id}, log_end_offset={self.log_end_offset}, "
                f"last_caught_up_time_ms={self.last_caught_up_time_ms})")
