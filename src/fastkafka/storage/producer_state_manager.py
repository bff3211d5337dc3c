"""Idempotent/transactional producer state of one partition (storage.internals.log:
ProducerStateManager, ProducerStateEntry, BatchMetadata, ProducerAppendInfo, AppendOrigin).

Per producer id the leader keeps the epoch, the metadata of the last 5 appended batches (the
idempotent producer's max in-flight requests), the coordinator epoch and the first offset of an
ongoing transaction. That is enough to (a) reject fenced epochs and sequence gaps, (b) answer an
exact retry of any of the last 5 batches with its original offsets, and (c) compute the first
unstable offset (the LSO bound).

Snapshots, as Kafka: `<20-digit offset>.snapshot` (ProducerSnapshot v1, each producer's last
batch, its coordinator epoch and open transaction) is taken at the new segment's base offset on
every roll, at the log end on close and after a load; a load reads the latest snapshot at or
below where it must start and folds in only the batches after it. A snapshot is deleted with the
segment whose base offset it names (renamed `.deleted`), when it lies outside [log start, log
end] at load, or on full truncation. Producers idle for `producer.id.expiration.ms` (by their
last batch timestamp) without an open transaction are removed, also when a snapshot is read.
"""
from __future__ import annotations

import enum
import os
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import crc32c

SNAPSHOT_SUFFIX = ".snapshot"
DELETED_SUFFIX = ".deleted"
PRODUCER_SNAPSHOT_VERSION = 1
DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86400000
_SNAPSHOT_HEADER = struct.Struct(">hIi")  # version, crc (of everything after it), entry count
_SNAPSHOT_ENTRY = struct.Struct(">qhiqiqiq")
_CRC_START = 6  # Kafka's PRODUCER_ENTRIES_OFFSET: the CRC covers the bytes after version + crc


class CorruptSnapshotError(Exception):
    """Kafka's CorruptSnapshotException: the snapshot is skipped and deleted."""


def snapshot_file(log_dir: str, offset: int) -> str:
    return os.path.join(log_dir, f"{offset:020d}{SNAPSHOT_SUFFIX}")


def list_snapshot_offsets(log_dir: str) -> list[int]:
    """Offsets of the `.snapshot` files in `log_dir`, ascending."""
    out = []
    try:
        names = os.listdir(log_dir)
    except FileNotFoundError:
        return []
    for name in names:
        if name.endswith(SNAPSHOT_SUFFIX) and name[:-len(SNAPSHOT_SUFFIX)].isdigit():
            out.append(int(name[:-len(SNAPSHOT_SUFFIX)]))
    return sorted(out)



from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.checkpoint_file import atomic_write

NUM_BATCHES_TO_RETAIN = 5
NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
INT32_MAX = 2**31 - 1


class AppendOrigin(enum.Enum):
    """Who is appending, which decides how much is validated (Kafka's AppendOrigin)."""

    REPLICATION = 0
    COORDINATOR = 1
    CLIENT = 2
    RAFT_LEADER = 3


def decrement_sequence(sequence: int, decrement: int) -> int:
    """DefaultRecordBatch.decrementSequence: sequences wrap from INT32_MAX to 0."""
    if sequence < decrement:
        return INT32_MAX - (decrement - sequence) + 1
    return sequence - decrement


def increment_sequence(sequence: int, increment: int) -> int:
    if sequence > INT32_MAX - increment:
        return increment - (INT32_MAX - sequence) - 1
    return sequence + increment


class BatchMetadata(NamedTuple):
    """One appended batch of a producer: last sequence/offset, the offset span, max timestamp."""

    last_seq: int
    last_offset: int
    offset_delta: int
    timestamp: int

    @property
    def first_seq(self) -> int:
        return decrement_sequence(self.last_seq, self.offset_delta)

    @property
    def first_offset(self) -> int:
        return self.last_offset - self.offset_delta


