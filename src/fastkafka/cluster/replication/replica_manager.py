"""ReplicaManager: the partitions this node hosts, produce appends and (delayed) fetch reads.

Kafka's `kafka.server.ReplicaManager`, trimmed to what a node needs while the metadata log has one
voter: partitions are created, re-led and deleted by applying metadata images (never by request
handlers), appends go to the leader's log, and fetches long-poll until `min_bytes` are available or
`max_wait_ms` passes (DelayedFetch). Request handlers read and write through this class only.

Concurrency contract: event-loop thread only. Appends never await, so a Produce request's appends
happen in the order requests arrive on a connection. The one exception is the validation of a
big compressed batch (more than INLINE_DECOMPRESSED_BYTES of decompressed records): Kafka's
LogValidator work, proportional to the decompressed size, runs on this class's two worker
threads (`validate_off_loop`, which touches no log state), and the Produce handler (ordered: the
connection's later frames wait) appends afterwards with compressed_checked=True.
Every payload of a request of OFF_LOOP_REQUEST_BYTES or more, compressed or not, goes the same
way (`validate_many_off_loop`: its CRC and record walk alone are ms of work), is stamped there
(`UnifiedLog.prevalidate`), and its append writes it on the log writer thread: the result then
carries `written`, the future the response waits for (acks are sent only once the bytes are in
the page cache).
A payload whose topic's compression.type rebuilds it (Kafka's recompression) takes the same
route when the rebuild is above recompression.inline_rebuild_bytes (uncompressed batches
included): `UnifiedLog.prevalidate` rebuilds it there and the append writes the rebuilt batch, so
no codec work proportional to the batch runs on the loop.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from fastkafka._native import record_batch as _rb
from fastkafka.cluster.replication.partition import Partition
from fastkafka.cluster.replication.txn_markers import TxnMarkerEntry, end_transaction_marker_batch
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage import FileRecordsSlice, LogConfig, LogManager, TopicPartition, recompression
from fastkafka.storage.checkpoint_file import deferred_fsync
from fastkafka.storage.file_records import background_writes
from fastkafka.storage.unified_log import Prevalidated
from fastkafka.storage.batch_decompressor import InlineBudgetExceeded
from fastkafka.storage.producer_state_manager import AppendOrigin

log = logging.getLogger(__name__)

# A compressed payload is decompressed and walked on the loop until this many bytes came out of
# the codec (about 1 ms of work); past that, validation restarts on the worker threads. The
# compressed size says nothing here: 46 KB of zstd is a gigabyte of records.
INLINE_DECOMPRESSED_BYTES = 4 << 20
RECORD_BATCH_HEADER = 61
# Every payload of a request of this size is validated (and stamped) on the worker threads, never
# on the loop (a 17 MB request of 1,000 payloads of 17 KB is as much work as one 17 MB payload),
# and written by the log writer thread. Such a frame is in a pooled (writable) buffer.
OFF_LOOP_REQUEST_BYTES = 1 << 20
VALIDATION_THREADS = 2
# Partitions one fetch reads per loop callback (each read is ~10-15 µs of Python: ~3 ms a slice).
READ_SLICE = 256


@dataclasses.dataclass(slots=True)
class ProducePartitionResult:
    error: int = 0
    base_offset: int = -1
    log_append_time_ms: int = -1
    log_start_offset: int = -1
    error_message: str | None = None
    # Every failing record by batch index (Kafka's RecordErrors); for an uncompressed batch a lazy
    # sequence (record_batch.RecordErrors): millions of entries cost nothing until read.
    record_errors: Sequence[tuple[int, str | None]] = dataclasses.field(default_factory=list)
    # Done once this partition's log has every append so far in the page cache (big appends are
    # written by the log writer thread); None: already. The response waits for it.
    written: asyncio.Future[None] | None = None
    # acks=all: done with the partition's error code once the high watermark passed this append
    # (Partition.await_replication, Kafka's DelayedProduce); None: committed already.
    replicated: asyncio.Future[int] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class LeadershipChange:
    """This node became leader of a partition at `leader_epoch` (is_leader), or stopped leading
    it: a follower at `leader_epoch`, or the partition left this node (removed, leader_epoch -1).
    Kafka's coordinators get the same as onElection / onResignation."""
    topic_partition: TopicPartition
    leader_epoch: int
    is_leader: bool
    removed: bool = False


LeadershipListener = Callable[[LeadershipChange], None]


