"""A responsiveness probe for hardening tests: is the broker still serving everyone while one
request (or connection) abuses it?

`ResponsivenessProbe` starts a probe *process* (this file run as a script) that keeps one
connection open and sends ApiVersions v0 on it every `interval` seconds, recording each round trip
(the measure of how long the event loop was busy elsewhere), and samples the broker process's
resident memory (psutil). It is a measuring instrument, not a client under test: the clients under
test are the real ones the tests drive.

Why a process and not a thread: the test process also runs the clients under test and pytest's
own heap of thousands of collected tests. A full garbage collection there, or a C extension
building 10,000 result objects without releasing the GIL, stopped a probe thread for ~200 ms while
the broker's own loop monitor saw nothing over 53 ms (CI, stop 23). The probe must measure the
broker, not the process that drives it.

What is bounded is the broker's *stall*, not the raw round trip. On a 2-core CI machine the broker,
the clients under test and the probe share two CPUs, and a round trip also contains the time the
broker's loop thread (or the probe) was runnable but waiting for a CPU: CI saw 135-167 ms round
trips on a broker whose loop had nothing long to do. The kernel counts that time per thread
(`/proc/PID/task/TID/schedstat`, second field: nanoseconds spent waiting on a run queue), so each
round trip's stall is the round trip minus the run-queue waits of the broker's loop thread and of
the probe during it, and minus the time the hypervisor took a CPU away from this VM (steal time,
`/proc/stat`, the most any one CPU lost during the round trip: the guest kernel counts stolen time
as running, so schedstat cannot see it; CI runs in a Firecracker VM). Time the loop spends blocked (an fsync on the loop, a GIL held by a worker)
stays in the stall, as it should. Where schedstat is missing the stall is the raw round trip.

Invariants: one probe per broker at a time; `stop()` closes the probe's stdin, which ends it, and
reads its figures (JSON on stdout); `assert_responsive` applies the issue's bounds to fastkafka
only (the Apache reference is measured and reported, its JVM's RSS and GC pauses are not ours to
bound).
"""
from __future__ import annotations

import argparse
import json
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
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


def _rss(pid: int | None) -> int:
    if pid is None:
        return 0
    try:
        p = psutil.Process(pid)
        return int(p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True)))
    except psutil.Error:
        return 0


