"""UnifiedLog: a partition's log, a sorted run of LogSegments (storage.internals.log.UnifiedLog,
LocalLog and LogLoader, without tiered storage).

Directory `<log dir>/<topic>-<partition>/` holds `<20-digit base offset>.log/.index/.timeindex`
per segment, `leader-epoch-checkpoint` and `partition.metadata`. Offsets:
`log_start_offset <= high_watermark <= log_end_offset`; `recovery_point` is the offset below
which everything is known flushed (recovery after a crash starts at its segment).
Every open CRC-checks the active segment's tail (from its last index entry) and cuts a torn,
corrupt or extended tail, clean shutdown or not, before anything is appended behind it.

Appends of a big Produce request (validated and timestamp-stamped on a worker thread beforehand:
`prevalidate`, in a writable pooled request buffer), and rebuilds for the topic's
compression.type too big for the loop (made and stamped by `prevalidate` in a bytearray of their
own), are stamped in place (no copy) and written by the log writer thread; the append itself
(offsets, producer state, indexes) stays synchronous on the event loop, so offsets are still
assigned in append order. Until such a write is done,
`durable_end_offset` stays at its base offset: the high watermark (what consumers read and what
acks wait for: Partition, Produce) never passes bytes that are not in the page cache yet, and
flush, truncation and close wait for them.
"""
from __future__ import annotations

import asyncio
import bisect
import collections
import concurrent.futures
import dataclasses
import logging
import os
import random
import shutil
import struct
import time
from collections.abc import Callable

from fastkafka._native import record_batch as _rb
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage import recompression
from fastkafka.storage.checkpoint_file import deferred_fsync, fsync_dir, fsync_paths
from fastkafka.storage.fetch_data_info import FetchDataInfo
from fastkafka.storage import file_records
from fastkafka.storage.file_records import FileRecords
from fastkafka.storage.leader_epoch_file_cache import LEADER_EPOCH_CHECKPOINT_FILENAME, LeaderEpochFileCache
from fastkafka.storage.log_append_info import LogAppendInfo
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.log_offset_metadata import LogOffsetMetadata
from fastkafka.storage.log_segment import (
    CLEANED_FILE_SUFFIX,
    DELETED_FILE_SUFFIX,
    INDEX_FILE_SUFFIX,
    LOG_FILE_SUFFIX,
    SWAP_FILE_SUFFIX,
    TIME_INDEX_FILE_SUFFIX,
    TXN_INDEX_FILE_SUFFIX,
    LogSegment,
    RollParams,
    log_file,
    offset_from_file_name,
    offset_index_file,
    time_index_file,
    txn_index_file,
)
from fastkafka.storage.partition_metadata_file import PARTITION_METADATA_FILENAME, PartitionMetadataFile
from fastkafka.storage.producer_state_manager import snapshot_file as producer_snapshot_file
from fastkafka.storage.producer_state_manager import (
    DEFAULT_PRODUCER_ID_EXPIRATION_MS,
    DELETED_SUFFIX,
    AppendOrigin,
    CompletedTxn,
    ProducerAppendInfo,
    ProducerStateManager,
)
from fastkafka.storage.transaction_index import AbortedTxn
from fastkafka.storage.topic_partition import TopicPartition

# ListOffsets special timestamps (ListOffsetsRequest).
LATEST_TIMESTAMP = -1
EARLIEST_TIMESTAMP = -2
MAX_TIMESTAMP = -3
EARLIEST_LOCAL_TIMESTAMP = -4
LATEST_TIERED_TIMESTAMP = -5

_logger = logging.getLogger(__name__)

# (work to run on another thread, callback on the event loop with the work's exception or None)
BackgroundFlusher = Callable[[Callable[[], None], Callable[[BaseException | None], None]], None]

_TXN_MARKER_KEY = struct.Struct(">hh")
_TXN_MARKER_VALUE = struct.Struct(">hi")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclasses.dataclass(slots=True)
class Prevalidated:
    """UnifiedLog.prevalidate's result for one produce payload: validate_records ran on these
    very bytes under `config`; `records` is their rebuild for the topic's compression.type (a
    bytearray of ours; None: not rebuilt, the payload is appended as sent) and `info` describes
    what is appended; (stamped) the timestamp fields and CRC of what is appended were set in
    place for `log_append_time` (-1: CreateTime). The append trusts it only while the log's
    config equals `config` (LogConfig is immutable: a config change replaces it)."""

    info: _rb.BatchInfo | recompression.RebuiltInfo
    config: LogConfig
    log_append_time: int
    stamped: bool
    records: bytes | bytearray | None = None


