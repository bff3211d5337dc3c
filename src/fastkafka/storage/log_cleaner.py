"""The log cleaner's work on one log (Kafka's Cleaner, LogToClean, CleanerStats).

A cleaning runs in two halves:
1. On the event loop (the log's owner), `CleaningJob.snapshot` records what may be cleaned: the
   inactive segments below the first uncleanable offset with their sizes and open fds (an fd
   stays valid even if the segment is renamed or closed meanwhile), the active producers' last
   offsets, and the log's cleaning settings.
2. On a cleaner thread, `Cleaner.clean` reads only those fds: it builds the offset map over the
   dirty section [first dirty, first uncleanable), then rewrites the segments below the map's
   end offset, group by group (Kafka's groupSegmentsBySize), each group into one
   `<base>.log.cleaned` segment (fsynced, re-indexed, mtime of the group's last segment).
   The per-record work is native (`_native/log_cleaner.pyx`) without the GIL.
Back on the event loop, `CleanResult.swap_into` hands each group to `UnifiedLog.replace_segments`
if every old segment of the group is still in the log, and deletes the cleaned files otherwise.

Invariants: offsets are never changed (cleaned segments have gaps); the active segment and
everything at or above the first uncleanable offset (active segment base, last stable offset,
high watermark, min.compaction.lag.ms) are never rewritten; a cleaned batch keeps its base and
last offset and producer fields; the thread never touches a `UnifiedLog` or a segment the log
still serves.

Transactions: there is no `.txnindex` yet, so the aborted transactions of the cleaned range are
found by scanning the batch headers and transaction markers below the first uncleanable offset
(every transaction there is complete), once per cleaning (a Python step per batch header, the
cost the index would save). With them, Kafka's CleanedTransactionMetadata: aborted data batches
are removed; a marker whose transaction has no batch left gets a delete horizon and is removed
after delete.retention.ms. No cleaned `.txnindex` is written (none exists yet).
"""
from __future__ import annotations

import bisect
import logging
import os
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastkafka._native import log_cleaner as _lc
from fastkafka._native import record_batch as _rb
from fastkafka.storage import cleaner_codecs
from fastkafka.storage.log_segment import CLEANED_FILE_SUFFIX, LogSegment, log_file, offset_index_file, time_index_file
from fastkafka.storage.offset_map import OffsetMap, max_desired_map_size
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import UnifiedLog

_logger = logging.getLogger(__name__)
_I32 = struct.Struct(">i")
_MARKER_KEY = struct.Struct(">hh")
INT32_MAX = 2**31 - 1


class LogCleaningAbortedError(Exception):
    """The cleaning of a log was aborted (shutdown, log deleted or truncated): Kafka's
    LogCleaningAbortedException. The cleaned files are removed."""


@dataclass
class CleanerStats:
    """Kafka's CleanerStats (the counters the cleaner logs)."""
    bytes_read: int = 0
    bytes_written: int = 0
    map_bytes_read: int = 0
    map_messages_read: int = 0
    messages_read: int = 0
    messages_written: int = 0
    buffer_utilization: float = 0.0
    start_time: float = field(default_factory=time.monotonic)
    end_time: float = 0.0


@dataclass(frozen=True)
class SegmentView:
    """What the cleaner thread may read of one inactive segment (taken on the event loop)."""
    segment: LogSegment
    base_offset: int
    size: int
    fd: int
    handle: object  # keeps `fd` open for the thread even if the segment is closed meanwhile
    last_modified_ms: int
    offset_index_bytes: int
    time_index_bytes: int


@dataclass
class LogToClean:
    """Kafka's LogToClean: a compacted log with its dirty section and cleanable ratio."""
    topic_partition: TopicPartition
    log: UnifiedLog
    first_dirty_offset: int
    first_uncleanable_offset: int
    needs_compaction_now: bool = False
    clean_bytes: int = 0
    cleanable_bytes: int = 0

    def __post_init__(self) -> None:
        # Kafka's LogToClean: bytes before the first dirty offset are clean, [first dirty, first
        # uncleanable segment) cleanable.
        segs = self.log.segments
        # Kafka's calculateCleanableBytes: the first uncleanable segment is the inactive segment
        # holding the first uncleanable offset, else the active one.
        i = max(bisect.bisect_right([s.base_offset for s in segs], self.first_uncleanable_offset) - 1, 0)
        fu = segs[min(i, len(segs) - 1)].base_offset
        self.clean_bytes = sum(s.size for s in _segments_in(segs, self.log.log_start_offset, self.first_dirty_offset))
        lo = min(self.first_dirty_offset, fu)
        self.cleanable_bytes = sum(s.size for s in _segments_in(segs, lo, fu))

    @property
    def total_bytes(self) -> int:
        return self.clean_bytes + self.cleanable_bytes

    @property
    def cleanable_ratio(self) -> float:
        return self.cleanable_bytes / self.total_bytes if self.total_bytes else 0.0


