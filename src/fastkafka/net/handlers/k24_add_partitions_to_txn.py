"""AddPartitionsToTxn (key 24), v0-5 (KafkaApis.handleAddPartitionsToTxnRequest).

v0-3 (clients): one transaction; v4+ (brokers, KIP-890): a batch of transactions, each either
added or, with `verify_only`, only checked (a partition not in the transaction is
TRANSACTION_ABORTABLE). A transaction naming a partition that does not exist fails whole:
UNKNOWN_TOPIC_OR_PARTITION for it, OPERATION_NOT_ATTEMPTED for the others; an internal topic from a
client (v0-3) is TOPIC_AUTHORIZATION_FAILED, as Kafka's authorization filter leaves it out. PRODUCER_FENCED is
INVALID_PRODUCER_EPOCH below v2. No authorizer: Kafka's other WRITE checks are moot.
"""
from __future__ import annotations

from typing import Any

from fastkafka.cluster.topic import is_internal
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import AddPartitionsToTxnRequest, AddPartitionsToTxnResponse

_Result = AddPartitionsToTxnResponse.AddPartitionsToTxnResult
_TopicResult = AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult
_PartResult = AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult


def _topic_results(errors: dict[tuple[str, int], int]) -> list[Any]:
    by_topic: dict[str, list[Any]] = {}
    for (topic, p), code in errors.items():
        by_topic.setdefault(topic, []).append(_PartResult(partition_index=p, partition_error_code=code))
    return [_TopicResult(name=t, results_by_partition=ps) for t, ps in by_topic.items()]


def _one(broker: BrokerServices, version: int, transactional_id: str, producer_id: int, producer_epoch: int,
         topics: list[Any], verify_only: bool) -> dict[tuple[str, int], int]:
    partitions = [(t.name, p) for t in topics for p in t.partitions]
    image_topics = broker.image.topics.by_name
    failed: dict[tuple[str, int], int] = {}
    for tp in partitions:
        if version < 4 and is_internal(tp[0]):
            # Kafka filters internal topics out of a client's authorized topics (WRITE on TOPIC).
            failed[tp] = Errors.TOPIC_AUTHORIZATION_FAILED
        elif tp[0] not in image_topics or tp[1] not in image_topics[tp[0]].partitions:
            failed[tp] = Errors.UNKNOWN_TOPIC_OR_PARTITION
    if failed:
        return {tp: failed.get(tp, Errors.OPERATION_NOT_ATTEMPTED) for tp in partitions}
    coordinator = broker.transaction_coordinator
    if verify_only:
        return dict(coordinator.handle_verify_partitions_in_transaction(
            transactional_id, producer_id, producer_epoch, set(partitions)))
    # Kafka's transactionVersionForAddPartitionsToTxn: v4+ comes from a broker adding for a TV2
    # client (Produce v12+); v0-3 is the client's own call.
    error = coordinator.handle_add_partitions_to_transaction(transactional_id, producer_id, producer_epoch,
                                                             set(partitions), 2 if version > 3 else 0)
    if error == Errors.PRODUCER_FENCED and version < 2:
        error = Errors.INVALID_PRODUCER_EPOCH
    return {tp: error for tp in partitions}


async def _committed(broker: BrokerServices, transactional_id: str,
                     errors: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """Partitions added answer once the transition is committed (high watermark), else the error."""
    if not errors or any(errors.values()):
        return errors
    error = await broker.transaction_coordinator.state_manager.wait_committed(transactional_id)
    return {tp: error for tp in errors}


@handler(24, 0, 5)
async def handle_add_partitions_to_txn(broker: BrokerServices, ctx: RequestContext,
                                       req: AddPartitionsToTxnRequest) -> AddPartitionsToTxnResponse:
    v = ctx.api_version
    if v < 4:
        errors = _one(broker, v, req.v3_and_below_transactional_id, req.v3_and_below_producer_id,
                      req.v3_and_below_producer_epoch, req.v3_and_below_topics, False)
        errors = await _committed(broker, req.v3_and_below_transactional_id, errors)
        return AddPartitionsToTxnResponse(throttle_time_ms=0, results_by_topic_v3_and_below=_topic_results(errors))
    results = []
    for t in req.transactions:
        errors = _one(broker, v, t.transactional_id, t.producer_id, t.producer_epoch, t.topics, t.verify_only)
        if not t.verify_only:
            errors = await _committed(broker, t.transactional_id, errors)
        results.append(_Result(transactional_id=t.transactional_id, topic_results=_topic_results(errors)))
    return AddPartitionsToTxnResponse(throttle_time_ms=0, error_code=0, results_by_transaction=results)