class UnifiedLog:
    """The log of one partition.

    Invariants: `segments` is sorted by base offset, non-empty, and each segment's offsets are
    below the next one's base offset; the last segment is the active one (the only one
    appended to); `log_start_offset <= high_watermark <= log_end_offset`;
    `recovery_point <= log_end_offset`; producer state and the leader epoch cache reflect
    every batch below `log_end_offset`.
    Concurrency: single writer: call only from the event loop thread (the partition's owner).
    Reads return file slices of immutable bytes below the log end offset.
    """

    def __init__(self, dir_path: str, config: LogConfig, *, topic_partition: TopicPartition,
                 segments: list[LogSegment], log_start_offset: int, recovery_point: int,
                 log_end_offset: int, leader_epoch_cache: LeaderEpochFileCache,
                 producer_state_manager: ProducerStateManager, topic_id: bytes | None) -> None:
        self.dir = dir_path
        self.config = config
        self.topic_partition = topic_partition
        self._segments = segments
        self._base_offsets = [s.base_offset for s in segments]
        self.log_start_offset = log_start_offset
        self.recovery_point = recovery_point
        self.log_end_offset = log_end_offset
        self.high_watermark = log_start_offset
        self.leader_epoch_cache = leader_epoch_cache
        self.producer_state_manager = producer_state_manager
        self.topic_id = topic_id
        self.last_flush_time = _now_ms()
        # Runs the fsync of rolled segments off the event loop (Kafka's "flush-log" job after a
        # roll); set by the LogManager. None: inline (unit tests, the KRaft metadata log).
        self.background_flusher: BackgroundFlusher | None = None
        self._truncations = 0  # bumped by every truncation: a background flush then moves nothing
        # Segments renamed `.deleted`, waiting for file.delete.delay.ms: (due ms, segment).
        self._pending_file_deletes: collections.deque[tuple[int, LogSegment]] = collections.deque()
        self._closed = False
        # Big appends being written by the log writer thread, in offset order: (base offset,
        # loop future set once written, the writer's future).
        self._unwritten: collections.deque[tuple[int, asyncio.Future[None], concurrent.futures.Future[None]]] = \
            collections.deque()
        # Called on the loop when background writes completed (the Partition advances its high
        # watermark and wakes fetches).
        self.on_written: Callable[[], None] | None = None

    # ================================================================ loading (LogLoader)
    @classmethod
    def open(cls, dir_path: str, config: LogConfig, *, topic_id: bytes | None = None,
             log_start_offset: int = 0, recovery_point: int = 0, had_clean_shutdown: bool = True,
             topic_partition: TopicPartition | None = None,
             producer_id_expiration_ms: int = DEFAULT_PRODUCER_ID_EXPIRATION_MS) -> "UnifiedLog":
        """Open (creating if needed) the log in `dir_path`, recovering from `recovery_point` when
        the previous shutdown was not clean, and rebuilding any missing or corrupt index."""
        os.makedirs(dir_path, exist_ok=True)
        tp = topic_partition or TopicPartition.parse_dir_name(os.path.basename(os.path.normpath(dir_path))) \
            or TopicPartition(os.path.basename(os.path.normpath(dir_path)), 0)
        _remove_temp_files(dir_path)
        epoch_cache = LeaderEpochFileCache(os.path.join(dir_path, LEADER_EPOCH_CHECKPOINT_FILENAME))
        psm = ProducerStateManager(str(tp), dir_path, producer_id_expiration_ms)

        segments, reindexed = _load_segments(dir_path, config)
        if not segments:
            segments = [_new_segment(dir_path, config, log_start_offset)]
            fsync_dir(dir_path)
        log_start_offset = max(log_start_offset, segments[0].base_offset)
        recovery_point = max(recovery_point, log_start_offset)

        # Segments whose .txnindex is rebuilt while producer state is loaded (recovered ones).
        recovered: set[int] = set(reindexed)
        if not had_clean_shutdown:
            for i, seg in enumerate(segments):
                next_base = segments[i + 1].base_offset if i + 1 < len(segments) else None
                if next_base is not None and next_base <= recovery_point:
                    continue  # wholly below the recovery point: flushed before the crash
                recovered.add(seg.base_offset)
                truncated = seg.recover(None, epoch_cache)
                if truncated > 0:
                    # Everything after a torn batch is garbage too (LogLoader.recoverLog).
                    for later in segments[i + 1:]:
                        later.delete_files()
                    del segments[i + 1:]
                    break

        active = segments[-1]
        if active.base_offset not in recovered:
            # Even after a clean shutdown (Kafka trusts one): the active segment's tail is what
            # the next append lands behind, so a torn or extended tail must go first.
            check = active.verify_tail()
            if check.truncated_bytes:
                _logger.warning("[UnifiedLog partition=%s, dir=%s] Found a torn or corrupt tail in the "
                                "active segment %s at byte offset %d: %d bytes truncated; the log now "
                                "ends at offset %d", tp, os.path.dirname(dir_path) or ".",
                                os.path.basename(active.log.path), check.valid_size, check.truncated_bytes,
                                check.next_offset)
        active.reopen_indexes_for_append(config.segment_index_bytes)
        log_end_offset = active.read_next_offset()
        if len(segments) > 1 and active.size == 0 and log_end_offset == active.base_offset:
            log_end_offset = max(log_end_offset, segments[-2].read_next_offset())
        recovery_point = min(recovery_point, log_end_offset)
        if log_start_offset > log_end_offset:
            log_start_offset = log_end_offset
        # Not written now: on a restart the leader's registration usually re-assigns the same
        # entry; LogManager.flush_stale_leader_epoch_checkpoints writes what is left afterwards.
        epoch_cache.truncate_from_end(log_end_offset, persist=False)
        epoch_cache.truncate_from_start(log_start_offset)

        # Producer state (Kafka's LogLoader: recoverSegment / rebuildProducerState): the latest
        # snapshot at or below the first recovered segment (else the log end), then the batches
        # after it; snapshots outside (log start, that bound] are deleted first, as Kafka does.
        psm.remove_stray_snapshots([seg.base_offset for seg in segments])
        upper = min([log_end_offset] + [b for b in recovered if b <= log_end_offset])
        psm.truncate_and_reload(log_start_offset, upper, _now_ms())
        _load_producer_state(psm, segments, log_start_offset, log_end_offset, recovered)
        psm.take_snapshot()

        pmf = PartitionMetadataFile(os.path.join(dir_path, PARTITION_METADATA_FILENAME))
        stored_id = pmf.read() if pmf.exists() else None
        if topic_id is not None and stored_id is not None and stored_id != topic_id:
            raise KafkaError(Errors.INCONSISTENT_TOPIC_ID,
                             f"Tried to assign topic ID {topic_id.hex()} to log for {tp}, "
                             f"but log already contained topic ID {stored_id.hex()}")
        log = cls(dir_path, config, topic_partition=tp, segments=segments, log_start_offset=log_start_offset,
                  recovery_point=recovery_point, log_end_offset=log_end_offset, leader_epoch_cache=epoch_cache,
                  producer_state_manager=psm, topic_id=stored_id or topic_id)
        if stored_id is None and topic_id is not None:
            pmf.write(topic_id)
        return log

    # ================================================================ properties
    @property
    def segments(self) -> list[LogSegment]:
        return list(self._segments)

    @property
    def active_segment(self) -> LogSegment:
        return self._segments[-1]

    @property
    def num_segments(self) -> int:
        return len(self._segments)

    @property
    def size(self) -> int:
        return sum(s.size for s in self._segments)

    @property
    def last_stable_offset(self) -> int:
        """min(first unstable offset, high watermark): READ_COMMITTED fetches stop here."""
        fu = self.producer_state_manager.first_unstable_offset
        return self.high_watermark if fu is None else min(fu, self.high_watermark)

    @property
    def latest_epoch(self) -> int | None:
        return self.leader_epoch_cache.latest_epoch

    @property
    def closed(self) -> bool:
        return self._closed

    def update_config(self, config: LogConfig) -> None:
        self.config = config

    def assign_topic_id(self, topic_id: bytes) -> None:
        if self.topic_id is None:
            self.topic_id = topic_id
            PartitionMetadataFile(os.path.join(self.dir, PARTITION_METADATA_FILENAME)).write(topic_id)
        elif self.topic_id != topic_id:
            raise KafkaError(Errors.INCONSISTENT_TOPIC_ID, f"Topic ID mismatch for {self.topic_partition}")

    @property
    def durable_end_offset(self) -> int:
        """The log end offset, or the base offset of the first append still being written by
        the log writer thread: every byte below it is in the page cache."""
        return self._unwritten[0][0] if self._unwritten else self.log_end_offset

    def unwritten_future(self) -> asyncio.Future[None] | None:
        """A future done once every append made so far is in the page cache (None: they are)."""
        return self._unwritten[-1][1] if self._unwritten else None

    def update_high_watermark(self, offset: int) -> int:
        """Set the HW, clamped to [log_start_offset, durable_end_offset]; returns the value set."""
        hw = min(max(offset, self.log_start_offset), self.durable_end_offset)
        self.high_watermark = hw
        return hw

    def assign_epoch_start_offset(self, leader_epoch: int, start_offset: int) -> None:
        """A new leader epoch starts at `start_offset` (becoming leader)."""
        self.leader_epoch_cache.assign(leader_epoch, start_offset)

    def end_offset_for_epoch(self, leader_epoch: int) -> tuple[int, int]:
        """(epoch, end offset) for OffsetForLeaderEpoch."""
        return self.leader_epoch_cache.end_offset_for(leader_epoch, self.log_end_offset)

    # ================================================================ append
    def validate_records(self, records: bytes | bytearray | memoryview, *, now_ms: int,
                         origin: AppendOrigin = AppendOrigin.CLIENT,
                         compressed_checked: bool = False, inline_budget: int = -1,
                         config: LogConfig | None = None) -> _rb.BatchInfo:
        """Kafka's analyzeAndValidateRecords + LogValidator for a produce payload under this log's
        config. Touches no log state, so ReplicaManager may run it on a worker thread (big
        compressed batches) before append_as_leader(..., compressed_checked=True).
        Raises KafkaError (record_errors attached for per-record failures), and
        batch_decompressor.InlineBudgetExceeded past `inline_budget` decompressed bytes.
        `config`: the LogConfig to validate under (default: the current one)."""
        cfg = self.config if config is None else config
        try:
            return _rb.validate_produce_batches(
                records, max_batch_size=cfg.max_message_bytes, compacted=cfg.compact, now_ms=now_ms,
                timestamp_type_log_append=cfg.log_append_time,
                timestamp_before_max_ms=cfg.message_timestamp_before_max_ms,
                timestamp_after_max_ms=cfg.message_timestamp_after_max_ms,
                client_origin=origin is AppendOrigin.CLIENT, topic_partition=str(self.topic_partition),
                compressed_checked=compressed_checked, inline_budget=inline_budget,
                rebuild_target=_rebuild_target(cfg))
        except _rb.InvalidRecordError as e:
            if getattr(e, "response_message", "") is None:
                # Kafka answers these (a compressed stream it cannot read or iterate) with the
                # code only; str(e) is for our log.
                _logger.debug("Produce to %s refused (%d): %s", self.topic_partition, e.code, e)
                err = KafkaError(e.code, None)
                err.message = None  # type: ignore[assignment]
                raise err from None
            err = KafkaError(e.code, str(e))
            # Kafka's RecordValidationException: the failing records, by index in the batch, go to
            # ProduceResponse's RecordErrors (ReplicaManager keeps them with the partition's error).
            err.record_errors = e.record_errors  # type: ignore[attr-defined]
            raise err from None

    def prevalidate(self, records: memoryview, *, now_ms: int) -> Prevalidated:
        """For a worker thread, before append_as_leader(..., validated=result) on the loop: a big
        payload's validate_records, then its rebuild for the topic's compression.type (Kafka's
        recompression, size re-checked: MESSAGE_TOO_LARGE), then the timestamp fields and CRC of
        what will be appended stamped in place, as the append would (stamp_timestamps): the
        rebuilt bytearray, else the payload when its buffer is writable (a pooled request
        buffer). Validation, codecs and stamping release the GIL over big batches. Touches no
        log state."""
        cfg = self.config  # one snapshot: the append compares it with the config it sees then
        info = self.validate_records(records, now_ms=now_ms, config=cfg)
        lat = now_ms if cfg.log_append_time else -1
        rebuilt = recompression.rebuild_for_config(cfg, records)
        if rebuilt is not records:
            # The payload as sent stays unstamped: a config change before the append makes the
            # append validate and rebuild it again.
            recompression.check_rebuilt_size(cfg, rebuilt, self.topic_partition)
            stamped = isinstance(rebuilt, bytearray)
            if stamped:
                _rb.stamp_timestamps(rebuilt, lat)
            return Prevalidated(recompression.RebuiltInfo(info, rebuilt), cfg, lat, stamped, rebuilt)
        stamped = isinstance(records, memoryview) and not records.readonly
        if stamped:
            _rb.stamp_timestamps(records, lat)
        return Prevalidated(info, cfg, lat, stamped)

    def append_as_leader(self, records: bytes | bytearray | memoryview, leader_epoch: int, *, now_ms: int,
                         require_single_batch: bool = True,
                         origin: AppendOrigin = AppendOrigin.CLIENT,
                         compressed_checked: bool = False,
                         validated: Prevalidated | None = None) -> LogAppendInfo:
        """Validate, assign offsets, append; Kafka's UnifiedLog.appendAsLeader.

        Raises KafkaError with Kafka's code: CORRUPT_MESSAGE, INVALID_RECORD, MESSAGE_TOO_LARGE,
        RECORD_LIST_TOO_LARGE, INVALID_TIMESTAMP, UNSUPPORTED_COMPRESSION_TYPE,
        INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_TXN_STATE,
        KAFKA_STORAGE_ERROR, UNKNOWN_SERVER_ERROR (a compressed stream the codec cannot read).
        An exact retry of one of a producer's last 5 batches writes nothing and returns the
        original offsets with duplicate=True. compressed_checked: validate_records ran on these
        very bytes just before (off the loop), so compressed batches are not walked again.
        validated: `prevalidate` ran on these bytes (off the loop) under a config equal to the
        current one: no validation here, its rebuild for the topic's compression.type (if any) is
        what is appended, and a stamped payload is appended without a copy and written by the log
        writer thread (see the module docstring). Under a changed config, `records` (the batch as
        sent) is validated and rebuilt here."""
        self._check_open()
        cfg = self.config
        # Equal, not only identical: a metadata publication may re-make an unchanged LogConfig.
        pre = validated if validated is not None and (validated.config is cfg or validated.config == cfg) else None
        if pre is not None:
            info = pre.info
            if pre.records is not None:
                records = pre.records
        else:
            info = self.validate_records(records, now_ms=now_ms, origin=origin, compressed_checked=compressed_checked)
        if info.batch_count == 0:
            return LogAppendInfo(-1, -1, -1, self.log_start_offset, 0)
        if require_single_batch and info.batch_count != 1:
            raise KafkaError(Errors.INVALID_RECORD,
                             "Produce requests with version 3 and above must contain exactly one record batch "
                             f"(got {info.batch_count}) for {self.topic_partition}")
        # Topic compression.type (Kafka's LogValidator): a batch in another codec is rebuilt; the
        # rebuilt batch's size is checked again. UnifiedLog.prevalidate rebuilt on a worker what
        # ReplicaManager sends off the loop (pre.records); what reaches this point unbuilt is
        # small enough for the loop (recompression.inline_rebuild_bytes) or its config changed
        # meanwhile (rare). A rebuilt bytearray is ours alone: stamped without another copy.
        owned = pre is not None and isinstance(pre.records, bytearray)
        if pre is None:
            rebuilt = recompression.rebuild_for_config(cfg, records)
            if rebuilt is not records:
                recompression.check_rebuilt_size(cfg, rebuilt, self.topic_partition)
                records, info = rebuilt, recompression.RebuiltInfo(info, rebuilt)
                owned = isinstance(records, bytearray)
        # Kafka checks the segment size on the validated (possibly rebuilt) records.
        if info.size > cfg.segment_bytes:
            raise KafkaError(Errors.RECORD_LIST_TOO_LARGE,
                             f"Message batch size is {info.size} bytes in append to partition {self.topic_partition} "
                             f"which exceeds the maximum configured segment size of {cfg.segment_bytes}.")
        headers = self._batch_headers(records, info)
        if origin is AppendOrigin.CLIENT:
            for h in headers:
                if h.is_control:
                    raise KafkaError(Errors.INVALID_RECORD,
                                     f"Clients are not allowed to write control records in topic partition {self.topic_partition}.")
                if h.producer_id >= 0 and h.base_sequence < 0:
                    raise KafkaError(Errors.INVALID_RECORD,
                                     f"Invalid sequence number {h.base_sequence} in record batch with producerId "
                                     f"{h.producer_id} in topic partition {self.topic_partition}")
            # Idempotent retry of a cached batch: answer with the original offsets.
            if len(headers) == 1 and headers[0].producer_id >= 0:
                h = headers[0]
                entry = self.producer_state_manager.last_entry(h.producer_id)
                if entry is not None:
                    dup = entry.find_duplicate_batch(h.producer_epoch, h.base_sequence, h.last_sequence)
                    if dup is not None:
                        return LogAppendInfo(dup.first_offset, dup.last_offset, dup.timestamp,
                                             self.log_start_offset, info.record_count, duplicate=True)

        base_offset = self.log_end_offset
        log_append_time = now_ms if cfg.log_append_time else -1
        # A payload validated and stamped off the loop (the request buffer as it is, or its rebuild
        # for the topic's codec) is appended without a copy (BaseOffset and PartitionLeaderEpoch
        # written in place, O(1)) and written by the log writer thread; anything else is stamped
        # here, copied first unless it is a rebuild of ours.
        background = pre is not None and pre.stamped and _loop_running()
        if background:
            assert pre is not None
            log_append_time = pre.log_append_time
            buf: bytearray | memoryview = records  # type: ignore[assignment]
            next_offset = _rb.assign_offsets(buf, base_offset, leader_epoch, log_append_time, stamped=True)
        else:
            buf = records if owned else bytearray(records)  # type: ignore[assignment]
            next_offset = _rb.assign_offsets(buf, base_offset, leader_epoch, log_append_time)
        last_offset = next_offset - 1
        shift = base_offset - info.base_offset
        max_ts = log_append_time if cfg.log_append_time else info.max_timestamp

        # Producer state is validated against the assigned offsets before anything is written.
        updates, completed_txns = self._analyze_producer_state(headers, shift, origin, log_append_time)

        segment = self._maybe_roll(len(buf), max_ts, last_offset, now_ms)
        written = segment.append(last_offset, buf, background=background)
        if written is not None:
            self._track_background_write(base_offset, written)
        self.log_end_offset = next_offset
        psm = self.producer_state_manager
        for upd in updates.values():
            psm.update(upd)
        # Kafka's UnifiedLog.append: each completed transaction's LSO goes to the segment's
        # .txnindex when it aborted (markers only: the coordinator's low-rate appends).
        for completed in completed_txns:
            segment.update_txn_index(completed, psm.last_stable_offset(completed))
        psm.update_map_end_offset(next_offset)
        if leader_epoch >= 0:
            latest = self.leader_epoch_cache.latest_epoch
            if latest is None or leader_epoch > latest:
                self.leader_epoch_cache.assign(leader_epoch, base_offset)

        # flush.messages is checked on append, as in Kafka; flush.ms by the kafka-log-flusher
        # task (LogManager.flush_dirty_logs). By default neither fires: the page cache is trusted.
        if self.log_end_offset - self.recovery_point >= cfg.flush_messages:
            self.flush()
        return LogAppendInfo(base_offset, last_offset, log_append_time, self.log_start_offset,
                             info.record_count, max_ts, last_offset, len(buf))

    def _batch_headers(self, records: bytes | bytearray | memoryview, info: object) -> list["_Hdr"]:
        if getattr(info, "batch_count") == 1:
            i = info
            hdr = _Hdr(i.base_offset, i.last_offset, i.max_timestamp, i.producer_id, i.producer_epoch,  # type: ignore[attr-defined]
                       i.base_sequence, i.last_sequence, i.is_transactional, i.is_control, 0, len(records))  # type: ignore[attr-defined]
            if hdr.is_control:
                hdr.records = bytes(records)
            return [hdr]
        scanned, _end, _err = _rb.scan_batches(records, 0, False)
        out = []
        for h in scanned:
            last_seq = -1 if h.base_sequence < 0 else _inc_seq(h.base_sequence, h.last_offset - h.base_offset)
            hdr = _Hdr(h.base_offset, h.last_offset, h.max_timestamp, h.producer_id, h.producer_epoch,
                       h.base_sequence, last_seq, h.is_transactional, h.is_control, h.position, h.size)
            if hdr.is_control:
                hdr.records = bytes(records[h.position:h.position + h.size])
            out.append(hdr)
        return out

    def _analyze_producer_state(self, headers: list["_Hdr"], shift: int, origin: AppendOrigin,
                                log_append_time: int) -> tuple[dict[int, ProducerAppendInfo], list[CompletedTxn]]:
        updates: dict[int, ProducerAppendInfo] = {}
        completed_txns: list[CompletedTxn] = []
        for h in headers:
            if h.producer_id < 0:
                continue
            upd = updates.get(h.producer_id)
            if upd is None:
                upd = self.producer_state_manager.prepare_update(h.producer_id, origin)
                updates[h.producer_id] = upd
            first = h.base_offset + shift
            last = h.last_offset + shift
            ts = log_append_time if log_append_time >= 0 else h.max_timestamp
            if h.is_control:
                is_abort, coordinator_epoch = self._read_txn_marker(h)
                completed = upd.append_end_txn_marker(is_abort, coordinator_epoch, h.producer_epoch, first, ts)
                if completed is not None:
                    completed_txns.append(completed)
            else:
                upd.append_data_batch(h.producer_epoch, h.base_sequence, h.last_sequence, ts, first, last,
                                      h.is_transactional)
        return updates, completed_txns

    def _read_txn_marker(self, h: "_Hdr") -> tuple[bool, int]:
        # Control batches come from the transaction coordinator only (low rate): decoding the
        # single record is fine here.
        return (True, -1) if h.records is None else _decode_txn_marker(h.records)

    def _track_background_write(self, base_offset: int, written: concurrent.futures.Future[None]) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._unwritten.append((base_offset, done, written))
        # The writer thread completes writes in submission order, so these callbacks arrive in order.
        written.add_done_callback(lambda f: loop.call_soon_threadsafe(self._background_write_done, f))

    def _background_write_done(self, written: concurrent.futures.Future[None]) -> None:
        error = written.exception()
        if error is not None:
            # Kafka: an IOException while appending takes the log dir offline and a broker whose
            # every log dir is offline halts. Nothing at or after this write was acknowledged.
            _logger.critical("Halting broker: appending to %s failed (%s)", self.topic_partition, error)
            logging.shutdown()
            os._exit(1)
        q = self._unwritten
        while q and q[0][2].done():
            _base, done, _w = q.popleft()
            if not done.done():
                done.set_result(None)
        if self.on_written is not None:
            self.on_written()

    def wait_background_writes(self) -> None:
        """For readers of raw file sizes (replica moves): block until every byte below the log
        end is written."""
        self._drain_background_writes()

    def _drain_background_writes(self) -> None:
        """Block until the log writer has written every big append of this log (flush,
        truncation, close: rare, and at most one write's time)."""
        q = self._unwritten
        if q:
            file_records._submit_background_job()  # the open request-level job, if any
        while q:
            _base, done, written = q.popleft()
            written.result()
            if not done.done():
                done.set_result(None)

    def _maybe_roll(self, messages_size: int, max_timestamp: int, max_offset: int, now: int) -> LogSegment:
        seg = self.active_segment
        if seg.should_roll(RollParams(self.config.segment_ms, self.config.segment_bytes, max_timestamp,
                                      max_offset, messages_size, now)):
            return self.roll()
        return seg

    def roll(self) -> LogSegment:
        """Close the active segment to appends and start a new one at the log end offset."""
        new_offset = self.log_end_offset
        active = self.active_segment
        if active.base_offset == new_offset:
            if active.size == 0:
                return active  # already an empty segment here: nothing to roll
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR,
                             f"Trying to roll a new log segment for {self.topic_partition} with start offset "
                             f"{new_offset} while it already exists.")
        active.on_became_inactive_segment()
        seg = _new_segment(self.dir, self.config, new_offset)
        self._segments.append(seg)
        self._base_offsets.append(new_offset)
        # Kafka's roll: a producer-state snapshot at the new segment's base offset, so a load
        # never folds in more than the segments after the latest snapshot. As Kafka's
        # takeSnapshot(sync=false), its fsync goes with the rolled segments' flush (a snapshot
        # torn by an OS crash fails its CRC at load and an older one is used).
        psm = self.producer_state_manager
        psm.update_map_end_offset(new_offset)
        if self.background_flusher is None:
            psm.take_snapshot()
            self.flush(new_offset)
        else:
            with deferred_fsync() as paths:
                psm.take_snapshot()
            self._flush_in_background(new_offset, set(paths))
        fsync_dir(self.dir)
        return seg

    def _flush_in_background(self, offset: int, extra_paths: set[str] | None = None) -> None:
        """fsync the segments below `offset` on the flusher's thread, then (back on the event
        loop) flush their indexes and move the recovery point, unless the log was truncated or
        closed meanwhile. The file handles keep the fds open for the thread."""
        start = max(self._floor_index(self.recovery_point), 0)
        segs = [s for s in self._segments[start:] if s.base_offset < offset and not s.log.closed]
        handles = [s.log.handle for s in segs]
        truncations = self._truncations
        unwritten = [w for _b, _d, w in self._unwritten]

        def work() -> None:
            for w in unwritten:  # fsync only after the log writer has written them
                w.result()
            for h in handles:
                if h is not None:
                    os.fsync(h.fd)
            if extra_paths:
                fsync_paths(extra_paths)

        def done(error: BaseException | None) -> None:
            if error is not None:
                _logger.error("Error while flushing log %s up to offset %d: %s", self.topic_partition, offset, error)
                return
            if self._closed or self._truncations != truncations:
                return
            for s in segs:
                if not s.log.closed:
                    s.offset_index.flush()
                    s.time_index.flush()
                    s.txn_index.flush()  # only when an abort was indexed since (rare)
            if offset > self.recovery_point:
                self.recovery_point = min(offset, self.log_end_offset)
                self.last_flush_time = _now_ms()

        assert self.background_flusher is not None
        self.background_flusher(work, done)

    # ================================================================ read
    def read(self, fetch_offset: int, max_bytes: int, *, max_offset: int, min_one_message: bool) -> FetchDataInfo:
        """Records from `fetch_offset`, not beyond `max_offset` (HW for consumers, LSO for
        READ_COMMITTED, LEO for replicas). OFFSET_OUT_OF_RANGE outside [log_start, LEO]."""
        self._check_open()
        leo = self.log_end_offset
        if fetch_offset > leo or fetch_offset < self.log_start_offset:
            raise KafkaError(Errors.OFFSET_OUT_OF_RANGE,
                             f"Received request for offset {fetch_offset} for partition {self.topic_partition}, "
                             f"but we only have log segments in the range {self.log_start_offset} to {leo}.")
        if fetch_offset >= max_offset or fetch_offset == leo:
            return FetchDataInfo.empty(LogOffsetMetadata(fetch_offset))
        max_seg_idx = self._floor_index(max_offset)
        i = self._floor_index(fetch_offset)
        if i < 0:
            i = 0
        while i < len(self._segments):
            seg = self._segments[i]
            if i == max_seg_idx:
                mp = seg.translate_offset(max_offset)
                max_position = seg.size if mp is None else mp.position
            else:
                max_position = seg.size
            data = seg.read(fetch_offset, max_bytes, max_position, min_one_message)
            if data is not None:
                return data
            i += 1
        return FetchDataInfo.empty(LogOffsetMetadata(fetch_offset))

    def _floor_index(self, offset: int) -> int:
        return bisect.bisect_right(self._base_offsets, offset) - 1

    def fetch_offset_by_timestamp(self, target_timestamp: int) -> tuple[int, int, int] | None:
        """(timestamp, offset, leader_epoch) for ListOffsets; -1 fields mean unknown."""
        self._check_open()
        cache = self.leader_epoch_cache
        if target_timestamp in (EARLIEST_TIMESTAMP, EARLIEST_LOCAL_TIMESTAMP):
            epoch = cache.epoch_for_offset(self.log_start_offset)
            return (-1, self.log_start_offset, -1 if epoch is None else epoch)
        if target_timestamp == LATEST_TIMESTAMP:
            latest = cache.latest_epoch
            return (-1, self.log_end_offset, -1 if latest is None else latest)
        if target_timestamp == LATEST_TIERED_TIMESTAMP:
            # Kafka without remote storage: no tiered offset.
            return (-1, -1, -1)
        if target_timestamp == MAX_TIMESTAMP:
            best: LogSegment | None = None
            for seg in self._segments:
                if best is None or seg.max_timestamp_so_far > best.max_timestamp_so_far:
                    best = seg
            if best is None or best.max_timestamp_so_far < 0:
                return None
            found = best.find_offset_by_timestamp(best.max_timestamp_so_far, self.log_start_offset)
            if found is None:
                return None
            return found
        if target_timestamp < 0:
            raise KafkaError(Errors.INVALID_REQUEST, f"Invalid timestamp {target_timestamp}")
        for seg in self._segments:
            if seg.size and seg.largest_timestamp() >= target_timestamp:
                found = seg.find_offset_by_timestamp(target_timestamp, self.log_start_offset)
                if found is not None:
                    return found
        return None

    # ================================================================ flush, truncation, lifecycle
    def flush(self, offset: int | None = None) -> None:
        """fsync segments holding offsets in [recovery_point, offset) and move the recovery
        point to `offset` (default: the log end offset)."""
        self._check_open()
        self._drain_background_writes()
        target = self.log_end_offset if offset is None else min(offset, self.log_end_offset)
        if target <= self.recovery_point:
            return  # everything below the recovery point is already on disk (Kafka's flush)
        start = max(self._floor_index(self.recovery_point), 0)
        for seg in self._segments[start:]:
            if seg.base_offset > target or (seg.base_offset == target and seg.size == 0):
                break
            seg.flush()
        self.leader_epoch_cache.sync()  # the epochs of the batches the recovery point passes
        self.recovery_point = max(self.recovery_point, target)
        self.last_flush_time = _now_ms()

    def flush_if_due(self, now_ms: int) -> None:
        """Scheduler hook for flush.ms (LogManager.flushDirtyLogs)."""
        if self.log_end_offset > self.recovery_point and now_ms - self.last_flush_time >= self.config.flush_ms:
            self.flush()

    def truncate_to(self, target_offset: int) -> bool:
        """Remove everything at and above `target_offset` (follower truncation). Returns True
        if anything was removed."""
        self._check_open()
        if target_offset < 0:
            raise ValueError(f"Cannot truncate partition {self.topic_partition} to a negative offset ({target_offset}).")
        if target_offset >= self.log_end_offset:
            return False
        self._drain_background_writes()
        self._truncations += 1
        if target_offset < self.active_segment.base_offset and target_offset <= self._segments[0].base_offset:
            self.truncate_fully_and_start_at(target_offset)
            return True
        while len(self._segments) > 1 and self._segments[-1].base_offset >= target_offset:
            self._segments.pop().delete_files()
            self._base_offsets.pop()
        self.active_segment.truncate_to(target_offset)
        self.active_segment.reopen_indexes_for_append(self.config.segment_index_bytes)
        self.log_end_offset = target_offset
        self.recovery_point = min(self.recovery_point, target_offset)
        self.high_watermark = min(self.high_watermark, target_offset)
        self.leader_epoch_cache.truncate_from_end(target_offset)
        self._rebuild_producer_state()
        return True

    def truncate_fully_and_start_at(self, new_offset: int) -> None:
        """Drop every segment and restart the log empty at `new_offset`."""
        self._drain_background_writes()
        self._truncations += 1
        for seg in self._segments:
            seg.delete_files()
        self._segments = [_new_segment(self.dir, self.config, new_offset)]
        self._base_offsets = [new_offset]
        self.log_start_offset = self.log_end_offset = self.recovery_point = self.high_watermark = new_offset
        self.leader_epoch_cache.clear()
        self.producer_state_manager.truncate_fully_and_start_at(new_offset)
        fsync_dir(self.dir)

    def maybe_increment_log_start_offset(self, new_log_start_offset: int) -> bool:
        """DeleteRecords: move the log start up (never past the high watermark). Segments wholly
        below it are deleted by the next retention check, as in Kafka; reads below it already
        get OFFSET_OUT_OF_RANGE and ListOffsets(EARLIEST) already returns it."""
        if new_log_start_offset > self.high_watermark:
            raise KafkaError(Errors.OFFSET_OUT_OF_RANGE,
                             f"Cannot increment the log start offset to {new_log_start_offset} of partition "
                             f"{self.topic_partition} since it is larger than the high watermark {self.high_watermark}")
        if new_log_start_offset <= self.log_start_offset:
            return False
        self.log_start_offset = new_log_start_offset
        self.leader_epoch_cache.truncate_from_start(new_log_start_offset)
        return True

    # ================================================================ retention (deleteOldSegments)
    def delete_old_segments(self, now_ms: int) -> int:
        """Kafka's UnifiedLog.deleteOldSegments: whole segments below the log start offset, then
        (cleanup.policy contains delete) beyond retention.bytes, then older than retention.ms by
        their largest timestamp. Returns the number of segments deleted."""
        n = self._delete_old_segments(self._log_start_offset_breached)
        if self.config.delete:
            n += self._delete_retention_size_breached()
            n += self._delete_retention_ms_breached(now_ms)
        return n

    def _log_start_offset_breached(self, seg: LogSegment, next_seg: LogSegment | None) -> bool:
        return next_seg is not None and next_seg.base_offset <= self.log_start_offset

    def _delete_retention_ms_breached(self, now_ms: int) -> int:
        retention_ms = self.config.retention_ms
        if retention_ms < 0:
            return 0
        return self._delete_old_segments(lambda seg, _next: now_ms - seg.largest_timestamp() > retention_ms)

    def _delete_retention_size_breached(self) -> int:
        retention_bytes = self.config.retention_bytes
        size = self.size
        if retention_bytes < 0 or size < retention_bytes:
            return 0
        excess = size - retention_bytes

        def breached(seg: LogSegment, _next: LogSegment | None) -> bool:
            nonlocal excess
            if excess - seg.size >= 0:
                excess -= seg.size
                return True
            return False

        return self._delete_old_segments(breached)

    def _delete_old_segments(self, predicate: Callable[[LogSegment, LogSegment | None], bool]) -> int:
        """Kafka's deletableSegments + deleteSegments: the longest prefix of segments for which
        `predicate` holds and whose every offset is below the high watermark (so the log start
        offset never passes it); the active segment counts unless it is empty. If every segment
        goes, a new active segment is rolled first: a log always has one."""
        deletable: list[LogSegment] = []
        segs = self._segments
        for i, seg in enumerate(segs):
            next_seg = segs[i + 1] if i + 1 < len(segs) else None
            if next_seg is None and seg.size == 0:
                break
            upper_bound = next_seg.base_offset if next_seg is not None else self.log_end_offset
            if not (self.high_watermark >= upper_bound and predicate(seg, next_seg)):
                break
            deletable.append(seg)
        if not deletable:
            return 0
        if len(deletable) == len(segs):
            self.roll()
        self._remove_and_delete_segments(deletable)
        new_start = self._segments[0].base_offset
        if new_start > self.log_start_offset:
            self.log_start_offset = new_start
            self.leader_epoch_cache.truncate_from_start(new_start)
        return len(deletable)

    def _remove_and_delete_segments(self, segments: list[LogSegment]) -> None:
        """Take `segments` (a prefix) out of the log and delete their files asynchronously, as
        Kafka's LocalLog.removeAndDeleteSegments(asyncDelete=true): renamed `.deleted` now (a
        crash from here on just finishes the deletion at load), unlinked file.delete.delay.ms
        later by `delete_expired_files`. A fetch still sending from one keeps its open fd."""
        del self._segments[:len(segments)]
        del self._base_offsets[:len(segments)]
        due = _now_ms() + self.config.file_delete_delay_ms
        for seg in segments:
            # The snapshot named by the segment's base offset goes with it (Kafka's
            # deleteProducerSnapshots): renamed `.deleted`, unlinked with the segment's files.
            self.producer_state_manager.remove_and_mark_snapshot_for_deletion(seg.base_offset)
            seg.change_file_suffixes("", DELETED_FILE_SUFFIX)
            seg.close()
            self._pending_file_deletes.append((due, seg))

    def replace_segments(self, new_segments: list[LogSegment], old_segments: list[LogSegment]) -> None:
        """Swap cleaned segments in for the segments they were cleaned from (Kafka's
        LocalLog.replaceSegments, the log cleaner's only write to a log). Crash-safe order: the
        new segments' `.cleaned` files become `.swap`, the old segments become `.deleted`
        (unlinked after file.delete.delay.ms), then the `.swap` suffix goes; a crash at any step
        is completed or undone by the load (`_remove_temp_files`). Old segments no longer in
        the log are ignored. Call on the event loop thread only."""
        self._check_open()
        new_sorted = sorted(new_segments, key=lambda s: s.base_offset)
        present = {id(s) for s in self._segments}
        old = [s for s in old_segments if id(s) in present]
        for seg in reversed(new_sorted):
            seg.change_file_suffixes(CLEANED_FILE_SUFFIX, SWAP_FILE_SUFFIX)
        fsync_dir(self.dir)
        gone = {id(s) for s in old}
        segs = sorted([s for s in self._segments if id(s) not in gone] + new_sorted, key=lambda s: s.base_offset)
        self._segments = segs
        self._base_offsets = [s.base_offset for s in segs]
        due = _now_ms() + self.config.file_delete_delay_ms
        for seg in old:
            seg.change_file_suffixes("", DELETED_FILE_SUFFIX)
            seg.close()
            self._pending_file_deletes.append((due, seg))
        for seg in new_sorted:
            seg.change_file_suffixes(SWAP_FILE_SUFFIX, "")
        fsync_dir(self.dir)

    def delete_expired_files(self, now_ms: int) -> int:
        """Unlink `.deleted` segments whose file.delete.delay.ms has passed (the scheduler's
        delete-file task). Returns the number of segments removed from disk."""
        pending = self._pending_file_deletes
        n = 0
        while pending and pending[0][0] <= now_ms:
            seg = pending.popleft()[1]
            seg.delete_files()
            try:
                os.unlink(producer_snapshot_file(self.dir, seg.base_offset) + DELETED_SUFFIX)
            except FileNotFoundError:
                pass
            n += 1
        return n

    def _rebuild_producer_state(self) -> None:
        """After a truncation (Kafka's rebuildProducerState): the latest snapshot at or below
        the new log end, then the batches after it."""
        psm = self.producer_state_manager
        psm.truncate_and_reload(self.log_start_offset, self.log_end_offset, _now_ms())
        _load_producer_state(psm, self._segments, self.log_start_offset, self.log_end_offset, set())

    def remove_expired_producers(self, now_ms: int, producer_id_expiration_ms: int | None = None) -> int:
        """PeriodicProducerExpirationCheck: forget producers idle for producer.id.expiration.ms
        without an open transaction."""
        psm = self.producer_state_manager
        if producer_id_expiration_ms is not None:
            psm.producer_id_expiration_ms = producer_id_expiration_ms
        return psm.remove_expired_producers(now_ms)

    # ================================================================ aborted transactions
    def collect_aborted_transactions(self, start_offset: int, upper_bound_offset: int,
                                     starting_segment: LogSegment | None = None) -> list[AbortedTxn]:
        """Aborted transactions overlapping [start_offset, upper_bound_offset), searched from the
        segment holding `start_offset` (or `starting_segment`) through later segments until an
        entry's LSO reaches the upper bound (Kafka's LocalLog.collectAbortedTransactions)."""
        i = self._floor_index(start_offset if starting_segment is None else starting_segment.base_offset)
        out: list[AbortedTxn] = []
        for seg in self._segments[max(i, 0):]:
            result = seg.collect_aborted_txns(start_offset, upper_bound_offset)
            out.extend(result.aborted_transactions)
            if result.is_complete:
                break
        return out

    def aborted_transactions_for_read(self, data: FetchDataInfo) -> list[AbortedTxn]:
        """The aborted transactions a READ_COMMITTED fetch of `data` returns (Kafka's
        LocalLog.addAbortedTransactions): upper bound = the first offset-index entry past the
        fetched bytes, else the next segment's base offset, else the log end offset."""
        records = data.records
        meta = data.fetch_offset_metadata
        if records is None or meta.message_offset_only:
            return []
        i = self._floor_index(meta.segment_base_offset)
        if i < 0 or self._segments[i].base_offset != meta.segment_base_offset:
            return []
        seg = self._segments[i]
        upper = seg.fetch_upper_bound_offset(meta.relative_position_in_segment, records.size)
        if upper is None:
            upper = self._segments[i + 1].base_offset if i + 1 < len(self._segments) else self.log_end_offset
        return self.collect_aborted_transactions(meta.message_offset, upper, seg)

    def close(self) -> None:
        """Close files (no flush: LogManager.shutdown flushes before closing) after writing the
        producer-state snapshot at the log end, as Kafka's UnifiedLog.close does."""
        if self._closed:
            return
        self._drain_background_writes()
        self.producer_state_manager.update_map_end_offset(self.log_end_offset)
        self.producer_state_manager.take_snapshot()
        self._closed = True
        for seg in self._segments:
            seg.close()

    def delete(self) -> None:
        """Close and remove the whole directory."""
        self.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def rename_dir(self, new_dir: str) -> None:
        """Move the log directory (deletion marks it `-delete` first, as Kafka does)."""
        os.rename(self.dir, new_dir)
        old = self.dir
        self.dir = new_dir
        for seg in self._segments:
            seg.log.path = os.path.join(new_dir, os.path.relpath(seg.log.path, old))
            for index in (seg.offset_index, seg.time_index, seg.txn_index):
                index.moved_to(os.path.join(new_dir, os.path.relpath(index.path, old)))
        self.leader_epoch_cache._file.path = os.path.join(new_dir, LEADER_EPOCH_CHECKPOINT_FILENAME)
        self.producer_state_manager.moved_to(new_dir)

    def _check_open(self) -> None:
        if self._closed:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"The log for {self.topic_partition} is closed")

    def __repr__(self) -> str:
        return (f"UnifiedLog({self.topic_partition}, start={self.log_start_offset}, hw={self.high_watermark}, "
                f"leo={self.log_end_offset}, segments={len(self._segments)})")


