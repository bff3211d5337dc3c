"""A real broker as a child process, for interop tests: fastkafka, or Apache Kafka 4.4 as the reference.

`BrokerProcess` owns one broker process and its directories. Invariants:
- `log_dirs` and the two ports are fixed at construction; `restart()` reuses them, so a restart
  sees exactly the data the previous process left on disk.
- at most one process runs at a time; every start appends the process output to `log_path`
  (one file for the broker's whole life), so a failing test can show what the broker said.
- `start()` returns only once the PLAINTEXT listener answers an ApiVersions request.
Concurrency: single owner (the fixture that created it); not thread-safe.

The target is chosen by FASTKAFKA_TEST_TARGET: "fastkafka" (default) runs
`python -m fastkafka start server.properties`; "apache" runs Apache Kafka's own `kafka.Kafka` from
the Maven Central jars, in KRaft combined mode, with the same server.properties.
"""
from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kafka_java import java_command

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET_ENV = "FASTKAFKA_TEST_TARGET"
LOOP_LAG_WARN_ENV = "FASTKAFKA_TEST_LOOP_LAG_WARN_MS"


def test_target() -> str:
    target = os.environ.get(TARGET_ENV, "fastkafka")
    if target not in ("fastkafka", "apache"):
        raise ValueError(f"{TARGET_ENV} must be 'fastkafka' or 'apache', not {target!r}")
    return target


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api_versions_v0(host: str, port: int, timeout: float = 2.0) -> bytes:
    """One ApiVersions v0 round trip on a fresh connection; returns the response body (after the header)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        client_id = b"probe"
        body = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", _recv_exact(s, 4))[0]
        resp = _recv_exact(s, size)
    if struct.unpack(">i", resp[:4])[0] != 1:
        raise ConnectionError("ApiVersions response carries the wrong correlation id")
    return resp[4:]


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return bytes(buf)


class BrokerProcess:
    """One single-node (broker+controller) Kafka-compatible broker running as a child process."""

    def __init__(self, workdir: Path, target: str | None = None, extra_props: dict[str, str] | None = None) -> None:
        self.target = target or test_target()
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.controller_port = free_port()
        self.log_dirs = [str(workdir / "data")]
        self.props_path = workdir / "server.properties"
        self.log_path = workdir / "broker.log"
        self.cluster_id = _kafka_uuid()
        self.proc: subprocess.Popen[bytes] | None = None
        self._formatted = False
        props = {
            "node.id": "1",
            "process.roles": "broker,controller",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "log.dirs": ",".join(self.log_dirs),
            "num.partitions": "1",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
        }
        # tools/loop_stalls.py: a lowered loop-lag threshold so every stall over it is named in the log.
        if self.target == "fastkafka" and os.environ.get(LOOP_LAG_WARN_ENV):
            props["fastkafka.event.loop.lag.warn.ms"] = os.environ[LOOP_LAG_WARN_ENV]
        props.update(extra_props or {})
        self.props = props
        self.props_path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- lifecycle -------------------------------------------------------------------------------

    def _format_command(self) -> list[str]:
        if self.target == "apache":
            return java_command("kafka.tools.StorageTool", "format", "-t", self.cluster_id,
                                "-c", str(self.props_path), "--ignore-formatted")
        return [sys.executable, "-m", "fastkafka", "format", "-t", self.cluster_id,
                "-c", str(self.props_path), "--ignore-formatted"]

    def _start_command(self) -> list[str]:
        if self.target == "apache":
            return java_command("kafka.Kafka", str(self.props_path), heap="-Xmx768m", log_level="info")
        return [sys.executable, "-m", "fastkafka", "start", str(self.props_path)]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        src = str(REPO_ROOT / "src")
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        return env

    def start(self, timeout: float = 60.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("broker already running")
        with open(self.log_path, "ab") as log:
            if not self._formatted:
                log.write(f"### format: {' '.join(self._format_command())}\n".encode())
                log.flush()
                rc = subprocess.run(self._format_command(), stdout=log, stderr=subprocess.STDOUT,
                                    cwd=REPO_ROOT, env=self._env(), timeout=120).returncode
                if rc != 0:
                    raise RuntimeError(f"formatting failed (rc={rc}):\n{self.log_tail()}")
                self._formatted = True
            log.write(f"### start: {' '.join(self._start_command())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self._start_command(), stdout=log, stderr=subprocess.STDOUT,
                                         cwd=REPO_ROOT, env=self._env(), start_new_session=True)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker exited with {self.proc.returncode} during start-up:\n{self.log_tail()}")
            try:
                api_versions_v0("127.0.0.1", self.port)
                return
            except OSError as e:  # not listening yet, or closed the connection while starting
                last = e
            time.sleep(0.2)
        self.kill9()
        raise TimeoutError(f"broker did not answer ApiVersions within {timeout}s ({last}):\n{self.log_tail()}")

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM (controlled shutdown), wait for the exit; SIGKILL only if it hangs."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"broker ignored SIGTERM for {timeout}s:\n{self.log_tail()}") from None
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill9(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def restart(self, timeout: float = 60.0) -> None:
        self.stop()
        self.start(timeout)

    def is_alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- inspection ------------------------------------------------------------------------------

    def log_tail(self, max_bytes: int = 20000) -> str:
        try:
            data = self.log_path.read_bytes()
        except FileNotFoundError:
            return "(no broker output)"
        return data[-max_bytes:].decode("utf-8", "replace")

    def partition_dir(self, topic: str, partition: int) -> Path:
        for d in self.log_dirs:
            p = Path(d) / f"{topic}-{partition}"
            if p.is_dir():
                return p
        raise FileNotFoundError(f"{topic}-{partition} not found in {self.log_dirs}")


# KIP-848 groups take their session timeout from the broker, and Kafka's minimum is 45 s: tests that
# kill -9 a KIP-848 member use the classic members' 6 s so its partitions move as quickly.
SHORT_CONSUMER_GROUP_SESSIONS = {
    "group.consumer.session.timeout.ms": "6000",
    "group.consumer.min.session.timeout.ms": "6000",
    "group.consumer.heartbeat.interval.ms": "500",
    "group.consumer.min.heartbeat.interval.ms": "500",
}


@contextmanager
def running_broker(workdir: Path, extra_props: dict[str, str] | None = None) -> Iterator[BrokerProcess]:
    """A broker of its own with `extra_props`, stopped at the end (or forgotten if a test killed it)."""
    b = BrokerProcess(workdir, extra_props=extra_props)
    b.start()
    try:
        yield b
    finally:
        if b.is_alive():
            b.stop()
        else:
            b.kill9()


def _kafka_uuid() -> str:
    """A cluster id as `kafka-storage random-uuid` prints it: 16 random bytes, URL-safe base64, no padding."""
    import base64

    while True:  # Kafka's Uuid.randomUuid never starts with '-' (argparse would read it as an option)
        s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not s.startswith("-"):
            return s
