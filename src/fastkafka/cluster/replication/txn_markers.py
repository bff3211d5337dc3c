"""The seam between the transaction coordinator and the partition logs: transaction markers.

Kafka's coordinator sends WriteTxnMarkers to each partition leader (TransactionMarkerChannelManager);
the leader appends one control batch (an EndTransactionMarker: COMMIT or ABORT with the coordinator
epoch) per partition with AppendOrigin.COORDINATOR, which completes the producer's transaction in
that partition's producer state, moves the last stable offset, and for an abort appends an entry to
the segment's `.txnindex`. The same entry point serves the WriteTxnMarkers API (key 27).

Invariants:
- a marker is only written for a producer id whose epoch in the partition is not newer than the
  marker's (else INVALID_PRODUCER_EPOCH), and is idempotent for a transaction already completed;
- the result has one error code per requested partition (0, NOT_LEADER_OR_FOLLOWER,
  UNKNOWN_TOPIC_OR_PARTITION, INVALID_PRODUCER_EPOCH, KAFKA_STORAGE_ERROR, ...), as
  WriteTxnMarkersResponse;
- a marker is acknowledged only once it is as durable as an acks=all produce.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TxnMarkerEntry:
    """One transaction's outcome to write to some partitions (WriteTxnMarkersRequest's marker)."""

    producer_id: int
    producer_epoch: int
    coordinator_epoch: int
    committed: bool  # TransactionResult: True = COMMIT, False = ABORT
    partitions: tuple[tuple[str, int], ...] = field(default_factory=tuple)  # (topic, partition)


# ControlRecordType keys (version 0, type) and the EndTransactionMarker value (version 0,
# coordinator epoch), as Kafka's ControlRecordType.recordKey / EndTransactionMarker.serializeValue.
CONTROL_RECORD_KEY_VERSION = 0
END_TXN_MARKER_VERSION = 0
CONTROL_TYPE_ABORT = 0
CONTROL_TYPE_COMMIT = 1


def end_transaction_marker_batch(producer_id: int, producer_epoch: int, coordinator_epoch: int,
                                 committed: bool, timestamp_ms: int) -> bytes:
    """One control batch holding one EndTransactionMarker record, laid out as Kafka's
    MemoryRecords.withEndTransactionMarker: magic 2, uncompressed, CreateTime, base offset 0,
    no partition leader epoch (-1, stamped on append), the producer's id and epoch, no sequence
    (-1), transactional + control attributes; key = (0, COMMIT=1 | ABORT=0) as two int16, value =
    (0, coordinator epoch) as int16 + int32."""
    from fastkafka._native.record_batch import MemoryRecordsBuilder

    b = MemoryRecordsBuilder(base_offset=0, timestamp_ms=timestamp_ms, producer_id=producer_id,
                             producer_epoch=producer_epoch, base_sequence=-1, is_transactional=True,
                             is_control=True, partition_leader_epoch=-1)
    key = struct.pack(">hh", CONTROL_RECORD_KEY_VERSION, CONTROL_TYPE_COMMIT if committed else CONTROL_TYPE_ABORT)
    value = struct.pack(">hi", END_TXN_MARKER_VERSION, coordinator_epoch)
    b.append(key, value)
    return bytes(b.build())