@dataclass
class ProducerStateEntry:
    """State of one producer id in one partition.

    Invariants: `batch_metadata` holds at most NUM_BATCHES_TO_RETAIN entries, oldest first, all
    of the current `producer_epoch` (an epoch change clears it); `current_txn_first_offset` is
    set exactly while a transaction of this producer is open in this partition.
    """

    producer_id: int
    producer_epoch: int = NO_PRODUCER_EPOCH
    batch_metadata: deque[BatchMetadata] = field(default_factory=lambda: deque(maxlen=NUM_BATCHES_TO_RETAIN))
    coordinator_epoch: int = -1
    last_timestamp: int = -1
    current_txn_first_offset: int | None = None

    @property
    def is_empty(self) -> bool:
        return not self.batch_metadata

    @property
    def first_seq(self) -> int:
        return self.batch_metadata[0].first_seq if self.batch_metadata else NO_SEQUENCE

    @property
    def last_seq(self) -> int:
        return self.batch_metadata[-1].last_seq if self.batch_metadata else NO_SEQUENCE

    @property
    def first_data_offset(self) -> int:
        return self.batch_metadata[0].first_offset if self.batch_metadata else -1

    @property
    def last_data_offset(self) -> int:
        return self.batch_metadata[-1].last_offset if self.batch_metadata else -1

    def copy(self) -> ProducerStateEntry:
        return ProducerStateEntry(self.producer_id, self.producer_epoch,
                                  deque(self.batch_metadata, maxlen=NUM_BATCHES_TO_RETAIN),
                                  self.coordinator_epoch, self.last_timestamp, self.current_txn_first_offset)

    def maybe_update_producer_epoch(self, producer_epoch: int) -> bool:
        if self.producer_epoch != producer_epoch:
            self.batch_metadata.clear()
            self.producer_epoch = producer_epoch
            return True
        return False

    def add_batch(self, producer_epoch: int, last_seq: int, last_offset: int, offset_delta: int,
                  timestamp: int) -> None:
        self.maybe_update_producer_epoch(producer_epoch)
        self.batch_metadata.append(BatchMetadata(last_seq, last_offset, offset_delta, timestamp))
        self.last_timestamp = timestamp

    def find_duplicate_batch(self, producer_epoch: int, base_sequence: int, last_sequence: int) -> BatchMetadata | None:
        """The cached batch with exactly this epoch and sequence range (an idempotent retry)."""
        if producer_epoch != self.producer_epoch:
            return None
        for m in self.batch_metadata:
            if m.first_seq == base_sequence and m.last_seq == last_sequence:
                return m
        return None


class CompletedTxn(NamedTuple):
    producer_id: int
    first_offset: int
    last_offset: int
    is_aborted: bool


