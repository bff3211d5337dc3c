"""Pending transactional offset commits (Kafka's OffsetMetadataManager.pendingTransactionalOffsets
and openTransactionsByGroup).

A TxnOffsetCommit's offsets are in `__consumer_offsets` (a transactional batch of the producer)
but not yet committed: they wait here, per producer id, until the transaction's COMMIT or ABORT
marker lands in the group's offsets partition (`take`). OffsetFetch never returns them; with
require_stable it answers UNSTABLE_OFFSET_COMMIT for their partitions.

Invariants:
- `_by_producer[pid]` holds, per (group, topic, partition), the producer's latest pending offset;
  a producer id appears in `_producers_by_group[group]` iff it has a pending offset of that group;
- no empty inner dict or set is kept, so "has pending" is a membership test.

Owned by the GroupCoordinator (event-loop thread only), which decides when offsets become pending
(commit or replay) and when they complete (markers written or replayed, tombstones).
"""
from __future__ import annotations

from typing import Callable

from fastkafka.cluster.group.classic_group import OffsetAndMetadata

GroupTopicPartition = tuple[str, str, int]  # (group id, topic, partition)


class PendingTransactionalOffsets:
    def __init__(self) -> None:
        self._by_producer: dict[int, dict[GroupTopicPartition, OffsetAndMetadata]] = {}
        self._producers_by_group: dict[str, set[int]] = {}

    def add(self, producer_id: int, group_id: str, topic: str, partition: int, om: OffsetAndMetadata) -> None:
        self._by_producer.setdefault(producer_id, {})[(group_id, topic, partition)] = om
        self._producers_by_group.setdefault(group_id, set()).add(producer_id)

    def has_pending(self, group_id: str, topic: str, partition: int) -> bool:
        """Kafka's hasPendingTransactionalOffsets(groupId, topic, partition)."""
        pids = self._producers_by_group.get(group_id)
        if not pids:
            return False
        key = (group_id, topic, partition)
        return any(key in self._by_producer.get(pid, {}) for pid in pids)

    def has_pending_group(self, group_id: str) -> bool:
        return group_id in self._producers_by_group

    def pending_partitions(self, group_id: str) -> set[tuple[str, int]]:
        out: set[tuple[str, int]] = set()
        for pid in self._producers_by_group.get(group_id, ()):
            out.update((t, p) for (g, t, p) in self._by_producer.get(pid, {}) if g == group_id)
        return out

    def take(self, producer_id: int, in_partition: Callable[[str], bool]
             ) -> dict[GroupTopicPartition, OffsetAndMetadata]:
        """Remove and return the producer's pending offsets of the groups `in_partition` accepts
        (the groups of the offsets partition whose marker completed the transaction)."""
        pending = self._by_producer.get(producer_id)
        if not pending:
            return {}
        taken = {k: om for k, om in pending.items() if in_partition(k[0])}
        for k in taken:
            del pending[k]
        if not pending:
            del self._by_producer[producer_id]
        for group_id in {k[0] for k in taken}:
            if not any(k[0] == group_id for k in pending):
                self._forget(group_id, producer_id)
        return taken

    def remove(self, group_id: str, topic: str, partition: int) -> None:
        """A tombstone of the partition's offset removes its pending offsets too (Kafka's replay)."""
        key = (group_id, topic, partition)
        for pid in list(self._producers_by_group.get(group_id, ())):
            pending = self._by_producer.get(pid)
            if pending is None or pending.pop(key, None) is None:
                continue
            if not pending:
                del self._by_producer[pid]
            if not any(k[0] == group_id for k in pending):
                self._forget(group_id, pid)

    def remove_group(self, group_id: str) -> None:
        for pid in self._producers_by_group.pop(group_id, set()):
            pending = self._by_producer.get(pid)
            if pending is None:
                continue
            for k in [k for k in pending if k[0] == group_id]:
                del pending[k]
            if not pending:
                del self._by_producer[pid]

    def _forget(self, group_id: str, producer_id: int) -> None:
        pids = self._producers_by_group.get(group_id)
        if pids is not None:
            pids.discard(producer_id)
            if not pids:
                del self._producers_by_group[group_id]
