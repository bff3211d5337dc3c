"""LeaderEpochFileCache: the leader epoch -> start offset history of a partition, persisted in
`leader-epoch-checkpoint` (storage.internals.epoch.LeaderEpochFileCache).

File format (CheckpointFile, version 0): a line per entry "epoch start_offset", ascending.
"""
from __future__ import annotations

import bisect
import os
from typing import NamedTuple

from fastkafka.storage.checkpoint_file import CheckpointFile, deferred_fsync, fsync_paths

LEADER_EPOCH_CHECKPOINT_FILENAME = "leader-epoch-checkpoint"
UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1


class EpochEntry(NamedTuple):
    epoch: int
    start_offset: int


def _to_line(e: EpochEntry) -> str:
    return f"{e.epoch} {e.start_offset}"


def _from_line(line: str) -> EpochEntry | None:
    parts = line.split()
    if len(parts) != 2:
        return None
    try:
        return EpochEntry(int(parts[0]), int(parts[1]))
    except ValueError:
        return None


class LeaderEpochFileCache:
    """Invariants: epochs and start offsets both strictly increase along `entries`; an
    assignment that would break that removes the conflicting entries first (Kafka's
    removal of entries with epoch >= new or start offset >= new). Every assignment is written
    through to the checkpoint file (atomic) before it returns, so the file never misses an
    entry, but not fsynced there (Kafka 3.7+, KAFKA-15046: an fsync on the append path held
    appends up to ~110 ms on a busy disk): `sync()` fsyncs it, and UnifiedLog.flush calls it
    before moving the recovery point, so after an OS crash recovery re-reads every batch whose
    epoch the file may lack and assigns it again (LogSegment.recover). A truncation from the end
    may be left unwritten (`persist=False`, Kafka's truncateFromEndAsyncFlush): a stale entry
    past the log end read back after a crash is dropped again by the truncation every log load
    does; `flush_if_stale` writes it later.
    Concurrency: single writer: call only from the event loop thread.
    """

    def __init__(self, path: str) -> None:
        self._file: CheckpointFile[EpochEntry] = CheckpointFile(path, 0, _to_line, _from_line)
        self.entries: list[EpochEntry] = list(self._file.read())
        self._on_disk: list[EpochEntry] = list(self.entries)  # what the file holds
        self._unsynced = False  # the file was written since its last fsync

    @property
    def is_stale(self) -> bool:
        """Memory differs from the checkpoint file (a truncation not yet written)."""
        return self.entries != self._on_disk

    @property
    def latest_epoch(self) -> int | None:
        return self.entries[-1].epoch if self.entries else None

    @property
    def earliest_entry(self) -> EpochEntry | None:
        return self.entries[0] if self.entries else None

    def assign(self, epoch: int, start_offset: int) -> None:
        """Record that `epoch` starts at `start_offset` (LeaderEpochFileCache.assign)."""
        if epoch < 0:
            return
        if self._assign_in_memory(epoch, start_offset):
            with deferred_fsync():  # written now, fsynced by sync() (see the class docstring)
                self._flush()
            self._unsynced = True

    def sync(self) -> None:
        """fsync the checkpoint file (and its directory) if an assignment wrote it unsynced."""
        if self._unsynced:
            self._unsynced = False
            fsync_paths([self._file.path, os.path.dirname(os.path.abspath(self._file.path))])

    def assign_if_newer(self, epoch: int, start_offset: int) -> None:
        """During recovery: only a batch epoch above the latest known starts a new entry."""
        latest = self.latest_epoch
        if epoch >= 0 and (latest is None or epoch > latest):
            self.assign(epoch, start_offset)

    def _assign_in_memory(self, epoch: int, start_offset: int) -> bool:
        if self.entries:
            last = self.entries[-1]
            if last.epoch == epoch and last.start_offset <= start_offset:
                return False  # same epoch, already known from an earlier offset
        # Drop entries that the new one supersedes: a later-or-equal epoch, or a later-or-equal
        # start offset (the log was truncated below them).
        kept = [e for e in self.entries if e.epoch < epoch and e.start_offset < start_offset]
        kept.append(EpochEntry(epoch, start_offset))
        changed = kept != self.entries
        self.entries = kept
        return changed

    def epoch_for_offset(self, offset: int) -> int | None:
        """The epoch whose range contains `offset` (for ListOffsets' leader_epoch)."""
        i = bisect.bisect_right([e.start_offset for e in self.entries], offset) - 1
        return self.entries[i].epoch if i >= 0 else None

    def end_offset_for(self, requested_epoch: int, log_end_offset: int) -> tuple[int, int]:
        """(epoch, end offset) for OffsetForLeaderEpoch, as LeaderEpochFileCache.endOffsetFor:
        the latest epoch ends at the log end offset; an older epoch ends where the next higher
        epoch starts, reported with the largest known epoch <= it (or the requested epoch itself
        when it is below every known epoch); an epoch above all known ones is UNDEFINED."""
        if requested_epoch == UNDEFINED_EPOCH or not self.entries:
            return (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)
        latest = self.entries[-1]
        if requested_epoch == latest.epoch:
            return (latest.epoch, log_end_offset)
        higher = next((e for e in self.entries if e.epoch > requested_epoch), None)
        if higher is None:
            return (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)
        floor = None
        for e in self.entries:
            if e.epoch <= requested_epoch:
                floor = e
            else:
                break
        return (requested_epoch if floor is None else floor.epoch, higher.start_offset)

    def truncate_from_end(self, end_offset: int, *, persist: bool = True) -> None:
        """Drop entries starting at or after `end_offset` (log truncated to it). With
        persist=False the file is left as it is until the next write or `flush_if_stale`: at log
        load, where the leader's re-assignment of the same epoch usually restores it anyway."""
        kept = [e for e in self.entries if e.start_offset < end_offset]
        if kept != self.entries:
            self.entries = kept
            if persist:
                self._flush()

    def flush_if_stale(self) -> None:
        self._flush()

    def truncate_from_start(self, start_offset: int) -> None:
        """Log start moved to `start_offset`: entries wholly below it go, the one covering it
        is moved up to start there."""
        if not self.entries or self.entries[0].start_offset >= start_offset:
            return
        kept = [e for e in self.entries if e.start_offset > start_offset]
        below = [e for e in self.entries if e.start_offset <= start_offset]
        kept.insert(0, EpochEntry(below[-1].epoch, start_offset))
        self.entries = kept
        self._flush()

    def clear(self) -> None:
        self.entries = []
        self._flush()

    def _flush(self) -> None:
        if self.entries == self._on_disk:
            return  # e.g. a deferred truncation undone by re-assigning the same epoch
        self._file.write(self.entries)
        self._on_disk = list(self.entries)
