"""The transaction handlers (k22 transactional branch, k24, k25, k26, k61, k65, k66) over the
coordinator and real logs: request/response shapes per version and Kafka's per-version error
mapping (PRODUCER_FENCED is INVALID_PRODUCER_EPOCH for the versions before it)."""
from __future__ import annotations

import asyncio
import types
from typing import Any

from test_transaction_coordinator import Harness

from fastkafka.net.handlers.k22_init_producer_id import handle_init_producer_id
from fastkafka.net.handlers.k24_add_partitions_to_txn import handle_add_partitions_to_txn
from fastkafka.net.handlers.k25_add_offsets_to_txn import handle_add_offsets_to_txn
from fastkafka.net.handlers.k26_end_txn import handle_end_txn
from fastkafka.net.handlers.k61_describe_producers import handle_describe_producers
from fastkafka.net.handlers.k65_describe_transactions import handle_describe_transactions
from fastkafka.net.handlers.k66_list_transactions import handle_list_transactions
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import (
    AddOffsetsToTxnRequest,
    AddPartitionsToTxnRequest,
    DescribeProducersRequest,
    DescribeTransactionsRequest,
    EndTxnRequest,
    InitProducerIdRequest,
    ListTransactionsRequest,
)

R = AddPartitionsToTxnRequest


def ctx(v: int) -> Any:
    return types.SimpleNamespace(api_version=v)


def broker(tmp_path: Any) -> Any:
    h = Harness(tmp_path)
    h.transaction_coordinator = h.coordinator()  # type: ignore[attr-defined]
    h.group_coordinator = types.SimpleNamespace(partition_for=lambda g: 0)  # type: ignore[attr-defined]
    return h


def add_v3(tid: str, pid: int, epoch: int, parts: dict[str, list[int]]) -> Any:
    return R(v3_and_below_transactional_id=tid, v3_and_below_producer_id=pid, v3_and_below_producer_epoch=epoch,
             v3_and_below_topics=[R.AddPartitionsToTxnTopic(name=t, partitions=ps) for t, ps in parts.items()])


