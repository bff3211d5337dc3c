"""Side-by-side benchmark: fastkafka vs Apache Kafka 4.4 on this machine, same run, same parameters.

    python bench/run.py [--records N] [--record-size B] [--quick] [--only fastkafka|apache]
                        [--compression CODEC ...] [--topic-compression TYPE]

For each broker (started fresh, one at a time, single node broker+controller in KRaft combined
mode, on loopback): start-up time (process start -> ApiVersions answered), then
`kafka-producer-perf-test` (ProducerPerformance from Maven Central's kafka-tools 4.4.0, the
default idempotent producer) with acks=1 and acks=all, then a read of everything written:
`kafka-consumer-perf-test` where the broker serves consumer groups, and a librdkafka
(confluent-kafka) assign() consumer on both. Broker RSS is sampled with psutil during the run
(peak). Prints a table with fastkafka/Kafka ratios and writes JSON to bench/results/.

No pass/fail: speed is measured here, never asserted in tests.
Needs: `make setup` (the venv with fastkafka) and `bash tools/fetch_kafka_jars.sh` (the jars;
`make test-setup` runs it).
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
LIBS = Path(os.environ.get("FASTKAFKA_KAFKA_LIBS", ROOT / ".deps" / "kafka-4.4.0" / "libs"))
PRODUCER_PERF = "org.apache.kafka.tools.ProducerPerformance"
CONSUMER_PERF = "org.apache.kafka.tools.ConsumerPerformance"
TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand"


def java(main_class: str, *args: str, heap: str = "-Xmx512m") -> list[str]:
    # slf4j-simple is the jars' SLF4J binding: warnings and errors only, to stderr.
    return ["java", heap, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", f"{LIBS}/*", main_class, *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api_versions_answered(port: int) -> bool:
    """One ApiVersions v0 round trip: the broker is serving requests, not just listening."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            body = struct.pack(">hhih", 18, 0, 1, 5) + b"bench"
            s.sendall(struct.pack(">i", len(body)) + body)
            head = s.recv(4)
            return len(head) == 4
    except OSError:
        return False


