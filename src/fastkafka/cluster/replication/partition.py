"""Partition: one topic-partition's replica on this node, as Kafka's `kafka.cluster.Partition`.

Owns the partition's leadership state (leader id, leader epoch, ISR) as last published by the
metadata image, its `UnifiedLog`, and, while leader, what it knows of each follower (`Replica`,
fed by the followers' fetches). Appends as leader go through here so the ISR/min.insync rule and
the high watermark move together.

Committed means below the high watermark. The high watermark is Kafka's maybeIncrementLeaderHW:
the smallest log end offset among this node (its `durable_end_offset`: a big append still being
written by the log writer thread does not count yet) and the followers that are in the ISR or
caught up and about to join it; it does not move while the ISR is smaller than the effective
minimum ISR (`min(min.insync.replicas, replicas)`, KIP-966). An acks=all produce is answered
when the high watermark passes its last offset (`await_replication`, Kafka's DelayedProduce):
with ISR = {this node} that is as soon as the bytes are in the log.

Invariants:
- `high_watermark <= log.log_end_offset`; it only moves forward while leader.
- Only the leader appends; a follower's log is written by replication.
- `remote_replicas` holds one `Replica` per other assigned replica while leader, none otherwise;
  a new leader epoch resets them (a new leader knows no follower's position).
- Every delayed produce completes exactly once: when the high watermark reaches its offset
  (error NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below the minimum), when
  this node stops leading (NOT_LEADER_OR_FOLLOWER), or when its requester gives up (timeout).

Concurrency contract: single writer, the event-loop thread; no awaits inside an append.
"""
from __future__ import annotations

import asyncio
from typing import Any

from fastkafka.cluster.replication.replica import Replica
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage import LogConfig, TopicPartition, UnifiedLog
from fastkafka.storage.log_segment import now_ms as _now_ms
from fastkafka.storage.producer_state_manager import AppendOrigin
from fastkafka.storage.unified_log import Prevalidated

# Waiting acks=all produces above which the timed-out ones are dropped before another is added.
PURGE_DELAYED_PRODUCES = 1024


