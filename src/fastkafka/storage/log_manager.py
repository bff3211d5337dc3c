"""LogManager: every partition log on this broker's log dirs (kafka.log.LogManager).

Per log dir: `<topic>-<partition>/` partition directories, `recovery-point-offset-checkpoint`,
`log-start-offset-checkpoint`, `replication-offset-checkpoint` (high watermarks), `meta.properties` (see meta_properties.py), `.lock` (an flock
held while the broker runs) and `.kafka_cleanshutdown` (present only between a clean shutdown
and the next startup: without it the logs are recovered from their recovery points).
"""
from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
import uuid
import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.checkpoint_file import (
    LOG_START_OFFSET_CHECKPOINT_FILE,
    RECOVERY_POINT_CHECKPOINT_FILE,
    REPLICATION_OFFSET_CHECKPOINT_FILE,
    OffsetCheckpointFile,
    atomic_write,
    deferred_fsync,
    fsync_dir,
    fsync_paths,
)
from fastkafka.storage.file_records import batched_appends
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.partition_metadata_file import PARTITION_METADATA_FILENAME, PartitionMetadataFile
from fastkafka.storage.producer_state_manager import DEFAULT_PRODUCER_ID_EXPIRATION_MS
from fastkafka.storage.replica_move import ReplicaMove
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import BackgroundFlusher, UnifiedLog

PRODUCER_ID_EXPIRATION_MS_CONFIG = "producer.id.expiration.ms"

if TYPE_CHECKING:
    from fastkafka._native.uring import UringAppender

logger = logging.getLogger(__name__)

URING_ENABLE_CONFIG = "fastkafka.io.uring.enable"

CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"
LOCK_FILE_NAME = ".lock"
DELETE_DIR_SUFFIX = "-delete"


def delete_dir_path(path: str) -> str:
    """`<topic>-<partition>.<uuid>-delete` beside `path`, the topic cut so the name fits in 255
    bytes (Kafka's LocalLog.logDeleteDirName): a 249-character topic name plus the suffix would
    not, and its rename failed (ENAMETOOLONG), leaving the deleted log on disk."""
    parent, name = os.path.split(path)
    topic, _, partition = name.rpartition("-")
    suffix = f"-{partition}.{uuid.uuid4().hex}{DELETE_DIR_SUFFIX}"
    room = 255 - len(suffix.encode())
    cut = topic.encode()[:room].decode("utf-8", "ignore")
    return os.path.join(parent, cut + suffix)
# One slice of a background checkpoint's reading and formatting on the loop.
CHECKPOINT_SLICE_SECONDS = 0.002

# What each offset checkpoint records of a log (None: no entry).
_CHECKPOINT_VALUES: dict[str, Callable[[UnifiedLog], int | None]] = {
    RECOVERY_POINT_CHECKPOINT_FILE: lambda log: log.recovery_point,
    LOG_START_OFFSET_CHECKPOINT_FILE:
        lambda log: log.log_start_offset if log.log_start_offset > log.segments[0].base_offset else None,
    REPLICATION_OFFSET_CHECKPOINT_FILE: lambda log: log.high_watermark,
}
STRAY_DIR_SUFFIX = "-stray"
FUTURE_DIR_SUFFIX = "-future"
METADATA_LOG_DIR_NAME = "__cluster_metadata-0"