def _segments_in(segs: list[LogSegment], start: int, end: int) -> list[LogSegment]:
    """Kafka's logSegments(from, to): segments holding offsets in [start, end)."""
    out = []
    for i, s in enumerate(segs):
        nxt = segs[i + 1].base_offset if i + 1 < len(segs) else None
        if s.base_offset >= end:
            break
        if nxt is not None and nxt <= start:
            continue
        out.append(s)
    return out


@dataclass
class CleaningJob:
    """Everything the cleaner thread reads, snapshotted on the event loop."""
    topic_partition: TopicPartition
    dir: str
    segments: list[SegmentView]  # inactive segments with base offset < first uncleanable, in order
    next_offsets: list[int]      # per segment: the next segment's base offset
    first_dirty_offset: int
    first_uncleanable_offset: int
    delete_retention_ms: int
    segment_bytes: int
    max_index_size: int
    index_interval_bytes: int
    last_records_of_active_producers: dict[int, tuple[int, int]]
    truncations: int = 0  # the log's truncation count at the snapshot: any truncation voids the result

    @classmethod
    def snapshot(cls, ltc: LogToClean) -> "CleaningJob":
        log = ltc.log
        # Segment sizes count big appends the log writer thread may still be writing (rare: a
        # roll right behind one); the cleaner thread reads up to those sizes.
        log.wait_background_writes()
        segs = log.segments
        views: list[SegmentView] = []
        nexts: list[int] = []
        for i, s in enumerate(segs[:-1]):  # never the active segment
            if s.base_offset >= ltc.first_uncleanable_offset:
                break
            h = s.log.handle
            if h is None:
                continue
            views.append(SegmentView(s, s.base_offset, s.size, s.log.fd, h, s.last_modified_ms(),
                                     s.offset_index.entries * 8, s.time_index.entries * 12))
            nexts.append(segs[i + 1].base_offset)
        active = {}
        for pid, entry in log.producer_state_manager.active_producers().items():
            active[pid] = (entry.last_data_offset, entry.producer_epoch)
        cfg = log.config
        return cls(ltc.topic_partition, log.dir, views, nexts, ltc.first_dirty_offset, ltc.first_uncleanable_offset,
                   cfg.delete_retention_ms, cfg.segment_bytes, cfg.segment_index_bytes, cfg.index_interval_bytes,
                   active, log._truncations)


@dataclass
class CleanResult:
    """Cleaned segments waiting to be swapped in on the event loop."""
    topic_partition: TopicPartition
    end_offset: int
    groups: list[tuple[LogSegment, list[LogSegment]]]
    stats: CleanerStats
    truncations: int = 0
    old_sizes: dict[int, int] = field(default_factory=dict)  # id(old segment) -> size when cleaned

    def swap_into(self, log: UnifiedLog) -> bool:
        """Replace each group's old segments with its cleaned segment (event loop only). A group
        whose old segments are no longer all in the log (truncated, deleted) is dropped.
        Returns True if every group was swapped in."""
        present = {id(s) for s in log.segments}
        ok = True
        for new, old in self.groups:
            if (log._closed or log._truncations != self.truncations
                    or not all(id(s) in present and s.size == self.old_sizes.get(id(s)) for s in old)):
                new.delete_files()
                ok = False
                continue
            log.replace_segments([new], old)
        return ok

    def discard(self) -> None:
        for new, _old in self.groups:
            new.delete_files()


