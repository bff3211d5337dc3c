"""Scheduler: Kafka's KafkaScheduler on the broker's event loop: named periodic tasks (log
retention, flusher, checkpoints) run as plain callbacks on the loop thread, which owns the logs.

Invariants: a task never overlaps itself (the next run is scheduled after the current one
returns); an exception in a task is logged and the task keeps its schedule, as Kafka's
scheduler does; `shutdown` cancels every pending run. A period of Long.MAX (Kafka's way of saying
"never", e.g. log.flush.scheduler.interval.ms) schedules only the first run.
Concurrency: event loop thread only.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

_NEVER_MS = 2**63 - 1
# call_later with a huge delay overflows the loop's timer arithmetic; anything beyond this is never.
_MAX_DELAY_MS = 10 * 365 * 24 * 3600 * 1000


class Scheduler:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._handles: dict[str, asyncio.TimerHandle] = {}
        self._running = True

    def schedule(self, name: str, fn: Callable[[], object], delay_ms: int, period_ms: int) -> None:
        """Run `fn` after `delay_ms`, then every `period_ms` (period <= 0: once)."""
        if delay_ms >= _MAX_DELAY_MS:
            return

        def run() -> None:
            self._handles.pop(name, None)
            if not self._running:
                return
            try:
                fn()
            except Exception:
                log.exception("Uncaught exception in scheduled task '%s'", name)
            if 0 < period_ms < _MAX_DELAY_MS and self._running:
                self._handles[name] = self._loop.call_later(period_ms / 1000, run)

        self._handles[name] = self._loop.call_later(max(delay_ms, 0) / 1000, run)

    def shutdown(self) -> None:
        self._running = False
        for h in self._handles.values():
            h.cancel()
        self._handles.clear()
