"""ThrottledLogger: at most `burst` lines per window; the next line let through counts the ones
left out, so a flood of bad connections cannot fill the disk and no count is lost."""
from __future__ import annotations

import logging

import pytest

from fastkafka.net.log_throttle import ThrottledLogger


def test_burst_then_suppressed_then_counted(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("fastkafka.net.log_throttle.time.monotonic", lambda: now[0])
    t = ThrottledLogger(logging.getLogger("test.throttle"), burst=3, interval_s=10.0)
    with caplog.at_level(logging.INFO, logger="test.throttle"):
        for i in range(10):
            t.info("closing %s: malformed", i)
        assert [r.getMessage() for r in caplog.records] == ["closing 0: malformed", "closing 1: malformed",
                                                             "closing 2: malformed"]
        assert t.suppressed == 7
        now[0] += 10.0  # the next window
        t.warning("closing %s: too big", "x")
        assert caplog.records[-1].getMessage() == "closing x: too big (7 similar lines suppressed)"
        assert caplog.records[-1].levelno == logging.WARNING and t.suppressed == 0
        for i in range(5):
            t.info("closing %s", i)
        t.flush()
        assert caplog.records[-1].getMessage() == "3 similar lines suppressed"


def test_disabled_level_costs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    t = ThrottledLogger(logging.getLogger("test.throttle.quiet"), burst=1)
    logging.getLogger("test.throttle.quiet").setLevel(logging.WARNING)
    for _ in range(5):
        t.info("x")
    assert t.suppressed == 0 and not caplog.records
