"""ListTransactions v2's transactional id pattern (KIP-1152), over a coordinator stand-in that
answers what TransactionCoordinator.handle_list_transactions would: the pattern must match the
whole id (Java's matches()), null/empty means no filter, v0-1 ignore it, a bad pattern (also one
RE2J rejects but Python's `re` would take) is INVALID_REGULAR_EXPRESSION with empty lists, and
the coordinator's own error wins over the pattern's, as in Kafka's TransactionStateManager."""
from __future__ import annotations

import asyncio
import types
from typing import Any

import pytest

from fastkafka.net.handlers.k66_list_transactions import handle_list_transactions, re2_pattern
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import ListTransactionsRequest, ListTransactionsResponse


def _md(tid: str, pid: int) -> Any:
    return types.SimpleNamespace(transactional_id=tid, producer_id=pid,
                                 state=types.SimpleNamespace(state_name="Ongoing"))


def _broker(error: int = 0) -> Any:
    mds = [_md("app-1", 1), _md("app-22", 2), _md("other-app-1", 3), _md("a.b", 4)]
    coordinator = types.SimpleNamespace(
        handle_list_transactions=lambda pids, states, duration: (error, ["Bogus"] if not error else [],
                                                                 mds if not error else []))
    return types.SimpleNamespace(transaction_coordinator=coordinator)


def _list(v: int, pattern: str | None, error: int = 0) -> ListTransactionsResponse:
    req = ListTransactionsRequest(state_filters=["Bogus"], producer_id_filters=[], duration_filter=-1,
                                  transactional_id_pattern=pattern)
    resp = asyncio.run(handle_list_transactions(_broker(error), types.SimpleNamespace(api_version=v), req))
    return ListTransactionsResponse.from_bytes(resp.to_bytes(v), v)


def _ids(resp: ListTransactionsResponse) -> list[str]:
    return [s.transactional_id for s in resp.transaction_states]


def test_pattern_matches_whole_id() -> None:
    assert _ids(_list(2, "app-.*")) == ["app-1", "app-22"]
    assert _ids(_list(2, "app-\\d")) == ["app-1"]  # not a prefix match: app-22 is left out
    assert _ids(_list(2, ".*app-1")) == ["app-1", "other-app-1"]
    assert _ids(_list(2, "a\\Q.\\Eb")) == ["a.b"]
    assert _ids(_list(2, "[[:alpha:]]+-[[:digit:]]+")) == ["app-1", "app-22"]
    for no_filter in (None, ""):
        assert len(_ids(_list(2, no_filter))) == 4
    assert len(_ids(_list(1, "app-.*"))) == 4  # before v2 there is no pattern
    assert _list(2, "app-.*").unknown_state_filters == ["Bogus"]


@pytest.mark.parametrize("bad", ["[", "a(", "(a)\\1", "(?=a)a", "(?<!x)a", "(?>a)", "a*+"])
def test_invalid_pattern(bad: str) -> None:
    resp = _list(2, bad)
    assert (resp.error_code, resp.unknown_state_filters, resp.transaction_states) == \
        (Errors.INVALID_REGULAR_EXPRESSION, [], [])
    with pytest.raises(ValueError):
        re2_pattern(bad)


def test_coordinator_error_wins() -> None:
    resp = _list(2, "[", error=Errors.COORDINATOR_LOAD_IN_PROGRESS)
    assert resp.error_code == Errors.COORDINATOR_LOAD_IN_PROGRESS
