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

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TxnMarkerEntry:
    """One transaction's outcome to write to some partitions (WriteTxnMarkersRequest's marker)."""

    producer_id: int
    producer_epoch: int
    coordinator_epoch: int
    committed: bool  # TransactionResult: True = COMMIT, False = ABORT
    partitions: tuple[tuple[str, int], ...] = field(default_factory=tuple)  # (topic, partition)
