"""The `__transaction_state` topic and the cache of transactional ids (Kafka's
TransactionStateManager and TransactionLog).

A transactional id lives in partition abs(java hashCode(id)) % `transaction.state.log.num.partitions`;
its coordinator is that partition's leader, and the coordinator epoch is the partition's leader
epoch. Each state change is one record: key = int16 version 0 + TransactionLogKey, value =
int16 version + TransactionLogValue (version 0 until transaction.version 2 is finalized, as
Kafka), a tombstone when the id expires. The topic is created on the first FindCoordinator with
key type 1, compacted, with `transaction.state.log.*` settings.

Invariants:
- the cache is only changed after the record is in the log (acks=all): a cache entry is never
  ahead of `__transaction_state`;
- a led partition is replayed before its ids are served: until then they answer
  COORDINATOR_LOAD_IN_PROGRESS; an id of a partition this node does not lead answers NOT_COORDINATOR;
- this class owns the cache; the coordinator changes entries only through the transit methods of
  `TransactionMetadata` and `append_transaction_to_log`.
"""
from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from fastkafka._native.record_batch import MemoryRecordsBuilder, iter_records, scan_batches
from fastkafka.cluster.coordinator_shards import CoordinatorShards, wait_committed
from fastkafka.cluster.group.group_coordinator import java_string_hash
from fastkafka.cluster.topic import TRANSACTION_STATE_TOPIC_NAME
from fastkafka.cluster.transaction.transaction_metadata import (
    NO_PRODUCER_EPOCH,
    TransactionMetadata,
    TransactionState,
    TxnTransitMetadata,
)
from fastkafka.protocol._generated import txn_records as tr
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import CreateTopicsRequest
from fastkafka.storage import TopicPartition

if TYPE_CHECKING:
    from fastkafka.net.broker_services import BrokerServices

log = logging.getLogger(__name__)

TXN_KEY_VERSION = 0
_PartitionsSchema: Any = getattr(tr.TransactionLogValue, "PartitionsSchema")
_LOAD_YIELD_BYTES = 64 << 10
S = TransactionState


def now_ms() -> int:
    return int(time.time() * 1000)


def key_to_bytes(transactional_id: str) -> bytes:
    return struct.pack(">h", TXN_KEY_VERSION) + tr.TransactionLogKey(
        transactional_id=transactional_id).to_bytes(TXN_KEY_VERSION)


def value_to_bytes(t: TxnTransitMetadata, value_version: int) -> bytes:
    if t.txn_state == S.EMPTY and t.topic_partitions:
        raise ValueError("an Empty transaction has no partitions")
    by_topic: dict[str, list[int]] = {}
    for topic, p in sorted(t.topic_partitions):
        by_topic.setdefault(topic, []).append(p)
    parts = None if t.txn_state == S.EMPTY else [
        _PartitionsSchema(topic=topic, partition_ids=ids) for topic, ids in by_topic.items()]
    # As Kafka's TransactionLog.valueToBytes: the previous/next producer ids are not written.
    v = tr.TransactionLogValue(
        producer_id=t.producer_id, producer_epoch=t.producer_epoch,
        transaction_timeout_ms=t.txn_timeout_ms, transaction_status=t.txn_state.id,
        transaction_partitions=parts, transaction_last_update_timestamp_ms=t.txn_last_update_timestamp,
        transaction_start_timestamp_ms=t.txn_start_timestamp,
        client_transaction_version=t.client_transaction_version)
    return struct.pack(">h", value_version) + v.to_bytes(value_version)


def read_record(key: bytes, value: bytes | None) -> tuple[str, TransactionMetadata | None] | None:
    """(transactional id, metadata or None for a tombstone), None for an unknown key version."""
    (kv,) = struct.unpack_from(">h", key)
    if kv != TXN_KEY_VERSION:
        return None
    tid = tr.TransactionLogKey.from_bytes(key[2:], kv).transactional_id
    if value is None:
        return tid, None
    (vv,) = struct.unpack_from(">h", value)
    v = tr.TransactionLogValue.from_bytes(value[2:], vv)
    state = S.from_id(v.transaction_status)
    parts: set[tuple[str, int]] = set()
    if state != S.EMPTY and v.transaction_partitions:
        for ps in v.transaction_partitions:
            parts.update((ps.topic, p) for p in ps.partition_ids)
    return tid, TransactionMetadata(
        transactional_id=tid, producer_id=v.producer_id, previous_producer_id=v.previous_producer_id,
        next_producer_id=v.next_producer_id, producer_epoch=v.producer_epoch,
        last_producer_epoch=NO_PRODUCER_EPOCH, txn_timeout_ms=v.transaction_timeout_ms, state=state,
        topic_partitions=parts, txn_start_timestamp=v.transaction_start_timestamp_ms,
        txn_last_update_timestamp=v.transaction_last_update_timestamp_ms,
        client_transaction_version=v.client_transaction_version)


