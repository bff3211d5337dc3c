"""Partition: one topic-partition's replica on this node, as Kafka's `kafka.cluster.Partition`.

Owns the partition's leadership state (leader id, leader epoch, ISR) as last published by the
metadata image, and its `UnifiedLog`. Appends as leader go through here so the ISR/min.insync
rule and the high watermark move together.

Invariants:
- `high_watermark <= log.log_end_offset`; it only moves forward while leader.
- Only the leader appends; a follower's log is written by replication (later issue).
- With ISR = {this node}, an append is fully replicated as soon as it is in the log, so the high
  watermark moves to the log end at once and acks=all completes without waiting; a big append
  written by the log writer thread is in the log once written: the high watermark stops at
  `log.durable_end_offset` and moves on (waking fetches) when the write completes.

Concurrency contract: single writer, the event-loop thread; no awaits inside an append.
"""
from __future__ import annotations

import asyncio
from typing import Any

from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage import LogConfig, TopicPartition, UnifiedLog
from fastkafka.storage.producer_state_manager import AppendOrigin
from fastkafka.storage.unified_log import Prevalidated


class Partition:
    __slots__ = (
        "topic_partition", "topic_id", "log", "leader_id", "leader_epoch", "partition_epoch",
        "replicas", "isr", "local_node_id", "_waiters",
    )

    def __init__(self, tp: TopicPartition, topic_id: bytes, log: UnifiedLog, local_node_id: int) -> None:
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

    @property
    def is_leader(self) -> bool:
        return self.leader_id == self.local_node_id

    def update_registration(self, leader: int, leader_epoch: int, partition_epoch: int,
                            replicas: list[int], isr: list[int]) -> None:
        """Apply leadership from the metadata image (makeLeader / makeFollower)."""
        self.leader_id = leader
        self.leader_epoch = leader_epoch
        self.partition_epoch = partition_epoch
        self.replicas = list(replicas)
        self.isr = list(isr)
        if self.is_leader:
            self.log.assign_epoch_start_offset(leader_epoch, self.log.log_end_offset)
            self._maybe_advance_high_watermark()

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
        if required_acks == -1 and len(self.isr) < config.min_insync_replicas:
            raise KafkaError(
                Errors.NOT_ENOUGH_REPLICAS,
                f"The size of the current ISR {len(self.isr)} is insufficient to satisfy the "
                f"min.isr requirement of {config.min_insync_replicas} for partition {self.topic_partition}",
            )
        info = self.log.append_as_leader(records, self.leader_epoch, now_ms=now_ms, origin=origin,
                                         compressed_checked=compressed_checked, validated=validated)
        self._maybe_advance_high_watermark()
        self._wake_waiters()
        return info

    def _maybe_advance_high_watermark(self) -> None:
        # The HW is the smallest log end offset among ISR members; replication (a later issue)
        # feeds follower LEOs here. With ISR = [self] it is our own log end offset.
        if self.isr == [self.local_node_id] or not self.isr:
            leo = self.log.durable_end_offset  # the log end, short of bytes still being written
            if leo > self.log.high_watermark:
                self.log.update_high_watermark(leo)

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
        self.log.on_written = None

    def _on_log_written(self) -> None:
        """The log writer finished big appends: they count for the high watermark now."""
        if self.is_leader:
            self._maybe_advance_high_watermark()
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