class Throttler:
    """Kafka's Throttler for log.cleaner.io.max.bytes.per.second, shared by the cleaner threads:
    every check interval (300 ms) the bytes observed are compared with the desired rate and the
    calling (cleaner) thread sleeps off any excess."""

    def __init__(self, desired_rate_per_sec: float, check_interval_ms: int = 300) -> None:
        self.desired_rate_per_sec = desired_rate_per_sec
        self.check_interval_ns = check_interval_ms * 1_000_000
        self._lock = threading.Lock()
        self._period_start_ns = time.monotonic_ns()
        self._observed_so_far = 0.0

    def maybe_throttle(self, observed: float) -> None:
        sleep_ms = 0.0
        with self._lock:
            self._observed_so_far += observed
            now = time.monotonic_ns()
            elapsed = now - self._period_start_ns
            if elapsed > self.check_interval_ns and self._observed_so_far > 0:
                rate = self._observed_so_far * 1e9 / elapsed
                if rate > self.desired_rate_per_sec:
                    sleep_ms = round(self._observed_so_far / (self.desired_rate_per_sec / 1000) - elapsed / 1e6)
                self._period_start_ns = time.monotonic_ns()
                self._observed_so_far = 0
        if sleep_ms > 0:
            time.sleep(sleep_ms / 1000)