class _Hdr:
    __slots__ = ("base_offset", "last_offset", "max_timestamp", "producer_id", "producer_epoch",
                 "base_sequence", "last_sequence", "is_transactional", "is_control", "position", "size", "records")

    def __init__(self, base_offset: int, last_offset: int, max_timestamp: int, producer_id: int,
                 producer_epoch: int, base_sequence: int, last_sequence: int, is_transactional: bool,
                 is_control: bool, position: int, size: int) -> None:
        self.base_offset = base_offset
        self.last_offset = last_offset
        self.max_timestamp = max_timestamp
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self.base_sequence = base_sequence
        self.last_sequence = last_sequence
        self.is_transactional = is_transactional
        self.is_control = is_control
        self.position = position
        self.size = size
        self.records: bytes | None = None


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _inc_seq(seq: int, inc: int) -> int:
    limit = 2**31 - 1
    return inc - (limit - seq) - 1 if seq > limit - inc else seq + inc


def _rebuild_target(cfg: LogConfig) -> int:
    """The codec the topic's compression.type forces (-1: `producer`): batches in another codec
    are rebuilt, so the validator lets their offset deltas be renumbered (Kafka's LogValidator)."""
    target = recompression.target_codec(cfg.compression_type)
    return -1 if target is None else target


def _decode_txn_marker(batch: bytes) -> tuple[bool, int]:
    """(is_abort, coordinator_epoch) of a transaction marker batch (ControlRecordType,
    EndTransactionMarker)."""
    recs = _rb.iter_records(batch)
    if not recs or recs[0].key is None or len(recs[0].key) < 4:
        return (True, -1)
    _version, ctype = _TXN_MARKER_KEY.unpack_from(recs[0].key, 0)
    coordinator_epoch = -1
    if recs[0].value is not None and len(recs[0].value) >= 6:
        coordinator_epoch = _TXN_MARKER_VALUE.unpack_from(recs[0].value, 0)[1]
    return (ctype == 0, coordinator_epoch)


