"""Writes a prepared transaction's COMMIT/ABORT markers to its partitions, then completes it
(Kafka's TransactionMarkerChannelManager and TransactionMarkerRequestCompletionHandler).

Every partition leader is this node (one broker), so the "channel" appends through
`ReplicaManager.write_txn_markers` instead of sending WriteTxnMarkers over the network; the
errors and their handling are Kafka's:
- NONE: the partition is done;
- NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS(_AFTER_APPEND),
  REQUEST_TIMED_OUT, KAFKA_STORAGE_ERROR: retried after `RETRY_BACKOFF_MS` until written; a
  partition whose topic was deleted is dropped (Kafka's metadata-cache check);
- INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED: this coordinator is stale; sending stops
  and the transaction is left to the new coordinator;
- other errors: the partition is dropped with an error log (Kafka throws there).
Once every partition has its marker, the CompleteCommit/CompleteAbort transit is written to
`__transaction_state` (retried while COORDINATOR_NOT_AVAILABLE, abandoned if the coordinator
epoch moved). The transaction answers CONCURRENT_TRANSACTIONS until then.

Owns: the in-flight marker tasks (one per transactional id).
"""
from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING, Any, Callable

from fastkafka.cluster.replication.txn_markers import TxnMarkerEntry
from fastkafka.cluster.transaction.transaction_metadata import TransactionMetadata, TransactionState
from fastkafka.cluster.transaction.transaction_state_manager import TransactionStateManager, now_ms
from fastkafka.protocol.errors import Errors, KafkaError

if TYPE_CHECKING:
    from fastkafka.net.broker_services import BrokerServices

log = logging.getLogger(__name__)

RETRY_BACKOFF_MS = 100
_RETRIABLE = frozenset({Errors.NOT_LEADER_OR_FOLLOWER, Errors.UNKNOWN_TOPIC_OR_PARTITION,
                        Errors.NOT_ENOUGH_REPLICAS, Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
                        Errors.REQUEST_TIMED_OUT, Errors.KAFKA_STORAGE_ERROR})
_FENCED = frozenset({Errors.INVALID_PRODUCER_EPOCH, Errors.TRANSACTION_COORDINATOR_FENCED})


class TransactionMarkerChannel:
    def __init__(self, broker: BrokerServices, state_manager: TransactionStateManager) -> None:
        self.broker = broker
        self.state_manager = state_manager
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def add_txn_markers_to_send(self, coordinator_epoch: int, md: TransactionMetadata) -> None:
        """Start writing the markers of `md`, which is in PrepareCommit or PrepareAbort."""
        tid = md.transactional_id
        task = asyncio.get_running_loop().create_task(self._send(coordinator_epoch, md),
                                                      name=f"txn-markers-{tid}")
        self._tasks[tid] = task
        task.add_done_callback(functools.partial(self._done, tid))

    def _done(self, tid: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(tid) is task:
            del self._tasks[tid]
        if not task.cancelled() and task.exception() is not None:
            log.error("Writing the transaction markers of %s failed", tid, exc_info=task.exception())

    def in_flight(self, transactional_id: str) -> bool:
        return transactional_id in self._tasks

    def remove_markers(self, in_partition: Callable[[str], bool]) -> None:
        """Stop writing the markers of the transactions of a partition this node no longer
        leads (Kafka's removeMarkersForTxnTopicPartition)."""
        for tid in [tid for tid in self._tasks if in_partition(tid)]:
            self._tasks.pop(tid).cancel()

    def shutdown(self) -> None:
        for t in list(self._tasks.values()):
            t.cancel()
        self._tasks.clear()

    def _still_current(self, coordinator_epoch: int, md: TransactionMetadata, producer_id: int,
                       producer_epoch: int) -> bool:
        try:
            epoch, current = self.state_manager.get_transaction_state(md.transactional_id)
        except KafkaError:
            return False
        return (epoch == coordinator_epoch and current is md and md.producer_id == producer_id
                and md.producer_epoch == producer_epoch)

    async def _send(self, coordinator_epoch: int, md: TransactionMetadata) -> None:
        committed = md.state == TransactionState.PREPARE_COMMIT
        producer_id, producer_epoch = md.producer_id, md.producer_epoch
        remaining = set(md.topic_partitions)
        while remaining:
            topics = self.broker.image.topics.by_name
            for tp in [tp for tp in remaining if tp[0] not in topics]:
                log.info("Dropping the %s marker of %s for %s-%d: the topic was deleted",
                         "COMMIT" if committed else "ABORT", md.transactional_id, tp[0], tp[1])
                remaining.discard(tp)
            if not remaining:
                break
            entry = TxnMarkerEntry(producer_id=producer_id, producer_epoch=producer_epoch,
                                   coordinator_epoch=coordinator_epoch, committed=committed,
                                   partitions=tuple(sorted(remaining)))
            (errors,) = await self.broker.replica_manager.write_txn_markers([entry])
            retry = False
            for tp, code in errors.items():
                if code == 0:
                    remaining.discard(tp)
                elif code in _FENCED:
                    log.info("Stop writing the markers of %s: error %d for %s-%d (the coordinator was fenced)",
                             md.transactional_id, code, *tp)
                    return
                elif code in _RETRIABLE:
                    retry = True
                else:
                    log.error("Dropping the marker of %s for %s-%d: unexpected error %d",
                              md.transactional_id, tp[0], tp[1], code)
                    remaining.discard(tp)
            if retry:
                await asyncio.sleep(RETRY_BACKOFF_MS / 1000)
                if not self._still_current(coordinator_epoch, md, producer_id, producer_epoch):
                    return
        await self._complete(coordinator_epoch, md, producer_id, producer_epoch)

    async def _complete(self, coordinator_epoch: int, md: TransactionMetadata, producer_id: int,
                        producer_epoch: int) -> None:
        """Kafka's tryAppendToLog of the Complete* transit once all markers are written."""
        while True:
            if not self._still_current(coordinator_epoch, md, producer_id, producer_epoch) or \
                    md.state not in (TransactionState.PREPARE_COMMIT, TransactionState.PREPARE_ABORT):
                return
            transit = md.prepare_complete(now_ms())
            error = self.state_manager.append_transaction_to_log(md.transactional_id, coordinator_epoch, transit)
            if error == 0:
                return
            if error != Errors.COORDINATOR_NOT_AVAILABLE:
                log.info("Not completing %s: writing %s failed with %d", md.transactional_id,
                         transit.txn_state.state_name, error)
                return
            await asyncio.sleep(RETRY_BACKOFF_MS / 1000)
