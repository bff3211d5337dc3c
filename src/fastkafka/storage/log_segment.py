"""LogSegment: one `.log` file with its `.index`, `.timeindex` and (once a transaction aborted in
it) `.txnindex` (storage.internals.log.LogSegment).

On disk, in the partition directory, named by the segment's base offset zero-padded to 20
digits: `00000000000000000000.log` (record batches back to back), `.index` (OffsetIndex: 8-byte
entries int32 relative offset, int32 position), `.timeindex` (TimeIndex: 12-byte entries int64
timestamp, int32 relative offset). Index entries are sparse: one per `index.interval.bytes` of
log, keyed by the LAST offset of the batch that starts at the indexed position (Kafka 3.8+).
`.txnindex` (TransactionIndex: 34-byte AbortedTxn entries) lists the transactions whose ABORT
marker is in this segment; it is renamed, truncated, deleted and rebuilt with the segment.
Every batch is checked by one walk (`_valid_batches`: size, magic, CRC-32C, offsets increasing and
within the segment): over the whole file by `recover` (after an unclean shutdown, or to rebuild an
index) and over the tail from the last index entry by `verify_tail` (every open of an active
segment), so both cut a damaged file at the same byte.
"""
from __future__ import annotations

import concurrent.futures

import os
import struct
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from fastkafka._native.index import OffsetIndex, TimeIndex
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.fetch_data_info import FetchDataInfo
from fastkafka.storage.file_records import LOG_OVERHEAD, FileRecords, LogOffsetPosition
from fastkafka.storage.log_offset_metadata import LogOffsetMetadata
from fastkafka.storage.transaction_index import AbortedTxn, TransactionIndex, TxnIndexSearchResult

if TYPE_CHECKING:
    from fastkafka._native.record_batch import BatchHeader
    from fastkafka.storage.leader_epoch_file_cache import LeaderEpochFileCache
    from fastkafka.storage.producer_state_manager import CompletedTxn, ProducerStateManager

LOG_FILE_SUFFIX = ".log"
INDEX_FILE_SUFFIX = ".index"
TIME_INDEX_FILE_SUFFIX = ".timeindex"
TXN_INDEX_FILE_SUFFIX = ".txnindex"
SNAPSHOT_FILE_SUFFIX = ".snapshot"
DELETED_FILE_SUFFIX = ".deleted"
CLEANED_FILE_SUFFIX = ".cleaned"
SWAP_FILE_SUFFIX = ".swap"

INT32_MAX = 2**31 - 1
NO_TIMESTAMP = -1
_RECOVERY_CHUNK = 8 * 1024 * 1024
_TAIL_CHUNK = 64 * 1024  # a tail check reads about an index interval (plus the last batch)
_HEADER_SIZE = 61
_HDR = struct.Struct(">qiib")  # BaseOffset, BatchLength, PartitionLeaderEpoch, Magic
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")


def filename_prefix_from_offset(offset: int) -> str:
    """Kafka's LogFileUtils.filenamePrefixFromOffset: 20 digits, zero padded."""
    return f"{offset:020d}"


def log_file(dir_path: str, offset: int, suffix: str = "") -> str:
    return os.path.join(dir_path, filename_prefix_from_offset(offset) + LOG_FILE_SUFFIX + suffix)


def offset_index_file(dir_path: str, offset: int, suffix: str = "") -> str:
    return os.path.join(dir_path, filename_prefix_from_offset(offset) + INDEX_FILE_SUFFIX + suffix)


def time_index_file(dir_path: str, offset: int, suffix: str = "") -> str:
    return os.path.join(dir_path, filename_prefix_from_offset(offset) + TIME_INDEX_FILE_SUFFIX + suffix)


def txn_index_file(dir_path: str, offset: int, suffix: str = "") -> str:
    return os.path.join(dir_path, filename_prefix_from_offset(offset) + TXN_INDEX_FILE_SUFFIX + suffix)


