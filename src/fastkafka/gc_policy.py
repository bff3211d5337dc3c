"""Garbage-collector policy: full collections must not stall the event loop.

CPython's cyclic collector runs on whichever thread allocates, holding the GIL, and a full
(generation 2) collection walks every tracked object. A broker with 10,000 partitions tracks
about a million objects (segments, indexes, producer state, metadata image): one full collection
took 350-530 ms there, and a 9,999-partition Fetch promotes enough request objects to trigger one
every second or so (measured with LoopMonitor's gc pauses, tests/interop/test_hardening_wide_fetch.py).

The policy, Instagram's `gc.freeze()` applied adaptively: when a full collection is slow
(>= SLOW_FULL_COLLECTION_S) and collected almost nothing, the objects it walked are long-lived
state; they are frozen (moved to the permanent generation) so later collections skip them. They
are still freed by reference counting when the broker drops them (a deleted topic's logs); only a
reference cycle among frozen objects waits for the next thaw: every THAW_INTERVAL_S the freeze
is undone, the next full collection sees everything (one long pause per interval, logged by the
loop monitor) and the policy freezes again.

Invariants: freeze/unfreeze run on the loop thread (scheduled with call_soon_threadsafe from the
gc callback, which may run on any thread and must not re-enter the collector); at most one
freeze is pending at a time; `stop()` unhooks the callback and cancels the thaw timer.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger("fastkafka.gc_policy")

SLOW_FULL_COLLECTION_S = 0.010
THAW_INTERVAL_S = 3600.0


class GcPolicy:
    def __init__(self, loop: asyncio.AbstractEventLoop, slow_s: float = SLOW_FULL_COLLECTION_S,
                 thaw_interval_s: float = THAW_INTERVAL_S) -> None:
        self.loop = loop
        self.slow_s = slow_s
        self.thaw_interval_s = thaw_interval_s
        self.freezes = 0
        self.thaws = 0
        self._started = 0.0          # perf_counter at the running collection's start (under the GIL)
        self._freeze_pending = False
        self._thaw: asyncio.TimerHandle | None = None
        self._running = False

    def start(self) -> GcPolicy:
        """Call on the loop thread."""
        self._running = True
        gc.callbacks.append(self._on_gc)
        self._thaw = self.loop.call_later(self.thaw_interval_s, self._unfreeze)
        return self

    def stop(self) -> None:
        """Unhook; thaw what this policy froze (an embedding process goes on without it)."""
        if self.freezes:
            gc.unfreeze()
        self._running = False
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._thaw is not None:
            self._thaw.cancel()
            self._thaw = None

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if info.get("generation") != 2 or self._freeze_pending or not self._running:
            return
        took = time.perf_counter() - self._started
        # Slow and (nearly) nothing to free: what it walked is the broker's long-lived state.
        if took >= self.slow_s and info.get("collected", 0) < 10_000:
            self._freeze_pending = True
            try:
                self.loop.call_soon_threadsafe(self._freeze, took)
            except RuntimeError:  # the loop is closed (shutdown)
                self._freeze_pending = False

    def _freeze(self, took: float) -> None:
        self._freeze_pending = False
        if not self._running:
            return
        # The young generations' garbage first (cheap: only objects allocated since the last
        # collections): whatever is frozen is never collected again before the next thaw.
        gc.collect(1)
        gc.freeze()
        self.freezes += 1
        # Not gc.get_freeze_count(): it walks the permanent generation (~38 ms per million objects).
        log.info("A full garbage collection took %.0f ms; froze the long-lived objects (gc.freeze): later "
                 "collections skip them", took * 1000)

    def _unfreeze(self) -> None:
        if not self._running:
            return
        gc.unfreeze()
        self.thaws += 1
        self._thaw = self.loop.call_later(self.thaw_interval_s, self._unfreeze)

    def metrics(self) -> dict[str, float]:
        return {"gc-freezes": float(self.freezes), "gc-thaws": float(self.thaws)}
