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
    def _transit(self, state: TransactionState, *, producer_id: int | None = None,
                 previous_producer_id: int | None = None, next_producer_id: int | None = None,
                 producer_epoch: int | None = None, last_producer_epoch: int | None = None,
                 txn_timeout_ms: int | None = None, partitions: frozenset[tuple[str, int]] | None = None,
                 start: int | None = None, now: int, client_transaction_version: int | None = None
                 ) -> TxnTransitMetadata:
        if self.pending_state is not None:
            raise IllegalTransitionError(
                f"{self.transactional_id}: cannot prepare {state.state_name} while {self.pending_state.state_name} is pending")
        if self.state not in VALID_PREVIOUS_STATES[state]:
            raise IllegalTransitionError(
                f"{self.transactional_id}: illegal transition {self.state.state_name} -> {state.state_name}")
        self.pending_state = state
        return TxnTransitMetadata(
            producer_id=self.producer_id if producer_id is None else producer_id,
            previous_producer_id=self.previous_producer_id if previous_producer_id is None else previous_producer_id,
            next_producer_id=self.next_producer_id if next_producer_id is None else next_producer_id,
            producer_epoch=self.producer_epoch if producer_epoch is None else producer_epoch,
            last_producer_epoch=self.last_producer_epoch if last_producer_epoch is None else last_producer_epoch,
            txn_timeout_ms=self.txn_timeout_ms if txn_timeout_ms is None else txn_timeout_ms,
            txn_state=state,
            topic_partitions=frozenset(self.topic_partitions) if partitions is None else partitions,
            txn_start_timestamp=self.txn_start_timestamp if start is None else start,
            txn_last_update_timestamp=now,
            client_transaction_version=(self.client_transaction_version if client_transaction_version is None
                                        else client_transaction_version))

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
        return self._transit(S.EMPTY, producer_epoch=epoch, last_producer_epoch=last,
                             txn_timeout_ms=new_timeout_ms, partitions=frozenset(), start=-1, now=now)

    def prepare_producer_id_rotation(self, new_producer_id: int, new_timeout_ms: int, now: int,
                                     record_last_epoch: bool) -> TxnTransitMetadata:
        return self._transit(S.EMPTY, producer_id=new_producer_id, previous_producer_id=self.producer_id,
                             next_producer_id=NO_PRODUCER_ID, producer_epoch=0,
                             last_producer_epoch=self.producer_epoch if record_last_epoch else NO_PRODUCER_EPOCH,
                             txn_timeout_ms=new_timeout_ms, partitions=frozenset(), start=-1, now=now)

    def prepare_fence_producer_epoch(self) -> TxnTransitMetadata:
        """Bump the epoch to fence the producer of an ongoing transaction before aborting it
        (InitProducerId on an Ongoing id, timeouts). Never written: endTransaction adopts it."""
        if self.is_producer_epoch_exhausted:
            raise IllegalTransitionError(f"{self.transactional_id}: cannot fence, epoch exhausted")
        epoch = self.producer_epoch if self.has_failed_epoch_fence else self.producer_epoch + 1
        return self._transit(S.PREPARE_EPOCH_FENCE, producer_epoch=epoch, last_producer_epoch=NO_PRODUCER_EPOCH,
                             now=self.txn_last_update_timestamp)

    def prepare_add_partitions(self, partitions: set[tuple[str, int]], now: int,
                               client_transaction_version: int) -> TxnTransitMetadata:
        start = now if self.state in (S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT) else self.txn_start_timestamp
        return self._transit(S.ONGOING, partitions=frozenset(self.topic_partitions | partitions), start=start,
                             now=now, client_transaction_version=client_transaction_version)

    def prepare_abort_or_commit(self, state: TransactionState, client_transaction_version: int,
                                next_producer_id: int, now: int) -> TxnTransitMetadata:
        if client_transaction_version >= 2:
            epoch, last = self.producer_epoch + 1, self.producer_epoch
        else:
            epoch, last = self.producer_epoch, self.last_producer_epoch
        return self._transit(state, producer_epoch=epoch, last_producer_epoch=last,
                             next_producer_id=next_producer_id, now=now,
                             client_transaction_version=client_transaction_version)

    def prepare_complete(self, now: int) -> TxnTransitMetadata:
        state = S.COMPLETE_COMMIT if self.state == S.PREPARE_COMMIT else S.COMPLETE_ABORT
        if self.supports_epoch_bump() and self.next_producer_id != NO_PRODUCER_ID:
            # TV2 with an exhausted epoch: the producer continues with the new id at epoch 0.
            return self._transit(state, producer_id=self.next_producer_id, previous_producer_id=self.producer_id,
                                 next_producer_id=NO_PRODUCER_ID, producer_epoch=0,
                                 last_producer_epoch=self.producer_epoch, partitions=frozenset(), now=now)
        return self._transit(state, partitions=frozenset(), now=now)

    def prepare_dead(self) -> TxnTransitMetadata:
        return self._transit(S.DEAD, partitions=frozenset(), now=self.txn_last_update_timestamp)

    # -- apply ------------------------------------------------------------------------------
    def complete_transition_to(self, t: TxnTransitMetadata) -> None:
        """Apply a transit whose record was written (Kafka's completeTransitionTo)."""
        if self.pending_state != t.txn_state:
            raise IllegalTransitionError(
                f"{self.transactional_id}: completing {t.txn_state.state_name}, pending "
                f"{self.pending_state.state_name if self.pending_state else None}")
        self.producer_id = t.producer_id
        self.previous_producer_id = t.previous_producer_id
        self.next_producer_id = t.next_producer_id
        self.producer_epoch = t.producer_epoch
        self.last_producer_epoch = t.last_producer_epoch
        self.txn_timeout_ms = t.txn_timeout_ms
        self.topic_partitions = set(t.topic_partitions)
        self.txn_start_timestamp = t.txn_start_timestamp
        self.txn_last_update_timestamp = t.txn_last_update_timestamp
        self.client_transaction_version = t.client_transaction_version
        self.state = t.txn_state
        self.pending_state = None
        if t.txn_state != S.PREPARE_EPOCH_FENCE:
            self.has_failed_epoch_fence = False
