"""ListTransactions (key 66), v0-1 (KafkaApis.handleListTransactionsRequest): the transactions of
the `__transaction_state` partitions this broker leads, filtered by state names, producer ids and
(v1) a minimum running duration in ms (only Ongoing transactions that started longer ago). State
filters that name no state come back in `unknown_state_filters`.
"""
from __future__ import annotations

from typing import Any

from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import ListTransactionsRequest, ListTransactionsResponse

_State = ListTransactionsResponse.TransactionState


@handler(66, 0, 1)
async def handle_list_transactions(broker: Any, ctx: RequestContext,
                                   req: ListTransactionsRequest) -> ListTransactionsResponse:
    duration = req.duration_filter if ctx.api_version >= 1 else -1
    error, unknown, mds = broker.transaction_coordinator.handle_list_transactions(
        set(req.producer_id_filters), set(req.state_filters), duration)
    return ListTransactionsResponse(
        throttle_time_ms=0, error_code=error, unknown_state_filters=unknown,
        transaction_states=[_State(transactional_id=md.transactional_id, producer_id=md.producer_id,
                                   transaction_state=md.state.state_name) for md in mds])
