"""LogCleanerManager: which compacted log to clean next, per-partition cleaning states, and the
`cleaner-offset-checkpoint` file of each log dir (Kafka's LogCleanerManager).

Invariants: a partition is in `in_progress` while a cleaner thread works on it or while its
compact,delete retention runs (LogCleaningInProgress), or while cleaning is paused
(LogCleaningPaused(n), by `abort_and_pause_cleaning`); a partition in any state is never handed
to a cleaner. The checkpoint maps each compacted partition to its first dirty offset (everything
below it was cleaned) and only ever moves forward for a log, except when it is invalid (below
the log start or past the log end), when it restarts at the log start offset as Kafka does.
Concurrency: owned by the event loop thread; cleaner threads never call it (their results come
back to the loop first).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fastkafka.storage.checkpoint_file import OffsetCheckpointFile
from fastkafka.storage.log_cleaner import LogToClean
from fastkafka.storage.log_segment import LogSegment
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import UnifiedLog

_logger = logging.getLogger(__name__)

OFFSET_CHECKPOINT_FILE = "cleaner-offset-checkpoint"
LONG_MAX = 2**63 - 1


@dataclass(frozen=True)
class LogCleaningState:
    """Kafka's LogCleaningState: in progress, aborted (by a pause while in progress), or paused
    `paused_count` times."""
    name: str
    paused_count: int = 0


LOG_CLEANING_IN_PROGRESS = LogCleaningState("LogCleaningInProgress")
LOG_CLEANING_ABORTED = LogCleaningState("LogCleaningAborted")


def log_cleaning_paused(n: int) -> LogCleaningState:
    return LogCleaningState("LogCleaningPaused", n)


@dataclass(frozen=True)
class OffsetsToClean:
    first_dirty_offset: int
    first_uncleanable_dirty_offset: int
    force_update_checkpoint: bool = False


class LogCleanerManager:
    """Kafka's LogCleanerManager over the logs `logs()` returns (tp -> (log dir, log)).
    `compacted_logs()`, when given, returns only those whose cleanup.policy has compact: the
    scans of each cleaner pass (grab, deletable) go over these, so a broker with 10,000
    non-compacted partitions does not walk them all on the event loop every backoff (98-119 ms
    measured on a loaded machine); `logs()` stays the live set of the checkpoints, as Kafka's."""

    def __init__(self, log_dirs: list[str], logs: Callable[[], dict[TopicPartition, tuple[str, UnifiedLog]]],
                 compacted_logs: Callable[[], dict[TopicPartition, tuple[str, UnifiedLog]]] | None = None) -> None:
        self.log_dirs = list(log_dirs)
        self._logs = logs
        self._compacted_logs = compacted_logs or logs
        self.checkpoints = {d: OffsetCheckpointFile(os.path.join(d, OFFSET_CHECKPOINT_FILE)) for d in log_dirs}
        for d in log_dirs:
            # Kafka's CheckpointFile creates the file, empty, when the cleaner starts.
            try:
                os.close(os.open(os.path.join(d, OFFSET_CHECKPOINT_FILE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            except FileExistsError:
                pass
            except OSError as e:
                _logger.warning("Could not create %s in %s: %s", OFFSET_CHECKPOINT_FILE, d, e)
        self.in_progress: dict[TopicPartition, LogCleaningState] = {}
        self.uncleanable_partitions: dict[str, set[TopicPartition]] = {}
        self.dirtiest_log_cleanable_ratio = 0.0
        self.time_of_last_run = 0

    # ---------------------------------------------------------------------------- checkpoints
    def all_cleaner_checkpoints(self) -> dict[TopicPartition, int]:
        out: dict[TopicPartition, int] = {}
        for d, cp in self.checkpoints.items():
            try:
                if os.path.getsize(cp.path) == 0:
                    continue  # created empty at start-up: no entries (Kafka reads it as such)
                out.update(cp.read())
            except FileNotFoundError:
                continue
            except Exception as e:  # a corrupt checkpoint means: clean from the log start
                _logger.warning("Failed to access checkpoint file in dir %s: %s", d, e)
        return out

    def update_checkpoints(self, log_dir: str, update: tuple[TopicPartition, int] | None = None,
                           remove: TopicPartition | None = None) -> None:
        """Rewrite `log_dir`'s checkpoint: existing entries of logs still in that dir, then the
        update or removal (Kafka's updateCheckpoints)."""
        cp = self.checkpoints.get(log_dir)
        if cp is None:
            return
        try:
            current = cp.read() if os.path.exists(cp.path) and os.path.getsize(cp.path) else {}
        except Exception:
            current = {}
        live = {tp for tp, (d, _log) in self._logs().items() if d == log_dir}
        entries = {tp: off for tp, off in current.items() if tp in live}
        if update is not None:
            entries[update[0]] = update[1]
        if remove is not None:
            entries.pop(remove, None)
        cp.write(entries)

    # ---------------------------------------------------------------------------- selection
    def cleanable_offsets(self, log: UnifiedLog, last_clean_offset: int | None, now: int) -> OffsetsToClean:
        """Kafka's cleanableOffsets: [first dirty, first uncleanable)."""
        log_start = log.log_start_offset
        checkpoint = log_start if last_clean_offset is None else last_clean_offset
        force = False
        if checkpoint < log_start:
            if not log.config.delete:
                _logger.warning("Resetting first dirty offset of %s to log start offset %d since the checkpointed "
                                "offset %d is invalid.", log.topic_partition, log_start, checkpoint)
            first_dirty, force = log_start, True
        elif checkpoint > log.log_end_offset:
            _logger.warning("The last checkpoint dirty offset for partition %s is %d, which is larger than the log "
                            "end offset %d. Resetting to the log start offset %d.", log.topic_partition, checkpoint,
                            log.log_end_offset, log_start)
            first_dirty, force = log_start, True
        else:
            first_dirty = checkpoint
        min_lag = max(log.config.min_compaction_lag_ms, 0)
        candidates = [log.last_stable_offset, log.active_segment.base_offset]
        if min_lag > 0:
            for seg in _non_active_segments_from(log, first_dirty):
                if seg.largest_timestamp() > now - min_lag:
                    candidates.append(seg.base_offset)
                    break
        return OffsetsToClean(first_dirty, max(first_dirty, min(candidates)), force)

    def max_compaction_delay(self, log: UnifiedLog, first_dirty_offset: int, now: int) -> int:
        """Kafka's maxCompactionDelay: how far past max.compaction.lag.ms the earliest dirty
        segment's first batch is (0 if none is)."""
        stamps = [ts for s in _non_active_segments_from(log, first_dirty_offset)
                  if (ts := s.first_batch_timestamp()) is not None and ts > 0]
        earliest = min(stamps) if stamps else LONG_MAX
        clean_until = now - max(log.config.max_compaction_lag_ms, 0)
        return clean_until - earliest if earliest < clean_until else 0

    def grab_filthiest_compacted_log(self, now: int) -> LogToClean | None:
        """Kafka's grabFilthiestCompactedLog: among compacted logs not in progress or
        uncleanable, the one with the highest cleanable ratio that exceeds its
        min.cleanable.dirty.ratio or must be compacted now (max.compaction.lag.ms); it is
        marked LogCleaningInProgress."""
        self.time_of_last_run = now
        last_clean = self.all_cleaner_checkpoints()
        dirty: list[LogToClean] = []
        for tp, (log_dir, log) in self._compacted_logs().items():
            if not log.config.compact or tp in self.in_progress or self.is_uncleanable_partition(log_dir, tp):
                continue
            offsets = self.cleanable_offsets(log, last_clean.get(tp), now)
            if offsets.force_update_checkpoint:
                self.update_checkpoints(log_dir, (tp, offsets.first_dirty_offset))
            delay = self.max_compaction_delay(log, offsets.first_dirty_offset, now)
            ltc = LogToClean(tp, log, offsets.first_dirty_offset, offsets.first_uncleanable_dirty_offset, delay > 0)
            if ltc.total_bytes > 0:
                dirty.append(ltc)
        self.dirtiest_log_cleanable_ratio = max((l.cleanable_ratio for l in dirty), default=0.0)
        cleanable = [l for l in dirty
                     if (l.needs_compaction_now and l.cleanable_bytes > 0)
                     or l.cleanable_ratio > l.log.config.min_cleanable_dirty_ratio]
        if not cleanable:
            return None
        filthiest = max(cleanable, key=lambda l: l.cleanable_ratio)
        self.in_progress[filthiest.topic_partition] = LOG_CLEANING_IN_PROGRESS
        return filthiest

    def deletable_logs(self) -> list[tuple[TopicPartition, UnifiedLog]]:
        """Compacted logs whose retention (log start, and for compact,delete retention.ms and
        retention.bytes) the cleaner applies; marked in progress until `done_deleting`."""
        out = []
        for tp, (log_dir, log) in self._compacted_logs().items():
            if tp not in self.in_progress and log.config.compact and not self.is_uncleanable_partition(log_dir, tp):
                self.in_progress[tp] = LOG_CLEANING_IN_PROGRESS
                out.append((tp, log))
        return out

    # ---------------------------------------------------------------------------- states
    def abort_and_pause_cleaning(self, tp: TopicPartition) -> None:
        """Kafka's abortAndPauseCleaning without the wait: a cleaning in progress becomes
        LogCleaningAborted (its result is then discarded), anything else is paused once more."""
        state = self.in_progress.get(tp)
        if state is None:
            self.in_progress[tp] = log_cleaning_paused(1)
        elif state == LOG_CLEANING_IN_PROGRESS:
            self.in_progress[tp] = LOG_CLEANING_ABORTED
        elif state.name == "LogCleaningPaused":
            self.in_progress[tp] = log_cleaning_paused(state.paused_count + 1)

    def resume_cleaning(self, tps: Iterable[TopicPartition]) -> None:
        for tp in tps:
            state = self.in_progress.get(tp)
            if state is None or state.name != "LogCleaningPaused":
                continue
            if state.paused_count <= 1:
                del self.in_progress[tp]
            else:
                self.in_progress[tp] = log_cleaning_paused(state.paused_count - 1)

    def is_aborted(self, tp: TopicPartition) -> bool:
        return self.in_progress.get(tp) == LOG_CLEANING_ABORTED

    def done_cleaning(self, tp: TopicPartition, log_dir: str, end_offset: int) -> None:
        """Kafka's doneCleaning: checkpoint the new first dirty offset, or (aborted meanwhile)
        leave the partition paused."""
        state = self.in_progress.get(tp)
        if state == LOG_CLEANING_IN_PROGRESS:
            self.update_checkpoints(log_dir, (tp, end_offset))
            del self.in_progress[tp]
        elif state == LOG_CLEANING_ABORTED:
            self.in_progress[tp] = log_cleaning_paused(1)

    def done_deleting(self, tps: Iterable[TopicPartition]) -> None:
        for tp in tps:
            state = self.in_progress.get(tp)
            if state == LOG_CLEANING_IN_PROGRESS:
                del self.in_progress[tp]
            elif state == LOG_CLEANING_ABORTED:
                self.in_progress[tp] = log_cleaning_paused(1)

    def mark_partition_uncleanable(self, log_dir: str, tp: TopicPartition) -> None:
        self.uncleanable_partitions.setdefault(log_dir, set()).add(tp)

    def is_uncleanable_partition(self, log_dir: str, tp: TopicPartition) -> bool:
        return tp in self.uncleanable_partitions.get(log_dir, set())


def _non_active_segments_from(log: UnifiedLog, offset: int) -> list[LogSegment]:
    """Kafka's nonActiveLogSegmentsFrom: the inactive segments from the one holding `offset`."""
    segs = log.segments[:-1]
    out = []
    for i, s in enumerate(segs):
        nxt = segs[i + 1].base_offset if i + 1 < len(segs) else log.active_segment.base_offset
        if nxt <= offset:
            continue
        out.append(s)
    return out