class Partition:
    __slots__ = (
        "topic_partition", "topic_id", "log", "leader_id", "leader_epoch", "partition_epoch",
        "replicas", "isr", "local_node_id", "_waiters", "remote_replicas", "replica_lag_time_max_ms",
        "_delayed_produces",
    )

    def __init__(self, tp: TopicPartition, topic_id: bytes, log: UnifiedLog, local_node_id: int,
                 replica_lag_time_max_ms: int = 30_000) -> None:
        self.topic_partition = tp
        self.topic_id = topic_id
        self.log = log
        log.on_written = self._on_log_written
        self.local_node_id = local_node_id
        self.leader_id = -1
        self.leader_epoch = -1
        self.partition_epoch = -1
        self.replicas: list[int] = []
        self.isr: list[int] = []
        # Futures of delayed fetches waiting for new data on this partition (DelayedFetch).
        self._waiters: list[asyncio.Future[None]] = []
        # While leader: the other assigned replicas, as known from their fetches.
        self.remote_replicas: dict[int, Replica] = {}
        self.replica_lag_time_max_ms = replica_lag_time_max_ms
        # acks=all produces waiting for the high watermark (Kafka's DelayedProduce), in append
        # order: (offset the high watermark must reach, future of the error code).
        self._delayed_produces: list[tuple[int, asyncio.Future[int]]] = []

    @property
    def is_leader(self) -> bool:
        return self.leader_id == self.local_node_id

    def update_registration(self, leader: int, leader_epoch: int, partition_epoch: int,
                            replicas: list[int], isr: list[int], now_ms: int | None = None) -> None:
        """Apply leadership from the metadata image (Kafka's makeLeader / makeFollower)."""
        was_leader = self.is_leader
        new_leader_epoch = leader_epoch > self.leader_epoch
        self.leader_id = leader
        self.leader_epoch = leader_epoch
        self.partition_epoch = partition_epoch
        self.replicas = list(replicas)
        self.isr = list(isr)
        if self.is_leader:
            now = _now_ms() if now_ms is None else now_ms
            followers = [r for r in self.replicas if r != self.local_node_id]
            self.remote_replicas = {r: self.remote_replicas.get(r) or Replica(r) for r in followers}
            if new_leader_epoch or not was_leader:
                self.log.assign_epoch_start_offset(leader_epoch, self.log.log_end_offset)
                leo = self.log.log_end_offset
                for r in self.remote_replicas.values():
                    r.reset_replica_state(now, leo, not was_leader, r.broker_id in self.isr)
            self._maybe_advance_high_watermark(now)
            self._complete_delayed_produces()  # the ISR may have shrunk below the minimum
        else:
            self.remote_replicas = {}
            self._fail_delayed_produces(Errors.NOT_LEADER_OR_FOLLOWER)

    def check_leader_epoch(self, current_leader_epoch: int) -> None:
        """KIP-320 fencing: the client's view of the leader epoch against ours (-1 = no check)."""
        if current_leader_epoch < 0:
            return
        if current_leader_epoch > self.leader_epoch:
            raise KafkaError(Errors.UNKNOWN_LEADER_EPOCH)
        if current_leader_epoch < self.leader_epoch:
            raise KafkaError(Errors.FENCED_LEADER_EPOCH)

    def append_records_to_leader(self, records: Any, required_acks: int, now_ms: int,
                                 config: LogConfig, origin: AppendOrigin = AppendOrigin.CLIENT,
                                 compressed_checked: bool = False, validated: Prevalidated | None = None) -> Any:
        if not self.is_leader:
            raise KafkaError(Errors.NOT_LEADER_OR_FOLLOWER)
        min_isr = self.effective_min_isr(config)
        if required_acks == -1 and self._isr_size() < min_isr:
            raise KafkaError(
                Errors.NOT_ENOUGH_REPLICAS,
                f"The size of the current ISR {self._isr_size()} is insufficient to satisfy the "
                f"min.isr requirement of {min_isr} for partition {self.topic_partition}",
            )
        info = self.log.append_as_leader(records, self.leader_epoch, now_ms=now_ms, origin=origin,
                                         compressed_checked=compressed_checked, validated=validated)
        if self._maybe_advance_high_watermark(now_ms):
            self._complete_delayed_produces()
        self._wake_waiters()
        return info

    def effective_min_isr(self, config: LogConfig | None = None) -> int:
        """Kafka's effectiveMinIsr: min.insync.replicas, but never more than the replicas there are."""
        configured = (config or self.log.config).min_insync_replicas
        return min(configured, len(self.remote_replicas) + 1)

    def _isr_size(self) -> int:
        return len(self.isr) if self.isr else 1  # an empty ISR in the image: this node alone

    def _maybe_advance_high_watermark(self, now_ms: int | None = None) -> bool:
        """Kafka's maybeIncrementLeaderHW; True when the high watermark moved."""
        if self._isr_size() < self.effective_min_isr():
            return False  # KIP-966: nothing commits while the ISR is under the minimum
        new_hw = self.log.durable_end_offset  # the log end, short of bytes still being written
        if self.remote_replicas:
            leo = self.log.log_end_offset
            now = _now_ms() if now_ms is None else now_ms
            for r in self.remote_replicas.values():
                if r.log_end_offset < new_hw and (
                        r.broker_id in self.isr
                        or r.is_caught_up(leo, now, self.replica_lag_time_max_ms)):
                    new_hw = max(r.log_end_offset, 0)
        if new_hw > self.log.high_watermark:
            self.log.update_high_watermark(new_hw)
            return True
        return False

    def update_follower_fetch_state(self, replica_id: int, fetch_offset: int, log_start_offset: int,
                                    fetch_time_ms: int, leader_end_offset: int, broker_epoch: int = -1) -> None:
        """A follower's Fetch at `fetch_offset` was read (Kafka's updateFollowerFetchState): its
        position may move the high watermark, completing delayed produces and waking fetches."""
        replica = self.remote_replicas.get(replica_id)
        if replica is None:
            raise KafkaError(Errors.NOT_LEADER_OR_FOLLOWER,
                             f"Replica {replica_id} is not a follower of {self.topic_partition} on this leader")
        replica.update_fetch_state(fetch_offset, log_start_offset, fetch_time_ms, leader_end_offset, broker_epoch)
        if self._maybe_advance_high_watermark(fetch_time_ms):
            self._complete_delayed_produces()
            self._wake_waiters()

    # -- delayed produce (acks=all) ----------------------------------------------------------------
    def check_enough_replicas_reach_offset(self, required_offset: int) -> tuple[bool, int]:
        """Kafka's checkEnoughReplicasReachOffset: (done, error) for an acks=all append whose
        records end before `required_offset`."""
        if not self.is_leader:
            return True, Errors.NOT_LEADER_OR_FOLLOWER
        if self.log.high_watermark >= required_offset:
            if self.effective_min_isr() <= self._isr_size():
                return True, Errors.NONE
            return True, Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND
        return False, Errors.NONE

    def await_replication(self, required_offset: int) -> asyncio.Future[int] | None:
        """None when `required_offset` is committed already; else a future of the error code,
        done when the high watermark reaches it or leadership is lost. The requester cancels it
        on its timeout (Kafka answers REQUEST_TIMED_OUT then; the records stay appended)."""
        done, error = self.check_enough_replicas_reach_offset(required_offset)
        if done and error == Errors.NONE:
            return None
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if done:
            fut.set_result(error)
        else:
            if len(self._delayed_produces) >= PURGE_DELAYED_PRODUCES:
                # Requests that timed out while the high watermark stood still (Kafka's purgatory
                # purge): the list stays bounded by what is really waiting.
                self._delayed_produces = [(o, f) for o, f in self._delayed_produces if not f.done()]
            self._delayed_produces.append((required_offset, fut))
        return fut

    def delayed_produce_count(self) -> int:
        return len(self._delayed_produces)

    def _complete_delayed_produces(self) -> None:
        if not self._delayed_produces:
            return
        waiting = []
        for required, fut in self._delayed_produces:
            if fut.done():
                continue  # the requester timed out
            done, error = self.check_enough_replicas_reach_offset(required)
            if done:
                fut.set_result(error)
            else:
                waiting.append((required, fut))
        self._delayed_produces = waiting

    def _fail_delayed_produces(self, error: int) -> None:
        delayed, self._delayed_produces = self._delayed_produces, []
        for _, fut in delayed:
            if not fut.done():
                fut.set_result(error)

    def replace_log(self, log: UnifiedLog) -> None:
        """The partition's log moved to another log dir (AlterReplicaLogDirs): the new log reports
        its background writes here, the old one no longer does."""
        self.log.on_written = None
        self.log = log
        log.on_written = self._on_log_written

    def detach(self) -> None:
        """The partition is gone from this node: waiting fetches are woken, and the log drops its
        hook back to the partition. That hook is the only reference cycle between them, so a deleted
        topic's objects are freed at once by reference counting, including objects GcPolicy froze."""
        self._wake_waiters()
        self._fail_delayed_produces(Errors.NOT_LEADER_OR_FOLLOWER)
        self.remote_replicas = {}
        self.log.on_written = None

    def _on_log_written(self) -> None:
        """The log writer finished big appends: they count for the high watermark now."""
        if self.is_leader and self._maybe_advance_high_watermark():
            self._complete_delayed_produces()
        self._wake_waiters()

    # -- delayed fetch support ------------------------------------------------------------------
    def add_waiter(self, fut: asyncio.Future[None]) -> None:
        self._waiters.append(fut)

    def remove_waiter(self, fut: asyncio.Future[None]) -> None:
        try:
            self._waiters.remove(fut)
        except ValueError:
            pass

    def _wake_waiters(self) -> None:
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for f in waiters:
                if not f.done():
                    f.set_result(None)
