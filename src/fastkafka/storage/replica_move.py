"""ReplicaMove: one partition's log moving to another log dir of this broker (Kafka's "future"
replica with its ReplicaAlterLogDirsThread and LogManager.replaceCurrentWithFutureLog, for
AlterReplicaLogDirs).

The future log is the directory `<topic>-<partition>.<uuid>-future` in the destination dir (a
restart skips and leaves such directories, as Kafka's loader does not load a future log without
its current one here). It is filled from the current log in rounds:

  * on the event loop (which owns the log), a round is planned from the current segment list: the
    `.log` bytes not copied yet (at most ROUND_BYTES), and the index files of rolled segments
    (immutable once rolled);
  * a worker thread copies them (copy_file_range through the segment's own file handle, so a
    segment deleted meanwhile still reads) and fsyncs the copies;
  * back on the loop the progress is recorded. A segment deleted by retention or replaced by
    compaction since is dropped from the future log and (if replaced) copied again.

When what is left is at most FINAL_BYTES, the move completes synchronously on the loop, so no
append can slip in between: the tail of the active segment, its index entries, the transaction
index, leader-epoch checkpoint, partition.metadata and a producer-state snapshot at the log end
are copied and fsynced; the current log is closed and renamed `-delete`, the future directory
renamed to `<topic>-<partition>` and opened as the partition's log (clean open: everything is on
disk, with the current log's recovery point, log start offset and high watermark), and the old
directory removed off the event loop.

Invariants: the future log only ever holds byte ranges that were below the current log's end
when copied (whole batches: appends are whole batches on the loop); `future_log_end_offset` is
an offset whose every batch below is in the future log; the current log keeps serving reads and
appends until the swap.
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastkafka.storage.checkpoint_file import fsync_dir
from fastkafka.storage.leader_epoch_file_cache import LEADER_EPOCH_CHECKPOINT_FILENAME
from fastkafka.storage.log_segment import log_file, offset_index_file, time_index_file, txn_index_file
from fastkafka.storage.partition_metadata_file import PARTITION_METADATA_FILENAME
from fastkafka.storage.producer_state_manager import snapshot_file
from fastkafka.storage.topic_partition import TopicPartition

if TYPE_CHECKING:
    from fastkafka.storage.log_segment import LogSegment
    from fastkafka.storage.unified_log import UnifiedLog

logger = logging.getLogger(__name__)

ROUND_BYTES = 16 * 1024 * 1024  # copied per worker round
FINAL_BYTES = 1024 * 1024  # at most this much is copied on the event loop when completing
_CHUNK = 1024 * 1024


@dataclass
class _Copied:
    segment: Any  # the LogSegment object copied (compaction replaces it with another object)
    log_bytes: int = 0
    indexes: bool = False  # the rolled segment's index files are in the future log


@dataclass
class _Work:
    base_offset: int
    handle: Any  # the source .log's _FileHandle (keeps the fd open)
    start: int
    end: int
    index_files: list[tuple[str, str]]  # rolled segment: (source, destination) index files


class ReplicaMove:
    def __init__(self, tp: TopicPartition, future_dir: str, dest_log_dir: str,
                 run_in_thread: Callable[[Callable[[], Any]], "asyncio.Future[Any]"]) -> None:
        self.tp = tp
        self.future_dir = future_dir
        self.dest_log_dir = dest_log_dir
        self.future_log_end_offset = 0
        self._copied: dict[int, _Copied] = {}
        self._run_in_thread = run_in_thread
        self.cancelled = False
        self.task: asyncio.Task[None] | None = None

    def create(self) -> None:
        """The (empty) future log directory, before the response goes (as Kafka's
        maybeCreateFutureReplica)."""
        os.makedirs(self.future_dir)
        fsync_dir(os.path.dirname(self.future_dir))

    @property
    def size(self) -> int:
        return sum(c.log_bytes for c in self._copied.values())

    def offset_lag(self, log: "UnifiedLog") -> int:
        """Kafka's DescribeLogDirs offset lag of a future replica: current LEO - future LEO."""
        return max(log.log_end_offset - self.future_log_end_offset, 0)

    # -- rounds ---------------------------------------------------------------------------------
    def _plan(self, log: "UnifiedLog", budget: int) -> tuple[list[_Work], int]:
        """What to copy next (at most `budget` log bytes); also drops segments that are gone."""
        # Sizes below count big appends the log writer thread may not have written yet (rare:
        # one such write's time, during a move only).
        log.wait_background_writes()
        segments = log.segments
        by_base = {s.base_offset: s for s in segments}
        for base in list(self._copied):
            if by_base.get(base) is not self._copied[base].segment:
                del self._copied[base]  # deleted by retention, or replaced by compaction
                for path_of in (log_file, offset_index_file, time_index_file, txn_index_file):
                    _unlink(path_of(self.future_dir, base))
        work: list[_Work] = []
        total = 0
        active = segments[-1]
        for s in segments:
            c = self._copied.setdefault(s.base_offset, _Copied(s))
            if c.log_bytes > s.size:  # truncated meanwhile: copy it again
                c.log_bytes, c.indexes = 0, False
            n = min(s.size - c.log_bytes, budget - total)
            index_files: list[tuple[str, str]] = []
            if s is not active and not c.indexes and c.log_bytes + n == s.size:
                index_files = [(p(log.dir, s.base_offset), p(self.future_dir, s.base_offset))
                               for p in (offset_index_file, time_index_file, txn_index_file)]
            if n > 0 or index_files:
                work.append(_Work(s.base_offset, s.log.handle, c.log_bytes, c.log_bytes + n, index_files))
                total += n
            if total >= budget:
                break
        return work, total

    def _record(self, log: "UnifiedLog", work: list[_Work], leo_at_plan: int) -> None:
        segments = log.segments
        by_base = {s.base_offset: s for s in segments}
        for w in work:
            c = self._copied.get(w.base_offset)
            if c is None or by_base.get(w.base_offset) is not c.segment or c.log_bytes != w.start:
                continue  # changed under the copy: the next plan notices and redoes it
            c.log_bytes = w.end
            if w.index_files:
                c.indexes = True
        # Every batch below the first segment not fully copied is in the future log.
        leo = leo_at_plan
        for s in segments:
            c = self._copied.get(s.base_offset)
            if c is None or c.log_bytes < s.size:
                leo = s.base_offset if c is None else min(leo, s.base_offset)
                break
        self.future_log_end_offset = max(min(leo, log.log_end_offset), log.log_start_offset)

    async def run(self, get_log: Callable[[], "UnifiedLog | None"],
                  complete: Callable[["ReplicaMove"], None]) -> None:
        """Copy in rounds until little is left, then `complete` (the swap) on the loop."""
        while not self.cancelled:
            log = get_log()
            if log is None or log.closed:
                return
            work, total = self._plan(log, ROUND_BYTES)
            if total <= FINAL_BYTES and not any(w.index_files for w in work):
                # Little left: finish here, with no await between this copy and the swap.
                self._copy(work)
                self._record(log, work, log.log_end_offset)
                complete(self)
                return
            leo = log.log_end_offset
            await self._run_in_thread(lambda: self._copy(work))
            if self.cancelled:
                return
            log = get_log()
            if log is None or log.closed:
                return
            self._record(log, work, leo)

    def _copy(self, work: list[_Work]) -> None:
        for w in work:
            if w.end > w.start:
                dst = log_file(self.future_dir, w.base_offset)
                fd = os.open(dst, os.O_WRONLY | os.O_CREAT, 0o644)
                try:
                    os.ftruncate(fd, w.start)  # drops anything past what was recorded
                    _copy_range(w.handle.fd, fd, w.start, w.end)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            for src, dst in w.index_files:
                if os.path.exists(src):
                    _copy_file(src, dst)

    # -- completion (event loop) -----------------------------------------------------------------
    def finish_files(self, log: "UnifiedLog") -> None:
        """Everything a clean open of the future log needs besides the copied segments; called
        with the whole `.log` content already copied."""
        for s in log.segments:  # an empty segment still has its (empty) files
            open(log_file(self.future_dir, s.base_offset), "ab").close()
        active: LogSegment = log.active_segment
        base = active.base_offset
        # The active segment's indexes are preallocated: only their entries are copied (the
        # open resizes them for appends, as after a clean shutdown).
        active.offset_index.flush()
        active.time_index.flush()
        _copy_file(offset_index_file(log.dir, base), offset_index_file(self.future_dir, base),
                   active.offset_index.entries * 8)
        _copy_file(time_index_file(log.dir, base), time_index_file(self.future_dir, base),
                   active.time_index.entries * 12)
        active.txn_index.flush()
        if os.path.exists(txn_index_file(log.dir, base)):
            _copy_file(txn_index_file(log.dir, base), txn_index_file(self.future_dir, base))
        log.leader_epoch_cache.flush_if_stale()
        for name in (LEADER_EPOCH_CHECKPOINT_FILENAME, PARTITION_METADATA_FILENAME):
            if os.path.exists(os.path.join(log.dir, name)):
                _copy_file(os.path.join(log.dir, name), os.path.join(self.future_dir, name))
        # Producer state at the log end, so the open needs no rebuild from the segments.
        psm = log.producer_state_manager
        psm.update_map_end_offset(log.log_end_offset)
        psm.take_snapshot()
        for offset in list(psm.snapshots):
            src = snapshot_file(log.dir, offset)
            if os.path.exists(src):
                _copy_file(src, snapshot_file(self.future_dir, offset))
        fsync_dir(self.future_dir)

    def abandon(self) -> None:
        """Cancel: stop copying and remove the future log."""
        self.cancelled = True
        if self.task is not None:
            self.task.cancel()
        shutil.rmtree(self.future_dir, ignore_errors=True)


def _copy_range(src_fd: int, dst_fd: int, start: int, end: int) -> None:
    pos = start
    while pos < end:
        n = min(_CHUNK, end - pos)
        try:
            done = os.copy_file_range(src_fd, dst_fd, n, pos, pos)
        except OSError:
            data = os.pread(src_fd, n, pos)
            done = os.pwrite(dst_fd, data, pos) if data else 0
        if done <= 0:
            raise OSError(f"short copy at {pos} of [{start}, {end})")
        pos += done


def _copy_file(src: str, dst: str, size: int | None = None) -> None:
    with open(src, "rb") as f:
        data = f.read() if size is None else f.read(size)
    with open(dst, "wb") as g:
        g.write(data)
        g.flush()
        os.fsync(g.fileno())


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
