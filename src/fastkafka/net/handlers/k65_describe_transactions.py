"""DescribeTransactions (key 65), v0 (KafkaApis.handleDescribeTransactionsRequest): each
transactional id's state, producer id/epoch, timeout, start time and partitions, from the
transaction coordinator's cache. TRANSACTIONAL_ID_NOT_FOUND for an unknown (or expiring) id,
NOT_COORDINATOR when another broker leads its `__transaction_state` partition.
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import DescribeTransactionsRequest, DescribeTransactionsResponse

_State = DescribeTransactionsResponse.TransactionState
_Topic = DescribeTransactionsResponse.TopicData


@handler(65, 0, 0)
async def handle_describe_transactions(broker: BrokerServices, ctx: RequestContext,
                                       req: DescribeTransactionsRequest) -> DescribeTransactionsResponse:
    states = []
    for tid in req.transactional_ids:
        error, md = broker.transaction_coordinator.handle_describe_transaction(tid)
        if md is None:
            states.append(_State(error_code=error, transactional_id=tid, transaction_state="",
                                 transaction_timeout_ms=0, transaction_start_time_ms=-1,
                                 producer_id=-1, producer_epoch=-1, topics=[]))
            continue
        by_topic: dict[str, list[int]] = {}
        for topic, p in sorted(md.topic_partitions):
            by_topic.setdefault(topic, []).append(p)
        states.append(_State(error_code=0, transactional_id=tid, transaction_state=md.state.state_name,
                             transaction_timeout_ms=md.txn_timeout_ms,
                             transaction_start_time_ms=md.txn_start_timestamp, producer_id=md.producer_id,
                             producer_epoch=md.producer_epoch,
                             topics=[_Topic(topic=t, partitions=ps) for t, ps in by_topic.items()]))
    return DescribeTransactionsResponse(throttle_time_ms=0, transaction_states=states)