class LogManager:
    """Owner of the partition logs.

    Invariants: each TopicPartition has at most one log, in exactly one log dir; checkpoints
    list exactly the logs of their dir; the clean-shutdown marker is removed once startup has
    loaded the logs, so a crash afterwards is seen as unclean on the next start.
    Concurrency: single writer: call only from the event loop thread.
    """

    def __init__(self, log_dirs: list[str], broker_defaults: Mapping[str, str]) -> None:
        if not log_dirs:
            raise ValueError("at least one log dir is required")
        self.log_dirs = [os.path.abspath(d) for d in log_dirs]
        self.broker_defaults = dict(broker_defaults)
        self.default_config = LogConfig.from_props(self.broker_defaults, {})
        self._logs: dict[TopicPartition, UnifiedLog] = {}
        self._log_dir_of: dict[TopicPartition, str] = {}
        self._had_clean_shutdown: dict[str, bool] = {}
        self._recovery_points: dict[str, dict[TopicPartition, int]] = {}
        self._lock_fds: dict[str, int] = {}
        self._started = False
        # Appends of a produce request go to the kernel in one io_uring submission (None:
        # disabled by fastkafka.io.uring.enable=false, or refused by the kernel: plain pwrite).
        self.uring: UringAppender | None = None
        # fsync of rolled segments off the event loop; set by the broker before startup().
        self.background_flusher: BackgroundFlusher | None = None
        if self.broker_defaults.get(URING_ENABLE_CONFIG, "true").strip().lower() == "true":
            self.uring = _open_uring()
        # AlterReplicaLogDirs: partitions whose log is being copied to another log dir.
        self._moves: dict[TopicPartition, ReplicaMove] = {}
        # Called with (tp, new log) when a moved log replaces the current one (the ReplicaManager
        # re-points its Partition, as Kafka's Partition.maybeReplaceCurrentWithFutureReplica).
        self.log_replaced_listeners: list[Callable[[TopicPartition, UnifiedLog], None]] = []
        # Creation of new logs and removal of renamed `-delete` dirs run on this one worker
        # thread, in slices, so a 10,000-partition topic never holds the event loop (set by the
        # broker; None: inline, as unit tests use it). One thread keeps them in order: a
        # topic deleted then re-created renames the old dir before the new one is made.
        self.file_worker: ThreadPoolExecutor | None = None
        # Partitions with a creation or removal of their files queued on the file worker: a new
        # log for one of them must be created on the worker too (behind that work, in order),
        # never inline on the loop while the worker renames or creates the same directory
        # (a topic deleted and re-created at once met its old dir: INCONSISTENT_TOPIC_ID).
        self._worker_tps: dict[TopicPartition, int] = {}
        self._checkpoint_pending = False
        self._closing = False  # shutdown(): checkpoints are written inline from then on
        # The background writer of each checkpoint file (by file name) while one runs, and the
        # files asked for again meanwhile (see _checkpoint).
        self._checkpoint_tasks: dict[str, asyncio.Task[None]] = {}
        self._checkpoint_again: set[str] = set()

    # ---------------------------------------------------------------- startup / shutdown
    def startup(self) -> None:
        """Lock the dirs and load every partition log (LogManager.loadLogs)."""
        # The producer snapshots a load takes (Kafka's rebuildProducerState) and other load-time
        # writes are fsynced together on the background flusher, not one by one on start-up.
        clean_markers: list[str] = []
        with deferred_fsync() as paths:
            for d in self.log_dirs:
                os.makedirs(d, exist_ok=True)
                self._lock_dir(d)
                marker = os.path.join(d, CLEAN_SHUTDOWN_FILE)
                clean = os.path.exists(marker)
                self._had_clean_shutdown[d] = clean
                recovery_points = OffsetCheckpointFile(os.path.join(d, RECOVERY_POINT_CHECKPOINT_FILE)).read()
                start_offsets = OffsetCheckpointFile(os.path.join(d, LOG_START_OFFSET_CHECKPOINT_FILE)).read()
                high_watermarks = OffsetCheckpointFile(os.path.join(d, REPLICATION_OFFSET_CHECKPOINT_FILE)).read()
                self._recovery_points[d] = recovery_points
                for name in sorted(os.listdir(d)):
                    path = os.path.join(d, name)
                    if not os.path.isdir(path):
                        continue
                    if name.endswith(DELETE_DIR_SUFFIX):
                        shutil.rmtree(path, ignore_errors=True)  # a deletion interrupted by a restart
                        continue
                    if name.endswith(FUTURE_DIR_SUFFIX):
                        # A log dir move interrupted by a restart: moves are not resumed (Kafka
                        # resumes them); the current log is intact, the partial copy goes.
                        shutil.rmtree(path, ignore_errors=True)
                        continue
                    if name.endswith((STRAY_DIR_SUFFIX, FUTURE_DIR_SUFFIX)) or name == METADATA_LOG_DIR_NAME:
                        continue
                    tp = TopicPartition.parse_dir_name(name)
                    if tp is None:
                        continue
                    if tp in self._logs:
                        raise KafkaError(Errors.KAFKA_STORAGE_ERROR,
                                         f"Duplicate log directories for {tp} are found in both "
                                         f"{self._log_dir_of[tp]} and {d}.")
                    log = UnifiedLog.open(path, self.default_config, log_start_offset=start_offsets.get(tp, 0),
                                          recovery_point=recovery_points.get(tp, 0), had_clean_shutdown=clean,
                                          topic_partition=tp,
                                          producer_id_expiration_ms=self.producer_id_expiration_ms)
                    if tp in high_watermarks:
                        log.update_high_watermark(high_watermarks[tp])
                    log.background_flusher = self.background_flusher
                    self._logs[tp] = log
                    self._log_dir_of[tp] = d
                if clean:
                    clean_markers.append(marker)
        # The clean-shutdown marker goes durably before anything is written to the logs.
        for marker in clean_markers:
            os.unlink(marker)
            fsync_dir(os.path.dirname(marker))
        self.sync_in_background(paths)
        self._started = True

    def sync_in_background(self, paths: set[str]) -> None:
        """fsync what a deferred_fsync() block put off, on the background flusher's thread
        (inline when there is none)."""
        if not paths:
            return
        todo = set(paths)
        if self.background_flusher is None:
            fsync_paths(todo)
            return

        def done(error: BaseException | None) -> None:
            if error is not None:
                logger.error("Deferred fsync of %d log files failed: %s", len(todo), error)

        self.background_flusher(lambda: fsync_paths(todo), done)

    def flush_stale_leader_epoch_checkpoints(self) -> None:
        """Write the leader-epoch-checkpoint files whose load-time truncation was not undone by
        the leader's registration (UnifiedLog.open defers it; Kafka flushes it asynchronously)."""
        with deferred_fsync() as paths:
            for log in self._logs.values():
                log.leader_epoch_cache.flush_if_stale()
        self.sync_in_background(paths)

    def batched_appends(self) -> AbstractContextManager[None]:
        """Scope of one produce request: its appends are submitted together when it ends."""
        return batched_appends(self.uring)

    def shutdown(self) -> None:
        """Flush every log, write the checkpoints, close, then leave the clean-shutdown marker.
        Moves in progress are abandoned (AlterReplicaLogDirs has to be sent again)."""
        self._closing = True
        for task in list(self._checkpoint_tasks.values()):
            task.cancel()  # their writes already ran (the file worker drained); the final one is below
        for move in self._moves.values():
            move.abandon()
        self._moves.clear()
        for log in self._logs.values():
            if not log.closed:
                log.flush()
        self.checkpoint()
        for log in self._logs.values():
            log.close()
        for d in self.log_dirs:
            path = os.path.join(d, CLEAN_SHUTDOWN_FILE)
            with open(path, "w"):
                pass
            fsync_dir(d)
            fd = self._lock_fds.pop(d, None)
            if fd is not None:
                os.close(fd)
        if self.uring is not None:
            self.uring.close()
            self.uring = None
        self._started = False

    def _lock_dir(self, d: str) -> None:
        fd = os.open(os.path.join(d, LOCK_FILE_NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR,
                             f"Failed to acquire lock on file .lock in {d}. A Kafka instance in another "
                             "process or thread is using this directory.") from None
        self._lock_fds[d] = fd

    def reconfigure_default_log_config(self, broker_defaults: Mapping[str, str]) -> None:
        """A dynamic broker config changed (Kafka's LogManager.reconfigureDefaultLogConfig): the
        broker-level defaults from now on; each log gets its own config from the ReplicaManager."""
        self.broker_defaults = dict(broker_defaults)
        self.default_config = LogConfig.from_props(self.broker_defaults, {})

    # ---------------------------------------------------------------- access
    def get_log(self, tp: TopicPartition) -> UnifiedLog | None:
        return self._logs.get(tp)

    def all_logs(self) -> list[UnifiedLog]:
        return list(self._logs.values())

    def log_dir_of(self, tp: TopicPartition) -> str | None:
        return self._log_dir_of.get(tp)

    def get_or_create_log(self, tp: TopicPartition, topic_id: bytes, config: LogConfig) -> UnifiedLog:
        """The log of `tp`, created in the log dir holding the fewest partitions if absent.
        An existing log of another topic id (the topic was deleted and recreated while this
        broker was away) is deleted and replaced."""
        log = self._logs.get(tp)
        if log is not None:
            if log.topic_id is not None and log.topic_id != topic_id:
                self.delete_log(tp)
                if self.file_worker is not None:
                    # The old files must be renamed before the new ones are made in their place.
                    self.file_worker.submit(lambda: None).result()
            else:
                if log.topic_id is None:
                    log.assign_topic_id(topic_id)
                log.update_config(config)
                return log
        d = self._next_log_dir()
        log = self._open_new_log(d, tp, topic_id, config)
        fsync_dir(d)
        self._adopt_log(tp, log, d)
        return log

    def worker_has(self, tp: TopicPartition) -> bool:
        """True while a creation or removal of `tp`'s files is queued on the file worker."""
        return tp in self._worker_tps

    def worker_busy(self) -> bool:
        """True while any creation or removal of log files is queued on the file worker."""
        return bool(self._worker_tps)

    def _worker_track(self, tps: Sequence[TopicPartition], delta: int) -> None:
        counts = self._worker_tps
        for tp in tps:
            n = counts.get(tp, 0) + delta
            if n > 0:
                counts[tp] = n
            else:
                counts.pop(tp, None)

    def _open_new_log(self, d: str, tp: TopicPartition, topic_id: bytes, config: LogConfig) -> UnifiedLog:
        """Create the files of a new log (directory, segment, indexes, partition.metadata).
        Touches no state of this manager: safe on the file worker thread."""
        path = os.path.join(d, str(tp))
        log = UnifiedLog.open(path, config, topic_id=topic_id, topic_partition=tp,
                              producer_id_expiration_ms=self.producer_id_expiration_ms)
        log.background_flusher = self.background_flusher
        return log

    def _adopt_log(self, tp: TopicPartition, log: UnifiedLog, d: str) -> None:
        self._logs[tp] = log
        self._log_dir_of[tp] = d

    CREATE_SLICE = 50  # logs created per worker task: each slice's hand-back is ~1 ms of loop time

    def create_logs_in_background(
            self, items: Sequence[tuple[TopicPartition, bytes, LogConfig, int]],
            done: Callable[[list[tuple[TopicPartition, bytes, UnifiedLog | None, str]]], None]) -> None:
        """Create the logs of `items` (tp, topic id, config, leader epoch to assign or -1) on the
        file worker, CREATE_SLICE at a time (with the first leader epoch's checkpoint, so the
        hand-back on the loop writes no file); each slice is handed to `done` on the event loop as (tp, topic id, log or None
        on failure, log dir). `done` decides whether to `adopt_created_log` or
        `discard_created_log` (the topic may have been deleted meanwhile). Event loop only."""
        assert self.file_worker is not None
        loop = asyncio.get_running_loop()
        dirs = [self._next_log_dir() for _ in items] if len(self.log_dirs) > 1 else [self.log_dirs[0]] * len(items)

        Row = tuple[TopicPartition, bytes, LogConfig, int, str]
        Created = list[tuple[TopicPartition, bytes, UnifiedLog | None, str]]

        def work(chunk: list[Row]) -> tuple[Created, list[Row]]:
            out: Created = []
            again: list[Row] = []
            with deferred_fsync() as paths:  # this thread's own set: one fsync pass per slice
                for row in chunk:
                    tp, topic_id, config, epoch, d = row
                    try:
                        log = self._open_new_log(d, tp, topic_id, config)
                        if epoch >= 0:
                            log.assign_epoch_start_offset(epoch, log.log_end_offset)
                    except KafkaError as e:
                        if e.error != Errors.INCONSISTENT_TOPIC_ID:
                            raise
                        # The files of an earlier incarnation of the topic (a log created here
                        # for a topic deleted before it was adopted): their removal is handed
                        # to this worker when that result reaches the loop, i.e. after this
                        # creation was queued. Queue the creation again, behind the removal.
                        again.append(row)
                        continue
                    except OSError as e:
                        logger.error("Error while creating log for %s in dir %s: %s", tp, d, e)
                        log = None
                    out.append((tp, topic_id, log, d))
                    paths.add(d)
            fsync_paths(paths)
            return out, again

        def submit(chunk: list[Row], attempt: int) -> None:
            chunk_tps = [r[0] for r in chunk]
            self._worker_track(chunk_tps, 1)
            try:
                fut = loop.run_in_executor(self.file_worker, work, chunk)
            except RuntimeError:
                # The file worker was shut down (a retry timer firing while the broker stops; it
                # logged a traceback after the 10M-frame fuzz): the creation goes with the broker.
                self._worker_track(chunk_tps, -1)
                return

            def finished(f: asyncio.Future[tuple[Created, list[Row]]]) -> None:
                self._worker_track(chunk_tps, -1)
                if f.cancelled():
                    return
                if f.exception() is not None:
                    logger.error("Creating logs failed: %s", f.exception())
                    return
                out, again = f.result()
                # A partition that has a log again (a newer incarnation, adopted meanwhile): this
                # creation is obsolete, `done` drops it.
                out = out + [(r[0], r[1], None, r[4]) for r in again if r[0] in self._logs]
                again = [r for r in again if r[0] not in self._logs]
                if again and attempt < 10:
                    # Runs after the removals queued meanwhile (a little later each time: the
                    # removal may wait for a result still on its way to the loop).
                    self._worker_track([r[0] for r in again], 1)

                    def retry(rows: list[Row] = again, n: int = attempt + 1) -> None:
                        self._worker_track([r[0] for r in rows], -1)
                        submit(rows, n)

                    loop.call_later(0.02 * (attempt + 1), retry)
                elif again:
                    # Seen only under a topic deleted and re-created many times a second (the
                    # fuzz target): the partition answers NOT_LEADER_OR_FOLLOWER until its next
                    # re-creation.
                    logger.warning("Creating logs failed: %s still hold the files of another topic id",
                                   [str(r[0]) for r in again])
                    out = out + [(r[0], r[1], None, r[4]) for r in again]
                if out:
                    done(out)

            fut.add_done_callback(finished)

        rows = [(tp, tid, cfg, epoch, d) for (tp, tid, cfg, epoch), d in zip(items, dirs)]
        for i in range(0, len(rows), self.CREATE_SLICE):
            submit(rows[i:i + self.CREATE_SLICE], 0)

    def adopt_created_log(self, tp: TopicPartition, log: UnifiedLog, d: str) -> bool:
        """A background-created log becomes the partition's log; False (and the new files are
        discarded) if a log for `tp` appeared meanwhile."""
        if tp in self._logs:
            self.discard_created_log(log)
            return False
        self._adopt_log(tp, log, d)
        return True

    def discard_created_log(self, log: UnifiedLog) -> None:
        """A background-created log nobody wants any more (its topic was deleted meanwhile)."""
        self._remove_log_files([log])

    def open_log(self, dir_path: str, config: LogConfig) -> UnifiedLog:
        """Open a log this manager does not own (e.g. `__cluster_metadata-0` for KRaft). The
        caller owns it and must flush/close it; recovery honours the clean-shutdown marker of
        the parent log dir as seen at startup."""
        parent = os.path.dirname(os.path.abspath(dir_path))
        clean = self._had_clean_shutdown.get(parent, True)
        tp = TopicPartition.parse_dir_name(os.path.basename(os.path.normpath(dir_path)))
        recovery = self._recovery_points.get(parent, {}).get(tp, 0) if tp else 0
        return UnifiedLog.open(dir_path, config, recovery_point=recovery, had_clean_shutdown=clean,
                               topic_partition=tp)

    def _next_log_dir(self) -> str:
        if len(self.log_dirs) == 1:
            return self.log_dirs[0]
        counts = {d: 0 for d in self.log_dirs}
        for d in self._log_dir_of.values():
            counts[d] += 1
        return min(self.log_dirs, key=lambda d: (counts[d], self.log_dirs.index(d)))

    # ---------------------------------------------------------------- moving between log dirs
    def alter_replica_log_dir(self, tp: TopicPartition, destination: str) -> None:
        """Move `tp`'s log to the log dir `destination` (Kafka's ReplicaManager.alterReplicaLogDirs
        for one partition): a future log is created there and filled in the background, then
        swapped in. Already there, or already moving there: nothing to do. Moving elsewhere
        meanwhile: that move is abandoned first. Raises KafkaError: LOG_DIR_NOT_FOUND (not one of
        `log.dirs`, compared as absolute paths, exactly), KAFKA_STORAGE_ERROR (the dir cannot be
        used), INVALID_TOPIC_EXCEPTION (the future dir name would be too long), REPLICA_NOT_AVAILABLE
        (no log for `tp` here). Event loop only."""
        if len(f"{tp}.{uuid.uuid4().hex}{FUTURE_DIR_SUFFIX}") > 255:
            raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION, "The topic name is too long.")
        if destination not in self.log_dirs:
            raise KafkaError(Errors.LOG_DIR_NOT_FOUND, f"Log dir {destination} is not found in the config.")
        if not (os.path.isdir(destination) and os.access(destination, os.W_OK | os.X_OK)):
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Log directory {destination} is offline")
        move = self._moves.get(tp)
        if move is not None and move.dest_log_dir != destination:
            self._moves.pop(tp)
            move.abandon()
            move = None
        log = self._logs.get(tp)
        if log is None:
            raise KafkaError(Errors.REPLICA_NOT_AVAILABLE,
                             f"Replica for partition {tp} is not available on this broker.")
        if move is not None or self._log_dir_of.get(tp) == destination:
            return
        loop = asyncio.get_running_loop()
        move = ReplicaMove(tp, os.path.join(destination, f"{tp}.{uuid.uuid4().hex}{FUTURE_DIR_SUFFIX}"),
                           destination, lambda fn: loop.run_in_executor(None, fn))
        try:
            move.create()
        except OSError as e:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Error while creating the future log of {tp} in {destination}: {e}") from None
        self._moves[tp] = move
        move.task = loop.create_task(self._run_move(move, log))

    async def _run_move(self, move: ReplicaMove, log: UnifiedLog) -> None:
        def current() -> UnifiedLog | None:
            same = self._moves.get(move.tp) is move and self._logs.get(move.tp) is log
            return log if same else None

        try:
            await move.run(current, self._replace_current_with_future_log)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Moving the log of %s to %s failed; the future log is removed", move.tp, move.dest_log_dir)
            if self._moves.get(move.tp) is move:
                del self._moves[move.tp]
            move.abandon()
        else:
            if self._moves.get(move.tp) is move:  # the log went away (deleted) under the move
                del self._moves[move.tp]
                move.abandon()

    def _replace_current_with_future_log(self, move: ReplicaMove) -> None:
        """Kafka's LogManager.replaceCurrentWithFutureLog, with every byte already copied."""
        tp = move.tp
        old = self._logs[tp]
        old_dir = self._log_dir_of[tp]
        move.finish_files(old)
        old.close()
        deleted = delete_dir_path(os.path.join(old_dir, str(tp)))
        os.rename(old.dir, deleted)
        target = os.path.join(move.dest_log_dir, str(tp))
        os.rename(move.future_dir, target)
        fsync_dir(old_dir)
        fsync_dir(move.dest_log_dir)
        new = UnifiedLog.open(target, old.config, topic_id=old.topic_id, log_start_offset=old.log_start_offset,
                              recovery_point=old.recovery_point, had_clean_shutdown=True, topic_partition=tp,
                              producer_id_expiration_ms=self.producer_id_expiration_ms)
        new.update_high_watermark(old.high_watermark)
        new.background_flusher = self.background_flusher
        self._logs[tp] = new
        self._log_dir_of[tp] = move.dest_log_dir
        del self._moves[tp]
        for listener in self.log_replaced_listeners:
            listener(tp, new)
        self.checkpoint()
        if self.background_flusher is not None:
            self.background_flusher(lambda: shutil.rmtree(deleted, ignore_errors=True), lambda _e: None)
        else:
            shutil.rmtree(deleted, ignore_errors=True)
        logger.info("The current replica of %s is replaced by the future replica in %s", tp, move.dest_log_dir)

    def future_logs(self) -> list[tuple[TopicPartition, str, int, int]]:
        """(tp, destination log dir, bytes copied, offset lag) of every move in progress."""
        out = []
        for tp, move in self._moves.items():
            log = self._logs.get(tp)
            if log is not None:
                out.append((tp, move.dest_log_dir, move.size, move.offset_lag(log)))
        return out

    # ---------------------------------------------------------------- deletion
    def delete_log(self, tp: TopicPartition) -> None:
        """Rename to `<topic>-<partition>.<uuid>-delete` (so a restart never loads it) then remove."""
        self.delete_logs([tp])

    DELETE_SLICE = 500  # logs closed and removed per worker task

    def delete_logs(self, tps: Sequence[TopicPartition]) -> None:
        """delete_log for many partitions: they leave this manager now; their files are closed,
        renamed and removed on the file worker, DELETE_SLICE logs per task."""
        logs: list[UnifiedLog] = []
        for tp in tps:
            move = self._moves.pop(tp, None)
            if move is not None:
                move.abandon()
            log = self._logs.pop(tp, None)
            d = self._log_dir_of.pop(tp, None)
            if log is not None and d is not None:
                logs.append(log)
        for i in range(0, len(logs), self.DELETE_SLICE):
            self._remove_log_files(logs[i:i + self.DELETE_SLICE])
        if logs:
            self._checkpoint_soon()

    def _remove_log_files(self, logs: Sequence[UnifiedLog]) -> None:
        """Close logs no longer in this manager, rename their dirs to `<dir>.<uuid>-delete` (so
        a restart never loads them), then remove them: on the file worker when there is one (in
        order with the creations queued before and after; closing 10,000 logs held the loop
        0.4 s), inline otherwise. Nothing on the loop refers to these logs any more."""
        logs = list(logs)

        def work() -> None:
            parents: set[str] = set()
            removed: list[str] = []
            for log in logs:
                path = log.dir
                deleted = delete_dir_path(path)
                try:
                    log.close()
                    os.rename(path, deleted)
                except FileNotFoundError:
                    continue
                except OSError as e:
                    logger.error("Error while deleting the log in %s: %s", path, e)
                    continue
                log.dir = deleted
                parents.add(os.path.dirname(path))
                removed.append(deleted)
            for parent in parents:  # the renames are durable before the files go
                fsync_dir(parent)
            for deleted in removed:
                shutil.rmtree(deleted, ignore_errors=True)

        if self.file_worker is None:
            work()
            return
        tps = [log.topic_partition for log in logs if log.topic_partition is not None]
        self._worker_track(tps, 1)
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        fut = self.file_worker.submit(work)
        if loop is None:
            fut.result()
            self._worker_track(tps, -1)
        else:
            fut.add_done_callback(lambda _f: loop.call_soon_threadsafe(self._worker_track, tps, -1))

    def _checkpoint_soon(self) -> None:
        """Checkpoints after deletions: one write per loop turn, not one per deleted partition
        (a 400-partition DeleteTopics rewrote every checkpoint 400 times). Their fsyncs run on
        the background flusher."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.checkpoint()
            return
        if self._checkpoint_pending:
            return
        self._checkpoint_pending = True

        def run() -> None:
            self._checkpoint_pending = False
            with deferred_fsync() as paths:
                self.checkpoint()
            self.sync_in_background(paths)

        loop.call_soon(run)

    # ---------------------------------------------------------------- periodic work
    def checkpoint(self) -> None:
        """Write every checkpoint of every log dir (shutdown, topic deletion)."""
        self.checkpoint_recovery_offsets()
        self.checkpoint_log_start_offsets()
        self.checkpoint_high_watermarks()

    def _logs_by_dir(self) -> dict[str, dict[TopicPartition, UnifiedLog]]:
        by_dir: dict[str, dict[TopicPartition, UnifiedLog]] = {d: {} for d in self.log_dirs}
        for tp, ld in self._log_dir_of.items():
            by_dir[ld][tp] = self._logs[tp]
        return by_dir

    def checkpoint_recovery_offsets(self) -> None:
        """recovery-point-offset-checkpoint (log.flush.offset.checkpoint.interval.ms)."""
        self._checkpoint(RECOVERY_POINT_CHECKPOINT_FILE)

    def checkpoint_log_start_offsets(self) -> None:
        """log-start-offset-checkpoint (log.flush.start.offset.checkpoint.interval.ms). Kafka
        records a log start offset only where it is above the first segment's base."""
        self._checkpoint(LOG_START_OFFSET_CHECKPOINT_FILE)

    def checkpoint_high_watermarks(self) -> None:
        """replication-offset-checkpoint (replica.high.watermark.checkpoint.interval.ms). In
        Kafka the ReplicaManager writes it; here the log owner does, so a restart restores the
        high watermarks before the partition is led."""
        self._checkpoint(REPLICATION_OFFSET_CHECKPOINT_FILE)

    def _checkpoint(self, name: str) -> None:
        """Write checkpoint `name` of every log dir. With a running loop and a file worker: in
        the background (`_write_checkpoint_sliced`); a request while one is running makes it run
        once more when done, so the last write always follows the last request. Inline without
        a loop or worker, and at shutdown (the final, synchronous write after the worker has
        drained and any background pass has stopped)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self.file_worker is None or self._closing:
            value_of = _CHECKPOINT_VALUES[name]
            for d, logs in self._logs_by_dir().items():
                offsets = {}
                for tp, log in logs.items():
                    v = value_of(log)
                    if v is not None:
                        offsets[tp] = v
                OffsetCheckpointFile(os.path.join(d, name)).write(offsets)
            return
        if name in self._checkpoint_tasks:
            self._checkpoint_again.add(name)
            return
        self._checkpoint_tasks[name] = loop.create_task(self._write_checkpoint_sliced(name))

    async def _write_checkpoint_sliced(self, name: str) -> None:
        """One background writer per checkpoint file. The values are read and formatted on the
        loop in slices of CHECKPOINT_SLICE_SECONDS (10,000 partitions were ~120 ms of Python in
        one callback; on a worker thread that Python would hold the GIL the loop needs); the
        bytes are written by the file worker (tmp file, fsync, rename: the file on disk is always
        a complete checkpoint), awaited before the next pass, so writes of one file never queue
        up behind a slow disk and land in order. Each value is read in the same callback as the
        partition's current log and log dir (a log deleted meanwhile is left out, a moved one is
        written in its new dir; the deletion's or move's own request runs a pass after this one). Entries
        are in partition-registration order, not sorted (Kafka writes its map's order too)."""
        value_of = _CHECKPOINT_VALUES[name]
        loop = asyncio.get_running_loop()
        try:
            while not self._closing:
                self._checkpoint_again.discard(name)
                # The keys only: one new object for the collector to track, not 10,000 pairs
                # that live across the slices (a full collection at 10,000 partitions is 100+ ms).
                snapshot = list(self._log_dir_of)
                lines: dict[str, list[str]] = {d: [] for d in self.log_dirs}
                deadline = time.perf_counter() + CHECKPOINT_SLICE_SECONDS
                for i, tp in enumerate(snapshot):
                    log = self._logs.get(tp)
                    d = self._log_dir_of.get(tp)
                    if log is not None and d is not None:
                        v = value_of(log)
                        if v is not None:
                            lines[d].append(f"{tp.topic} {tp.partition} {v}")
                    if i & 127 == 127 and time.perf_counter() >= deadline:
                        await asyncio.sleep(0)  # the loop serves others between slices
                        if self._closing:
                            return  # shutdown writes the final checkpoint itself
                        deadline = time.perf_counter() + CHECKPOINT_SLICE_SECONDS
                writes = []
                for d, ls in lines.items():
                    data = (f"{OffsetCheckpointFile.CURRENT_VERSION}\n{len(ls)}\n" + "".join(
                        line + "\n" for line in ls)).encode()
                    path = os.path.join(d, name)
                    try:
                        fut = self.file_worker.submit(atomic_write, path, data)  # type: ignore[union-attr]
                    except RuntimeError:  # the worker was shut down: shutdown writes it
                        return
                    writes.append((path, asyncio.wrap_future(fut, loop=loop)))
                for path, w in writes:
                    try:
                        await w
                    except Exception as e:
                        logger.error("Error while writing checkpoint %s: %s", path, e)
                if name not in self._checkpoint_again:
                    return
        finally:
            self._checkpoint_tasks.pop(name, None)

    def flush_dirty_logs(self, now_ms: int) -> None:
        """The kafka-log-flusher task (log.flush.scheduler.interval.ms): flush each log whose
        flush.ms has passed since its last flush (LogManager.flushDirtyLogs)."""
        for log in self._logs.values():
            log.flush_if_due(now_ms)

    def cleanup_logs(self, now_ms: int) -> int:
        """The kafka-log-retention task (log.retention.check.interval.ms): delete old segments
        of every log that is not compacted, then unlink `.deleted` files whose
        file.delete.delay.ms has passed. As in Kafka's LogManager.cleanupLogs, logs with
        cleanup.policy containing `compact` are left to the log cleaner, which applies their
        retention (compact,delete) between cleanings. Returns segments deleted."""
        deleted = 0
        for log in list(self._logs.values()):
            if not log.config.compact:
                deleted += log.delete_old_segments(now_ms)
        self.delete_expired_files(now_ms)
        return deleted

    @property
    def producer_id_expiration_ms(self) -> int:
        """`producer.id.expiration.ms` (dynamic, as Kafka's: read at each use)."""
        value = self.broker_defaults.get(PRODUCER_ID_EXPIRATION_MS_CONFIG)
        return int(value) if value not in (None, "") else DEFAULT_PRODUCER_ID_EXPIRATION_MS

    def remove_expired_producers(self, now_ms: int) -> int:
        """Kafka's PeriodicProducerExpirationCheck (every producer.id.expiration.check.interval.ms):
        each log forgets producers idle for producer.id.expiration.ms without an open
        transaction. Returns how many were removed."""
        expiration_ms = self.producer_id_expiration_ms
        return sum(log.remove_expired_producers(now_ms, expiration_ms) for log in self._logs.values())

    def delete_expired_files(self, now_ms: int) -> None:
        """Kafka schedules a delete-file task per segment at file.delete.delay.ms; the broker
        runs this every second instead."""
        for log in self._logs.values():
            log.delete_expired_files(now_ms)


def _open_uring() -> UringAppender | None:
    try:
        from fastkafka._native.uring import UringAppender
    except ImportError as e:  # no liburing binding, or a CPU its wheel cannot run on (see uring.py)
        logger.warning("io_uring appends unavailable (%s); using pwrite", e)
        return None
    try:
        return UringAppender(256)
    except OSError as e:
        logger.warning("io_uring appends unavailable (%s); using pwrite", e)
        return None


def read_topic_id(partition_dir: str) -> bytes | None:
    pmf = PartitionMetadataFile(os.path.join(partition_dir, PARTITION_METADATA_FILENAME))
    return pmf.read() if pmf.exists() else None