class Broker:
    def __init__(self, kind: str, workdir: Path, extra_props: dict[str, str] | None = None) -> None:
        self.kind = kind
        self.workdir = workdir
        self.port = free_port()
        self.cport = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.peak_rss = 0
        self._sampling = False
        props = {
            "node.id": "1", "process.roles": "broker,controller",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.cport}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "controller.quorum.voters": f"1@127.0.0.1:{self.cport}",
            "log.dirs": str(workdir / "data"), "num.partitions": "1",
            "offsets.topic.replication.factor": "1", "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1", "group.initial.rebalance.delay.ms": "0",
        }
        props.update(extra_props or {})
        self.props_path = workdir / "server.properties"
        self.props_path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        self.log = open(workdir / "broker.log", "wb")

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _commands(self) -> tuple[list[str], list[str]]:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=").replace("-", "A")
        if self.kind == "apache":
            # Kafka's own scripts default to a 1 GB heap (KAFKA_HEAP_OPTS=-Xmx1G -Xms1G).
            return (java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.props_path)),
                    ["java", "-Xmx1G", "-Xms1G", "-XX:+UseG1GC", "-cp", f"{LIBS}/*", "kafka.Kafka",
                     str(self.props_path)])
        return ([sys.executable, "-m", "fastkafka", "format", "-t", cluster_id, "-c", str(self.props_path)],
                [sys.executable, "-m", "fastkafka", "start", str(self.props_path)])

    def start(self) -> float:
        fmt, start = self._commands()
        subprocess.run(fmt, check=True, stdout=self.log, stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        self.proc = subprocess.Popen(start, stdout=self.log, stderr=subprocess.STDOUT)
        while not api_versions_answered(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited; see {self.workdir / 'broker.log'}")
            if time.monotonic() - t0 > 120:
                raise RuntimeError(f"{self.kind} did not start in 120 s")
            time.sleep(0.005)
        startup = time.monotonic() - t0
        self._sampling = True
        threading.Thread(target=self._sample, daemon=True).start()
        return startup

    def _sample(self) -> None:
        assert self.proc is not None
        p = psutil.Process(self.proc.pid)
        while self._sampling:
            try:
                self.peak_rss = max(self.peak_rss, p.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.1)

    def stop(self) -> None:
        self._sampling = False
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


_PERF_RE = re.compile(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, "
                      r"([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th")


def producer_perf(b: Broker, topic: str, records: int, size: int, acks: str,
                  compression: str = "none") -> dict[str, float]:
    out = subprocess.run(java(PRODUCER_PERF, "--topic", topic, "--num-records", str(records), "--record-size",
                              str(size), "--throughput", "-1", "--producer-props", f"bootstrap.servers={b.bootstrap}",
                              f"acks={acks}", "linger.ms=5", "batch.size=65536", f"compression.type={compression}"),
                         capture_output=True, text=True, timeout=900)
    m = None
    for line in out.stdout.splitlines():
        m = _PERF_RE.search(line) or m
    if m is None:
        raise RuntimeError(f"producer perf test failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return {"records_per_sec": float(m.group(2)), "mb_per_sec": float(m.group(3)), "avg_ms": float(m.group(4)),
            "p99_ms": float(m.group(8))}


def consumer_perf(b: Broker, topic: str, records: int) -> dict[str, float] | str:
    """kafka-consumer-perf-test: it subscribes with a consumer group."""
    out = subprocess.run(java(CONSUMER_PERF, "--bootstrap-server", b.bootstrap, "--topic", topic,
                              "--messages", str(records), "--timeout", "60000"),
                         capture_output=True, text=True, timeout=900)
    lines = [ln for ln in out.stdout.splitlines() if ln and ln[0].isdigit()]
    if out.returncode != 0 or not lines:
        err = (out.stderr + out.stdout).strip().splitlines()
        reason = next((ln for ln in err if "Exception" in ln or "does not support" in ln), err[-1] if err else "?")
        return f"n/a: {reason.strip()[:90]}"
    cols = [c.strip() for c in lines[-1].split(",")]
    return {"mb_per_sec": float(cols[3]), "records_per_sec": float(cols[5])}


def librdkafka_read(b: Broker, topic: str, records: int) -> dict[str, float]:
    """Read the whole partition with librdkafka's assign() (no consumer group needed)."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "bench-unused", "enable.auto.commit": False,
                  "fetch.max.bytes": 52428800, "max.partition.fetch.bytes": 10485760})
    c.assign([TopicPartition(topic, 0, 0)])
    n = 0
    nbytes = 0
    t0 = time.monotonic()
    deadline = t0 + 300
    while n < records and time.monotonic() < deadline:
        for m in c.consume(10000, 1.0):
            if m.error() is None:
                n += 1
                nbytes += len(m.value() or b"")
    dt = time.monotonic() - t0
    c.close()
    return {"records_per_sec": n / dt, "mb_per_sec": nbytes / dt / 1048576, "records": n}


def create_topic(b: Broker, topic: str, partitions: int = 1, config: dict[str, str] | None = None) -> None:
    extra = [a for k, v in (config or {}).items() for a in ("--config", f"{k}={v}")]
    subprocess.run(java(TOPIC_COMMAND, "--bootstrap-server", b.bootstrap, "--create", "--topic", topic,
                        "--partitions", str(partitions), "--replication-factor", "1", *extra),
                   check=True, capture_output=True, timeout=120)


def run_one(kind: str, records: int, size: int, compressions: tuple[str, ...] = (),
            topic_compression: str | None = None) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    b = Broker(kind, work)
    res: dict[str, object] = {}
    try:
        res["startup_ms"] = b.start() * 1000
        for acks in ("1", "all"):
            topic = f"bench-acks-{acks}"
            create_topic(b, topic)
            res[f"produce_acks_{acks}"] = producer_perf(b, topic, records, size, acks)
        for codec in compressions:
            # Every compressed batch is decompressed and its records walked by both brokers
            # (Kafka's LogValidator; fastkafka's streaming validation): the cost of validation.
            # --topic-compression: the topic's compression.type forces another codec, so both
            # brokers also rebuild every batch (Kafka's recompression).
            topic = f"bench-{codec}"
            create_topic(b, topic, config={"compression.type": topic_compression} if topic_compression else None)
            res[f"produce_{codec}"] = producer_perf(b, topic, records, size, "1", compression=codec)
        res["consume_perf_test"] = consumer_perf(b, "bench-acks-1", records)
        res["consume_librdkafka"] = librdkafka_read(b, "bench-acks-1", records)
        res["peak_rss_mb"] = b.peak_rss / 1048576
    finally:
        b.stop()
        shutil.rmtree(work, ignore_errors=True)
    return res


def fmt_ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def print_table(results: dict[str, dict[str, object]], records: int, size: int,
                compressions: tuple[str, ...] = (), topic_compression: str | None = None) -> None:
    fk, ak = results.get("fastkafka", {}), results.get("apache", {})

    def get(r: dict[str, object], *path: str) -> float | None:
        v: object = r
        for p in path:
            if not isinstance(v, dict) or p not in v:
                return None
            v = v[p]
        return float(v) if isinstance(v, (int, float)) else None

    rows = [("start-up (ms)", ("startup_ms",))]
    for acks in ("1", "all"):
        rows += [(f"produce acks={acks} records/s", (f"produce_acks_{acks}", "records_per_sec")),
                 (f"produce acks={acks} MB/s", (f"produce_acks_{acks}", "mb_per_sec")),
                 (f"produce acks={acks} avg latency (ms)", (f"produce_acks_{acks}", "avg_ms")),
                 (f"produce acks={acks} p99 latency (ms)", (f"produce_acks_{acks}", "p99_ms"))]
    into = f" -> {topic_compression} topic" if topic_compression else ""
    for codec in compressions:
        rows += [(f"produce {codec}{into} acks=1 records/s", (f"produce_{codec}", "records_per_sec")),
                 (f"produce {codec}{into} acks=1 p99 latency (ms)", (f"produce_{codec}", "p99_ms"))]
    rows += [("consume (perf-test) records/s", ("consume_perf_test", "records_per_sec")),
             ("consume (perf-test) MB/s", ("consume_perf_test", "mb_per_sec")),
             ("consume (librdkafka assign) records/s", ("consume_librdkafka", "records_per_sec")),
             ("consume (librdkafka assign) MB/s", ("consume_librdkafka", "mb_per_sec")),
             ("broker peak RSS (MB)", ("peak_rss_mb",))]
    print(f"\nfastkafka vs Apache Kafka 4.4 — {records} records x {size} B, 1 partition, loopback, "
          f"{os.cpu_count()} cores")
    print(f"{'metric':50} {'fastkafka':>12} {'kafka 4.4':>12} {'ratio':>8}")
    for label, path in rows:
        a, b = get(fk, *path), get(ak, *path)
        lower_is_better = "latency" in label or "RSS" in label or "start-up" in label
        ratio = fmt_ratio(a, b)
        note = " (lower is better)" if lower_is_better and ratio != "-" else ""
        print(f"{label:50} {'' if a is None else f'{a:.1f}':>12} {'' if b is None else f'{b:.1f}':>12} {ratio:>8}{note}")
    for name, r in (("fastkafka", fk), ("kafka 4.4", ak)):
        v = r.get("consume_perf_test")
        if isinstance(v, str):
            print(f"  {name} kafka-consumer-perf-test: {v}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--record-size", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="100k records (about a minute)")
    ap.add_argument("--only", choices=("fastkafka", "apache"))
    ap.add_argument("--compression", action="append", choices=("gzip", "snappy", "lz4", "zstd"), default=[],
                    help="also produce (acks=1) with this producer compression.type; repeatable")
    ap.add_argument("--topic-compression", choices=("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"),
                    help="compression.type of the --compression topics (recompression when it differs)")
    args = ap.parse_args()
    records = 100_000 if args.quick else args.records
    if not LIBS.is_dir():
        print(f"Kafka jars not found in {LIBS}: run `bash tools/fetch_kafka_jars.sh`", file=sys.stderr)
        return 2
    results: dict[str, dict[str, object]] = {}
    for kind in ("fastkafka", "apache"):
        if args.only and kind != args.only:
            continue
        print(f"running {kind} ...", flush=True)
        results[kind] = run_one(kind, records, args.record_size, tuple(args.compression), args.topic_compression)
    print_table(results, records, args.record_size, tuple(args.compression), args.topic_compression)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"records": records, "record_size": args.record_size,
                                "topic_compression": args.topic_compression, "results": results}, indent=2))
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
