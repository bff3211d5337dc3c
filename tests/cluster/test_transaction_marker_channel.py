"""TransactionMarkerChannel: Kafka's handling of WriteTxnMarkers errors: retriable errors are
retried, a deleted topic's partition is dropped, a fenced coordinator stops, and Complete* is
written only once every partition has its marker."""
from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from test_transaction_coordinator import Harness

from fastkafka.cluster.transaction import transaction_marker_channel as tmc
from fastkafka.cluster.transaction.transaction_metadata import TransactionState
from fastkafka.protocol.errors import Errors

S = TransactionState


class ScriptedMarkers:
    """Wraps the real ReplicaManager.write_txn_markers: the first answers per partition come from
    a script (error codes), then the real append."""

    def __init__(self, real: Any, script: dict[tuple[str, int], list[int]]) -> None:
        self.real = real
        self.script = script
        self.calls: list[tuple[tuple[str, int], ...]] = []

    async def __call__(self, markers: list[Any]) -> list[dict[tuple[str, int], int]]:
        (m,) = markers
        self.calls.append(m.partitions)
        errors: dict[tuple[str, int], int] = {}
        rest = []
        for tp in m.partitions:
            if self.script.get(tp):
                errors[tp] = self.script[tp].pop(0)
            else:
                rest.append(tp)
        if rest:
            (real,) = await self.real([dataclasses.replace(m, partitions=tuple(rest))])
            errors.update(real)
        return [errors]


async def prepared(h: Harness, committed: bool = True) -> tuple[Any, Any]:
    c = h.coordinator()
    await c.handle_init_producer_id("tx", 60000, None)
    assert c.handle_add_partitions_to_transaction("tx", 1000, 0, {("t", 0), ("t", 1)}) == 0
    return c, c.state_manager.metadata["tx"]


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tmc, "RETRY_BACKOFF_MS", 0)


async def drain(c: Any) -> None:
    while c.marker_channel._tasks:
        await asyncio.gather(*c.marker_channel._tasks.values())


def test_retriable_errors_are_retried_until_written(tmp_path):
    h = Harness(tmp_path)

    async def run() -> None:
        c, md = await prepared(h)
        script = ScriptedMarkers(h.replica_manager.write_txn_markers, {
            ("t", 1): [Errors.NOT_LEADER_OR_FOLLOWER, Errors.NOT_ENOUGH_REPLICAS]})
        h.replica_manager.write_txn_markers = script  # type: ignore[method-assign]
        assert (await c.handle_end_transaction("tx", 1000, 0, True, 0)).error == 0
        await drain(c)
        assert md.state == S.COMPLETE_COMMIT
        # t-0 was written at the first attempt, only t-1 was retried.
        assert script.calls == [(("t", 0), ("t", 1)), (("t", 1),), (("t", 1),)]

    asyncio.run(run())


def test_deleted_topic_is_dropped(tmp_path):
    h = Harness(tmp_path)

    async def run() -> None:
        c, md = await prepared(h, committed=False)
        script = ScriptedMarkers(h.replica_manager.write_txn_markers, {("t", 1): [Errors.UNKNOWN_TOPIC_OR_PARTITION]})
        h.replica_manager.write_txn_markers = script  # type: ignore[method-assign]
        del h.image.topics.by_name["t"]
        assert (await c.handle_end_transaction("tx", 1000, 0, False, 0)).error == 0
        await drain(c)
        assert md.state == S.COMPLETE_ABORT and script.calls == []

    asyncio.run(run())


def test_fenced_coordinator_stops_sending(tmp_path):
    h = Harness(tmp_path)

    async def run() -> None:
        c, md = await prepared(h)
        script = ScriptedMarkers(h.replica_manager.write_txn_markers, {
            ("t", 0): [Errors.TRANSACTION_COORDINATOR_FENCED]})
        h.replica_manager.write_txn_markers = script  # type: ignore[method-assign]
        assert (await c.handle_end_transaction("tx", 1000, 0, True, 0)).error == 0
        await drain(c)
        # Left PrepareCommit for the coordinator that fenced this one.
        assert md.state == S.PREPARE_COMMIT and len(script.calls) == 1
        assert c.handle_add_partitions_to_transaction("tx", 1000, 0, {("t", 0)}) == Errors.CONCURRENT_TRANSACTIONS

    asyncio.run(run())