def _run_queue_wait_s(path: str | None) -> float:
    """Seconds the thread has spent runnable but waiting for a CPU (schedstat's second field)."""
    if path is None:
        return 0.0
    try:
        with open(path, "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


_USER_HZ = os.sysconf("SC_CLK_TCK")


def _steal_s() -> list[float]:
    """Per CPU, the seconds the hypervisor ran something else while this VM wanted the CPU."""
    try:
        with open("/proc/stat", "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        if line.startswith(b"cpu") and line[3:4].isdigit():
            fields = line.split()
            out.append(int(fields[8]) / _USER_HZ if len(fields) > 8 else 0.0)
    return out


def _most_stolen_s(before: list[float], after: list[float]) -> float:
    return max((a - b for a, b in zip(after, before)), default=0.0)


def _schedstat_path(pid: int | None, tid: int | None) -> str | None:
    if pid is None or tid is None:
        return None
    path = f"/proc/{pid}/task/{tid}/schedstat"
    return path if os.path.exists(path) else None


def _probe_main(port: int, pid: int | None, interval: float) -> None:
    """The probe process: measure until stdin reaches end of file, then print the figures."""
    waits: list[float] = []
    stalls: list[float] = []
    errors: list[str] = []
    worst_wait, worst_at, max_rss = 0.0, 0.0, 0
    worst_stall = 0.0
    # The broker's event loop runs on its main thread, whose tid is the pid.
    broker_sched = _schedstat_path(pid, pid)
    probe_sched = _schedstat_path(os.getpid(), threading.get_native_id())
    corr = 0
    s: socket.socket | None = None
    last_rss = 0.0
    stdin = sys.stdin.fileno()
    while True:
        try:
            if s is None:
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            corr += 1
            body = struct.pack(">hhih", 18, 0, corr, len(_CLIENT_ID)) + _CLIENT_ID
            q0 = _run_queue_wait_s(broker_sched) + _run_queue_wait_s(probe_sched)
            steal0 = _steal_s()
            t0 = time.monotonic()
            s.sendall(struct.pack(">i", len(body)) + body)
            size = struct.unpack(">i", _recv_exact(s, 4))[0]
            resp = _recv_exact(s, size)
            wait = time.monotonic() - t0
            queued = (_run_queue_wait_s(broker_sched) + _run_queue_wait_s(probe_sched) - q0
                      + _most_stolen_s(steal0, _steal_s()))
            stall = max(0.0, wait - queued)
            if struct.unpack(">i", resp[:4])[0] != corr:
                errors.append(f"wrong correlation id in answer {corr}")
            waits.append(wait)
            stalls.append(stall)
            if wait > worst_wait:
                worst_wait = wait
            if stall > worst_stall:
                worst_stall, worst_at = stall, time.time() - wait
        except OSError as e:
            errors.append(f"probe request {corr}: {e!r}")
            if s is not None:
                s.close()
            s = None
        now = time.monotonic()
        if now - last_rss >= 0.1:
            max_rss = max(max_rss, _rss(pid))
            last_rss = now
        readable, _, _ = select.select([stdin], [], [], interval)
        if readable and not os.read(stdin, 4096):
            break
    if s is not None:
        s.close()
    max_rss = max(max_rss, _rss(pid))
    json.dump({"waits": waits, "stalls": stalls, "errors": errors, "worst_wait": worst_wait,
               "worst_stall": worst_stall, "worst_at": worst_at, "max_rss": max_rss,
               "schedstat": broker_sched is not None and probe_sched is not None}, sys.stdout)
    sys.stdout.flush()


class ResponsivenessProbe:
    def __init__(self, broker: BrokerProcess, interval: float = 0.01) -> None:
        self.broker = broker
        self.interval = interval
        self.waits: list[float] = []  # raw round trips
        self.stalls: list[float] = []  # round trips less the run-queue waits (see the module docstring)
        self.worst_wait = 0.0
        self.worst_stall = 0.0
        self.worst_at = 0.0  # wall-clock time the worst stall started, to find it in the broker log
        self.schedstat = False
        self.max_rss = 0
        self.errors: list[str] = []
        self._pid = broker.proc.pid if broker.proc is not None else None
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ResponsivenessProbe:
        args = [sys.executable, os.path.abspath(__file__), "--port", str(self.broker.port),
                "--interval", str(self.interval)]
        if self._pid is not None:
            args += ["--pid", str(self._pid)]
        self._proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            self.errors.append("the probe process did not stop within 60 s")
            return
        if proc.returncode != 0 or not out:
            self.errors.append(f"the probe process exited with {proc.returncode} and no figures")
            return
        figures = json.loads(out)
        self.waits = figures["waits"]
        self.stalls = figures["stalls"]
        self.errors.extend(figures["errors"])
        self.worst_wait = figures["worst_wait"]
        self.worst_stall = figures["worst_stall"]
        self.schedstat = figures["schedstat"]
        self.worst_at = figures["worst_at"]
        self.max_rss = figures["max_rss"]

    def summary(self) -> str:
        w = sorted(self.waits)
        st = sorted(self.stalls)
        p99 = w[int(len(w) * 0.99)] * 1000 if w else float("nan")
        stall_p99 = st[int(len(st) * 0.99)] * 1000 if st else float("nan")
        at = (time.strftime("%H:%M:%S", time.localtime(self.worst_at)) + f".{int(self.worst_at * 1000) % 1000:03d}"
              if self.worst_at else "-")
        stall_kind = "less run-queue and steal" if self.schedstat else "no schedstat: raw"
        return (f"probe: {len(w)} ApiVersions, worst stall {self.worst_stall * 1000:.1f} ms ({stall_kind}, at {at}), "
                f"stall p99 {stall_p99:.1f} ms, raw worst wait {self.worst_wait * 1000:.1f} ms, raw p99 {p99:.1f} ms, "
                f"broker max RSS {self.max_rss / 2**20:.0f} MB, errors {len(self.errors)}")

    def assert_responsive(self, max_wait_s: float = 0.1, max_rss_bytes: int = 512 * 2**20) -> None:
        print(f"[{self.broker.target}] {self.summary()}")
        if self.broker.target != "fastkafka":
            return
        assert not self.errors, self.errors[:5]
        assert self.waits, "the probe got no answer at all"
        assert self.worst_stall < max_wait_s, self.summary()
        assert self.max_rss < max_rss_bytes, self.summary()


@contextmanager
def responsiveness_probe(broker: BrokerProcess, interval: float = 0.01) -> Iterator[ResponsivenessProbe]:
    """Probe the broker for the duration of the block; the caller asserts afterwards."""
    probe = ResponsivenessProbe(broker, interval).start()
    try:
        yield probe
    finally:
        probe.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="responsiveness probe process (started by ResponsivenessProbe)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--interval", type=float, default=0.01)
    a = parser.parse_args()
    _probe_main(a.port, a.pid, a.interval)
