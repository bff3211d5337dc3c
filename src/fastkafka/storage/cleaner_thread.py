"""LogCleaner: the log cleaner service and its cleaner threads (Kafka's LogCleaner and
CleanerThread).

Each of `log.cleaner.threads` CleanerThreads is an asyncio task on the event loop plus one OS
thread (a single-worker executor) with its own OffsetMap (`log.cleaner.dedupe.buffer.size` split
evenly). The task picks the filthiest log (LogCleanerManager, event loop), snapshots it, runs
`Cleaner.clean` on its OS thread (all reading, the offset map and writing `.cleaned` files: the
event loop keeps serving produce and fetch), then swaps the cleaned segments into the log back
on the event loop and checkpoints the new first dirty offset. Between cleanings it applies the
retention of compacted logs (Kafka: compact,delete logs are the cleaner's to delete), and when
nothing was cleanable it waits `log.cleaner.backoff.ms`.

Invariants: a `UnifiedLog` is only touched on the event loop; a partition is cleaned by at most
one thread at a time (LogCleanerManager.in_progress); `shutdown` aborts running cleanings and
joins the threads before the logs are closed.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from fastkafka.storage.cleaner_config import CleanerConfig
from fastkafka.storage.log_cleaner import (
    Cleaner,
    CleanerStats,
    CleaningJob,
    LogCleaningAbortedError,
    LogToClean,
    Throttler,
)
from fastkafka.storage.log_cleaner_manager import LOG_CLEANING_IN_PROGRESS, LogCleanerManager
from fastkafka.storage.offset_map import OffsetMap
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import UnifiedLog

if TYPE_CHECKING:
    from fastkafka.storage.log_manager import LogManager

_logger = logging.getLogger(__name__)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class CleanerThread:
    """One cleaner: its Cleaner (offset map) and the OS thread that runs it."""

    def __init__(self, thread_id: int, config: CleanerConfig, manager: LogCleanerManager,
                 throttler: Throttler | None = None) -> None:
        self.thread_id = thread_id
        self.config = config
        self.manager = manager
        self.cleaner = Cleaner(thread_id, OffsetMap(config.dedupe_buffer_size_per_thread), config.io_buffer_size,
                               max(config.max_message_size, config.io_buffer_size) * 2,
                               config.dedupe_buffer_load_factor, throttler)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"kafka-log-cleaner-thread-{thread_id}")
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.last_stats: CleanerStats | None = None
        self.cleanings = 0  # completed cleanings (tests and metrics)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"kafka-log-cleaner-thread-{self.thread_id}")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                cleaned = await self.try_clean_filthiest_log()
            except asyncio.CancelledError:
                raise
            except Exception:
                _logger.exception("Log cleaner thread %d failed", self.thread_id)
                cleaned = False
            if not cleaned:
                try:
                    await asyncio.wait_for(self._stopping.wait(), self.config.backoff_ms / 1000)
                except asyncio.TimeoutError:
                    pass

    async def try_clean_filthiest_log(self, now: int | None = None) -> bool:
        """Kafka's CleanerThread.tryCleanFilthiestLog + the compacted logs' retention. True if a
        log was cleaned. `now` (ms) is for tests."""
        now = _now_ms() if now is None else now
        ltc = self.manager.grab_filthiest_compacted_log(now)
        if ltc is not None:
            await self._clean_log(ltc, now)
        deletable = self.manager.deletable_logs()
        try:
            for _tp, log in deletable:
                if not log._closed:
                    log.delete_old_segments(now)
        finally:
            self.manager.done_deleting(tp for tp, _ in deletable)
        return ltc is not None

    async def _clean_log(self, ltc: LogToClean, now: int) -> None:
        tp = ltc.topic_partition
        log = ltc.log
        log_dir = _parent_dir(log)
        end_offset = ltc.first_dirty_offset
        try:
            job = CleaningJob.snapshot(ltc)
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self._executor, self.cleaner.clean, job, now)
            if self.manager.is_aborted(tp) or log._closed:
                result.discard()
            elif result.swap_into(log):
                end_offset = result.end_offset
                self.last_stats = result.stats
                self.cleanings += 1
                _logger.info("Cleaned log %s up to offset %d: %d of %d messages retained, %d -> %d bytes",
                             tp, end_offset, result.stats.messages_written, result.stats.messages_read,
                             result.stats.bytes_read, result.stats.bytes_written)
        except LogCleaningAbortedError:
            _logger.info("Cleaning of log %s was aborted", tp)
        except Exception:
            _logger.exception("Unexpected exception thrown when cleaning log %s. Marking its partition as uncleanable", tp)
            self.manager.mark_partition_uncleanable(log_dir, tp)
        finally:
            self.manager.done_cleaning(tp, log_dir, end_offset)

    async def shutdown(self) -> None:
        self._stopping.set()
        self.cleaner.abort()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception:
                _logger.exception("Log cleaner thread %d failed on shutdown", self.thread_id)
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)


class LogCleaner:
    """Kafka's LogCleaner: the cleaner threads over the logs of a LogManager."""

    def __init__(self, config: CleanerConfig, log_dirs: list[str],
                 logs: Callable[[], dict[TopicPartition, tuple[str, UnifiedLog]]],
                 compacted_logs: Callable[[], dict[TopicPartition, tuple[str, UnifiedLog]]] | None = None) -> None:
        self.config = config
        self.manager = LogCleanerManager(log_dirs, logs, compacted_logs)
        self.threads: list[CleanerThread] = []
        self._reconfiguring = asyncio.Lock()

    def startup(self) -> None:
        # One throttler for all threads, as Kafka's (log.cleaner.io.max.bytes.per.second).
        c = self.config
        throttler = Throttler(c.max_io_bytes_per_second) if c.max_io_bytes_per_second < 1.7e308 else None
        self.threads = [CleanerThread(i, c, self.manager, throttler) for i in range(c.num_threads)]
        for t in self.threads:
            t.start()

    async def shutdown(self) -> None:
        for t in self.threads:
            await t.shutdown()
        self.threads = []

    async def reconfigure(self, props: Mapping[str, str]) -> None:
        """Kafka's LogCleaner.reconfigure: the log.cleaner.* keys other than log.cleaner.enable are
        dynamic; a change restarts the cleaner threads with the new config (running cleanings are
        aborted and picked up again)."""
        new = CleanerConfig.from_props(props)
        new = CleanerConfig(**{**new.__dict__, "enable_cleaner": self.config.enable_cleaner})
        async with self._reconfiguring:
            if new == self.config:
                return
            _logger.info("Reconfiguring the log cleaner: %s", new)
            await self.shutdown()
            self.config = new
            self.startup()

    def abort_and_pause_cleaning(self, tp: TopicPartition) -> None:
        running = self.manager.in_progress.get(tp) == LOG_CLEANING_IN_PROGRESS
        self.manager.abort_and_pause_cleaning(tp)
        if running:
            for t in self.threads:
                t.cleaner.abort(tp)

    def resume_cleaning(self, tps: list[TopicPartition]) -> None:
        self.manager.resume_cleaning(tps)


def _parent_dir(log: UnifiedLog) -> str:
    import os
    return os.path.dirname(os.path.normpath(log.dir))


def start_log_cleaner(props: Mapping[str, str], log_manager: LogManager) -> LogCleaner | None:
    """Kafka's LogManager: a LogCleaner over the log manager's logs when log.cleaner.enable
    (default true); None otherwise. Call on the event loop."""
    config = CleanerConfig.from_props(props)
    if not config.enable_cleaner or config.num_threads == 0:
        return None

    def logs(compacted_only: bool = False) -> dict[TopicPartition, tuple[str, UnifiedLog]]:
        out = {}
        for log in log_manager.all_logs():
            if compacted_only and not log.config.compact:
                continue  # one attribute test per log: the cleaner's scans skip the rest cheaply
            d = log_manager.log_dir_of(log.topic_partition)
            out[log.topic_partition] = (d if d is not None else _parent_dir(log), log)
        return out

    cleaner = LogCleaner(config, list(log_manager.log_dirs), logs, lambda: logs(True))
    cleaner.startup()
    return cleaner