def _load_producer_state(psm: ProducerStateManager, segments: list[LogSegment], log_start_offset: int,
                         log_end_offset: int, rebuild_txn_index: set[int]) -> None:
    """Fold the batch headers of `segments` from the manager's `map_end_offset` (its snapshot, or
    the log start) into producer state (Kafka's rebuildProducerState / loadProducersFromRecords).
    Control batches are read to learn the
    marker (rare: one per transaction and partition); in the segments whose base offset is in
    `rebuild_txn_index` (recovered ones) every aborted transaction is appended to the
    `.txnindex` with its LSO, as Kafka's LogSegment.recover does."""
    start = max(psm.map_end_offset, log_start_offset)
    for i, seg in enumerate(segments):
        next_base = segments[i + 1].base_offset if i + 1 < len(segments) else None
        if next_base is not None and next_base <= start:
            continue  # wholly covered by the snapshot
        rebuild = seg.base_offset in rebuild_txn_index
        position = 0
        if seg.base_offset < start:
            found = seg.translate_offset(start)
            if found is None:
                continue
            position = found.position
        for h in seg.log.batches_from(position):
            if h.last_offset < start:
                continue
            marker = None
            if h.is_control and h.producer_id >= 0:
                marker = _decode_txn_marker(os.pread(seg.log.fd, h.size, h.position))
            completed = psm.update_from_header(h, marker)
            if completed is not None and rebuild:
                seg.update_txn_index(completed, psm.last_stable_offset(completed))
        if rebuild:
            # Kafka's recoverSegment: a snapshot after each recovered segment.
            psm.update_map_end_offset(next_base if next_base is not None else log_end_offset)
            psm.take_snapshot()
    psm.update_map_end_offset(log_end_offset)


