"""Event-loop lag monitor: makes any callback that holds the loop too long visible.

fastkafka serves every client from one asyncio loop, so whatever runs on it for 100 ms delays
every client by 100 ms. Two instruments, both cheap:

- a tick scheduled every `tick_s` (50 ms) with `loop.call_at`; the lag is how late the tick ran
  (the time the loop spent elsewhere beyond the tick's deadline). The last lag, the worst lag and
  the number of late ticks are kept (`metrics()`; `broker.loop_monitor.lag`), and a WARN is
  logged when a tick is later than `fastkafka.event.loop.lag.warn.ms` (default 100);
- a watchdog thread that wakes every `tick_s` and, when the loop has not ticked for more than
  the warn threshold, logs the loop thread's current Python stack (`sys._current_frames`) once
  per stall, so a regression names the function that holds the loop (the tick alone could only
  say "something was slow").

Invariants: the tick's state (`lag`, `max_lag`, `late_ticks`, `_last_tick`) is written by the loop
thread only; the watchdog thread only reads `_last_tick` (a float, read atomically under the GIL)
and writes its own `_stall_reported`. `stop()` cancels the tick and joins the watchdog.
The key `fastkafka.event.loop.lag.warn.ms` is fastkafka's own (Kafka has no event loop); it is
read from the raw properties and not listed in BROKER_CONFIG_DEFS so DescribeConfigs stays
Kafka's list.
"""
from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback
from collections.abc import Mapping

log = logging.getLogger("fastkafka.loop_monitor")

LAG_WARN_MS_KEY = "fastkafka.event.loop.lag.warn.ms"
DEFAULT_LAG_WARN_MS = 100
TICK_S = 0.05


def lag_warn_ms(props: Mapping[str, str]) -> int:
    raw = props.get(LAG_WARN_MS_KEY)
    return int(raw) if raw not in (None, "") else DEFAULT_LAG_WARN_MS


class LoopMonitor:
    def __init__(self, loop: asyncio.AbstractEventLoop, warn_ms: int = DEFAULT_LAG_WARN_MS,
                 tick_s: float = TICK_S, watchdog: bool = True) -> None:
        self.loop = loop
        self.tick_s = tick_s
        self.warn_s = warn_ms / 1000.0
        self.lag = 0.0        # seconds the last tick ran late
        self.max_lag = 0.0    # worst lag seen since start
        self.late_ticks = 0   # ticks later than the warn threshold
        self.stalls_reported = 0  # stalls the watchdog logged a stack for
        self._last_tick = time.monotonic()
        self._handle: asyncio.TimerHandle | None = None
        self._loop_thread_id: int | None = None
        self._stop = threading.Event()
        self._watchdog = (threading.Thread(target=self._watch, name="event-loop-watchdog", daemon=True)
                          if watchdog else None)
        self._stall_reported = False

    def start(self) -> LoopMonitor:
        """Call on the loop thread (its id is the one the watchdog samples)."""
        self._loop_thread_id = threading.get_ident()
        self._last_tick = time.monotonic()
        self._handle = self.loop.call_at(self.loop.time() + self.tick_s, self._tick, self.loop.time() + self.tick_s)
        if self._watchdog is not None:
            self._watchdog.start()
        return self

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._stop.set()
        if self._watchdog is not None and self._watchdog.is_alive():
            self._watchdog.join(5)

    def _tick(self, due: float) -> None:
        now = self.loop.time()
        lag = max(0.0, now - due)
        self.lag = lag
        if lag > self.max_lag:
            self.max_lag = lag
        self._last_tick = time.monotonic()
        if lag > self.warn_s:
            self.late_ticks += 1
            log.warning("Event loop lag %.0f ms (above %s=%.0f): a callback held the loop; every client waited",
                        lag * 1000, LAG_WARN_MS_KEY, self.warn_s * 1000)
        if not self._stop.is_set():
            nxt = now + self.tick_s
            self._handle = self.loop.call_at(nxt, self._tick, nxt)

    def metrics(self) -> dict[str, float]:
        """The figures as a metrics reporter would export them (fastkafka has no JMX; tests and
        operators read them here)."""
        return {"event-loop-lag-ms": self.lag * 1000, "event-loop-lag-max-ms": self.max_lag * 1000,
                "event-loop-late-ticks": float(self.late_ticks),
                "event-loop-stalls-reported": float(self.stalls_reported)}

    def stalled_for(self) -> float:
        return time.monotonic() - self._last_tick

    def _watch(self) -> None:
        threshold = self.warn_s + self.tick_s  # a tick is due every tick_s; stalled past the warn bound
        while not self._stop.wait(self.tick_s):
            stalled = self.stalled_for()
            if stalled <= threshold:
                self._stall_reported = False
                continue
            if self._stall_reported or self._loop_thread_id is None:
                continue
            frame = sys._current_frames().get(self._loop_thread_id)
            if frame is None:
                continue
            stack = "".join(traceback.format_stack(frame, limit=25))
            del frame
            self._stall_reported = True
            self.stalls_reported += 1
            log.warning("Event loop stalled for %.0f ms; the loop thread is in:\n%s", stalled * 1000, stack)