def _append_error(code: int) -> int:
    """Kafka's appendTransactionToLog error mapping: what the client is told."""
    if code in (Errors.UNKNOWN_TOPIC_OR_PARTITION, Errors.NOT_ENOUGH_REPLICAS,
                Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND, Errors.REQUEST_TIMED_OUT):
        return Errors.COORDINATOR_NOT_AVAILABLE
    if code in (Errors.NOT_LEADER_OR_FOLLOWER, Errors.KAFKA_STORAGE_ERROR):
        return Errors.NOT_COORDINATOR
    return Errors.UNKNOWN_SERVER_ERROR


class TransactionStateManager:
    def __init__(self, broker: BrokerServices, props: dict[str, str]) -> None:
        self.broker = broker

        def i(key: str, default: int) -> int:
            v = props.get(key)
            return int(v) if v not in (None, "") else default

        self.num_partitions = i("transaction.state.log.num.partitions", 50)
        self.replication_factor = i("transaction.state.log.replication.factor", 3)
        self.segment_bytes = i("transaction.state.log.segment.bytes", 104857600)
        self.min_isr = i("transaction.state.log.min.isr", 2)
        self.load_buffer_size = i("transaction.state.log.load.buffer.size", 5242880)
        self.max_timeout_ms = i("transaction.max.timeout.ms", 900000)
        self.transactional_id_expiration_ms = i("transactional.id.expiration.ms", 604800000)
        # How long an answer waits for its write to be committed (Kafka's appendTransactionToLog
        # passes the broker's request.timeout.ms to appendRecords).
        self.write_timeout_ms = i("request.timeout.ms", 30000)
        self.metadata: dict[str, TransactionMetadata] = {}
        # The `__transaction_state` partitions served here, loaded and unloaded as this node gains
        # and loses their leadership (the replica manager's hook; start_loading attaches it).
        self.shards = CoordinatorShards(TRANSACTION_STATE_TOPIC_NAME, self._replay_partition,
                                        self._on_shard_loaded, self._on_shard_unloaded)
        self._on_loaded: Callable[[int, int, list[TransactionMetadata]], None] = lambda *_: None
        self._on_unloaded: Callable[[int], None] = lambda _: None
        self._create_lock = asyncio.Lock()
        # transaction.version finalized for the cluster: 0 until TV2 is (see k18_api_versions).
        self.transaction_version_level = 0

    # -- the topic --------------------------------------------------------------------------
    def partition_for(self, transactional_id: str) -> int:
        h = java_string_hash(transactional_id)
        # Kafka's Utils.abs: Integer.MIN_VALUE maps to 0 (Math.abs would leave it negative).
        return (0 if h == -(1 << 31) else abs(h)) % self.partition_count()

    def partition_count(self) -> int:
        """The partitions of the existing topic, else `transaction.state.log.num.partitions`
        (Kafka's getTransactionTopicPartitionCount: a changed config never remaps ids)."""
        image = getattr(self.broker, "image", None)
        topic = image.topics.by_name.get(TRANSACTION_STATE_TOPIC_NAME) if image is not None else None
        return len(topic.partitions) if topic is not None and topic.partitions else self.num_partitions

    def topic_exists(self) -> bool:
        return TRANSACTION_STATE_TOPIC_NAME in self.broker.image.topics.by_name

    async def ensure_transaction_topic(self) -> None:
        """Create `__transaction_state` on first use (Kafka does it on FindCoordinator)."""
        if self.topic_exists():
            return
        async with self._create_lock:
            if self.topic_exists():
                return
            C = CreateTopicsRequest
            resp = await self.broker.controller.create_topics(C(topics=[C.CreatableTopic(
                name=TRANSACTION_STATE_TOPIC_NAME, num_partitions=self.num_partitions,
                replication_factor=self.replication_factor,
                configs=[C.CreatableTopicConfig(name="cleanup.policy", value="compact"),
                         C.CreatableTopicConfig(name="compression.type", value="uncompressed"),
                         C.CreatableTopicConfig(name="min.insync.replicas", value=str(self.min_isr)),
                         C.CreatableTopicConfig(name="unclean.leader.election.enable", value="false"),
                         C.CreatableTopicConfig(name="segment.bytes", value=str(self.segment_bytes))])],
                timeout_ms=30000), 7)
            err = resp.topics[0].error_code
            if err not in (0, Errors.TOPIC_ALREADY_EXISTS):
                log.warning("Cannot create %s: %s", TRANSACTION_STATE_TOPIC_NAME, resp.topics[0].error_message)
                raise KafkaError(Errors.COORDINATOR_NOT_AVAILABLE, resp.topics[0].error_message)

    def _partition(self, partition: int) -> Any:
        return self.broker.replica_manager.partition(TopicPartition(TRANSACTION_STATE_TOPIC_NAME, partition))

    def coordinator_epoch(self, transactional_id: str) -> int:
        """The leader epoch of the id's partition; raises NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS
        / COORDINATOR_NOT_AVAILABLE as Kafka's getTransactionState."""
        if not self.topic_exists():
            raise KafkaError(Errors.COORDINATOR_NOT_AVAILABLE)
        partition = self.partition_for(transactional_id)
        part = self._partition(partition)
        if part is None or not part.is_leader or partition in self.failed_partitions:
            raise KafkaError(Errors.NOT_COORDINATOR)
        if partition in self.loading_partitions:
            raise KafkaError(Errors.COORDINATOR_LOAD_IN_PROGRESS)
        return int(part.leader_epoch)

    async def wait_committed(self, transactional_id: str) -> int:
        """Hold an answer until its write is committed (`coordinator_shards.wait_committed`) in
        the id's `__transaction_state` partition. Kafka's mapping of the failures: after
        `request.timeout.ms` COORDINATOR_NOT_AVAILABLE, a lost leadership NOT_COORDINATOR. The
        cache already holds the transition (Kafka's pending state; see SKIPPED_FEATURES)."""
        part = self._partition(self.partition_for(transactional_id))
        if part is None:
            return Errors.NOT_COORDINATOR
        error = await wait_committed(part, self.write_timeout_ms)
        return _append_error(error) if error else 0

    def validate_transaction_timeout_ms(self, timeout_ms: int) -> bool:
        return 0 < timeout_ms <= self.max_timeout_ms

    # -- the cache --------------------------------------------------------------------------
    def get_transaction_state(self, transactional_id: str) -> tuple[int, TransactionMetadata | None]:
        """(coordinator epoch, metadata or None); raises KafkaError when not the coordinator."""
        epoch = self.coordinator_epoch(transactional_id)
        return epoch, self.metadata.get(transactional_id)

    def put_transaction_state_if_not_exists(self, md: TransactionMetadata) -> TransactionMetadata:
        return self.metadata.setdefault(md.transactional_id, md)

    def append_transaction_to_log(self, transactional_id: str, coordinator_epoch: int,
                                  t: TxnTransitMetadata) -> int:
        """Write the transit to `__transaction_state` (acks=all) and, if the coordinator epoch is
        unchanged, apply it to the cache. Returns 0 or the error for the client; on an error the
        pending state is cleared (Kafka's appendTransactionToLog callback)."""
        md = self.metadata.get(transactional_id)
        # Version 1 (flexible) from transaction.version 1 on, as Kafka; also for a TV2 client's
        # transaction (EndTxn v5), whose ClientTransactionVersion version 0 cannot hold.
        flexible = self.transaction_version_level >= 1 or t.client_transaction_version >= 1
        value = value_to_bytes(t, 1 if flexible else 0)
        builder = MemoryRecordsBuilder(timestamp_ms=now_ms())
        builder.append(key_to_bytes(transactional_id), value)
        tp = TopicPartition(TRANSACTION_STATE_TOPIC_NAME, self.partition_for(transactional_id))
        res = self.broker.replica_manager.append_records(tp, builder.build(), -1)
        error = _append_error(res.error) if res.error else 0
        try:
            current = self.coordinator_epoch(transactional_id)
        except KafkaError as e:
            current = -1
            error = error or e.code
        if not error and current != coordinator_epoch:
            error = Errors.NOT_COORDINATOR
        if md is None:
            return error or Errors.NOT_COORDINATOR
        if error:
            md.pending_state = None
            return error
        md.complete_transition_to(t)
        return 0

    def _write_tombstone(self, transactional_id: str) -> int:
        builder = MemoryRecordsBuilder(timestamp_ms=now_ms())
        builder.append(key_to_bytes(transactional_id), None)
        tp = TopicPartition(TRANSACTION_STATE_TOPIC_NAME, self.partition_for(transactional_id))
        res = self.broker.replica_manager.append_records(tp, builder.build(), -1)
        return int(res.error or 0)

    def _served(self, transactional_id: str) -> bool:
        try:
            self.coordinator_epoch(transactional_id)
            return True
        except KafkaError:
            return False

    def timed_out_transactions(self, now: int) -> list[tuple[str, int, int]]:
        """(id, producer id, epoch) of Ongoing transactions past their timeout, none pending."""
        return [(md.transactional_id, md.producer_id, md.producer_epoch) for md in self.metadata.values()
                if md.state == S.ONGOING and md.pending_state is None
                and md.txn_start_timestamp + md.txn_timeout_ms < now and self._served(md.transactional_id)]

    def remove_expired_transactional_ids(self, now: int) -> int:
        """Kafka's enableTransactionalIdExpiration task: ids with no transaction in progress and no
        update for `transactional.id.expiration.ms` move to Dead, are tombstoned, and leave the
        cache. Returns how many."""
        removed = 0
        for tid, md in list(self.metadata.items()):
            if md.state not in (S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT) or md.pending_state is not None:
                continue
            if md.txn_last_update_timestamp + self.transactional_id_expiration_ms > now or not self._served(tid):
                continue
            md.prepare_dead()
            if self._write_tombstone(tid):
                md.pending_state = None
                continue
            md.state, md.pending_state = S.DEAD, None
            del self.metadata[tid]
            removed += 1
        return removed

    def list_transaction_states(self, producer_ids: set[int], states: set[str],
                                duration_ms: int, now: int) -> tuple[list[str], list[TransactionMetadata]]:
        """(unknown state filters, matching transactions of the led partitions); raises
        COORDINATOR_LOAD_IN_PROGRESS while any partition is loading, as Kafka."""
        if self.loading_partitions:
            raise KafkaError(Errors.COORDINATOR_LOAD_IN_PROGRESS)
        unknown = sorted(s for s in states if TransactionState.from_name(s) is None)
        out = []
        for md in self.metadata.values():
            if md.state == S.DEAD or not self._served(md.transactional_id):
                continue
            if producer_ids and md.producer_id not in producer_ids:
                continue
            if states and md.state.state_name not in states:
                continue
            # As Kafka, not only Ongoing ones: a finished transaction's start time is -1 or its last.
            if duration_ms >= 0 and now - md.txn_start_timestamp <= duration_ms:
                continue
            out.append(md)
        return unknown, out

    # -- loading ----------------------------------------------------------------------------
    @property
    def loading_partitions(self) -> set[int]:
        """Partitions led here whose replay has not finished (COORDINATOR_LOAD_IN_PROGRESS)."""
        return self.shards.loading

    @property
    def failed_partitions(self) -> set[int]:
        """Partitions led here whose replay failed (NOT_COORDINATOR)."""
        return self.shards.failed

    def start_loading(self, on_loaded: Callable[[int, int, list[TransactionMetadata]], None],
                      on_unloaded: Callable[[int], None] = lambda _: None) -> asyncio.Task[None]:
        """Follow the leadership of `__transaction_state` partitions: each one this node becomes
        leader of is replayed in the background (Kafka's loadTransactionsForTxnTopicPartition),
        then `on_loaded(partition, coordinator epoch, transactions in PrepareCommit/PrepareAbort)`
        so their markers are (re)sent; each one it stops leading leaves the cache
        (removeTransactionsForTxnTopicPartition), then `on_unloaded(partition)`. Returns the task
        replaying the partitions led already (done at once when there are none)."""
        self._on_loaded, self._on_unloaded = on_loaded, on_unloaded
        task = self.shards.attach(self.broker.replica_manager)
        return task if task is not None else asyncio.get_running_loop().create_task(asyncio.sleep(0))

    def _on_shard_loaded(self, part: Any) -> None:
        partition = part.topic_partition.partition
        pending = [md for md in self.metadata.values() if self.partition_for(md.transactional_id) == partition
                   and md.state in (S.PREPARE_COMMIT, S.PREPARE_ABORT)]
        self._on_loaded(partition, int(part.leader_epoch), pending)

    def _on_shard_unloaded(self, partition: int) -> None:
        for tid in [tid for tid in self.metadata if self.partition_for(tid) == partition]:
            del self.metadata[tid]
        self._on_unloaded(partition)

    def _replay_partition(self, part: Any) -> Iterator[int]:
        plog = part.log
        offset = plog.log_start_offset
        since_yield = 0
        while offset < plog.high_watermark:
            info = plog.read(offset, self.load_buffer_size, max_offset=plog.high_watermark, min_one_message=True)
            data = info.records.read_bytes() if info.records is not None else b""
            if not data:
                break
            headers, _end, _err = scan_batches(data, 0, False)
            if not headers:
                break
            for h in headers:
                offset = h.last_offset + 1
                if h.is_control:
                    continue
                for rec in iter_records(data[h.position:h.position + h.size]):
                    if rec.key is None:
                        continue
                    parsed = read_record(rec.key, rec.value)
                    if parsed is None:
                        continue
                    tid, md = parsed
                    if md is None:
                        self.metadata.pop(tid, None)
                    else:
                        self.metadata[tid] = md
                since_yield += h.size
                if since_yield >= _LOAD_YIELD_BYTES:
                    since_yield = 0
                    yield 0
        yield 0
