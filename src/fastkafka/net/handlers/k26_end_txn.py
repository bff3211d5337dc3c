"""EndTxn (key 26), v0-5 (KafkaApis.handleEndTxnRequest): commit or abort the transaction. v5
is transaction version 2 (KIP-890): the coordinator bumps the epoch with the markers and returns
the producer id and epoch to continue with. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v2.
The answer comes once PrepareCommit/PrepareAbort is in `__transaction_state`; the markers follow.
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import EndTxnRequest, EndTxnResponse


@handler(26, 0, 5)
async def handle_end_txn(broker: BrokerServices, ctx: RequestContext, req: EndTxnRequest) -> EndTxnResponse:
    v = ctx.api_version
    res = await broker.transaction_coordinator.handle_end_transaction(
        req.transactional_id, req.producer_id, req.producer_epoch, req.committed,
        2 if v > 4 else 0)
    error = res.error
    if not error:  # answered once PrepareCommit/PrepareAbort is committed (high watermark)
        error = await broker.transaction_coordinator.state_manager.wait_committed(req.transactional_id)
    if error == Errors.PRODUCER_FENCED and v < 2:
        error = Errors.INVALID_PRODUCER_EPOCH
    return EndTxnResponse(throttle_time_ms=0, error_code=error, producer_id=res.producer_id,
                          producer_epoch=res.producer_epoch)
