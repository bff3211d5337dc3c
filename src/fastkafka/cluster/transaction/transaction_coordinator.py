"""The transaction coordinator's API logic (Kafka's TransactionCoordinator): InitProducerId with a
transactional id, AddPartitionsToTxn (and its KIP-890 verify-only form), AddOffsetsToTxn, EndTxn,
DescribeTransactions, ListTransactions, and the timeout-driven abort of ongoing transactions.

Invariants:
- a request is answered only after its state change is in `__transaction_state` (acks=all);
- an EndTxn is answered once PrepareCommit/PrepareAbort is written; the markers and the
  Complete* record follow (`TransactionMarkerChannel`), and until then the id answers
  CONCURRENT_TRANSACTIONS;
- zombies are fenced by epoch: a request with an older epoch gets PRODUCER_FENCED (the handlers
  map it to INVALID_PRODUCER_EPOCH for the versions that predate it);
- InitProducerId on an id with an ongoing transaction bumps the epoch, aborts that transaction
  and answers CONCURRENT_TRANSACTIONS; the client's retry gets the next epoch.
Owns nothing but the periodic tasks: state is the `TransactionStateManager`'s.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastkafka.cluster.transaction.transaction_marker_channel import TransactionMarkerChannel
from fastkafka.cluster.transaction.transaction_metadata import (
    NO_PRODUCER_EPOCH,
    NO_PRODUCER_ID,
    TransactionMetadata,
    TransactionState,
    TxnTransitMetadata,
    is_epoch_exhausted,
)
from fastkafka.cluster.transaction.transaction_state_manager import TransactionStateManager, now_ms
from fastkafka.protocol.errors import Errors, KafkaError

if TYPE_CHECKING:
    from fastkafka.net.broker_services import BrokerServices

log = logging.getLogger(__name__)
S = TransactionState
_SHORT_MAX = 32767


@dataclass(frozen=True)
class InitProducerIdResult:
    error: int
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH


@dataclass(frozen=True)
class EndTxnResult:
    error: int
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH


class TransactionCoordinator:
    def __init__(self, broker: BrokerServices, props: dict[str, str],
                 generate_producer_id: Callable[[], Awaitable[int]]) -> None:
        self.broker = broker
        self.state_manager = TransactionStateManager(broker, props)
        self.marker_channel = TransactionMarkerChannel(broker, self.state_manager)
        self._generate_producer_id = generate_producer_id
        self.abort_interval_ms = int(props.get("transaction.abort.timed.out.transaction.cleanup.interval.ms") or 10000)
        self.expiration_interval_ms = int(
            props.get("transaction.remove.expired.transaction.cleanup.interval.ms") or 3600000)
        self._tasks: list[asyncio.Task[None]] = []
        self.active = False

    # -- lifecycle ----------------------------------------------------------------------------
    def startup(self) -> None:
        """Load the led `__transaction_state` partitions in the background and start the
        transaction-abort and transactional-id-expiration tasks (Kafka's startup)."""
        self._tasks.append(self.state_manager.start_loading(self._on_partition_loaded, self._on_partition_unloaded))
        self._tasks.append(asyncio.get_running_loop().create_task(
            self._periodic(self.abort_interval_ms, self.abort_timed_out_transactions), name="transaction-abort"))
        self._tasks.append(asyncio.get_running_loop().create_task(
            self._periodic(self.expiration_interval_ms, self._expire_transactional_ids),
            name="transactionalId-expiration"))
        self.active = True

    def shutdown(self) -> None:
        self.active = False
        for t in self._tasks:
            t.cancel()
        self._tasks.clear()
        self.marker_channel.shutdown()

    async def _periodic(self, interval_ms: int, fn: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(interval_ms / 1000)
            try:
                res = fn()
                if asyncio.iscoroutine(res):
                    await res
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Transaction coordinator task %s failed", getattr(fn, "__name__", fn))

    def _expire_transactional_ids(self) -> None:
        self.state_manager.remove_expired_transactional_ids(now_ms())

    def _on_partition_loaded(self, partition: int, coordinator_epoch: int,
                             pending: list[TransactionMetadata]) -> None:
        # Transactions that were preparing when the coordinator stopped get their markers now.
        for md in pending:
            self.marker_channel.add_txn_markers_to_send(coordinator_epoch, md)

    def _on_partition_unloaded(self, partition: int) -> None:
        # Kafka's removeMarkersForTxnTopicPartition: the new coordinator resends them.
        self.marker_channel.remove_markers(lambda tid: self.state_manager.partition_for(tid) == partition)

    async def ensure_transaction_topic(self) -> None:
        await self.state_manager.ensure_transaction_topic()

    def partition_for(self, transactional_id: str) -> int:
        return self.state_manager.partition_for(transactional_id)

    def on_transaction_version(self, level: int) -> None:
        """The cluster's finalized transaction.version changed (kafka-features upgrade/downgrade,
        or the bootstrap records): Kafka's TransactionStateManager.transactionVersionLevel."""
        self.state_manager.transaction_version_level = level

    # -- InitProducerId -----------------------------------------------------------------------
    async def handle_init_producer_id(self, transactional_id: str, timeout_ms: int,
                                      expected: tuple[int, int] | None) -> InitProducerIdResult:
        """`expected`: (producer id, epoch) the client passed (KIP-360, v3+), or None."""
        if not transactional_id:
            return InitProducerIdResult(Errors.INVALID_REQUEST)
        if not self.state_manager.validate_transaction_timeout_ms(timeout_ms):
            return InitProducerIdResult(Errors.INVALID_TRANSACTION_TIMEOUT)
        try:
            coordinator_epoch, md = self.state_manager.get_transaction_state(transactional_id)
            if md is None:
                producer_id = await self._generate_producer_id()
                coordinator_epoch, md = self.state_manager.get_transaction_state(transactional_id)
                if md is None:
                    md = self.state_manager.put_transaction_state_if_not_exists(TransactionMetadata(
                        transactional_id=transactional_id, producer_id=producer_id,
                        previous_producer_id=NO_PRODUCER_ID, next_producer_id=NO_PRODUCER_ID,
                        producer_epoch=NO_PRODUCER_EPOCH, last_producer_epoch=NO_PRODUCER_EPOCH,
                        txn_timeout_ms=timeout_ms, state=S.EMPTY, txn_last_update_timestamp=now_ms()))
            transit = await self._prepare_init_producer_id_transit(md, timeout_ms, expected)
        except KafkaError as e:
            return InitProducerIdResult(e.code)
        if isinstance(transit, int):
            return InitProducerIdResult(transit)
        if transit.txn_state == S.PREPARE_EPOCH_FENCE:
            # Abort the ongoing transaction with the fenced epoch; the client retries.
            res = await self._end_transaction(transactional_id, transit.producer_id, transit.producer_epoch,
                                              committed=False, is_from_client=False,
                                              client_transaction_version=self.state_manager.transaction_version_level)
            if md.pending_state == S.PREPARE_EPOCH_FENCE:
                md.pending_state = None  # the abort was refused before it adopted the fencing epoch
            return InitProducerIdResult(res.error or Errors.CONCURRENT_TRANSACTIONS)
        error = self.state_manager.append_transaction_to_log(transactional_id, coordinator_epoch, transit)
        if error:
            return InitProducerIdResult(error)
        log.info("Initialized transactionalId %s with producerId %d and producer epoch %d on partition %s-%d",
                 transactional_id, transit.producer_id, transit.producer_epoch, "__transaction_state",
                 self.partition_for(transactional_id))
        return InitProducerIdResult(0, transit.producer_id, transit.producer_epoch)

    async def _prepare_init_producer_id_transit(self, md: TransactionMetadata, timeout_ms: int,
                                                expected: tuple[int, int] | None) -> TxnTransitMetadata | int:
        def valid_producer_id(pid: int, epoch: int) -> bool:
            return (md.producer_epoch == NO_PRODUCER_EPOCH or pid == md.producer_id
                    or (pid == md.previous_producer_id and is_epoch_exhausted(epoch)))

        if md.pending_transition_in_progress:
            return Errors.CONCURRENT_TRANSACTIONS
        if expected is not None and not valid_producer_id(*expected):
            return Errors.PRODUCER_FENCED
        if md.state in (S.PREPARE_ABORT, S.PREPARE_COMMIT):
            return Errors.CONCURRENT_TRANSACTIONS
        if md.state in (S.COMPLETE_ABORT, S.COMPLETE_COMMIT, S.EMPTY):
            if md.is_producer_epoch_exhausted and (expected is None or expected[1] == md.producer_epoch):
                producer_id = await self._generate_producer_id()
                if md.pending_transition_in_progress:  # changed while the id was allocated
                    return Errors.CONCURRENT_TRANSACTIONS
                return md.prepare_producer_id_rotation(producer_id, timeout_ms, now_ms(), expected is not None)
            return md.prepare_increment_producer_epoch(timeout_ms, None if expected is None else expected[1],
                                                       now_ms())
        if md.state == S.ONGOING:
            return md.prepare_fence_producer_epoch()
        raise IllegalStateError(f"Found transactionalId {md.transactional_id} with state {md.state.state_name}")

    # -- AddPartitionsToTxn / AddOffsetsToTxn -------------------------------------------------
    def handle_add_partitions_to_transaction(self, transactional_id: str, producer_id: int, producer_epoch: int,
                                             partitions: set[tuple[str, int]],
                                             client_transaction_version: int = 0) -> int:
        if not transactional_id:
            return Errors.INVALID_REQUEST
        try:
            coordinator_epoch, md = self.state_manager.get_transaction_state(transactional_id)
        except KafkaError as e:
            return e.code
        if md is None or md.producer_id != producer_id:
            return Errors.INVALID_PRODUCER_ID_MAPPING
        if md.producer_epoch != producer_epoch:
            return Errors.PRODUCER_FENCED
        if md.pending_transition_in_progress or md.state in (S.PREPARE_COMMIT, S.PREPARE_ABORT):
            return Errors.CONCURRENT_TRANSACTIONS
        if md.state == S.ONGOING and partitions <= md.topic_partitions:
            return 0
        transit = md.prepare_add_partitions(partitions, now_ms(), client_transaction_version)
        return self.state_manager.append_transaction_to_log(transactional_id, coordinator_epoch, transit)

    def handle_verify_or_add_partitions(self, transactional_id: str, producer_id: int, producer_epoch: int,
                                        partitions: set[tuple[str, int]], add: bool) -> dict[tuple[str, int], int]:
        """What a partition leader asks before a transactional write it cannot vouch for (Kafka's
        AddPartitionsToTxnManager, AddPartitionsToTxn v5 from a broker): `add` (Produce v12+,
        TxnOffsetCommit v5+: transaction version 2) adds the partitions to the transaction as
        AddPartitionsToTxn would, at client transaction version 2; else verify only (KIP-890 part 1)."""
        if not add:
            return self.handle_verify_partitions_in_transaction(transactional_id, producer_id, producer_epoch,
                                                                partitions)
        code = self.handle_add_partitions_to_transaction(transactional_id, producer_id, producer_epoch,
                                                         partitions, client_transaction_version=2)
        return {tp: code for tp in partitions}

    def handle_verify_partitions_in_transaction(self, transactional_id: str, producer_id: int,
                                                producer_epoch: int, partitions: set[tuple[str, int]]
                                                ) -> dict[tuple[str, int], int]:
        """KIP-890 verify-only AddPartitionsToTxn (v4+): a partition not in the transaction is
        TRANSACTION_ABORTABLE; nothing is written."""
        def all_(code: int) -> dict[tuple[str, int], int]:
            return {tp: code for tp in partitions}

        if not transactional_id:
            return all_(Errors.INVALID_REQUEST)
        try:
            _, md = self.state_manager.get_transaction_state(transactional_id)
        except KafkaError as e:
            return all_(e.code)
        if md is None or md.producer_id != producer_id:
            return all_(Errors.INVALID_PRODUCER_ID_MAPPING)
        if md.producer_epoch != producer_epoch:
            return all_(Errors.PRODUCER_FENCED)
        if md.state in (S.PREPARE_COMMIT, S.PREPARE_ABORT):
            return all_(Errors.CONCURRENT_TRANSACTIONS)
        return {tp: 0 if tp in md.topic_partitions else Errors.TRANSACTION_ABORTABLE for tp in partitions}

    # -- EndTxn -------------------------------------------------------------------------------
    async def handle_end_transaction(self, transactional_id: str, producer_id: int, producer_epoch: int,
                                     committed: bool, client_transaction_version: int) -> EndTxnResult:
        return await self._end_transaction(transactional_id, producer_id, producer_epoch, committed,
                                           is_from_client=True, client_transaction_version=client_transaction_version)

    @staticmethod
    def _end_txn_epoch_bumped(md: TransactionMetadata, producer_epoch: int) -> bool:
        return (md.pending_state != S.PREPARE_EPOCH_FENCE and md.supports_epoch_bump()
                and md.producer_epoch == producer_epoch + 1)

    async def _end_transaction(self, transactional_id: str, producer_id: int, producer_epoch: int,
                               committed: bool, is_from_client: bool,
                               client_transaction_version: int) -> EndTxnResult:
        if not transactional_id:
            return EndTxnResult(Errors.INVALID_REQUEST)
        try:
            coordinator_epoch, md = self.state_manager.get_transaction_state(transactional_id)
        except KafkaError as e:
            return EndTxnResult(e.code)
        if md is None:
            return EndTxnResult(Errors.INVALID_PRODUCER_ID_MAPPING)
        is_epoch_fence = False
        tv2 = md.pending_state != S.PREPARE_EPOCH_FENCE and md.supports_epoch_bump()
        retry_on_overflow = (tv2 and md.previous_producer_id == producer_id
                             and producer_epoch == _SHORT_MAX - 1 and md.producer_epoch == 0)
        retry_on_epoch_bump = self._end_txn_epoch_bumped(md, producer_epoch)
        if tv2:
            if md.state in (S.ONGOING, S.EMPTY, S.DEAD, S.PREPARE_EPOCH_FENCE):
                valid_epoch = producer_epoch == md.producer_epoch
            elif md.state in (S.PREPARE_COMMIT, S.PREPARE_ABORT):
                valid_epoch = retry_on_epoch_bump
            else:
                valid_epoch = retry_on_epoch_bump or retry_on_overflow
        else:
            valid_epoch = ((not is_from_client or producer_epoch == md.producer_epoch)
                           and producer_epoch >= md.producer_epoch)
        if md.producer_id != producer_id and not retry_on_overflow:
            return EndTxnResult(Errors.INVALID_PRODUCER_ID_MAPPING)
        if not valid_epoch:
            return EndTxnResult(Errors.PRODUCER_FENCED)
        if md.pending_transition_in_progress and md.pending_state != S.PREPARE_EPOCH_FENCE:
            return EndTxnResult(Errors.CONCURRENT_TRANSACTIONS)
        state = md.state
        if state == S.ONGOING:
            next_producer_id = NO_PRODUCER_ID
            if (client_transaction_version >= 2 and md.pending_state != S.PREPARE_EPOCH_FENCE
                    and md.is_producer_epoch_exhausted):
                try:
                    next_producer_id = await self._generate_producer_id()
                except KafkaError as e:
                    return EndTxnResult(e.code)
            if not committed and md.pending_state == S.PREPARE_EPOCH_FENCE:
                # Adopt the fencing epoch: the abort is written with it, the old producer is fenced.
                is_epoch_fence = True
                md.pending_state = None
                md.producer_epoch = producer_epoch
                md.last_producer_epoch = NO_PRODUCER_EPOCH
            elif md.pending_state is not None:
                return EndTxnResult(Errors.CONCURRENT_TRANSACTIONS)
            transit = md.prepare_abort_or_commit(S.PREPARE_COMMIT if committed else S.PREPARE_ABORT,
                                                 client_transaction_version, next_producer_id, now_ms())
        elif state == S.COMPLETE_COMMIT:
            return EndTxnResult(0, md.producer_id, md.producer_epoch) if committed else self._invalid_state(md, committed)
        elif state == S.COMPLETE_ABORT:
            return EndTxnResult(0, md.producer_id, md.producer_epoch) if not committed else self._invalid_state(md, committed)
        elif state == S.PREPARE_COMMIT:
            return EndTxnResult(Errors.CONCURRENT_TRANSACTIONS) if committed else self._invalid_state(md, committed)
        elif state == S.PREPARE_ABORT:
            return EndTxnResult(Errors.CONCURRENT_TRANSACTIONS) if not committed else self._invalid_state(md, committed)
        elif state == S.EMPTY:
            return self._invalid_state(md, committed)
        else:
            raise IllegalStateError(f"Found transactionalId {transactional_id} with state {state.state_name}")

        error = self.state_manager.append_transaction_to_log(transactional_id, coordinator_epoch, transit)
        if error:
            if is_epoch_fence:
                md.has_failed_epoch_fence = True
            return EndTxnResult(error)
        # The prepare record is written: the client is answered and the markers follow.
        self.marker_channel.add_txn_markers_to_send(coordinator_epoch, md)
        return EndTxnResult(0, md.producer_id, md.producer_epoch)

    @staticmethod
    def _invalid_state(md: TransactionMetadata, committed: bool) -> EndTxnResult:
        log.debug("TransactionalId %s: cannot %s in state %s", md.transactional_id,
                  "commit" if committed else "abort", md.state.state_name)
        return EndTxnResult(Errors.INVALID_TXN_STATE)

    # -- timeouts -----------------------------------------------------------------------------
    async def abort_timed_out_transactions(self) -> None:
        """Kafka's abortTimedOutTransactions: fence the epoch of each Ongoing transaction past its
        timeout and abort it."""
        for tid, producer_id, _epoch in self.state_manager.timed_out_transactions(now_ms()):
            md = self.state_manager.metadata.get(tid)
            if md is None or md.producer_id != producer_id or md.pending_transition_in_progress \
                    or md.state != S.ONGOING:
                continue
            transit = md.prepare_fence_producer_epoch()
            res = await self._end_transaction(tid, transit.producer_id, transit.producer_epoch, committed=False,
                                              is_from_client=False,
                                              client_transaction_version=self.state_manager.transaction_version_level)
            if res.error:
                if md.pending_state == S.PREPARE_EPOCH_FENCE:
                    md.pending_state = None
                log.info("Rollback of the timed-out transaction of %s: error %d", tid, res.error)
            else:
                log.info("Completed rollback of ongoing transaction for transactionalId %s due to timeout", tid)

    # -- admin --------------------------------------------------------------------------------
    def handle_describe_transaction(self, transactional_id: str) -> tuple[int, TransactionMetadata | None]:
        if not self.active:
            return Errors.COORDINATOR_NOT_AVAILABLE, None
        if not transactional_id:
            return Errors.INVALID_REQUEST, None
        try:
            _, md = self.state_manager.get_transaction_state(transactional_id)
        except KafkaError as e:
            return e.code, None
        if md is None or md.state == S.DEAD:
            return Errors.TRANSACTIONAL_ID_NOT_FOUND, None
        return 0, md

    def handle_list_transactions(self, producer_ids: set[int], states: set[str], duration_ms: int
                                 ) -> tuple[int, list[str], list[TransactionMetadata]]:
        if not self.active:
            return Errors.COORDINATOR_NOT_AVAILABLE, [], []
        try:
            unknown, mds = self.state_manager.list_transaction_states(producer_ids, states, duration_ms, now_ms())
        except KafkaError as e:
            return e.code, [], []
        return 0, unknown, mds


class IllegalStateError(Exception):
    pass
