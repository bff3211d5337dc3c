"""Core cases of Kafka's ProducerStateManagerTest (leader appends, origin CLIENT)."""
import pytest

from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.producer_state_manager import AppendOrigin, ProducerStateManager

PID = 1


def append(psm, epoch, seq, offset, *, n=1, ts=0, txn=False, origin=AppendOrigin.CLIENT):
    info = psm.prepare_update(PID, origin)
    last_seq = seq + n - 1
    info.append_data_batch(epoch, seq, last_seq, ts, offset, offset + n - 1, txn)
    psm.update(info)
    psm.update_map_end_offset(offset + n)


def code_of(fn):
    with pytest.raises(KafkaError) as ei:
        fn()
    return ei.value.error


def test_basic_id_mapping():
    psm = ProducerStateManager("t-0")
    append(psm, 0, 0, 0)
    append(psm, 0, 1, 1)
    e = psm.last_entry(PID)
    assert e.producer_epoch == 0 and e.first_seq == 0 and e.last_seq == 1
    assert code_of(lambda: append(psm, 0, 3, 2)) == Errors.OUT_OF_ORDER_SEQUENCE_NUMBER  # gap
    assert code_of(lambda: append(psm, 0, 1, 2)) == Errors.OUT_OF_ORDER_SEQUENCE_NUMBER  # repeat (not cached exact)
    append(psm, 0, 2, 2)  # in order after failures
    assert psm.last_entry(PID).last_seq == 2


def test_fenced_producer_epoch():
    psm = ProducerStateManager("t-0")
    append(psm, 5, 0, 0)
    assert code_of(lambda: append(psm, 4, 1, 1)) == Errors.INVALID_PRODUCER_EPOCH


def test_epoch_bump_must_start_at_zero():
    psm = ProducerStateManager("t-0")
    append(psm, 0, 0, 0)
    assert code_of(lambda: append(psm, 1, 5, 1)) == Errors.OUT_OF_ORDER_SEQUENCE_NUMBER
    append(psm, 1, 0, 1)
    e = psm.last_entry(PID)
    assert e.producer_epoch == 1 and len(e.batch_metadata) == 1  # epoch change clears the cache


def test_unknown_producer_accepted_at_any_sequence():
    # Kafka 2.5+ (KIP-360): no state for the producer -> any sequence is accepted.
    psm = ProducerStateManager("t-0")
    append(psm, 0, 17, 0)
    assert psm.last_entry(PID).last_seq == 17


def test_sequence_wraparound():
    psm = ProducerStateManager("t-0")
    append(psm, 0, 2**31 - 1, 0)
    append(psm, 0, 0, 1)
    assert psm.last_entry(PID).last_seq == 0


def test_keeps_last_five_batches_and_finds_duplicates():
    psm = ProducerStateManager("t-0")
    for i in range(7):
        append(psm, 0, i * 2, 100 + i * 2, n=2)
    e = psm.last_entry(PID)
    assert len(e.batch_metadata) == 5
    assert e.first_seq == 4 and e.last_seq == 13
    dup = e.find_duplicate_batch(0, 8, 9)
    assert dup is not None and dup.first_offset == 108 and dup.last_offset == 109
    assert e.find_duplicate_batch(0, 0, 1) is None  # evicted
    assert e.find_duplicate_batch(1, 8, 9) is None  # other epoch
    assert e.find_duplicate_batch(0, 8, 10) is None  # other range


def test_replication_origin_skips_sequence_checks():
    psm = ProducerStateManager("t-0")
    append(psm, 0, 0, 0)
    append(psm, 0, 7, 1, origin=AppendOrigin.REPLICATION)
    assert psm.last_entry(PID).last_seq == 7


def test_transactions_track_first_unstable_offset():
    psm = ProducerStateManager("t-0")
    append(psm, 0, 0, 10, txn=True)
    append(psm, 0, 1, 11, txn=True)
    assert psm.first_unstable_offset == 10
    assert code_of(lambda: append(psm, 0, 2, 12, txn=False)) == Errors.INVALID_TXN_STATE
    info = psm.prepare_update(PID, AppendOrigin.COORDINATOR)
    done = info.append_end_txn_marker(False, 3, 0, 12, 0)
    psm.update(info)
    assert done is not None and done.first_offset == 10 and done.last_offset == 12 and not done.is_aborted
    assert psm.first_unstable_offset is None
    # A zombie coordinator is fenced
    info = psm.prepare_update(PID, AppendOrigin.COORDINATOR)
    assert code_of(lambda: info.append_end_txn_marker(True, 2, 0, 13, 0)) == Errors.TRANSACTION_COORDINATOR_FENCED


def test_failed_validation_leaves_state_untouched():
    psm = ProducerStateManager("t-0")
    append(psm, 0, 0, 0)
    before = psm.last_entry(PID).copy()
    with pytest.raises(KafkaError):
        append(psm, 0, 5, 1)
    after = psm.last_entry(PID)
    assert list(after.batch_metadata) == list(before.batch_metadata)
