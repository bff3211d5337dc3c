"""fd_budget: the soft RLIMIT_NOFILE is raised to the hard one, partitions beyond the budget are
refused with a message naming the limit, and EMFILE anywhere in a start-up error's chain turns
into the operator's fix."""
from __future__ import annotations

import errno
import resource

import pytest

from fastkafka import fd_budget
from fastkafka.fd_budget import FdBudget, emfile_hint, raise_nofile_limit


def test_raise_nofile_limit_sets_soft_to_hard(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "getrlimit", lambda _r: (1024, 4096))
    monkeypatch.setattr(resource, "setrlimit", lambda _r, lim: calls.append(lim))
    assert raise_nofile_limit() == (4096, 4096)
    assert calls == [(4096, 4096)]


def test_refusal_counts_in_use_pending_and_reserve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _r: (1024, 1024))
    monkeypatch.setattr(fd_budget, "fds_in_use", lambda: 100)
    budget = FdBudget(lambda: 50)
    # 1024 - 128 reserve - 100 in use - 50 pending = 746 left
    assert budget.refusal(746, 1) is None
    msg = budget.refusal(747, 1)
    assert msg is not None and "RLIMIT_NOFILE 1024" in msg and "ulimit -n" in msg
    assert budget.refusal(0, 1) is None


def test_emfile_hint_walks_the_chain() -> None:
    try:
        try:
            raise OSError(errno.EMFILE, "Too many open files")
        except OSError as inner:
            raise RuntimeError("loading failed") from inner
    except RuntimeError as e:
        hint = emfile_hint(e)
    assert hint is not None and "RLIMIT_NOFILE" in hint and "ulimit -n" in hint
    assert emfile_hint(OSError(errno.ENOENT, "nope")) is None
