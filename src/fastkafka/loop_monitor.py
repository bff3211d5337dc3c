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
  say "something was slow"). While the stall lasts it keeps sampling the stack every tick, and
  when the loop ticks again it logs one `Event loop stall: N ms in FUNC (file:line) < CALLER <
  ...` line: the stall's length and the fastkafka function most samples were in, with its
  callers. `tools/loop_stalls.py` turns these lines into a table.

Each tick also takes the loop thread's CPU time since the previous tick (`max_busy`,
`event-loop-busy-max-ms`, and `cpu N ms` in the stall line): on a loaded machine a stall's wall
time includes waiting for a CPU or for the GIL, its CPU time is the callbacks' own work.

A third instrument: the cyclic garbage collector's pauses (`gc.callbacks`). A full (generation 2)
collection walks every tracked object — at 10,000 partitions ~60 ms of CPU, wherever the loop
happened to allocate — so a stall whose stack names an innocent line may be the collector. Every
collection at or above the warn threshold is logged (`Garbage collection of generation G: N ms
(C collected)`) and the worst is kept (`gc-pause-max-ms`); the callback itself is two clock
reads per collection.

The tick interval is `min(tick_s, warn/4)`, so a lowered threshold (e.g. 20 ms while hunting
stalls) is measured with a 5 ms resolution; the default (100 ms) keeps the 50 ms tick.

Invariants: the tick's state (`lag`, `max_lag`, `late_ticks`, `_last_tick`) is written by the loop
thread only; the watchdog thread only reads `_last_tick` (a float, read atomically under the GIL)
and writes its own `_stall_reported`, `_stall_started`, `_samples`. `stop()` cancels the tick and joins the watchdog.
The key `fastkafka.event.loop.lag.warn.ms` is fastkafka's own (Kafka has no event loop); it is
read from the raw properties and not listed in BROKER_CONFIG_DEFS so DescribeConfigs stays
Kafka's list.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Mapping
from types import FrameType

log = logging.getLogger("fastkafka.loop_monitor")

LAG_WARN_MS_KEY = "fastkafka.event.loop.lag.warn.ms"
DEFAULT_LAG_WARN_MS = 100
TICK_S = 0.05
_PKG_DIR = __file__.rsplit("/", 1)[0] + "/"  # frames under src/fastkafka/ are ours
_SKIP_FUNCS = frozenset({"_run_once", "run_forever", "_run", "run_until_complete"})


# Where an idle thread waits (not holding the GIL): a pool worker's queue, a lock, a sleep.
_IDLE_FILES = ("threading.py", "queue.py", "thread.py", "selectors.py")


def _busy_threads(frames: dict[int, FrameType], skip: set[int]) -> tuple[str, ...]:
    """The other threads that are in Python code rather than waiting: when the loop thread has no
    Python callback on its stack, it is waiting for the GIL one of them holds (or in C code)."""
    names = {t.ident: t.name for t in threading.enumerate()}
    out = []
    for ident, f in frames.items():
        if ident in skip:
            continue
        code = f.f_code
        if code.co_filename.rsplit("/", 1)[-1] in _IDLE_FILES:
            continue
        out.append(f"{names.get(ident, ident)}:{code.co_name} ({code.co_filename.rsplit('/', 1)[-1]}:{f.f_lineno})")
    return tuple(sorted(out))


def _our_frames(frame: FrameType | None, limit: int = 4) -> tuple[str, ...]:
    """The innermost `limit` fastkafka frames of a stack as 'func (file:line)', innermost first;
    falls back to the innermost frames of any file when none is ours."""
    ours: list[str] = []
    other: list[str] = []
    f = frame
    while f is not None and len(ours) < limit:
        code = f.f_code
        fn = code.co_filename
        label = f"{code.co_name} ({fn.rsplit('/', 1)[-1]}:{f.f_lineno})"
        if fn.startswith(_PKG_DIR) and not fn.endswith("loop_monitor.py"):
            ours.append(label)
        elif len(other) < limit and code.co_name not in _SKIP_FUNCS:
            other.append(label)
        f = f.f_back
    return tuple(ours or other)


def lag_warn_ms(props: Mapping[str, str]) -> int:
    raw = props.get(LAG_WARN_MS_KEY)
    return int(raw) if raw not in (None, "") else DEFAULT_LAG_WARN_MS