class ProducerAppendInfo:
    """Validation and the pending update for one producer's batches in one append; applied to
    the manager only after the log write succeeded (`ProducerStateManager.update`)."""

    def __init__(self, topic_partition: str, producer_id: int, current_entry: ProducerStateEntry | None,
                 origin: AppendOrigin) -> None:
        self.topic_partition = topic_partition
        self.producer_id = producer_id
        self.origin = origin
        self.current_entry = current_entry if current_entry is not None else ProducerStateEntry(producer_id)
        self.updated_entry = self.current_entry.copy()
        self.started_transactions: list[int] = []

    def _check_producer_epoch(self, producer_epoch: int, offset: int) -> None:
        current = self.updated_entry.producer_epoch
        if producer_epoch < current:
            message = (f"Epoch of producer {self.producer_id} at offset {offset} in {self.topic_partition} is "
                       f"{producer_epoch}, which is smaller than the last seen epoch {current}")
            if self.origin is not AppendOrigin.REPLICATION:
                # Since 2.7 INVALID_PRODUCER_EPOCH, not PRODUCER_FENCED, so the client can abort and retry.
                raise KafkaError(Errors.INVALID_PRODUCER_EPOCH, message)

    def _check_sequence(self, producer_epoch: int, append_first_seq: int, offset: int) -> None:
        updated = self.updated_entry
        if producer_epoch != updated.producer_epoch:
            if append_first_seq != 0 and updated.producer_epoch != NO_PRODUCER_EPOCH:
                raise KafkaError(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                                 f"Invalid sequence number for new epoch of producer {self.producer_id} at offset "
                                 f"{offset} in partition {self.topic_partition}: {producer_epoch} (request epoch), "
                                 f"{append_first_seq} (seq. number), {updated.producer_epoch} (current producer epoch)")
        else:
            if not updated.is_empty:
                current_last_seq = updated.last_seq
            elif producer_epoch == self.current_entry.producer_epoch:
                current_last_seq = self.current_entry.last_seq
            else:
                current_last_seq = NO_SEQUENCE
            # No known epoch (all of the producer's records were removed by retention or
            # DeleteRecords): Kafka accepts any sequence rather than failing the producer.
            if not (self.current_entry.producer_epoch == NO_PRODUCER_EPOCH
                    or _in_sequence(current_last_seq, append_first_seq)):
                raise KafkaError(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                                 f"Out of order sequence number for producer {self.producer_id} at offset {offset} "
                                 f"in partition {self.topic_partition}: {append_first_seq} (incoming seq. number), "
                                 f"{current_last_seq} (current end sequence number)")

    def append_data_batch(self, epoch: int, first_seq: int, last_seq: int, last_timestamp: int,
                          first_offset: int, last_offset: int, is_transactional: bool) -> None:
        self._check_producer_epoch(epoch, first_offset)
        if self.origin is AppendOrigin.CLIENT:
            self._check_sequence(epoch, first_seq, first_offset)
        self.updated_entry.add_batch(epoch, last_seq, last_offset, last_offset - first_offset, last_timestamp)
        txn_first = self.updated_entry.current_txn_first_offset
        if txn_first is not None and not is_transactional:
            raise KafkaError(Errors.INVALID_TXN_STATE,
                             f"Expected transactional write from producer {self.producer_id} at offset "
                             f"{first_offset} in partition {self.topic_partition}")
        if txn_first is None and is_transactional:
            self.updated_entry.current_txn_first_offset = first_offset
            self.started_transactions.append(first_offset)

    def append_end_txn_marker(self, is_abort: bool, coordinator_epoch: int, producer_epoch: int,
                              offset: int, timestamp: int) -> CompletedTxn | None:
        self._check_producer_epoch(producer_epoch, offset)
        if self.updated_entry.coordinator_epoch > coordinator_epoch >= 0:
            if self.origin is not AppendOrigin.REPLICATION:
                raise KafkaError(Errors.TRANSACTION_COORDINATOR_FENCED,
                                 f"Invalid coordinator epoch for producerId {self.producer_id} at offset {offset} "
                                 f"in partition {self.topic_partition}: {coordinator_epoch} (zombie), "
                                 f"{self.updated_entry.coordinator_epoch} (current)")
        first = self.updated_entry.current_txn_first_offset
        completed = CompletedTxn(self.producer_id, first, offset, is_abort) if first is not None else None
        self.updated_entry.maybe_update_producer_epoch(producer_epoch)
        if coordinator_epoch >= 0:
            self.updated_entry.coordinator_epoch = coordinator_epoch
        self.updated_entry.current_txn_first_offset = None
        self.updated_entry.last_timestamp = timestamp
        return completed

    def to_entry(self) -> ProducerStateEntry:
        return self.updated_entry


def _in_sequence(last_seq: int, next_seq: int) -> bool:
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == INT32_MAX)