class Cleaner:
    """One cleaner thread's state: its offset map and I/O buffer size (Kafka's Cleaner).

    Concurrency: `clean` runs on the cleaner's own thread and touches only the job's fds, its
    own `.cleaned` files and its offset map; `abort` may be called from any thread."""

    def __init__(self, cleaner_id: int, offset_map: OffsetMap, io_buffer_size: int, max_io_buffer_size: int,
                 dedupe_buffer_load_factor: float, throttler: Throttler | None = None) -> None:
        self.id = cleaner_id
        self.throttler = throttler
        self.offset_map = offset_map
        self.io_buffer_size = io_buffer_size
        self.max_io_buffer_size = max_io_buffer_size
        self.dedupe_buffer_load_factor = dedupe_buffer_load_factor
        self._aborted: set[TopicPartition] = set()
        self._abort_all = False
        self._lock = threading.Lock()

    # ---------------------------------------------------------------------------- abort
    def abort(self, tp: TopicPartition | None = None) -> None:
        with self._lock:
            if tp is None:
                self._abort_all = True
            else:
                self._aborted.add(tp)

    def _check_done(self, tp: TopicPartition) -> None:
        with self._lock:
            if self._abort_all or tp in self._aborted:
                self._aborted.discard(tp)
                raise LogCleaningAbortedError(f"cleaning of {tp} aborted")

    # ---------------------------------------------------------------------------- clean
    def clean(self, job: CleaningJob, now_ms: int) -> CleanResult:
        """Kafka's Cleaner.doClean (on the cleaner thread)."""
        stats = CleanerStats()
        with self._lock:
            self._aborted.discard(job.topic_partition)  # an abort aimed at an earlier cleaning
        aborted, aborted_txns = self._collect_aborted_transactions(job)
        self._build_offset_map(job, aborted, stats)
        txn = CleanedTransactionMetadata(aborted_txns)
        end_offset = self.offset_map.latest_offset + 1
        stats.buffer_utilization = self.offset_map.utilization
        to_clean = [(v, n) for v, n in zip(job.segments, job.next_offsets) if v.base_offset < end_offset]
        groups: list[tuple[LogSegment, list[LogSegment]]] = []
        try:
            for group in _group_segments_by_size(to_clean, job.segment_bytes, job.max_index_size,
                                                 job.first_uncleanable_offset):
                cleaned = self._clean_segments(job, group, now_ms, txn, stats)
                groups.append((cleaned, [v.segment for v, _ in group]))
        except BaseException:
            for cleaned, _ in groups:
                _delete_cleaned(cleaned)
            raise
        stats.end_time = time.monotonic()
        sizes = {id(v.segment): v.size for v in job.segments}
        return CleanResult(job.topic_partition, end_offset, groups, stats, job.truncations, sizes)

    def _read(self, view: SegmentView, position: int, want: int) -> bytes:
        return os.pread(view.fd, min(want, view.size - position), position)

    def _walk(self, job: CleaningJob, view: SegmentView, consume: Callable[[bytes], int]) -> None:
        """Feed `consume` buffers of whole batches from the segment; it returns the bytes it
        consumed (0 means the next batch is larger than the buffer: Kafka's growBuffers; -1
        stops the walk)."""
        position = 0
        size = self.io_buffer_size
        while position < view.size:
            self._check_done(job.topic_partition)
            buf = self._read(view, position, size)
            if not buf:
                break
            if self.throttler is not None:
                self.throttler.maybe_throttle(len(buf))
            used = consume(buf)
            if used < 0:
                return
            if used == 0:
                if len(buf) >= 12:
                    need = _I32.unpack_from(buf, 8)[0] + 12
                    if need > len(buf) and position + need <= view.size and need <= max(self.max_io_buffer_size, size):
                        size = need
                        continue
                raise _lc.CorruptRecordError(
                    f"log segment {view.base_offset} of {job.topic_partition} may be corrupt at position {position}")
            position += used
            size = self.io_buffer_size

    def _collect_aborted_transactions(self, job: CleaningJob) -> tuple[set[int], list[tuple[int, int]]]:
        """The aborted transactions below the first uncleanable offset (what Kafka reads from the
        .txnindex): a producer's transactional batches are aborted when its next marker is an
        ABORT. Returns the base offsets of their batches and (first offset, producer id) of each."""
        open_txn: dict[int, list[int]] = {}
        aborted: set[int] = set()
        txns: list[tuple[int, int]] = []

        def consume(buf: bytes) -> int:
            headers, end, _err = _rb.scan_batches(buf, 0, False)
            for h in headers:
                if not h.is_transactional:
                    continue
                if h.is_control:
                    batch = buf[h.position:h.position + h.size]
                    recs = _rb.iter_records(batch) if h.record_count else []
                    is_abort = True
                    if recs and recs[0].key is not None and len(recs[0].key) >= 4:
                        is_abort = _MARKER_KEY.unpack_from(recs[0].key, 0)[1] == 0
                    pending = open_txn.pop(h.producer_id, [])
                    if is_abort and pending:
                        aborted.update(pending)
                        txns.append((pending[0], h.producer_id))
                else:
                    open_txn.setdefault(h.producer_id, []).append(h.base_offset)
            return end

        for view in job.segments:
            self._walk(job, view, consume)
        txns.sort()
        return aborted, txns

    def _build_offset_map(self, job: CleaningJob, aborted: set[int], stats: CleanerStats) -> None:
        """Kafka's buildOffsetMap over the dirty segments [first dirty, first uncleanable)."""
        m = self.offset_map
        m.clear()
        max_entries = max_desired_map_size(m, self.dedupe_buffer_load_factor)
        start = job.first_dirty_offset
        for view, next_offset in zip(job.segments, job.next_offsets):
            if next_offset <= start:
                continue
            full = False

            def consume(buf: bytes) -> int:
                nonlocal full
                used, full = _lc.build_offset_map(m, buf, start, max_entries, aborted, cleaner_codecs.decompress,
                                                  job.first_uncleanable_offset)
                stats.map_bytes_read += used
                return -1 if full else int(used)

            self._walk(job, view, consume)
            if full:
                if m.latest_offset < start:
                    raise RuntimeError(
                        f"the offset map of {m.slots} slots cannot hold the keys of one batch of {job.topic_partition}: "
                        f"raise log.cleaner.dedupe.buffer.size")
                return
            # Offset gaps: the map covers this whole segment (Kafka's updateLatestOffset).
            m.update_latest_offset(min(next_offset, job.first_uncleanable_offset) - 1)

    def _clean_segments(self, job: CleaningJob, group: list[tuple[SegmentView, int]], now_ms: int,
                        txn: "CleanedTransactionMetadata", stats: CleanerStats) -> LogSegment:
        """Kafka's cleanSegments: the group's retained batches into one `.cleaned` segment."""
        base = group[0][0].base_offset
        path = log_file(job.dir, base, CLEANED_FILE_SUFFIX)
        for p in (path, offset_index_file(job.dir, base, CLEANED_FILE_SUFFIX),
                  time_index_file(job.dir, base, CLEANED_FILE_SUFFIX)):
            if os.path.exists(p):
                os.unlink(p)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        written = 0
        try:
            for view, _next in group:
                def consume(buf: bytes) -> int:
                    nonlocal written
                    used, out, st = _lc.clean_records(
                        self.offset_map, buf, now=now_ms, delete_retention_ms=job.delete_retention_ms,
                        upper_bound_offset=job.first_uncleanable_offset, txn=txn,
                        last_records_of_active_producers=job.last_records_of_active_producers,
                        decompress=cleaner_codecs.decompress, compress=cleaner_codecs.compress)
                    if out:
                        mv = memoryview(out)
                        while mv:
                            n = os.pwrite(fd, mv, written)
                            written += n
                            mv = mv[n:]
                    stats.bytes_read += used
                    stats.bytes_written += len(out)
                    if self.throttler is not None and out:
                        self.throttler.maybe_throttle(len(out))
                    stats.messages_read += st["messages_read"]
                    stats.messages_written += st["messages_retained"]
                    return int(used)

                self._walk(job, view, consume)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            for p in (path,):
                try:
                    os.unlink(p)
                except FileNotFoundError:
                    pass
            raise
        os.close(fd)
        seg = LogSegment.open(job.dir, base, index_interval_bytes=job.index_interval_bytes,
                              max_index_size=job.max_index_size, file_suffix=CLEANED_FILE_SUFFIX)
        try:
            seg.recover()  # builds both indexes from the cleaned log (reads only this file)
            seg.offset_index.flush()
            seg.time_index.flush()
            last_modified = group[-1][0].last_modified_ms
            os.utime(path, ns=(last_modified * 1_000_000, last_modified * 1_000_000))
        except BaseException:
            _delete_cleaned(seg)
            raise
        return seg