@dataclasses.dataclass(slots=True)
class FetchPartitionRequest:
    topic_partition: TopicPartition
    fetch_offset: int
    partition_max_bytes: int
    current_leader_epoch: int = -1
    log_start_offset: int = -1
    # A follower's: the epoch of the last batch in its log (KIP-320 truncation detection).
    last_fetched_epoch: int = -1


@dataclasses.dataclass(slots=True)
class FetchPartitionResult:
    error: int = 0
    high_watermark: int = -1
    last_stable_offset: int = -1
    log_start_offset: int = -1
    # A slice of a segment file (sent with sendfile by the connection) or b"" / None.
    records: FileRecordsSlice | bytes | None = None
    leader_id: int = -1
    leader_epoch: int = -1
    aborted_transactions: list[tuple[int, int]] | None = None
    # A follower's log diverges from ours: (epoch, end offset) it must truncate to, no records.
    diverging_epoch: tuple[int, int] | None = None


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# New partition logs created inline per metadata publication (see ReplicaManager.inline_log_budget),
# and the loop time they may take together: a creation is ~0.3 ms on a quiet disk, but beside the
# file worker's own creations and removals (the fuzz target: topics of thousands of partitions made
# and deleted every second) the kernel's inode work made 32 of them hold the loop 100-171 ms.
INLINE_LOG_CREATIONS = 32
INLINE_LOG_SECONDS = 0.004
# ... of which the first few are made inline whatever the time they take (worker idle): on a
# loaded machine one creation can take the whole 4 ms, and a topic of a few partitions should
# still be served when CreateTopics answers (a raw-frame test saw NOT_LEADER_OR_FOLLOWER there).
INLINE_LOG_CREATIONS_UNTIMED = 8