def offset_from_file_name(name: str) -> int:
    return int(os.path.basename(name).split(".", 1)[0])


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class RollParams(NamedTuple):
    """Inputs of `LogSegment.should_roll` (storage.internals.log.RollParams)."""

    max_segment_ms: int
    max_segment_bytes: int
    max_timestamp_in_messages: int
    max_offset_in_messages: int
    messages_size: int
    now: int


class TailCheck(NamedTuple):
    """The outcome of `LogSegment.verify_tail`."""

    truncated_bytes: int  # bytes cut from the end of the `.log` (0: the tail was sound)
    valid_size: int       # the `.log`'s size after the check: where the cut was made
    next_offset: int      # the offset after the last valid batch


class _Batch(NamedTuple):
    base_offset: int
    last_offset: int
    size: int
    max_timestamp: int
    partition_leader_epoch: int


def iter_batches_in_buffer(buf: bytes | bytearray | memoryview) -> Iterator[_Batch]:
    """Header walk of validated, offset-assigned batches in memory (one step per batch)."""
    pos = 0
    n = len(buf)
    while pos + _HEADER_SIZE <= n:
        base_offset, length, ple, _magic = _HDR.unpack_from(buf, pos)
        size = length + LOG_OVERHEAD
        (delta,) = _I32.unpack_from(buf, pos + 23)
        (max_ts,) = _I64.unpack_from(buf, pos + 35)
        yield _Batch(base_offset, base_offset + delta, size, max_ts, ple)
        pos += size