def _new_segment(dir_path: str, config: LogConfig, base_offset: int) -> LogSegment:
    jitter = random.randrange(config.segment_jitter_ms) if config.segment_jitter_ms > 0 else 0
    jitter = min(jitter, config.segment_ms)
    return LogSegment.open(dir_path, base_offset, index_interval_bytes=config.index_interval_bytes,
                           max_index_size=config.segment_index_bytes, roll_jitter_ms=jitter)


def _remove_temp_files(dir_path: str) -> None:
    """Leftovers of interrupted operations (Kafka's LogLoader.removeTempFilesAndCollectSwapFiles
    and completeSwapOperations): `.deleted` and `.tmp` files go; `.cleaned` files (a cleaning
    that never reached the swap) go, and with them any `.swap` at or above the lowest `.cleaned`
    offset (an incomplete group); every other `.swap` segment is complete (it was fsynced before
    the rename), so the segments it replaces (base offsets in [swap base, swap next offset)) are
    deleted and the swap files lose their suffix."""
    names = os.listdir(dir_path)
    min_cleaned = None
    swap_bases: set[int] = set()
    for name in names:
        path = os.path.join(dir_path, name)
        if name.endswith((DELETED_FILE_SUFFIX, ".tmp")):
            _unlink_quietly(path)
        elif name.endswith(CLEANED_FILE_SUFFIX):
            if name[:20].isdigit():
                off = offset_from_file_name(name)
                min_cleaned = off if min_cleaned is None else min(min_cleaned, off)
            _unlink_quietly(path)
        elif name.endswith(SWAP_FILE_SUFFIX) and name[:20].isdigit():
            swap_bases.add(offset_from_file_name(name))
    for base in sorted(swap_bases):
        swap_paths = [log_file(dir_path, base, SWAP_FILE_SUFFIX), offset_index_file(dir_path, base, SWAP_FILE_SUFFIX),
                      time_index_file(dir_path, base, SWAP_FILE_SUFFIX)]
        if (min_cleaned is not None and base >= min_cleaned) or not os.path.exists(swap_paths[0]):
            for p in swap_paths:
                _unlink_quietly(p)
            continue
        swap_log = FileRecords(swap_paths[0], create=False)
        try:
            next_offset = base
            for b in swap_log.batches_from(0):
                next_offset = b.last_offset + 1
        finally:
            swap_log.close()
        for name in os.listdir(dir_path):
            if name.endswith(LOG_FILE_SUFFIX) and name[:20].isdigit():
                old = offset_from_file_name(name)
                if base <= old < max(next_offset, base + 1):
                    for p in (log_file(dir_path, old), offset_index_file(dir_path, old), time_index_file(dir_path, old),
                              txn_index_file(dir_path, old)):
                        _unlink_quietly(p)
        # The swap's indexes are rebuilt by the load (a recovered swap is re-indexed, as Kafka does).
        _unlink_quietly(swap_paths[1])
        _unlink_quietly(swap_paths[2])
        os.rename(swap_paths[0], log_file(dir_path, base))
    if swap_bases:
        fsync_dir(dir_path)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except (FileNotFoundError, IsADirectoryError):
        pass


