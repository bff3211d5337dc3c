"""One transactional id's state, as Kafka's TransactionMetadata / TxnTransitMetadata.

Invariants:
- `state` only changes through `complete_transition_to` with a transit prepared by one of the
  `prepare_*` methods, after that transit's record is in `__transaction_state`; the legal
  transitions are Kafka's (`VALID_PREVIOUS_STATES`);
- while a transit is being written `pending_state` is set and every other request on the id
  answers CONCURRENT_TRANSACTIONS;
- PrepareEpochFence is a pending state only: it is never written to the log;
- an Empty (or Complete*) transaction has no partitions.
The owner is the `TransactionStateManager`; the `TransactionCoordinator` drives the transitions.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
_SHORT_MAX = 32767


class TransactionState(enum.Enum):
    """(id in TransactionLogValue.TransactionStatus, name as DescribeTransactions/ListTransactions
    report it)."""

    EMPTY = (0, "Empty")
    ONGOING = (1, "Ongoing")
    PREPARE_COMMIT = (2, "PrepareCommit")
    PREPARE_ABORT = (3, "PrepareAbort")
    COMPLETE_COMMIT = (4, "CompleteCommit")
    COMPLETE_ABORT = (5, "CompleteAbort")
    DEAD = (6, "Dead")
    PREPARE_EPOCH_FENCE = (7, "PrepareEpochFence")

    @property
    def id(self) -> int:
        return self.value[0]

    @property
    def state_name(self) -> str:
        return self.value[1]

    @classmethod
    def from_id(cls, state_id: int) -> TransactionState:
        for s in cls:
            if s.id == state_id:
                return s
        raise ValueError(f"Unknown transaction state id {state_id}")

    @classmethod
    def from_name(cls, name: str) -> TransactionState | None:
        for s in cls:
            if s.state_name == name:
                return s
        return None


S = TransactionState
VALID_PREVIOUS_STATES: dict[TransactionState, frozenset[TransactionState]] = {
    S.EMPTY: frozenset({S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT}),
    S.ONGOING: frozenset({S.ONGOING, S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT}),
    S.PREPARE_COMMIT: frozenset({S.ONGOING}),
    S.PREPARE_ABORT: frozenset({S.ONGOING, S.PREPARE_EPOCH_FENCE}),
    S.COMPLETE_COMMIT: frozenset({S.PREPARE_COMMIT}),
    S.COMPLETE_ABORT: frozenset({S.PREPARE_ABORT}),
    S.DEAD: frozenset({S.EMPTY, S.COMPLETE_ABORT, S.COMPLETE_COMMIT}),
    S.PREPARE_EPOCH_FENCE: frozenset({S.ONGOING}),
}


def is_epoch_exhausted(epoch: int) -> bool:
    # Kafka keeps the last epoch free so a TV2 marker bump can never overflow.
    return epoch >= _SHORT_MAX - 1


@dataclass(frozen=True)
class TxnTransitMetadata:
    """The state a transaction moves to once its record is written (Kafka's TxnTransitMetadata)."""

    producer_id: int
    previous_producer_id: int
    next_producer_id: int
    producer_epoch: int
    last_producer_epoch: int
    txn_timeout_ms: int
    txn_state: TransactionState
    topic_partitions: frozenset[tuple[str, int]]
    txn_start_timestamp: int
    txn_last_update_timestamp: int
    client_transaction_version: int


class IllegalTransitionError(Exception):
    pass


@dataclass
class TransactionMetadata:
    transactional_id: str
    producer_id: int
    previous_producer_id: int
    next_producer_id: int
    producer_epoch: int
    last_producer_epoch: int
    txn_timeout_ms: int
    state: TransactionState
    topic_partitions: set[tuple[str, int]] = field(default_factory=set)
    txn_start_timestamp: int = -1
    txn_last_update_timestamp: int = -1
    client_transaction_version: int = 0
    pending_state: TransactionState | None = None
    # Set when an epoch-fence write failed: the next fence reuses the already bumped epoch.
    has_failed_epoch_fence: bool = False

    # -- queries ----------------------------------------------------------------------------
    @property
    def pending_transition_in_progress(self) -> bool:
        return self.pending_state is not None

    @property
    def is_producer_epoch_exhausted(self) -> bool:
        return is_epoch_exhausted(self.producer_epoch)

    def supports_epoch_bump(self) -> bool:
        """Transaction version 2 (KIP-890): every EndTxn bumps the epoch."""
        return self.client_transaction_version >= 2

    # -- transits ---------------------------------------------------------------------------
    def _transit(self, state: TransactionState, producer_id: int, producer_epoch: int, last_producer_epoch: int,
                 txn_timeout_ms: int, partitions: frozenset[tuple[str, int]], start: int, now: int,
                 next_producer_id: int = NO_PRODUCER_ID, client_transaction_version: int = 0
                 ) -> TxnTransitMetadata:
        """Kafka's prepareTransitionTo: the previous producer id is always the current one; the
        short form (no next producer id) is transaction version 0."""
        if self.pending_state is not None:
            raise IllegalTransitionError(
                f"{self.transactional_id}: cannot prepare {state.state_name} while {self.pending_state.state_name} is pending")
        if producer_id < 0:
            raise IllegalTransitionError(f"{self.transactional_id}: illegal new producer id {producer_id}")
        if state != S.DEAD and producer_epoch < 0:
            raise IllegalTransitionError(f"{self.transactional_id}: illegal new producer epoch {producer_epoch}")
        if self.state not in VALID_PREVIOUS_STATES[state]:
            raise IllegalTransitionError(
                f"{self.transactional_id}: illegal transition {self.state.state_name} -> {state.state_name}")
        self.pending_state = state
        return TxnTransitMetadata(
            producer_id=producer_id, previous_producer_id=self.producer_id, next_producer_id=next_producer_id,
            producer_epoch=producer_epoch, last_producer_epoch=last_producer_epoch, txn_timeout_ms=txn_timeout_ms,
            txn_state=state, topic_partitions=partitions, txn_start_timestamp=start, txn_last_update_timestamp=now,
            client_transaction_version=client_transaction_version)

    def prepare_increment_producer_epoch(self, new_timeout_ms: int, expected_epoch: int | None,
                                         now: int) -> TxnTransitMetadata | int:
        """InitProducerId on an Empty/Complete* id: the epoch is bumped (a retry of the last bump
        returns the same epoch). An int is the error code (PRODUCER_FENCED)."""
        from fastkafka.protocol.errors import Errors

        if self.is_producer_epoch_exhausted:
            raise IllegalTransitionError(f"{self.transactional_id}: epoch exhausted")
        bumped = self.producer_epoch + 1
        if expected_epoch is None:
            epoch, last = bumped, NO_PRODUCER_EPOCH
        elif self.producer_epoch == NO_PRODUCER_EPOCH or expected_epoch == self.producer_epoch:
            epoch, last = bumped, self.producer_epoch
        elif expected_epoch == self.last_producer_epoch:
            epoch, last = self.producer_epoch, self.last_producer_epoch  # a retry of the last bump
        else:
            return Errors.PRODUCER_FENCED
        return self._transit(S.EMPTY, self.producer_id, epoch, last, new_timeout_ms, frozenset(), -1, now)

    def prepare_producer_id_rotation(self, new_producer_id: int, new_timeout_ms: int, now: int,
                                     record_last_epoch: bool) -> TxnTransitMetadata:
        return self._transit(S.EMPTY, new_producer_id, 0,
                             self.producer_epoch if record_last_epoch else NO_PRODUCER_EPOCH,
                             new_timeout_ms, frozenset(), -1, now)

    def prepare_fence_producer_epoch(self) -> TxnTransitMetadata:
        """Bump the epoch to fence the producer of an ongoing transaction before aborting it
        (InitProducerId on an Ongoing id, timeouts). Never written: endTransaction adopts it."""
        if self.producer_epoch == _SHORT_MAX:
            raise IllegalTransitionError(f"{self.transactional_id}: cannot fence, the epoch would overflow")
        # A fence whose write failed already bumped the epoch (never returned to a client).
        epoch = self.producer_epoch if self.has_failed_epoch_fence else self.producer_epoch + 1
        return self._transit(S.PREPARE_EPOCH_FENCE, self.producer_id, epoch, NO_PRODUCER_EPOCH, self.txn_timeout_ms,
                             frozenset(self.topic_partitions), self.txn_start_timestamp,
                             self.txn_last_update_timestamp)

    def prepare_add_partitions(self, partitions: set[tuple[str, int]], now: int,
                               client_transaction_version: int = 0) -> TxnTransitMetadata:
        """Kafka's prepareAddPartitions: the transaction's client version is the adder's (2 for the
        implicit adds of Produce v12+ / TxnOffsetCommit v5+, 0 for AddPartitionsToTxn v0-3 and
        AddOffsetsToTxn); EndTxn later bumps the epoch only for a TV2 transaction."""
        start = now if self.state in (S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT) else self.txn_start_timestamp
        return self._transit(S.ONGOING, self.producer_id, self.producer_epoch, self.last_producer_epoch,
                             self.txn_timeout_ms, frozenset(self.topic_partitions | partitions), start, now,
                             client_transaction_version=client_transaction_version)

    def prepare_abort_or_commit(self, state: TransactionState, client_transaction_version: int,
                                next_producer_id: int, now: int) -> TxnTransitMetadata:
        if client_transaction_version >= 2:
            epoch, last = self.producer_epoch + 1, self.producer_epoch  # never overflows: see is_epoch_exhausted
        else:
            epoch, last = self.producer_epoch, self.last_producer_epoch
        return self._transit(state, self.producer_id, epoch, last, self.txn_timeout_ms,
                             frozenset(self.topic_partitions), self.txn_start_timestamp, now,
                             next_producer_id, client_transaction_version)

    def prepare_complete(self, now: int) -> TxnTransitMetadata:
        state = S.COMPLETE_COMMIT if self.state == S.PREPARE_COMMIT else S.COMPLETE_ABORT
        # The PrepareCommit/PrepareAbort record is written: a failed fence no longer matters.
        self.has_failed_epoch_fence = False
        if self.supports_epoch_bump() and self.next_producer_id != NO_PRODUCER_ID:
            # TV2 with an exhausted epoch: the producer continues with the new id at epoch 0.
            producer_id, epoch = self.next_producer_id, 0
        else:
            producer_id, epoch = self.producer_id, self.producer_epoch
        return self._transit(state, producer_id, epoch, self.producer_epoch, self.txn_timeout_ms, frozenset(),
                             self.txn_start_timestamp, now, NO_PRODUCER_ID, self.client_transaction_version)

    def prepare_dead(self) -> TxnTransitMetadata:
        return self._transit(S.DEAD, self.producer_id, self.producer_epoch, self.last_producer_epoch,
                             self.txn_timeout_ms, frozenset(), self.txn_start_timestamp,
                             self.txn_last_update_timestamp)

    # -- apply ------------------------------------------------------------------------------
    def complete_transition_to(self, t: TxnTransitMetadata) -> None:
        """Apply a transit whose record was written (Kafka's completeTransitionTo): each target
        state takes only the fields its transition may change."""
        if self.pending_state is None or self.pending_state != t.txn_state:
            raise IllegalTransitionError(
                f"{self.transactional_id}: completing {t.txn_state.state_name}, pending "
                f"{self.pending_state.state_name if self.pending_state else None}")
        tv2 = t.client_transaction_version >= 2
        if t.txn_state == S.EMPTY:  # InitProducerId
            self.txn_timeout_ms = t.txn_timeout_ms
            self.producer_epoch = t.producer_epoch
            self.last_producer_epoch = t.last_producer_epoch
            self.producer_id = t.producer_id
            self.previous_producer_id = t.previous_producer_id
        elif t.txn_state == S.ONGOING:  # AddPartitionsToTxn / AddOffsetsToTxn
            self.txn_start_timestamp = t.txn_start_timestamp
            self.topic_partitions |= t.topic_partitions
        elif t.txn_state in (S.PREPARE_COMMIT, S.PREPARE_ABORT):  # EndTxn
            if tv2:
                self.producer_epoch = t.producer_epoch
                self.last_producer_epoch = t.last_producer_epoch
                self.next_producer_id = t.next_producer_id
        elif t.txn_state in (S.COMPLETE_COMMIT, S.COMPLETE_ABORT):  # all markers written
            self.txn_start_timestamp = t.txn_start_timestamp
            self.topic_partitions.clear()
            if tv2:
                self.producer_epoch = t.producer_epoch
                self.last_producer_epoch = t.last_producer_epoch
                self.previous_producer_id = t.previous_producer_id
                self.producer_id = t.producer_id
                self.next_producer_id = t.next_producer_id
        else:
            # PrepareEpochFence is never written; Dead is removed from the cache, not completed.
            raise IllegalTransitionError(f"{self.transactional_id}: cannot complete {t.txn_state.state_name}")
        self.client_transaction_version = t.client_transaction_version
        self.txn_last_update_timestamp = t.txn_last_update_timestamp
        self.pending_state = None
        self.state = t.txn_state