class LogSegment:
    """A segment of a partition's log.

    Invariants: every batch in the `.log` has base_offset >= `base_offset` and
    last_offset - base_offset <= INT32_MAX (relative offsets fit the index's int32); batch
    offsets strictly increase through the file; every index entry points at a batch boundary
    and is keyed by that batch's last offset; `max_timestamp_so_far` / `offset_of_max_timestamp_so_far`
    are the largest batch MaxTimestamp in the segment and that batch's last offset.
    Concurrency: single writer: call only from the event loop thread. `read` hands out slices
    that stay valid while the segment is open.
    """

    def __init__(self, log: FileRecords, offset_index: OffsetIndex, time_index: TimeIndex,
                 base_offset: int, index_interval_bytes: int, roll_jitter_ms: int = 0,
                 created_ms: int | None = None, max_index_size: int = 10485760,
                 txn_index: TransactionIndex | None = None) -> None:
        self.log = log
        self.offset_index = offset_index
        self.time_index = time_index
        if txn_index is None:
            dir_path = os.path.dirname(log.path)
            suffix = log.path[len(log_file(dir_path, base_offset)):]
            txn_index = TransactionIndex(base_offset, txn_index_file(dir_path, base_offset, suffix))
        self.txn_index = txn_index
        self.base_offset = base_offset
        self.index_interval_bytes = index_interval_bytes
        self.roll_jitter_ms = roll_jitter_ms
        self.max_index_size = max_index_size
        self.created = now_ms() if created_ms is None else created_ms
        self.bytes_since_last_index_entry = 0
        # Timestamp of the first batch: the base of time-based rolling (None until loaded).
        self._rolling_based_timestamp: int | None = None
        self._max_ts_and_offset: tuple[int, int] | None = None

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def open(cls, dir_path: str, base_offset: int, *, index_interval_bytes: int = 4096,
             max_index_size: int = 10485760, roll_jitter_ms: int = 0, file_suffix: str = "",
             created_ms: int | None = None) -> "LogSegment":
        log = FileRecords(log_file(dir_path, base_offset, file_suffix))
        try:
            oi = OffsetIndex(offset_index_file(dir_path, base_offset, file_suffix), base_offset, max_index_size)
            ti = TimeIndex(time_index_file(dir_path, base_offset, file_suffix), base_offset, max_index_size)
        except BaseException:
            log.close()
            raise
        try:
            txi = TransactionIndex(base_offset, txn_index_file(dir_path, base_offset, file_suffix))
        except BaseException:
            log.close()
            oi.close()
            ti.close()
            raise
        return cls(log, oi, ti, base_offset, index_interval_bytes, roll_jitter_ms, created_ms, max_index_size, txi)

    # -- transactions ---------------------------------------------------------------------------
    def update_txn_index(self, completed_txn: CompletedTxn, last_stable_offset: int) -> None:
        """An aborted transaction's marker was appended here (Kafka's updateTxnIndex)."""
        if completed_txn.is_aborted:
            self.txn_index.append(AbortedTxn(completed_txn.producer_id, completed_txn.first_offset,
                                             completed_txn.last_offset, last_stable_offset))

    def collect_aborted_txns(self, fetch_offset: int, upper_bound_offset: int) -> TxnIndexSearchResult:
        return self.txn_index.collect_aborted_txns(fetch_offset, upper_bound_offset)

    def fetch_upper_bound_offset(self, start_position: int, fetch_size: int) -> int | None:
        """Kafka's OffsetIndex.fetchUpperBoundOffset: the offset of the first index entry at or
        past `start_position + fetch_size` (a bound on every offset the read returned), None
        if there is none. A binary search over the index entries, per fetch, not per batch."""
        target = start_position + fetch_size
        index = self.offset_index
        lo, hi = 0, index.entries - 1
        found = None
        while lo <= hi:
            mid = (lo + hi) // 2
            offset, position = index.entry(mid)
            if position >= target:
                found = offset
                hi = mid - 1
            else:
                lo = mid + 1
        return found

    # -- properties -----------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self.log.size

    @property
    def max_timestamp_so_far(self) -> int:
        return self._read_max_timestamp_and_offset_so_far()[0]

    @property
    def offset_of_max_timestamp_so_far(self) -> int:
        return self._read_max_timestamp_and_offset_so_far()[1]

    def _read_max_timestamp_and_offset_so_far(self) -> tuple[int, int]:
        if self._max_ts_and_offset is None:
            ts, off = self.time_index.last_entry()
            self._max_ts_and_offset = (ts, off)
        return self._max_ts_and_offset

    def can_convert_to_relative_offset(self, offset: int) -> bool:
        return 0 <= offset - self.base_offset <= INT32_MAX

    def _ensure_offset_in_range(self, offset: int) -> None:
        if not self.can_convert_to_relative_offset(offset):
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR,
                             f"Detected offset overflow at offset {offset} in segment {self.base_offset}")

    # -- append ---------------------------------------------------------------------------------
    def append(self, largest_offset: int, records: bytes | bytearray | memoryview,
               background: bool = False) -> concurrent.futures.Future[None] | None:
        """Append offset-assigned batches whose last offset is `largest_offset`, adding a sparse
        index entry every `index_interval_bytes` (LogSegment.append). background=True: the bytes
        are written on the log writer thread (FileRecords.append_in_background); the index
        entries are added now (the high watermark keeps readers below the unwritten bytes) and
        the write's Future is returned."""
        if len(records) == 0:
            return None
        physical_position = self.log.size
        self._ensure_offset_in_range(largest_offset)
        batches = list(iter_batches_in_buffer(records))
        if physical_position == 0 and batches:
            self._rolling_based_timestamp = batches[0].max_timestamp
        fut = None
        if background:
            fut = self.log.append_in_background(memoryview(records), release=True)
        else:
            self.log.append(records)
        max_ts, max_off = self._read_max_timestamp_and_offset_so_far()
        for b in batches:
            if b.max_timestamp > max_ts:
                max_ts, max_off = b.max_timestamp, b.last_offset
                self._max_ts_and_offset = (max_ts, max_off)
            if self.bytes_since_last_index_entry > self.index_interval_bytes:
                self.offset_index.append(b.last_offset, physical_position)
                self.time_index.maybe_append(max_ts, max_off)
                self.bytes_since_last_index_entry = 0
            physical_position += b.size
            self.bytes_since_last_index_entry += b.size
        return fut

    # -- lookups --------------------------------------------------------------------------------
    def translate_offset(self, offset: int, starting_file_position: int = 0) -> LogOffsetPosition | None:
        """The batch holding `offset` (first batch with last offset >= offset), searched from
        the index entry at or below it."""
        _, position = self.offset_index.lookup(offset)
        return self.log.search_for_offset_with_size(offset, max(position, starting_file_position))

    def read(self, start_offset: int, max_size: int, max_position: int | None = None,
             min_one_message: bool = False) -> FetchDataInfo | None:
        """Bytes from the batch holding `start_offset`, at most `max_size` (at least the first
        batch when `min_one_message`), not past `max_position`. None if the segment has no
        batch at or above start_offset (LogSegment.read)."""
        if max_size < 0:
            raise ValueError(f"Invalid max size {max_size} for log read from segment {self.log.path}")
        start = self.translate_offset(start_offset)
        if start is None:
            return None
        if max_position is None:
            max_position = self.size
        metadata = LogOffsetMetadata(start_offset, self.base_offset, start.position)
        adjusted_max_size = max(max_size, start.size) if min_one_message else max_size
        if adjusted_max_size == 0:
            return FetchDataInfo(metadata, self.log.slice(start.position, 0))
        fetch_size = min(max_position - start.position, adjusted_max_size)
        if fetch_size < 0:
            fetch_size = 0
        return FetchDataInfo(metadata, self.log.slice(start.position, fetch_size),
                             adjusted_max_size < start.size)

    def find_offset_by_timestamp(self, timestamp_ms: int, starting_offset: int) -> tuple[int, int, int] | None:
        """(timestamp, offset, leader_epoch) of the first record with timestamp >= target and
        offset >= starting_offset, or None (LogSegment.findOffsetByTimestamp)."""
        _, ts_offset = self.time_index.lookup(timestamp_ms)
        _, position = self.offset_index.lookup(max(ts_offset, starting_offset))
        found = self.log.search_for_timestamp(timestamp_ms, position, starting_offset)
        if found is None:
            return None
        return _refine_with_records(self.log, found, timestamp_ms, starting_offset, position)

    def read_next_offset(self) -> int:
        """The offset after the last batch (base_offset if empty)."""
        _, position = self.offset_index.last_entry()
        last = None
        for b in self.log.batches_from(position):
            last = b
        if last is None:
            if position != 0:  # index ahead of the log: walk from the start
                for b in self.log.batches_from(0):
                    last = b
            if last is None:
                return self.base_offset
        return last.last_offset + 1

    def first_batch_timestamp(self) -> int | None:
        if self._rolling_based_timestamp is None and self.log.size > 0:
            for b in self.log.batches_from(0):
                self._rolling_based_timestamp = b.max_timestamp
                break
        return self._rolling_based_timestamp

    # -- roll -----------------------------------------------------------------------------------
    def time_waited_for_roll(self, now: int, message_timestamp: int) -> int:
        ts = self.first_batch_timestamp()
        if ts is not None and ts >= 0:
            return message_timestamp - ts
        return now - self.created

    def should_roll(self, p: RollParams) -> bool:
        """Kafka's LogSegment.shouldRoll: full by size, old by time (non-empty only), an index
        full, or the incoming last offset not representable relative to base_offset."""
        reached_roll_ms = self.time_waited_for_roll(p.now, p.max_timestamp_in_messages) > p.max_segment_ms - self.roll_jitter_ms
        return (self.size > p.max_segment_bytes - p.messages_size
                or (self.size > 0 and reached_roll_ms)
                or self.offset_index.is_full() or self.time_index.is_full()
                or not self.can_convert_to_relative_offset(p.max_offset_in_messages))

    def on_became_inactive_segment(self) -> None:
        """Called on roll: final time index entry, indexes trimmed to their entries."""
        ts, off = self._read_max_timestamp_and_offset_so_far()
        if ts >= 0:
            self.time_index.maybe_append(ts, off, True)
        self.offset_index.trim_to_valid_size()
        self.time_index.trim_to_valid_size()
        # No more appends here: give back the fd (a later flush reopens it to fsync).
        self.txn_index.close()

    # -- recovery -------------------------------------------------------------------------------
    def _valid_batches(self, start: int, last_offset_seen: int, chunk: int) -> Iterator[tuple[int, "BatchHeader"]]:
        """Yield (file position, header) of the consecutive valid batches from `start` (a batch
        boundary), reading `chunk` bytes at a time; stop before the first batch that is torn,
        fails its CRC-32C, or whose offsets do not follow `last_offset_seen` or do not fit the
        segment. The scan shared by `recover` (whole segment) and `verify_tail` (its tail): the
        caller's valid end is the last yielded position + size (else `start`)."""
        from fastkafka._native.record_batch import scan_batches

        file_size = self.log.size
        valid = start
        while valid < file_size:
            want = min(chunk, file_size - valid)
            if file_size - valid >= LOG_OVERHEAD:
                # A batch larger than the chunk is read whole so it is not mistaken for a torn one.
                length = _I32.unpack(os.pread(self.log.fd, 4, valid + 8))[0]
                if 0 < length + LOG_OVERHEAD <= file_size - valid:
                    want = max(want, length + LOG_OVERHEAD)
            buf = os.pread(self.log.fd, want, valid)
            headers, _end, err = scan_batches(buf, 0, True)
            chunk_start = valid
            for h in headers:
                if (h.base_offset <= last_offset_seen or h.last_offset < h.base_offset
                        or not self.can_convert_to_relative_offset(h.last_offset)):
                    return
                pos = chunk_start + h.position
                yield pos, h
                valid = pos + h.size
                last_offset_seen = h.last_offset
            if not headers:
                return
            if err != 0 and chunk_start + len(buf) >= file_size:
                return  # the scan stopped at a corrupt or torn batch in the file's last chunk
            # otherwise the next chunk starts at `valid` (a batch cut by the chunk end is re-read)

    def recover(self, producer_state_manager: ProducerStateManager | None = None,
                leader_epoch_cache: LeaderEpochFileCache | None = None) -> int:
        """Rebuild both indexes from the `.log`, validating every batch's CRC, and cut the file
        at the first invalid or torn batch. Feeds batch headers to the producer state manager
        and leader epoch cache. Returns the number of bytes truncated (LogSegment.recover)."""
        self.offset_index.truncate()
        self.offset_index.resize(self.max_index_size)
        self.time_index.truncate()
        self.time_index.resize(self.max_index_size)
        # Rebuilt by the log's producer-state load, which knows the markers' outcomes.
        self.txn_index.reset()
        self._max_ts_and_offset = (NO_TIMESTAMP, self.base_offset)
        self._rolling_based_timestamp = None
        valid_bytes = 0
        last_index_entry = 0
        max_ts, max_off = NO_TIMESTAMP, self.base_offset
        for pos, h in self._valid_batches(0, self.base_offset - 1, _RECOVERY_CHUNK):
            if h.max_timestamp > max_ts:
                max_ts, max_off = h.max_timestamp, h.last_offset
            if pos - last_index_entry > self.index_interval_bytes:
                self.offset_index.append(h.last_offset, pos)
                self.time_index.maybe_append(max_ts, max_off)
                last_index_entry = pos
            if self._rolling_based_timestamp is None:
                self._rolling_based_timestamp = h.max_timestamp
            valid_bytes = pos + h.size
            if leader_epoch_cache is not None and h.partition_leader_epoch >= 0:
                leader_epoch_cache.assign_if_newer(h.partition_leader_epoch, h.base_offset)
            if producer_state_manager is not None:
                producer_state_manager.update_from_header(h)
        self._max_ts_and_offset = (max_ts, max_off)
        truncated = self.log.size - valid_bytes
        if truncated > 0:
            self.log.truncate_to(valid_bytes)
        self.bytes_since_last_index_entry = valid_bytes - last_index_entry if valid_bytes else 0
        self.offset_index.trim_to_valid_size()
        if max_ts >= 0:
            self.time_index.maybe_append(max_ts, max_off, True)
        self.time_index.trim_to_valid_size()
        return truncated

    def verify_tail(self) -> TailCheck:
        """CRC-check the batches from the last offset-index entry to the end of the `.log` and
        cut the file at the first torn, corrupt or out-of-order batch, dropping the index
        entries above the cut. Run on every open of the active segment, even after a clean
        shutdown (Kafka trusts a clean shutdown; a tail cut or extended while the broker was
        stopped would otherwise hide every later append from consumers, and the next crash
        recovery would cut those acknowledged appends away).

        Cost: one pread of the tail (at most `index.interval.bytes` plus the last batch) and
        its CRC. The batch at the last index entry must be valid and end at the entry's offset;
        if it is not (the cut reached it, or the index runs past the log), that entry is dropped
        and the check starts again from the entry before it (from the file start when none is
        left)."""
        size_before = self.log.size
        entries_before = self.offset_index.entries
        tail: list[BatchHeader] = []
        while True:
            tail.clear()
            if self.offset_index.entries:
                key, start = self.offset_index.last_entry()
                # The entry's batch must be sound and end at the entry's key; the walk then
                # checks each later batch follows the one before it.
                valid = start
                for pos, h in self._valid_batches(start, self.base_offset - 1, _TAIL_CHUNK):
                    if not tail and h.last_offset != key:
                        break
                    tail.append(h)
                    valid = pos + h.size
                if not tail:
                    self.offset_index.truncate_to(key)  # drop that entry, try the one before
                    continue
            else:
                start = valid = 0
                for pos, h in self._valid_batches(0, self.base_offset - 1, _TAIL_CHUNK):
                    tail.append(h)
                    valid = pos + h.size
            break
        # With an index entry left the tail holds at least its batch; without, the walk began at
        # the file start, so an empty tail means an empty segment.
        next_offset = tail[-1].last_offset + 1 if tail else self.base_offset
        truncated = size_before - valid
        if truncated > 0 or self.offset_index.entries != entries_before:
            self.offset_index.truncate_to(next_offset)
            self.time_index.truncate_to(next_offset)
            self.txn_index.truncate_to(next_offset)
            if truncated > 0:
                self.log.truncate_to(valid)
            # The time index's final entry (written at close) may have pointed into the cut.
            max_ts, max_off = self.time_index.last_entry()
            for h in tail:
                if h.max_timestamp > max_ts:
                    max_ts, max_off = h.max_timestamp, h.last_offset
            self._max_ts_and_offset = (max_ts, max_off) if valid else (NO_TIMESTAMP, self.base_offset)
            if valid == 0:
                self._rolling_based_timestamp = None
        self.bytes_since_last_index_entry = valid - start
        return TailCheck(truncated, valid, next_offset)

    def sanity_check(self) -> None:
        """Raise ValueError if an index is corrupt (Kafka's CorruptIndexException)."""
        self.offset_index.sanity_check()
        self.time_index.sanity_check()

    def reopen_indexes_for_append(self, max_index_size: int) -> None:
        """The active segment's indexes get room to grow again (Kafka resizes on load)."""
        self.offset_index.resize(max_index_size)
        self.time_index.resize(max_index_size)

    # -- truncation -----------------------------------------------------------------------------
    def truncate_to(self, offset: int) -> int:
        """Remove every batch from the one holding `offset` onwards; returns bytes removed."""
        mapping = self.translate_offset(offset)
        self.offset_index.truncate_to(offset)
        self.time_index.truncate_to(offset)
        self.txn_index.truncate_to(offset)
        bytes_truncated = 0 if mapping is None else self.log.truncate_to(mapping.position)
        if self.log.size == 0:
            self.created = now_ms()
            self._rolling_based_timestamp = None
        self.bytes_since_last_index_entry = 0
        self._max_ts_and_offset = None
        if self.log.size and self.max_timestamp_so_far >= 0:
            self._max_ts_and_offset = self._read_largest_timestamp()
        elif self.log.size == 0:
            self._max_ts_and_offset = (NO_TIMESTAMP, self.base_offset)
        return bytes_truncated

    def _read_largest_timestamp(self) -> tuple[int, int]:
        ts, off = self.time_index.last_entry()
        _, position = self.offset_index.lookup(off)
        for b in self.log.batches_from(position):
            if b.max_timestamp > ts:
                ts, off = b.max_timestamp, b.last_offset
        return (ts, off)

    # -- lifecycle ------------------------------------------------------------------------------
    def flush(self) -> None:
        self.log.flush()
        self.offset_index.flush()
        self.time_index.flush()
        self.txn_index.flush()

    def last_modified_ms(self) -> int:
        return os.stat(self.log.path).st_mtime_ns // 1_000_000

    def largest_timestamp(self) -> int:
        """Kafka's LogSegment.largestTimestamp: max timestamp if any, else last modified."""
        ts = self.max_timestamp_so_far
        return ts if ts >= 0 else self.last_modified_ms()

    def close(self) -> None:
        if self.log.closed:
            return
        try:
            ts, off = self._read_max_timestamp_and_offset_so_far()
            self.offset_index.close()
            if ts >= 0:
                self.time_index.close_with_final_entry(ts, off)
        finally:
            self.offset_index.close()
            self.time_index.close()
            self.txn_index.close()
            self.log.close()

    def change_file_suffixes(self, old_suffix: str, new_suffix: str) -> None:
        """Rename the segment's files, e.g. "" -> ".deleted" (Kafka's changeFileSuffixes).
        Open fds and mmaps are unaffected: a fetch still sending from the old name goes on."""
        dir_path = os.path.dirname(self.log.path)
        for index, path_of in ((self.offset_index, offset_index_file), (self.time_index, time_index_file)):
            try:
                index.rename_to(path_of(dir_path, self.base_offset, new_suffix))
            except FileNotFoundError:
                pass
        self.txn_index.rename_to(txn_index_file(dir_path, self.base_offset, new_suffix))
        self.log.rename_to(log_file(dir_path, self.base_offset, new_suffix))

    def delete_files(self) -> None:
        """Close and unlink the segment's files (missing ones are fine)."""
        dir_path = os.path.dirname(self.log.path)
        suffix = self.log.path[len(log_file(dir_path, self.base_offset)):]
        self.close()
        for p in (self.log.path, offset_index_file(dir_path, self.base_offset, suffix),
                  time_index_file(dir_path, self.base_offset, suffix), txn_index_file(dir_path, self.base_offset, suffix)):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def __repr__(self) -> str:
        return f"LogSegment(base_offset={self.base_offset}, size={self.size})"


def _refine_with_records(log: FileRecords, found: tuple[int, int, int], target: int,
                         starting_offset: int, position: int) -> tuple[int, int, int]:
    """Look inside the matched batch (uncompressed only) for the first record with timestamp
    >= target, as Kafka's FileRecords.searchForTimestamp does; compressed batches keep the
    batch-level answer. Low rate (ListOffsets), never the fetch path."""
    from fastkafka._native.record_batch import InvalidRecordError, iter_records

    for b in log.batches_from(position):
        if b.max_timestamp >= target and b.last_offset >= starting_offset:
            batch = log.read_bytes(b.position, b.size)
            attributes = struct.unpack_from(">h", batch, 21)[0]
            if attributes & 0x07 or attributes & 0x08:  # compressed, or LogAppendTime (all = max)
                return found
            try:
                records = iter_records(batch)
            except (InvalidRecordError, ValueError):
                return found
            for r in records:
                if r.timestamp >= target and r.offset >= starting_offset:
                    return (r.timestamp, r.offset, b.partition_leader_epoch)
            return found
    return found