class ReplicaManager:
    def __init__(self, node_id: int, log_manager: LogManager, broker_defaults: dict[str, str]) -> None:
        self.node_id = node_id
        self.log_manager = log_manager
        self._broker_defaults = broker_defaults
        self._partitions: dict[TopicPartition, Partition] = {}
        self._topic_configs: dict[str, LogConfig] = {}
        # Partitions of this node whose log is being created on the LogManager's file worker:
        # tp -> (topic id, latest registration). They answer NOT_LEADER_OR_FOLLOWER (retriable)
        # until the log exists; then the Partition is made from the latest registration.
        self._pending_logs: dict[TopicPartition, tuple[bytes, Any]] = {}
        # New logs one metadata publication may still create inline (a few ms): a small topic is
        # served as soon as CreateTopics answers, as clients and tests expect; beyond it, logs
        # go to the file worker, and so do all of them while the worker has files to make or
        # remove, or once INLINE_LOG_SECONDS went by since the first. The broker resets them
        # before each publication (begin_metadata_publication).
        self.inline_log_budget = INLINE_LOG_CREATIONS
        self._inline_log_untimed = INLINE_LOG_CREATIONS - INLINE_LOG_CREATIONS_UNTIMED  # budget above it: untimed
        self._inline_log_seconds = INLINE_LOG_SECONDS
        self._inline_log_deadline: float | None = None
        # Called after a marker was written to partitions: (producer id, committed, partitions
        # written without error). The group coordinator listens for `__consumer_offsets`
        # (Kafka's onTransactionCompleted / completeTransaction materializing TxnOffsetCommits).
        self.txn_marker_listeners: list[Callable[[int, bool, list[tuple[str, int]]], None]] = []
        # KIP-890: asks the transaction coordinator whether a partition is in a producer's
        # transaction, or (add=True, transaction version 2) adds it (transactional id, producer id,
        # epoch, partitions, add) -> error per partition (Kafka's AddPartitionsToTxnManager, in
        # process on one broker). None: no coordinator (unit tests), no verification.
        self.transaction_verifier: Callable[[str, int, int, set[tuple[str, int]], bool],
                                            dict[tuple[str, int], int]] | None = None
        # The one way components learn of leadership: topic -> listeners called on the loop after
        # this node's leadership of one of its partitions changed (add_leadership_listener).
        self._leadership_listeners: dict[str, list[LeadershipListener]] = {}
        # Worker threads for big compressed batches (created on first use, shut down by close()).
        self._validation_pool: concurrent.futures.ThreadPoolExecutor | None = None

    def add_leadership_listener(self, topic: str, listener: LeadershipListener) -> None:
        """Call `listener` whenever this node becomes leader of a partition of `topic`, becomes its
        follower after leading it (or at a new epoch), or loses the partition (Kafka's
        onElection / onResignation for `__consumer_offsets` and `__transaction_state`). A
        partition this node leads already is announced at once."""
        self._leadership_listeners.setdefault(topic, []).append(listener)
        for tp, part in list(self._partitions.items()):
            if tp.topic == topic and part.is_leader:
                listener(LeadershipChange(tp, part.leader_epoch, True))

    def _update_registration(self, part: Partition, reg: Any) -> None:
        was_leader, old_epoch = part.is_leader, part.leader_epoch
        part.update_registration(reg.leader, reg.leader_epoch, reg.partition_epoch, list(reg.replicas), list(reg.isr))
        if part.is_leader != was_leader or (part.leader_epoch != old_epoch and (was_leader or part.is_leader)):
            self._announce(LeadershipChange(part.topic_partition, part.leader_epoch, part.is_leader))

    def _detach(self, part: Partition) -> None:
        was_leader = part.is_leader
        part.detach()
        if was_leader:
            self._announce(LeadershipChange(part.topic_partition, -1, False, removed=True))

    def _announce(self, change: LeadershipChange) -> None:
        for listener in self._leadership_listeners.get(change.topic_partition.topic, ()):
            listener(change)

    def close(self) -> None:
        """Server shutdown: stop the validation workers without waiting on the loop (a running
        validation reads only its request's bytes; its result is dropped with the connection)."""
        if self._validation_pool is not None:
            self._validation_pool.shutdown(wait=False, cancel_futures=True)
            self._validation_pool = None

    def prevalidate(self, tp: TopicPartition, records: Any,
                    request_bytes: int = 0) -> ProducePartitionResult | None | bool:
        """Validate a compressed payload before its append: True when it is not one and its
        topic rebuilds it within the loop's limit or not at all (or this node is not its leader:
        the append answers, rebuild included); None when valid (append with
        compressed_checked=True); the error result when invalid; False when it decompresses to
        more than INLINE_DECOMPRESSED_BYTES, or its topic's compression.type rebuilds it and the
        rebuild is above recompression.inline_rebuild_bytes (uncompressed batches included), or
        it is part of a request of `request_bytes` >= OFF_LOOP_REQUEST_BYTES, compressed or not:
        validate_off_loop it."""
        if records is None or len(records) < RECORD_BATCH_HEADER:
            return True
        try:
            codec = _rb.read_batch_header(records, 0).attributes & 0x07
        except (_rb.InvalidRecordError, TypeError, ValueError):
            return True  # the append's validation answers it
        off_loop = request_bytes >= OFF_LOOP_REQUEST_BYTES
        part = self._partitions.get(tp)
        if part is None or not part.is_leader:
            return True
        if off_loop:
            return False
        plog = part.log
        budget = INLINE_DECOMPRESSED_BYTES
        if recompression.will_rebuild(plog.config, records):
            budget = min(budget, recompression.inline_rebuild_bytes(plog.config))
            if codec == 0:
                return len(records) <= budget  # small: the append validates and rebuilds it
        elif codec == 0:
            return True
        try:
            plog.validate_records(records, now_ms=now_ms(), inline_budget=budget)
        except InlineBudgetExceeded:
            return False
        except KafkaError as e:
            return self._error_result(part, e)
        return None

    @staticmethod
    def _error_result(part: Partition, e: KafkaError) -> ProducePartitionResult:
        res = ProducePartitionResult(error=e.code, error_message=e.message, log_start_offset=part.log.log_start_offset)
        record_errors = getattr(e, "record_errors", None)
        if record_errors:
            res.record_errors = record_errors
        return res

    async def validate_off_loop(self, tp: TopicPartition, records: Any) -> ProducePartitionResult | Prevalidated | None:
        """Run the partition log's validation of `records` on a worker thread (decompression and
        record walk release the GIL), then the rebuild its topic's compression.type asks for
        (codecs release the GIL; offset deltas are renumbered in nogil C), and the stamping of
        what will be appended (UnifiedLog.prevalidate). The Prevalidated result (valid) goes to
        append_records(validated=...); else the partition's error result (a rebuilt batch over
        max.message.bytes included). A config change before the append makes the append
        validate (and rebuild) again."""
        part = self._partitions.get(tp)
        if part is None or not part.is_leader:
            return None  # the append answers NOT_LEADER / UNKNOWN_TOPIC_OR_PARTITION
        if self._validation_pool is None:
            self._validation_pool = concurrent.futures.ThreadPoolExecutor(
                VALIDATION_THREADS, thread_name_prefix="fk-batch-validate")
        plog = part.log
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._validation_pool, lambda: plog.prevalidate(records, now_ms=now_ms()))
        except KafkaError as e:
            return self._error_result(part, e)

    async def validate_many_off_loop(self, topics: list[tuple[str | None, list[Any]]]) -> dict[int, Any]:
        """validate_off_loop for every payload of a big request in one worker job (a request may
        carry thousands of partitions: one thread hand-off, no per-partition work on the loop).
        `topics`: (topic name or None, its PartitionProduceData list). Returns id(partition data)
        -> the error result or the Prevalidated result (valid); payloads not this node's to
        validate are left out (the append answers)."""
        partitions = self._partitions

        def work() -> dict[int, Any]:
            # Reads of the partition map and of each Partition's log/leadership from this thread
            # are single attribute/dict reads; the append on the loop checks leadership again.
            out: dict[int, Any] = {}
            for name, datas in topics:
                if name is None:
                    continue
                for p in datas:
                    part = partitions.get(TopicPartition(name, p.index))
                    if part is None or not part.is_leader or p.records is None:
                        continue  # the append answers (and validates what it appends)
                    try:
                        out[id(p)] = part.log.prevalidate(p.records, now_ms=now_ms())
                    except KafkaError as e:
                        out[id(p)] = self._error_result(part, e)
            return out
        out: dict[int, Any] = await self.run_off_loop(work)
        return out

    def run_off_loop(self, fn: Callable[[], Any]) -> asyncio.Future[Any]:
        """Run `fn` on the worker threads (Produce: a response listing many record errors is
        built and encoded there); its result as a future on the loop."""
        if self._validation_pool is None:
            self._validation_pool = concurrent.futures.ThreadPoolExecutor(
                VALIDATION_THREADS, thread_name_prefix="fk-batch-validate")
        return asyncio.get_running_loop().run_in_executor(self._validation_pool, fn)

    # -- metadata ---------------------------------------------------------------------------
    def begin_metadata_publication(self, inline_logs: int = INLINE_LOG_CREATIONS,
                                   inline_seconds: float = INLINE_LOG_SECONDS,
                                   untimed: int = INLINE_LOG_CREATIONS_UNTIMED) -> None:
        """A metadata publication starts: while the file worker is idle it may create up to
        `inline_logs` new logs inline: the first `untimed` of them in any case, the others while
        `inline_seconds` of loop time have not gone by since the first."""
        self.inline_log_budget = inline_logs
        self._inline_log_untimed = inline_logs - min(untimed, inline_logs)
        self._inline_log_seconds = inline_seconds
        self._inline_log_deadline = None

    def _may_create_inline(self) -> bool:
        if self.inline_log_budget <= 0 or self.log_manager.worker_busy():
            return False
        if self.inline_log_budget > self._inline_log_untimed:
            return True
        now = time.monotonic()
        if self._inline_log_deadline is None:
            self._inline_log_deadline = now + self._inline_log_seconds
        return now < self._inline_log_deadline

    def update_broker_defaults(self, broker_defaults: dict[str, str]) -> None:
        """A dynamic broker config changed: topics resolve their LogConfig against these from
        now on; the caller re-applies every topic (Kafka's DynamicLogConfig.updateLogsConfig)."""
        self._broker_defaults = dict(broker_defaults)

    def apply_topic(self, name: str, topic_id: bytes, partitions: Iterable[Any],
                    overrides: dict[str, str]) -> None:
        """Create or re-lead this node's replicas of one topic from its image.

        `partitions` yields objects with partition_id, leader, leader_epoch, partition_epoch,
        replicas, isr (PartitionRegistration)."""
        config = LogConfig.from_props(self._broker_defaults, overrides)
        self._topic_configs[name] = config
        # Internal topics too: `__consumer_offsets` re-created by a FindCoordinator after its
        # deletion made 50 logs inline (100-140 ms of loop time beside the fuzz target); their
        # coordinators answer NOT_COORDINATOR (retriable) until the partition has its log.
        background = self.log_manager.file_worker is not None
        to_create: list[tuple[TopicPartition, bytes, LogConfig, int]] = []
        for p in partitions:
            if self.node_id not in p.replicas:
                continue
            tp = TopicPartition(name, p.partition_id)
            part = self._partitions.get(tp)
            if part is None or part.topic_id != topic_id:
                if part is not None:  # same name, new topic id: the old topic was deleted
                    self._remove(tp)
                pending = self._pending_logs.get(tp)
                if pending is not None and pending[0] == topic_id:
                    self._pending_logs[tp] = (topic_id, p)  # newer registration, same log on its way
                    continue
                # On the worker also when it still has files of this partition to remove or
                # create (a topic re-created right after its deletion): it keeps them in order.
                if (self.log_manager.get_log(tp) is None and self.log_manager.file_worker is not None
                        and ((background and not self._may_create_inline()) or self.log_manager.worker_has(tp))):
                    # New files off the event loop (a 10,000-partition topic took 1.6 s on it).
                    self._pending_logs[tp] = (topic_id, p)
                    to_create.append((tp, topic_id, config, p.leader_epoch if p.leader == self.node_id else -1))
                    continue
                self._pending_logs.pop(tp, None)
                if self.log_manager.get_log(tp) is None:
                    self.inline_log_budget -= 1
                plog = self.log_manager.get_or_create_log(tp, topic_id, config)
                part = Partition(tp, topic_id, plog, self.node_id)
                self._partitions[tp] = part
            else:
                part.log.update_config(config)
            self._update_registration(part, p)
        if to_create:
            self.log_manager.create_logs_in_background(to_create, self._on_logs_created)

    def _on_logs_created(self, created: list[tuple[TopicPartition, bytes, Any, str]]) -> None:
        """A slice of background-created logs is back on the event loop: each becomes its
        Partition with the latest registration, unless the topic went away meanwhile. The first
        leader epoch was checkpointed by the worker; a newer one is written here, its fsync
        deferred to the background flusher."""
        with deferred_fsync() as paths:
            self._adopt_created(created)
        self.log_manager.sync_in_background(paths)

    def _adopt_created(self, created: list[tuple[TopicPartition, bytes, Any, str]]) -> None:
        for tp, topic_id, plog, d in created:
            pending = self._pending_logs.get(tp)
            if pending is None or pending[0] != topic_id or tp in self._partitions:
                if plog is not None:
                    self.log_manager.discard_created_log(plog)
                continue
            if plog is None:
                continue  # creation failed (logged); stays NOT_LEADER_OR_FOLLOWER
            del self._pending_logs[tp]
            if not self.log_manager.adopt_created_log(tp, plog, d):
                continue
            config = self._topic_configs.get(tp.topic)
            if config is not None:
                plog.update_config(config)
            part = Partition(tp, topic_id, plog, self.node_id)
            self._partitions[tp] = part
            self._update_registration(part, pending[1])

    def pending_log_count(self) -> int:
        """Logs promised to partitions and still being created (the fd budget counts them)."""
        return len(self._pending_logs)

    def remove_topic(self, name: str) -> None:
        self.remove_topics({name})

    def remove_topics(self, names: set[str]) -> None:
        """Drop every partition of the deleted topics: one pass over the partitions whatever the
        number of topics (a DeleteTopics of 100 topics beside 10,000 other partitions made 100
        passes on the event loop)."""
        for tp in [tp for tp in self._pending_logs if tp.topic in names]:
            del self._pending_logs[tp]
        gone = [tp for tp in self._partitions if tp.topic in names]
        for tp in gone:
            self._detach(self._partitions.pop(tp))
        self.log_manager.delete_logs(gone)  # files closed and removed on the file worker
        for name in names:
            self._topic_configs.pop(name, None)

    def _remove(self, tp: TopicPartition) -> None:
        part = self._partitions.pop(tp, None)
        if part is not None:
            self._detach(part)
            self.log_manager.delete_log(tp)

    def partition(self, tp: TopicPartition) -> Partition | None:
        return self._partitions.get(tp)

    def leader_partition(self, tp: TopicPartition) -> Partition:
        part = self._partitions.get(tp)
        if part is None:
            if tp in self._pending_logs:  # its log is being created: retriable, as Kafka's
                raise KafkaError(Errors.NOT_LEADER_OR_FOLLOWER)  # not-yet-become-leader replica
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION)
        if not part.is_leader:
            raise KafkaError(Errors.NOT_LEADER_OR_FOLLOWER)
        return part

    def topic_config(self, topic: str) -> LogConfig | None:
        return self._topic_configs.get(topic)

    def all_partitions(self) -> list[Partition]:
        return list(self._partitions.values())

    # -- produce ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def batched_appends(self) -> Iterator[None]:
        """Wrap a produce request: its appends reach the kernel in one io_uring submission at
        the end of the block, before any response is built from them."""
        try:
            with self.log_manager.batched_appends(), background_writes():
                yield
        except OSError as e:
            # Kafka: an IOException while appending takes the log dir offline, and a broker
            # whose every log dir is offline halts. Nothing of this request was acknowledged.
            log.critical("Halting broker: appending to the log failed (%s); log dirs %s", e,
                         self.log_manager.log_dirs)
            logging.shutdown()
            os._exit(1)

    def append_records(self, tp: TopicPartition, records: Any, required_acks: int,
                       origin: AppendOrigin = AppendOrigin.CLIENT, transactional_id: str | None = None,
                       produce_version: int = 11, compressed_checked: bool = False,
                       validated: Prevalidated | None = None) -> ProducePartitionResult:
        """Append one partition's batch of a Produce request as leader (origin COORDINATOR: the
        group coordinator's own batches, e.g. transactional offset commits, as Kafka's
        CoordinatorPartitionWriter: no sequence checks). With the request's `transactional_id`,
        a transactional batch that would start a transaction here is first verified with the
        transaction coordinator (KIP-890, `transaction.partition.verification.enable`)."""
        try:
            part = self.leader_partition(tp)
            config = self._topic_configs[tp.topic]
            if transactional_id is not None:
                self._maybe_verify_transaction(part, records, transactional_id, produce_version)
            info = part.append_records_to_leader(records, required_acks, now_ms(), config, origin=origin,
                                                 compressed_checked=compressed_checked, validated=validated)
        except KafkaError as e:
            res = ProducePartitionResult(error=e.code, error_message=e.message)
            part2 = self._partitions.get(tp)
            if part2 is not None:
                res.log_start_offset = part2.log.log_start_offset
            record_errors = getattr(e, "record_errors", None)
            if record_errors:
                res.record_errors = record_errors
            return res
        return ProducePartitionResult(
            error=0, base_offset=info.first_offset, log_append_time_ms=info.log_append_time,
            log_start_offset=info.log_start_offset, written=part.log.unwritten_future(),
            replicated=part.await_replication(info.last_offset + 1) if required_acks == -1 else None,
        )

    def has_ongoing_transaction(self, tp: TopicPartition, producer_id: int, producer_epoch: int) -> bool:
        """Kafka's UnifiedLog.hasOngoingTransaction on this node's replica of `tp` (the group
        coordinator skips a TxnOffsetCommit's verification when it holds, as Kafka does)."""
        part = self._partitions.get(tp)
        if part is None:
            return False
        entry = part.log.producer_state_manager.last_entry(producer_id)
        return entry is not None and entry.current_txn_first_offset is not None and \
            entry.producer_epoch == producer_epoch

    def _maybe_verify_transaction(self, part: Partition, records: Any, transactional_id: str,
                                  produce_version: int) -> None:
        """Kafka's maybeStartTransactionVerificationForPartition + handleProduceAppend's error
        translation. Verified only when the producer has no ongoing transaction in this partition
        at this epoch (UnifiedLog.hasOngoingTransaction); the check and the append run on the
        event loop without an await between them, so no VerificationGuard is needed."""
        verifier = self.transaction_verifier
        # Produce v12+ is transaction version 2: the partition is added here, not by the client's
        # AddPartitionsToTxn, so it happens whatever transaction.partition.verification.enable says.
        add = produce_version > 11
        if verifier is None or (not add and self._broker_defaults.get(
                "transaction.partition.verification.enable", "true").strip().lower() != "true"):
            return
        try:
            h = _rb.read_batch_header(records, 0)
        except (_rb.InvalidRecordError, TypeError, ValueError):
            return  # the append's validation answers it
        if not h.is_transactional or h.producer_id < 0:
            return
        entry = part.log.producer_state_manager.last_entry(h.producer_id)
        if entry is not None and entry.current_txn_first_offset is not None and entry.producer_epoch == h.producer_epoch:
            return
        tp = part.topic_partition
        key = (tp.topic, tp.partition)
        code = verifier(transactional_id, h.producer_id, h.producer_epoch, {key}, add).get(key, Errors.NONE)
        if code == Errors.NONE:
            return
        # AddPartitionsToTxnManager: what producers expect to handle.
        if code == Errors.PRODUCER_FENCED:
            code = Errors.INVALID_PRODUCER_EPOCH
        elif code == Errors.TRANSACTION_ABORTABLE and produce_version <= 10:
            code = Errors.INVALID_TXN_STATE
        if code == Errors.INVALID_TXN_STATE:
            raise KafkaError(code, "Partition was not added to the transaction")
        if code in (Errors.CONCURRENT_TRANSACTIONS, Errors.NETWORK_EXCEPTION, Errors.COORDINATOR_LOAD_IN_PROGRESS,
                    Errors.COORDINATOR_NOT_AVAILABLE, Errors.NOT_COORDINATOR):
            # Retriable for every client without a metadata refresh (Kafka's choice).
            raise KafkaError(Errors.NOT_ENOUGH_REPLICAS, "Unable to verify the partition has been added to the "
                                                         f"transaction. Underlying error: {Errors(code).name}")
        raise KafkaError(code)

    async def write_txn_markers(self, markers: list[TxnMarkerEntry]) -> list[dict[tuple[str, int], int]]:
        """Append one EndTransactionMarker control batch per (marker, partition), as Kafka's
        KafkaApis.handleWriteTxnMarkersRequest: origin COORDINATOR, acks=all (min.insync.replicas
        applies), internal topics allowed. Returns, per marker, one error code per partition:
        UNKNOWN_TOPIC_OR_PARTITION for a partition this node does not host,
        NOT_LEADER_OR_FOLLOWER, INVALID_PRODUCER_EPOCH (an older epoch than the partition's),
        TRANSACTION_COORDINATOR_FENCED (an older coordinator epoch), NOT_ENOUGH_REPLICAS...

        All appends reach the kernel (one io_uring submission) before this returns, as a
        produce's acknowledgement; nothing awaits in between, so markers keep request order."""
        results: list[dict[tuple[str, int], int]] = []
        written: list[tuple[TxnMarkerEntry, list[tuple[str, int]]]] = []
        with self.batched_appends():
            for m in markers:
                errors: dict[tuple[str, int], int] = {}
                ok: list[tuple[str, int]] = []
                for topic, index in m.partitions:
                    errors[(topic, index)] = code = self._append_txn_marker(m, TopicPartition(topic, index))
                    if code == 0:
                        ok.append((topic, index))
                results.append(errors)
                written.append((m, ok))
        for m, ok in written:
            if ok:
                for listener in self.txn_marker_listeners:
                    try:
                        listener(m.producer_id, m.committed, ok)
                    except Exception:  # a listener's failure never undoes a written marker
                        log.exception("Transaction marker listener failed for producer %d", m.producer_id)
        # A big batch before a marker may still be on the log writer thread: the coordinator goes
        # on (CompleteCommit/CompleteAbort) only once the marker and everything before it are in
        # the page cache, as a produce's acknowledgement.
        unwritten = {id(f): f for _m, ok in written for t, i in ok
                     if (p := self._partitions.get(TopicPartition(t, i))) is not None
                     and (f := p.log.unwritten_future()) is not None}
        for f in unwritten.values():
            await asyncio.shield(f)
        return results

    def _append_txn_marker(self, m: TxnMarkerEntry, tp: TopicPartition) -> int:
        part = self._partitions.get(tp)
        if part is None:
            return Errors.UNKNOWN_TOPIC_OR_PARTITION
        config = self._topic_configs.get(tp.topic)
        if config is None:
            return Errors.UNKNOWN_TOPIC_OR_PARTITION
        now = now_ms()
        batch = end_transaction_marker_batch(m.producer_id, m.producer_epoch, m.coordinator_epoch, m.committed, now)
        try:
            part.append_records_to_leader(batch, -1, now, config, origin=AppendOrigin.COORDINATOR)
        except KafkaError as e:
            return e.code
        return 0

    # -- fetch ------------------------------------------------------------------------------
    def read_partition(self, req: FetchPartitionRequest, max_bytes: int, min_one_message: bool,
                       isolation_level: int, replica_id: int = -1) -> FetchPartitionResult:
        """One partition of a Fetch. A follower's (`replica_id` >= 0) reads up to the log end, gets
        a diverging epoch instead of records when its last fetched epoch ends before its fetch
        offset here, and otherwise moves its position in the leader's view
        (Partition.update_follower_fetch_state), which may advance the high watermark."""
        is_follower = replica_id >= 0
        part = self._partitions.get(req.topic_partition)
        if part is None:
            return FetchPartitionResult(error=Errors.UNKNOWN_TOPIC_OR_PARTITION)
        if not part.is_leader:
            return FetchPartitionResult(error=Errors.NOT_LEADER_OR_FOLLOWER, leader_id=part.leader_id,
                                        leader_epoch=part.leader_epoch)
        if req.partition_max_bytes < 0:
            # Kafka's log read refuses a negative max size (IllegalArgumentException), and its
            # ReplicaManager answers any such failure as UNKNOWN_SERVER_ERROR for that partition
            # alone, with no offsets and no records; the other partitions and the connection go on.
            log.error("Error processing fetch with max size %d on partition %s", req.partition_max_bytes,
                      req.topic_partition)
            return FetchPartitionResult(error=Errors.UNKNOWN_SERVER_ERROR)
        plog = part.log
        res = FetchPartitionResult(
            high_watermark=plog.high_watermark,
            last_stable_offset=plog.last_stable_offset,
            log_start_offset=plog.log_start_offset,
            leader_id=part.leader_id, leader_epoch=part.leader_epoch,
        )
        try:
            part.check_leader_epoch(req.current_leader_epoch)
            if is_follower:
                if replica_id not in part.remote_replicas:
                    # Kafka's followerReplicaOrThrow: an error partition, offsets unknown (-1).
                    return FetchPartitionResult(error=Errors.NOT_LEADER_OR_FOLLOWER, leader_id=part.leader_id,
                                                leader_epoch=part.leader_epoch)
                if req.last_fetched_epoch >= 0:
                    epoch, end = plog.end_offset_for_epoch(req.last_fetched_epoch)
                    if epoch < req.last_fetched_epoch or end < req.fetch_offset:
                        res.diverging_epoch = (epoch, end)
                        res.records = b""
                        return res
                max_offset = plog.log_end_offset
            elif isolation_level == 1:
                max_offset = plog.last_stable_offset
            else:
                max_offset = plog.high_watermark
            info = plog.read(req.fetch_offset, min(req.partition_max_bytes, max_bytes),
                             max_offset=max_offset, min_one_message=min_one_message)
        except KafkaError as e:
            res.error = e.code
            return res
        res.records = info.records if info.records is not None and info.records.size else b""
        if is_follower:
            part.update_follower_fetch_state(replica_id, req.fetch_offset, req.log_start_offset, now_ms(),
                                             plog.log_end_offset)
            return res
        if isolation_level == 1:
            # Kafka's READ_COMMITTED read: the aborted transactions overlapping the fetched range
            # (from the segments' .txnindex; per fetch, not per batch).
            res.aborted_transactions = [(t.producer_id, t.first_offset) for t in plog.aborted_transactions_for_read(info)] \
                if res.records else []
        return res

    async def fetch_messages(self, requests: list[FetchPartitionRequest], *, max_wait_ms: int,
                             min_bytes: int, max_bytes: int, isolation_level: int,
                             replica_id: int = -1) -> list[FetchPartitionResult]:
        """Read every requested partition; if fewer than min_bytes are available and nothing went
        wrong, wait for appends (or the deadline) and read again (Kafka's DelayedFetch).
        `replica_id` >= 0: a follower's fetch (read_partition)."""
        deadline = time.monotonic() + max(0, max_wait_ms) / 1000.0
        loop = asyncio.get_running_loop()
        while True:
            results = await self._read_all(requests, max_bytes, isolation_level, replica_id)
            total = sum(len(r.records) for r in results if r.records)
            errors = any(r.error for r in results)
            remaining = deadline - time.monotonic()
            if max_wait_ms <= 0 or total >= min_bytes or errors or not requests or remaining <= 0:
                return results
            fut: asyncio.Future[None] = loop.create_future()
            parts = [p for p in (self._partitions.get(r.topic_partition) for r in requests) if p is not None]
            for p in parts:
                p.add_waiter(fut)
            try:
                await asyncio.wait_for(asyncio.shield(fut), remaining)
            except asyncio.TimeoutError:
                pass
            finally:
                for p in parts:
                    p.remove_waiter(fut)

    async def _read_all(self, requests: list[FetchPartitionRequest], max_bytes: int, isolation_level: int,
                        replica_id: int) -> list[FetchPartitionResult]:
        """Read the partitions in request order. A fetch of thousands of partitions is read in
        slices of READ_SLICE (~15 µs each), the loop serving others between them: as in Kafka,
        a fetch is not a snapshot across partitions, each partition's read is consistent."""
        results = []
        remaining = max_bytes
        min_one = True  # KIP-74: the first non-empty partition may exceed the limits by one batch
        for i, r in enumerate(requests):
            if i and i % READ_SLICE == 0:
                await asyncio.sleep(0)
            res = self.read_partition(r, max(0, remaining), min_one, isolation_level, replica_id)
            n = len(res.records) if res.records else 0
            if n:
                min_one = False
                remaining -= n
            results.append(res)
        return results
