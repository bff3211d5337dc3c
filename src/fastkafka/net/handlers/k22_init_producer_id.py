"""InitProducerId (key 22), v0-5.

A request with only one of producer id / epoch set is INVALID_REQUEST (KafkaApis). Without a
transactional id the request is always answered with a fresh id from the block the controller
allocated to this broker (ProducerIdsRecord) and epoch 0, whatever id/epoch it passes: Kafka's
TransactionCoordinator "blindly accepts" idempotent producers (their KIP-360 reset is a new id).

A transactional id goes to the broker's `TransactionCoordinator` (epoch bump, zombie fencing,
an ongoing transaction aborted, `transaction.timeout.ms` checked against
`transaction.max.timeout.ms`); PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v4, as Kafka's
KafkaApis.handleInitProducerIdRequest.
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import InitProducerIdRequest, InitProducerIdResponse

@handler(22, 0, 5)
async def handle_init_producer_id(broker: BrokerServices, ctx: RequestContext, req: InitProducerIdRequest) -> InitProducerIdResponse:
    if ctx.api_version >= 3 and (req.producer_id == -1) != (req.producer_epoch == -1):
        return InitProducerIdResponse(error_code=Errors.INVALID_REQUEST, producer_id=-1, producer_epoch=-1)
    if req.transactional_id is not None:
        if req.transactional_id == "":
            return InitProducerIdResponse(error_code=Errors.INVALID_REQUEST, producer_id=-1, producer_epoch=-1)
        expected = None
        if ctx.api_version >= 3 and (req.producer_id, req.producer_epoch) != (-1, -1):
            expected = (req.producer_id, req.producer_epoch)
        res = await broker.transaction_coordinator.handle_init_producer_id(
            req.transactional_id, req.transaction_timeout_ms, expected)
        error = res.error
        if not error:
            error = await broker.transaction_coordinator.state_manager.wait_committed(req.transactional_id)
            if error:
                return InitProducerIdResponse(error_code=error, producer_id=-1, producer_epoch=-1)
        if error == Errors.PRODUCER_FENCED and ctx.api_version < 4:
            error = Errors.INVALID_PRODUCER_EPOCH
        return InitProducerIdResponse(error_code=error, producer_id=res.producer_id, producer_epoch=res.producer_epoch)
    try:
        pid = await broker.producer_id_manager.generate_producer_id()
    except KafkaError as e:
        return InitProducerIdResponse(error_code=e.code, producer_id=-1, producer_epoch=-1)
    return InitProducerIdResponse(error_code=0, producer_id=pid, producer_epoch=0)
