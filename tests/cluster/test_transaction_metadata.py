"""TransactionMetadata: Kafka's legal state transitions, epoch bumps, fencing and rotation."""
from __future__ import annotations

import pytest

from fastkafka.cluster.transaction.transaction_metadata import (
    IllegalTransitionError,
    TransactionMetadata,
    TransactionState,
)
from fastkafka.protocol.errors import Errors

S = TransactionState


def md(state: TransactionState = S.EMPTY, epoch: int = 0, partitions: set[tuple[str, int]] | None = None,
       tv: int = 0) -> TransactionMetadata:
    return TransactionMetadata(transactional_id="t", producer_id=7, previous_producer_id=-1, next_producer_id=-1,
                               producer_epoch=epoch, last_producer_epoch=-1, txn_timeout_ms=1000, state=state,
                               topic_partitions=set(partitions or ()), txn_last_update_timestamp=1,
                               client_transaction_version=tv)


def test_state_ids_and_names_are_kafkas():
    assert [(s.id, s.state_name) for s in S] == [
        (0, "Empty"), (1, "Ongoing"), (2, "PrepareCommit"), (3, "PrepareAbort"), (4, "CompleteCommit"),
        (5, "CompleteAbort"), (6, "Dead"), (7, "PrepareEpochFence")]


def test_commit_cycle():
    m = md()
    m.complete_transition_to(m.prepare_add_partitions({("a", 0)}, 10))
    assert m.state == S.ONGOING and m.topic_partitions == {("a", 0)} and m.txn_start_timestamp == 10
    m.complete_transition_to(m.prepare_add_partitions({("a", 1)}, 20))
    assert m.txn_start_timestamp == 10 and m.topic_partitions == {("a", 0), ("a", 1)}
    m.complete_transition_to(m.prepare_abort_or_commit(S.PREPARE_COMMIT, 0, -1, 30))
    assert m.state == S.PREPARE_COMMIT and m.producer_epoch == 0
    m.complete_transition_to(m.prepare_complete(40))
    assert m.state == S.COMPLETE_COMMIT and not m.topic_partitions and m.txn_last_update_timestamp == 40


def test_illegal_transitions_raise():
    with pytest.raises(IllegalTransitionError):
        md(S.EMPTY).prepare_abort_or_commit(S.PREPARE_COMMIT, 0, -1, 1)
    with pytest.raises(IllegalTransitionError):
        md(S.PREPARE_COMMIT).prepare_add_partitions({("a", 0)}, 1)
    with pytest.raises(IllegalTransitionError):
        md(S.ONGOING, partitions={("a", 0)}).prepare_dead()


def test_pending_transition_blocks_another():
    m = md()
    m.prepare_add_partitions({("a", 0)}, 1)
    assert m.pending_transition_in_progress
    with pytest.raises(IllegalTransitionError):
        m.prepare_add_partitions({("a", 1)}, 1)


def test_increment_epoch_and_retry_and_fence():
    m = md(epoch=3)
    t = m.prepare_increment_producer_epoch(500, 3, 5)
    assert not isinstance(t, int) and (t.producer_epoch, t.last_producer_epoch, t.txn_timeout_ms) == (4, 3, 500)
    m.complete_transition_to(t)
    # A retry of the same bump (the client never saw the answer) gets the same epoch.
    t = m.prepare_increment_producer_epoch(500, 3, 6)
    assert not isinstance(t, int) and t.producer_epoch == 4
    m.pending_state = None
    assert m.prepare_increment_producer_epoch(500, 1, 7) == Errors.PRODUCER_FENCED


def test_fence_then_abort_with_the_bumped_epoch():
    m = md(S.ONGOING, epoch=5, partitions={("a", 0)})
    t = m.prepare_fence_producer_epoch()
    assert t.txn_state == S.PREPARE_EPOCH_FENCE and t.producer_epoch == 6
    assert m.pending_state == S.PREPARE_EPOCH_FENCE


def test_producer_id_rotation_on_exhausted_epoch():
    m = md(S.COMPLETE_COMMIT, epoch=32766)
    assert m.is_producer_epoch_exhausted
    t = m.prepare_producer_id_rotation(99, 1000, 5, True)
    assert (t.producer_id, t.previous_producer_id, t.producer_epoch, t.last_producer_epoch) == (99, 7, 0, 32766)


def test_tv2_end_bumps_epoch_and_rotates_when_exhausted():
    m = md(S.ONGOING, epoch=2, partitions={("a", 0)}, tv=2)
    t = m.prepare_abort_or_commit(S.PREPARE_ABORT, 2, -1, 1)
    assert (t.producer_epoch, t.last_producer_epoch) == (3, 2)
    m.complete_transition_to(t)
    m.complete_transition_to(m.prepare_complete(2))
    assert m.state == S.COMPLETE_ABORT and m.producer_epoch == 3
    m = md(S.ONGOING, epoch=32765, partitions={("a", 0)}, tv=2)
    m.complete_transition_to(m.prepare_abort_or_commit(S.PREPARE_COMMIT, 2, 50, 1))
    m.complete_transition_to(m.prepare_complete(2))
    assert (m.producer_id, m.producer_epoch, m.previous_producer_id) == (50, 0, 7)