class LoopMonitor:
    def __init__(self, loop: asyncio.AbstractEventLoop, warn_ms: int = DEFAULT_LAG_WARN_MS,
                 tick_s: float = TICK_S, watchdog: bool = True) -> None:
        self.loop = loop
        self.warn_s = warn_ms / 1000.0
        # A lowered threshold needs a finer tick to measure callbacks near it.
        self.tick_s = min(tick_s, self.warn_s / 4)
        self.lag = 0.0        # seconds the last tick ran late
        self.max_lag = 0.0    # worst lag seen since start
        self.late_ticks = 0   # ticks later than the warn threshold
        self.stalls_reported = 0  # stalls the watchdog logged a stack for
        self.max_busy = 0.0   # most loop-thread CPU seconds between two ticks (noise-free)
        self._last_tick = time.monotonic()
        self._last_cpu = 0.0
        self._last_busy = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._loop_thread_id: int | None = None
        self._stop = threading.Event()
        self._watchdog = (threading.Thread(target=self._watch, name="event-loop-watchdog", daemon=True)
                          if watchdog else None)
        self._stall_reported = False
        self._stall_started = 0.0  # _last_tick of the stall being sampled (watchdog thread only)
        self._samples: Counter[tuple[str, ...]] = Counter()  # stack samples of that stall
        self.max_gc_pause = 0.0  # longest garbage collection seen (seconds)
        self.gc_pauses_over_warn = 0
        self._gc_started = 0.0   # written by whichever thread runs the collection (under the GIL)

    def start(self) -> LoopMonitor:
        """Call on the loop thread (its id is the one the watchdog samples)."""
        self._loop_thread_id = threading.get_ident()
        self._last_tick = time.monotonic()
        self._last_cpu = time.thread_time()
        self._handle = self.loop.call_at(self.loop.time() + self.tick_s, self._tick, self.loop.time() + self.tick_s)
        if self._watchdog is not None:
            self._watchdog.start()
        gc.callbacks.append(self._on_gc)
        return self

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_started
        if took > self.max_gc_pause:
            self.max_gc_pause = took
        if took >= self.warn_s:
            self.gc_pauses_over_warn += 1
            log.warning("Garbage collection of generation %d: %.0f ms (%d collected)", info.get("generation", -1),
                        took * 1000, info.get("collected", 0))

    def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
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
        # CPU time the loop thread used since the last tick: the callbacks' own work, without the
        # time the thread waited for a CPU (a loaded machine) or for the GIL (another thread).
        cpu = time.thread_time()
        busy = cpu - self._last_cpu
        self._last_cpu = cpu
        if busy > self.max_busy:
            self.max_busy = busy
        self._last_tick = time.monotonic()
        self._last_busy = busy
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
                "event-loop-stalls-reported": float(self.stalls_reported),
                "event-loop-busy-max-ms": self.max_busy * 1000,
                "gc-pause-max-ms": self.max_gc_pause * 1000,
                "gc-pauses-over-warn": float(self.gc_pauses_over_warn)}

    def stalled_for(self) -> float:
        return time.monotonic() - self._last_tick

    def _watch(self) -> None:
        threshold = self.warn_s + self.tick_s  # a tick is due every tick_s; stalled past the warn bound
        sample_from = self.warn_s / 2 + self.tick_s  # sample early so a stall just over warn is named
        while not self._stop.wait(self.tick_s):
            last = self._last_tick
            stalled = time.monotonic() - last
            if self._samples and last != self._stall_started:
                self._report_stall_end(last, self._last_busy)
            if stalled <= sample_from:
                self._stall_reported = False
                continue
            if self._loop_thread_id is None:
                continue
            frames = sys._current_frames()
            frame = frames.get(self._loop_thread_id)
            if frame is None:
                continue
            self._stall_started = last
            where = _our_frames(frame)
            if not where or where[0].startswith("_event_loop_run "):
                # No callback running: the loop thread waits for the GIL (or runs C code).
                where = ("(loop outside callbacks; GIL held by? " +
                         ", ".join(_busy_threads(frames, {self._loop_thread_id, threading.get_ident()})) + ")",)
            del frames
            self._samples[where] += 1
            if self._stall_reported or stalled <= threshold:
                del frame
                continue
            stack = "".join(traceback.format_stack(frame, limit=25))
            del frame
            self._stall_reported = True
            self.stalls_reported += 1
            log.warning("Event loop stalled for %.0f ms; the loop thread is in:\n%s", stalled * 1000, stack)

    def _report_stall_end(self, resumed_tick: float, busy: float) -> None:
        """The loop ticked again after a sampled stall: one line with its length and where the
        loop was (the most sampled fastkafka frames, innermost first), if it reached the threshold."""
        # The tick that ended the stall ran at resumed_tick; it was due tick_s after the last one.
        held = max(0.0, resumed_tick - self._stall_started - self.tick_s)
        (where, n), = self._samples.most_common(1)
        total = sum(self._samples.values())
        self._samples.clear()
        if held >= self.warn_s:
            log.warning("Event loop stall: %.0f ms (loop thread cpu %.0f ms) in %s [%d/%d samples]", held * 1000,
                        busy * 1000, " < ".join(where) or "?", n, total)