def _load_segments(dir_path: str, config: LogConfig) -> tuple[list[LogSegment], set[int]]:
    """Open every `.log`; drop index files without a log; rebuild missing or corrupt indexes
    (LogLoader.loadSegmentFiles). Returns the segments and the base offsets of those recovered
    (their `.txnindex` is rebuilt with producer state)."""
    reindexed: set[int] = set()
    names = os.listdir(dir_path)
    bases = sorted(offset_from_file_name(n) for n in names if n.endswith(LOG_FILE_SUFFIX) and n[:20].isdigit())
    base_set = set(bases)
    for n in names:
        if n.endswith((INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, TXN_INDEX_FILE_SUFFIX)) and n[:20].isdigit() \
                and offset_from_file_name(n) not in base_set:
            os.unlink(os.path.join(dir_path, n))
    segments: list[LogSegment] = []
    for base in bases:
        missing = not (os.path.exists(offset_index_file(dir_path, base))
                       and os.path.exists(time_index_file(dir_path, base)))
        seg = LogSegment.open(dir_path, base, index_interval_bytes=config.index_interval_bytes,
                              max_index_size=config.segment_index_bytes)
        rebuild = missing
        if not rebuild:
            try:
                seg.sanity_check()
            except ValueError:
                rebuild = True
        if rebuild:
            if not missing:
                # Corrupt: start from empty index files.
                seg.close()
                for p in (offset_index_file(dir_path, base), time_index_file(dir_path, base)):
                    os.unlink(p)
                seg = LogSegment.open(dir_path, base, index_interval_bytes=config.index_interval_bytes,
                                      max_index_size=config.segment_index_bytes)
            seg.recover()
            reindexed.add(base)
        segments.append(seg)
    return segments, reindexed

