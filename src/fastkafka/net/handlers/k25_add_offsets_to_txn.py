"""AddOffsetsToTxn (key 25), v0-4 (KafkaApis.handleAddOffsetsToTxnRequest): adds the group's
`__consumer_offsets` partition to the transaction, so its TxnOffsetCommit is completed by the
transaction's marker. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v2.
"""
from __future__ import annotations

from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import AddOffsetsToTxnRequest, AddOffsetsToTxnResponse


@handler(25, 0, 4)
async def handle_add_offsets_to_txn(broker: BrokerServices, ctx: RequestContext,
                                    req: AddOffsetsToTxnRequest) -> AddOffsetsToTxnResponse:
    tp = (GROUP_METADATA_TOPIC_NAME, broker.group_coordinator.partition_for(req.group_id))
    error = broker.transaction_coordinator.handle_add_partitions_to_transaction(
        req.transactional_id, req.producer_id, req.producer_epoch, {tp})
    if not error:  # answered once the transition is committed (high watermark)
        error = await broker.transaction_coordinator.state_manager.wait_committed(req.transactional_id)
    if error == Errors.PRODUCER_FENCED and ctx.api_version < 2:
        error = Errors.INVALID_PRODUCER_EPOCH
    return AddOffsetsToTxnResponse(throttle_time_ms=0, error_code=error)