class CleanedTransactionMetadata:
    """Kafka's CleanedTransactionMetadata for one cleaning pass: which transactional batches are
    aborted and which markers may go. The aborted transactions come from the header scan (no
    .txnindex yet), as (first offset, producer id), consumed in offset order.

    A COMMIT marker may go when no batch of its transaction is left (none was read in this pass
    since the producer's previous marker); an ABORT marker when none of its aborted batches is
    left. Used by one cleaner thread; called per transactional or control batch only."""

    def __init__(self, aborted_txns: list[tuple[int, int]]) -> None:
        self._aborted = aborted_txns
        self._next = 0
        self._ongoing_committed: set[int] = set()
        self._ongoing_aborted: dict[int, int | None] = {}  # producer id -> last observed batch offset

    def _consume_aborted_up_to(self, offset: int) -> None:
        while self._next < len(self._aborted) and self._aborted[self._next][0] <= offset:
            pid = self._aborted[self._next][1]
            self._ongoing_aborted.setdefault(pid, None)
            self._next += 1

    def on_batch_read(self, producer_id: int, last_offset: int) -> bool:
        """A transactional data batch: True if it belongs to an aborted transaction."""
        self._consume_aborted_up_to(last_offset)
        if producer_id in self._ongoing_aborted:
            self._ongoing_aborted[producer_id] = last_offset
            return True
        self._ongoing_committed.add(producer_id)
        return False

    def on_control_batch_read(self, producer_id: int, last_offset: int, control_type: int) -> bool:
        """A control batch (type 0 ABORT, 1 COMMIT, -1 other, -2 empty): True if it may be
        discarded (once its delete horizon has passed)."""
        self._consume_aborted_up_to(last_offset)
        if control_type == -2:
            return True  # an empty control batch was already cleaned
        if control_type == 0:
            observed = self._ongoing_aborted.pop(producer_id, None)
            return observed is None  # kept until every batch of the transaction is gone
        if control_type == 1:
            if producer_id in self._ongoing_committed:
                self._ongoing_committed.discard(producer_id)
                return False
            return True
        return False


def _delete_cleaned(seg: LogSegment) -> None:
    """Remove a `.cleaned` segment built by the thread (its indexes are its own; no queued io)."""
    seg.offset_index.close()
    seg.time_index.close()
    d = os.path.dirname(seg.log.path)
    for p in (seg.log.path, offset_index_file(d, seg.base_offset, CLEANED_FILE_SUFFIX),
              time_index_file(d, seg.base_offset, CLEANED_FILE_SUFFIX)):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


def _group_segments_by_size(segs: list[tuple[SegmentView, int]], max_size: int, max_index_size: int,
                            first_uncleanable_offset: int) -> list[list[tuple[SegmentView, int]]]:
    """Kafka's groupSegmentsBySize: consecutive segments whose total log and index sizes fit one
    segment and whose offsets fit the index's int32 relative offsets."""
    grouped: list[list[tuple[SegmentView, int]]] = []
    i = 0
    while i < len(segs):
        group = [segs[i]]
        log_size = segs[i][0].size
        index_size = segs[i][0].offset_index_bytes
        time_index_size = segs[i][0].time_index_bytes
        i += 1
        while i < len(segs):
            v = segs[i][0]
            last_offset = (segs[i + 1][0].base_offset - 1) if i + 1 < len(segs) else first_uncleanable_offset - 1
            if not (log_size + v.size <= max_size and index_size + v.offset_index_bytes <= max_index_size
                    and time_index_size + v.time_index_bytes <= max_index_size
                    and (v.size == 0 or last_offset - group[-1][0].base_offset <= INT32_MAX)):
                break
            group.append(segs[i])
            log_size += v.size
            index_size += v.offset_index_bytes
            time_index_size += v.time_index_bytes
            i += 1
        grouped.append(group)
    return grouped
