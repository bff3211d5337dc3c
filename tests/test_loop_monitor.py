"""LoopMonitor: the tick measures how long a callback held the loop, logs a WARN above the
threshold, and the watchdog names the function that holds a stalled loop."""
from __future__ import annotations

import asyncio
import logging
import time

import pytest

from fastkafka.loop_monitor import DEFAULT_LAG_WARN_MS, LAG_WARN_MS_KEY, LoopMonitor, lag_warn_ms


def _hold_the_loop_for(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_lag_warn_ms_default_and_override() -> None:
    assert lag_warn_ms({}) == DEFAULT_LAG_WARN_MS == 100
    assert lag_warn_ms({LAG_WARN_MS_KEY: "250"}) == 250


def test_idle_loop_has_small_lag_and_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> LoopMonitor:
        m = LoopMonitor(asyncio.get_running_loop(), warn_ms=100, tick_s=0.01).start()
        await asyncio.sleep(0.2)
        m.stop()
        return m

    with caplog.at_level(logging.WARNING, logger="fastkafka.loop_monitor"):
        m = asyncio.run(main())
    assert m.late_ticks == 0 and m.stalls_reported == 0
    assert not [r for r in caplog.records if r.name == "fastkafka.loop_monitor"]


def test_blocking_callback_is_measured_warned_and_named(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> LoopMonitor:
        m = LoopMonitor(asyncio.get_running_loop(), warn_ms=50, tick_s=0.01).start()
        await asyncio.sleep(0.05)
        _hold_the_loop_for(0.4)  # what a regression looks like: work proportional to something, on the loop
        await asyncio.sleep(0.05)
        m.stop()
        return m

    with caplog.at_level(logging.WARNING, logger="fastkafka.loop_monitor"):
        m = asyncio.run(main())
    assert m.max_lag >= 0.3
    assert m.late_ticks >= 1
    assert m.metrics()["event-loop-lag-max-ms"] >= 300
    msgs = [r.getMessage() for r in caplog.records if r.name == "fastkafka.loop_monitor"]
    assert any(msg.startswith("Event loop lag") for msg in msgs), msgs
    stalls = [msg for msg in msgs if msg.startswith("Event loop stalled")]
    assert len(stalls) == 1, msgs  # one report per stall, not one per watchdog wake-up
    assert "_hold_the_loop_for" in stalls[0]
    assert m.stalls_reported == 1


def test_stall_end_line_names_the_function_and_its_length(caplog: pytest.LogCaptureFixture) -> None:
    """A lowered threshold (20 ms, as when hunting stalls) gives a finer tick, and the end of each
    stall is one line: its length and the fastkafka-or-caller function the samples were in."""
    async def main() -> LoopMonitor:
        m = LoopMonitor(asyncio.get_running_loop(), warn_ms=20).start()
        assert m.tick_s == 0.005
        await asyncio.sleep(0.05)
        _hold_the_loop_for(0.1)
        await asyncio.sleep(0.1)
        m.stop()
        return m

    with caplog.at_level(logging.WARNING, logger="fastkafka.loop_monitor"):
        asyncio.run(main())
    ends = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Event loop stall:")]
    assert len(ends) == 1, ends
    ms = float(ends[0].split()[3])
    assert "loop thread cpu" in ends[0], ends
    assert 80 <= ms <= 400, ends
    assert "_hold_the_loop_for" in ends[0], ends


def test_slow_garbage_collection_is_warned(caplog: pytest.LogCaptureFixture) -> None:
    """A full collection over many tracked objects is a loop stall the stack sampler cannot name;
    the gc callback logs it and keeps the worst pause."""
    import gc

    async def main() -> LoopMonitor:
        m = LoopMonitor(asyncio.get_running_loop(), warn_ms=1, tick_s=0.01, watchdog=False).start()
        keep = [[i] for i in range(300_000)]  # tracked containers: a gen2 pass walks them all
        gc.collect(2)
        del keep
        m.stop()
        return m

    with caplog.at_level(logging.WARNING, logger="fastkafka.loop_monitor"):
        m = asyncio.run(main())
    assert m.metrics()["gc-pause-max-ms"] >= 1 and m.gc_pauses_over_warn >= 1
    assert any("Garbage collection of generation 2" in r.getMessage() for r in caplog.records)
    assert m._on_gc not in gc.callbacks  # stop() unhooks it