def write_snapshot(path: str, producers: dict[int, ProducerStateEntry]) -> None:
    """ProducerSnapshot v1: int16 version, uint32 CRC-32C of the rest, int32 entry count, then per
    producer ProducerId int64, Epoch int16, LastSequence int32, LastOffset int64, OffsetDelta
    int32, Timestamp int64, CoordinatorEpoch int32, CurrentTxnFirstOffset int64 (-1 if none)."""
    body = bytearray(struct.pack(">i", len(producers)))
    for pid in sorted(producers):
        e = producers[pid]
        last = e.batch_metadata[-1] if e.batch_metadata else None
        body += _SNAPSHOT_ENTRY.pack(
            pid, e.producer_epoch, last.last_seq if last else NO_SEQUENCE, last.last_offset if last else -1,
            last.offset_delta if last else 0, e.last_timestamp, e.coordinator_epoch,
            e.current_txn_first_offset if e.current_txn_first_offset is not None else -1)
    atomic_write(path, struct.pack(">hI", PRODUCER_SNAPSHOT_VERSION, crc32c.crc32c(bytes(body))) + bytes(body))


def read_snapshot(path: str) -> list[ProducerStateEntry]:
    """Kafka's ProducerStateManager.readSnapshot; CorruptSnapshotError on a bad version, length or CRC."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        version, crc, count = _SNAPSHOT_HEADER.unpack_from(data, 0)
    except struct.error as e:
        raise CorruptSnapshotError(f"Snapshot failed schema validation: {e}") from None
    if version != PRODUCER_SNAPSHOT_VERSION:
        raise CorruptSnapshotError(f"Snapshot contained an unknown file version {version}")
    if count < 0 or len(data) != _SNAPSHOT_HEADER.size + count * _SNAPSHOT_ENTRY.size:
        raise CorruptSnapshotError("Snapshot failed schema validation: wrong length")
    computed = crc32c.crc32c(data[_CRC_START:])
    if computed != crc:
        raise CorruptSnapshotError(f"Snapshot is corrupt (CRC is no longer valid). Stored crc: {crc}. "
                                   f"Computed crc: {computed}")
    entries: list[ProducerStateEntry] = []
    for pid, epoch, last_seq, last_offset, delta, ts, coord, txn_first in \
            _SNAPSHOT_ENTRY.iter_unpack(data[_SNAPSHOT_HEADER.size:]):
        entry = ProducerStateEntry(pid, epoch, coordinator_epoch=coord, last_timestamp=ts,
                                   current_txn_first_offset=txn_first if txn_first >= 0 else None)
        if last_offset >= 0:
            entry.batch_metadata.append(BatchMetadata(last_seq, last_offset, delta, ts))
        entries.append(entry)
    return entries


class ProducerStateManager:
    """All producer entries of one partition plus the ongoing-transaction index.

    Invariants: `ongoing_txns` maps each open transaction's first offset to its producer id and
    agrees with the entries' `current_txn_first_offset`; `map_end_offset` is the offset after
    the last batch folded in (the log end offset once loaded).
    Concurrency: single writer: call only from the event loop thread (owned by its UnifiedLog).
    """

    def __init__(self, topic_partition: str, log_dir: str | None = None,
                 producer_id_expiration_ms: int = DEFAULT_PRODUCER_ID_EXPIRATION_MS) -> None:
        self.topic_partition = topic_partition
        self.log_dir = log_dir
        self.producer_id_expiration_ms = producer_id_expiration_ms
        self.producers: dict[int, ProducerStateEntry] = {}
        self.ongoing_txns: dict[int, int] = {}  # first offset -> producer id
        self.map_end_offset = 0
        self.last_snapshot_offset = 0
        # Offsets of the snapshot files on disk (Kafka's `snapshots` map), ascending.
        self.snapshots: list[int] = list_snapshot_offsets(log_dir) if log_dir is not None else []

    def last_entry(self, producer_id: int) -> ProducerStateEntry | None:
        return self.producers.get(producer_id)

    def prepare_update(self, producer_id: int, origin: AppendOrigin) -> ProducerAppendInfo:
        return ProducerAppendInfo(self.topic_partition, producer_id, self.producers.get(producer_id), origin)

    def update(self, append_info: ProducerAppendInfo) -> None:
        """Apply a validated append (after the log write succeeded)."""
        if append_info.producer_id == NO_PRODUCER_ID:
            raise ValueError(f"Invalid producer id {append_info.producer_id} passed to update for {self.topic_partition}")
        entry = append_info.to_entry()
        old = self.producers.get(append_info.producer_id)
        if old is not None and old.current_txn_first_offset is not None \
                and old.current_txn_first_offset != entry.current_txn_first_offset:
            self.ongoing_txns.pop(old.current_txn_first_offset, None)
        self.producers[append_info.producer_id] = entry
        for first in append_info.started_transactions:
            self.ongoing_txns[first] = append_info.producer_id

    def update_map_end_offset(self, last_offset: int) -> None:
        self.map_end_offset = last_offset

    @property
    def first_unstable_offset(self) -> int | None:
        return min(self.ongoing_txns) if self.ongoing_txns else None

    def last_stable_offset(self, completed_txn: CompletedTxn) -> int:
        """The LSO right after `completed_txn`'s marker: the first offset of the earliest other
        open transaction, else the offset after the marker (Kafka's lastStableOffset(CompletedTxn)).
        Called after the marker's update was applied; markers are rare, so the scan is fine."""
        others = [first for first, pid in self.ongoing_txns.items() if pid != completed_txn.producer_id]
        return min(others) if others else completed_txn.last_offset + 1

    def update_from_header(self, h: Any, marker: tuple[bool, int] | None = None) -> CompletedTxn | None:
        """Fold one batch header in during log loading (origin REPLICATION: no checks).

        Control batches end the producer's open transaction; `marker` is the control record's
        (is_abort, coordinator epoch) when the caller read it (to rebuild the `.txnindex`).
        Returns the completed transaction, if a marker ended a non-empty one."""
        if h.producer_id < 0:
            self.map_end_offset = h.last_offset + 1
            return None
        info = self.prepare_update(h.producer_id, AppendOrigin.REPLICATION)
        completed = None
        if h.is_control:
            is_abort, coordinator_epoch = marker if marker is not None else (False, -1)
            completed = info.append_end_txn_marker(is_abort, coordinator_epoch, h.producer_epoch, h.base_offset,
                                                   h.max_timestamp)
        else:
            last_seq = increment_sequence(h.base_sequence, h.last_offset - h.base_offset) \
                if h.base_sequence >= 0 else NO_SEQUENCE
            info.append_data_batch(h.producer_epoch, h.base_sequence, last_seq, h.max_timestamp,
                                   h.base_offset, h.last_offset, h.is_transactional)
        self.update(info)
        self.map_end_offset = h.last_offset + 1
        return completed

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Forget everything and delete every snapshot (the log was reset to `offset`)."""
        self.producers.clear()
        self.ongoing_txns.clear()
        for snap in list(self.snapshots):
            self._remove_and_delete_snapshot(snap)
        self.map_end_offset = offset
        self.last_snapshot_offset = 0

    def clear(self, offset: int) -> None:
        """Forget the in-memory state only (a rebuild follows), keeping the snapshot files."""
        self.producers.clear()
        self.ongoing_txns.clear()
        self.map_end_offset = offset

    def _is_producer_expired(self, now_ms: int, entry: ProducerStateEntry) -> bool:
        return entry.current_txn_first_offset is None and \
            now_ms - entry.last_timestamp >= self.producer_id_expiration_ms

    def remove_expired_producers(self, now_ms: int) -> int:
        """Drop producers idle for producer.id.expiration.ms without an open transaction (Kafka's
        removeExpiredProducers, run by PeriodicProducerExpirationCheck). Returns how many."""
        expired = [pid for pid, e in self.producers.items() if self._is_producer_expired(now_ms, e)]
        for pid in expired:
            del self.producers[pid]
        return len(expired)

    def load_producer_entry(self, entry: ProducerStateEntry) -> None:
        self.producers[entry.producer_id] = entry
        if entry.current_txn_first_offset is not None:
            self.ongoing_txns[entry.current_txn_first_offset] = entry.producer_id

    def truncate_and_reload(self, log_start_offset: int, log_end_offset: int, now_ms: int) -> None:
        """Kafka's truncateAndReload: delete the snapshots outside (log start, log end], then
        load the latest remaining one (skipping and deleting corrupt ones); `map_end_offset` is
        the snapshot's offset, or the log start offset without one. The caller folds in the
        batches from there."""
        for snap in list(self.snapshots):
            if snap > log_end_offset or snap <= log_start_offset:
                self._remove_and_delete_snapshot(snap)
        self.producers.clear()
        self.ongoing_txns.clear()
        while self.snapshots and self.log_dir is not None:
            snap = self.snapshots[-1]
            try:
                entries = read_snapshot(snapshot_file(self.log_dir, snap))
            except (CorruptSnapshotError, OSError):
                self._remove_and_delete_snapshot(snap)
                continue
            for e in entries:
                if not self._is_producer_expired(now_ms, e):
                    self.load_producer_entry(e)
            self.map_end_offset = self.last_snapshot_offset = snap
            return
        self.map_end_offset = self.last_snapshot_offset = log_start_offset

    def remove_stray_snapshots(self, segment_base_offsets: list[int]) -> None:
        """Kafka's removeStraySnapshots (at load): delete every snapshot not named by a segment
        base offset, except the largest such one if it lies above the last segment's base offset
        (the one a clean shutdown or the last load wrote at the log end)."""
        bases = set(segment_base_offsets)
        stray = [snap for snap in self.snapshots if snap not in bases]
        if not stray:
            return
        for snap in stray[:-1]:
            self._remove_and_delete_snapshot(snap)
        if bases and stray[-1] < max(bases):
            self._remove_and_delete_snapshot(stray[-1])

    @property
    def latest_snapshot_offset(self) -> int | None:
        return self.snapshots[-1] if self.snapshots else None

    def _remove_and_delete_snapshot(self, offset: int) -> None:
        if offset in self.snapshots:
            self.snapshots.remove(offset)
        if self.log_dir is not None:
            try:
                os.remove(snapshot_file(self.log_dir, offset))
            except FileNotFoundError:
                pass

    def remove_and_mark_snapshot_for_deletion(self, offset: int) -> str | None:
        """The segment at `offset` is being deleted: its snapshot is renamed `.deleted` (unlinked
        with the segment's files). Returns the new path, if there was a snapshot."""
        if offset not in self.snapshots or self.log_dir is None:
            return None
        self.snapshots.remove(offset)
        path = snapshot_file(self.log_dir, offset)
        try:
            os.rename(path, path + DELETED_SUFFIX)
        except FileNotFoundError:
            return None
        return path + DELETED_SUFFIX

    def delete_snapshots_before(self, offset: int) -> None:
        for snap in [s for s in self.snapshots if s < offset]:
            self._remove_and_delete_snapshot(snap)

    def moved_to(self, log_dir: str) -> None:
        self.log_dir = log_dir

    def active_producers(self) -> dict[int, ProducerStateEntry]:
        return dict(self.producers)

    # -- snapshots ------------------------------------------------------------------------------
    def take_snapshot(self) -> str | None:
        """Write `<map_end_offset>.snapshot` unless the latest snapshot is already at that
        offset (Kafka's takeSnapshot: on roll, close, and after a load). Older snapshots stay:
        each goes with its segment."""
        if self.log_dir is None or self.map_end_offset <= self.last_snapshot_offset:
            return None
        name = snapshot_file(self.log_dir, self.map_end_offset)
        write_snapshot(name, self.producers)
        if self.map_end_offset not in self.snapshots:
            self.snapshots.append(self.map_end_offset)
            self.snapshots.sort()
        self.last_snapshot_offset = self.map_end_offset
        return name
