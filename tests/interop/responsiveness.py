"""A responsiveness probe for hardening tests: is the broker still serving everyone while one
request (or connection) abuses it?

`ResponsivenessProbe` runs a thread that keeps one connection open and sends ApiVersions v0 on it
every `interval` seconds, recording each round trip (the measure of how long the event loop was
busy elsewhere), and samples the broker process's resident memory (psutil). It is a measuring
instrument, not a client under test: the clients under test are the real ones the tests drive.

Invariants: one probe per broker at a time; `stop()` joins the thread; figures are kept for the
report (`summary()`), and `assert_responsive` applies the issue's bounds to fastkafka only (the
Apache reference is measured and reported, its JVM's RSS and GC pauses are not ours to bound).
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

from broker_process import BrokerProcess

_CLIENT_ID = b"responsiveness-probe"


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("probe connection closed by the broker")
        buf += chunk
    return bytes(buf)


class ResponsivenessProbe:
    def __init__(self, broker: BrokerProcess, interval: float = 0.01) -> None:
        self.broker = broker
        self.interval = interval
        self.waits: list[float] = []
        self.worst_wait = 0.0
        self.max_rss = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="responsiveness-probe", daemon=True)
        self._pid = broker.proc.pid if broker.proc is not None else None

    def start(self) -> ResponsivenessProbe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _rss(self) -> int:
        if self._pid is None:
            return 0
        try:
            p = psutil.Process(self._pid)
            return int(p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True)))
        except psutil.Error:
            return 0

    def _run(self) -> None:
        corr = 0
        s: socket.socket | None = None
        last_rss = 0.0
        while not self._stop.is_set():
            try:
                if s is None:
                    s = socket.create_connection(("127.0.0.1", self.broker.port), timeout=30)
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                corr += 1
                body = struct.pack(">hhih", 18, 0, corr, len(_CLIENT_ID)) + _CLIENT_ID
                t0 = time.monotonic()
                s.sendall(struct.pack(">i", len(body)) + body)
                size = struct.unpack(">i", _recv_exact(s, 4))[0]
                resp = _recv_exact(s, size)
                wait = time.monotonic() - t0
                if struct.unpack(">i", resp[:4])[0] != corr:
                    self.errors.append(f"wrong correlation id in answer {corr}")
                self.waits.append(wait)
                self.worst_wait = max(self.worst_wait, wait)
            except OSError as e:
                self.errors.append(f"probe request {corr}: {e!r}")
                if s is not None:
                    s.close()
                s = None
            now = time.monotonic()
            if now - last_rss >= 0.1:
                self.max_rss = max(self.max_rss, self._rss())
                last_rss = now
            self._stop.wait(self.interval)
        if s is not None:
            s.close()
        self.max_rss = max(self.max_rss, self._rss())

    def summary(self) -> str:
        w = sorted(self.waits)
        p99 = w[int(len(w) * 0.99)] * 1000 if w else float("nan")
        return (f"probe: {len(w)} ApiVersions, worst wait {self.worst_wait * 1000:.1f} ms, p99 {p99:.1f} ms, "
                f"broker max RSS {self.max_rss / 2**20:.0f} MB, errors {len(self.errors)}")

    def assert_responsive(self, max_wait_s: float = 0.1, max_rss_bytes: int = 512 * 2**20) -> None:
        print(f"[{self.broker.target}] {self.summary()}")
        if self.broker.target != "fastkafka":
            return
        assert not self.errors, self.errors[:5]
        assert self.waits, "the probe got no answer at all"
        assert self.worst_wait < max_wait_s, self.summary()
        assert self.max_rss < max_rss_bytes, self.summary()


@contextmanager
def responsiveness_probe(broker: BrokerProcess, interval: float = 0.01) -> Iterator[ResponsivenessProbe]:
    """Probe the broker for the duration of the block; the caller asserts afterwards."""
    probe = ResponsivenessProbe(broker, interval).start()
    try:
        yield probe
    finally:
        probe.stop()