def test_flow_and_version_mapping(tmp_path):
    b = broker(tmp_path)

    async def run() -> None:
        r = await handle_init_producer_id(b, ctx(4), InitProducerIdRequest(
            transactional_id="tx", transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
        assert (r.error_code, r.producer_id, r.producer_epoch) == (0, 1000, 0)
        bad = await handle_init_producer_id(b, ctx(4), InitProducerIdRequest(
            transactional_id="tx", transaction_timeout_ms=60000, producer_id=1000, producer_epoch=-1))
        assert bad.error_code == Errors.INVALID_REQUEST
        resp = await handle_add_partitions_to_txn(b, ctx(3), add_v3("tx", 1000, 0, {"t": [0, 1]}))
        assert {(t.name, p.partition_index): p.partition_error_code for t in resp.results_by_topic_v3_and_below
                for p in t.results_by_partition} == {("t", 0): 0, ("t", 1): 0}
        # One unknown partition fails the whole transaction's request.
        resp = await handle_add_partitions_to_txn(b, ctx(3), add_v3("tx", 1000, 0, {"t": [0, 9]}))
        assert {(t.name, p.partition_index): p.partition_error_code for t in resp.results_by_topic_v3_and_below
                for p in t.results_by_partition} == {("t", 0): Errors.OPERATION_NOT_ATTEMPTED,
                                                       ("t", 9): Errors.UNKNOWN_TOPIC_OR_PARTITION}
        resp = await handle_add_partitions_to_txn(b, ctx(3), add_v3("tx", 1000, 0, {"t": [0], "__consumer_offsets": [0]}))
        assert {(t.name, p.partition_index): p.partition_error_code for t in resp.results_by_topic_v3_and_below
                for p in t.results_by_partition} == {("t", 0): Errors.OPERATION_NOT_ATTEMPTED,
                                                       ("__consumer_offsets", 0): Errors.TOPIC_AUTHORIZATION_FAILED}
        r25 = await handle_add_offsets_to_txn(b, ctx(3), AddOffsetsToTxnRequest(
            transactional_id="tx", producer_id=1000, producer_epoch=0, group_id="g"))
        assert r25.error_code == 0
        assert ("__consumer_offsets", 0) in b.transaction_coordinator.state_manager.metadata["tx"].topic_partitions
        # KIP-890 verify-only, batched (v4+).
        v4 = R(transactions=[R.AddPartitionsToTxnTransaction(
            transactional_id="tx", producer_id=1000, producer_epoch=0, verify_only=True,
            topics=[R.AddPartitionsToTxnTopic(name="t", partitions=[1])])])
        resp = await handle_add_partitions_to_txn(b, ctx(4), v4)
        assert resp.results_by_transaction[0].topic_results[0].results_by_partition[0].partition_error_code == 0

        d = await handle_describe_transactions(b, ctx(0), DescribeTransactionsRequest(transactional_ids=["tx", "x"]))
        assert d.transaction_states[0].transaction_state == "Ongoing"
        assert {t.topic: sorted(t.partitions) for t in d.transaction_states[0].topics} == {
            "__consumer_offsets": [0], "t": [0, 1]}
        assert d.transaction_states[1].error_code == Errors.TRANSACTIONAL_ID_NOT_FOUND
        lt = await handle_list_transactions(b, ctx(1), ListTransactionsRequest(
            state_filters=["Ongoing"], producer_id_filters=[], duration_filter=-1))
        assert [(s.transactional_id, s.transaction_state) for s in lt.transaction_states] == [("tx", "Ongoing")]

        # A second producer fences the first: its EndTxn v1 gets INVALID_PRODUCER_EPOCH, v2+ PRODUCER_FENCED.
        r = await handle_init_producer_id(b, ctx(4), InitProducerIdRequest(
            transactional_id="tx", transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
        assert r.error_code == Errors.CONCURRENT_TRANSACTIONS
        while b.transaction_coordinator.marker_channel._tasks:
            await asyncio.sleep(0.01)
        end = EndTxnRequest(transactional_id="tx", producer_id=1000, producer_epoch=0, committed=True)
        assert (await handle_end_txn(b, ctx(1), end)).error_code == Errors.INVALID_PRODUCER_EPOCH
        assert (await handle_end_txn(b, ctx(3), end)).error_code == Errors.PRODUCER_FENCED
        resp = await handle_add_partitions_to_txn(b, ctx(1), add_v3("tx", 1000, 0, {"t": [0]}))
        assert resp.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code == \
            Errors.INVALID_PRODUCER_EPOCH
        old = await handle_init_producer_id(b, ctx(3), InitProducerIdRequest(
            transactional_id="tx", transaction_timeout_ms=60000, producer_id=1000, producer_epoch=0))
        assert old.error_code in (0, Errors.INVALID_PRODUCER_EPOCH)

        dp = await handle_describe_producers(b, ctx(0), DescribeProducersRequest(
            topics=[DescribeProducersRequest.TopicRequest(name="t", partition_indexes=[0, 7])]))
        p0, p7 = dp.topics[0].partitions
        assert p0.error_code == 0 and p7.error_code == Errors.UNKNOWN_TOPIC_OR_PARTITION

    asyncio.run(run())


def test_end_txn_v5_returns_the_bumped_epoch(tmp_path):
    b = broker(tmp_path)

    async def run() -> None:
        await handle_init_producer_id(b, ctx(5), InitProducerIdRequest(
            transactional_id="tx", transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
        await handle_add_partitions_to_txn(b, ctx(3), add_v3("tx", 1000, 0, {"t": [0]}))
        r = await handle_end_txn(b, ctx(5), EndTxnRequest(transactional_id="tx", producer_id=1000, producer_epoch=0,
                                                          committed=True))
        assert (r.error_code, r.producer_id, r.producer_epoch) == (0, 1000, 1)
        while b.transaction_coordinator.marker_channel._tasks:
            await asyncio.sleep(0.01)
        # A retry with the pre-bump epoch is answered as done (TV2 retry).
        r = await handle_end_txn(b, ctx(5), EndTxnRequest(transactional_id="tx", producer_id=1000, producer_epoch=0,
                                                          committed=True))
        assert (r.error_code, r.producer_epoch) == (0, 1)

    asyncio.run(run())


def test_idempotent_producers_always_get_a_new_id_at_epoch_0(tmp_path):
    """Without a transactional id Kafka's coordinator "blindly accepts" the request: a new producer
    id at epoch 0 even when the client passes its current id/epoch (v3+); only one of them set is
    INVALID_REQUEST (KafkaApis), as for transactional ids."""
    b = broker(tmp_path)
    b.producer_id_manager = types.SimpleNamespace(generate_producer_id=b.gen)

    async def run() -> None:
        first = await handle_init_producer_id(b, ctx(4), InitProducerIdRequest(
            transactional_id=None, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
        assert first.error_code == 0 and first.producer_epoch == 0
        again = await handle_init_producer_id(b, ctx(4), InitProducerIdRequest(
            transactional_id=None, transaction_timeout_ms=60000, producer_id=first.producer_id,
            producer_epoch=first.producer_epoch))
        assert again.error_code == 0 and again.producer_epoch == 0 and again.producer_id != first.producer_id
        half = await handle_init_producer_id(b, ctx(4), InitProducerIdRequest(
            transactional_id=None, transaction_timeout_ms=60000, producer_id=first.producer_id, producer_epoch=-1))
        assert half.error_code == Errors.INVALID_REQUEST

    asyncio.run(run())
