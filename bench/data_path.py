"""Data-path benchmark: produce with io_uring vs plain writes, fetch with sendfile vs copying,
fastkafka against itself with one switch flipped, and Apache Kafka 4.4 as the reference, same run.

    python bench/data_path.py [--records N] [--record-size B] [--partitions P] [--reads R]

Each configuration is a fresh single-node broker+controller on loopback (bench/run.py's Broker):

    fastkafka            defaults: io_uring appends, sendfile fetches
    fastkafka-pwrite     fastkafka.io.uring.enable=false      (only the produce path differs)
    fastkafka-copy       fastkafka.network.sendfile.enable=false (only the fetch path differs)
    apache               Apache Kafka 4.4

Produce: `kafka-producer-perf-test` (acks=1, linger.ms=5, batch.size=65536) into a topic of P
partitions, so each Produce request carries several partitions' batches (what io_uring submits
together). Fetch: `kafka-consumer-perf-test` reads the topic R times (page cache warm after the
first); besides its MB/s, the broker's own CPU seconds per GB served are reported (psutil), which
is where zero copy shows even when the client is the bottleneck.

Prints the io_uring/pwrite and sendfile/copy ratios, and each against Kafka; JSON to bench/results/.
Speed is measured here, never asserted in tests.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import CONSUMER_PERF, LIBS, ROOT, Broker, create_topic, java, producer_perf  # noqa: E402

CONFIGS: dict[str, tuple[str, dict[str, str]]] = {
    "fastkafka": ("fastkafka", {}),
    "fastkafka-pwrite": ("fastkafka", {"fastkafka.io.uring.enable": "false"}),
    "fastkafka-copy": ("fastkafka", {"fastkafka.network.sendfile.enable": "false"}),
    "apache": ("apache", {}),
}


def _cpu_seconds(b: Broker) -> float:
    assert b.proc is not None
    t = psutil.Process(b.proc.pid).cpu_times()
    return float(t.user + t.system)


def consume_perf(b: Broker, topic: str, records: int) -> dict[str, float]:
    cpu0 = _cpu_seconds(b)
    t0 = time.monotonic()
    out = subprocess.run(java(CONSUMER_PERF, "--bootstrap-server", b.bootstrap, "--topic", topic,
                              "--messages", str(records), "--timeout", "60000",
                              "--fetch-size", str(8 << 20), "--group", f"bench-{time.monotonic_ns()}"),
                         capture_output=True, text=True, timeout=900)
    wall = time.monotonic() - t0
    cpu = _cpu_seconds(b) - cpu0
    lines = [ln for ln in out.stdout.splitlines() if ln and ln[0].isdigit()]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"consumer perf test failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    cols = [c.strip() for c in lines[-1].split(",")]
    mb = float(cols[2])
    return {"mb_per_sec": float(cols[3]), "records_per_sec": float(cols[5]), "wall_s": wall,
            "broker_cpu_s": cpu, "broker_cpu_s_per_gb": cpu / (mb / 1024) if mb else 0.0}


def run_config(name: str, records: int, size: int, partitions: int, reads: int) -> dict[str, object]:
    kind, props = CONFIGS[name]
    work = Path(tempfile.mkdtemp(prefix=f"bench-dp-{name}-"))
    b = Broker(kind, work, props)
    res: dict[str, object] = {}
    try:
        b.start()
        topic = "datapath"
        create_topic(b, topic, partitions)
        cpu0 = _cpu_seconds(b)
        res["produce"] = producer_perf(b, topic, records, size, "1")
        res["produce_broker_cpu_s"] = _cpu_seconds(b) - cpu0
        runs = [consume_perf(b, topic, records) for _ in range(reads)]
        warm = runs[1:] or runs
        res["fetch_runs"] = runs
        res["fetch"] = {k: sum(float(r[k]) for r in warm) / len(warm) for k in warm[0]}
        res["peak_rss_mb"] = b.peak_rss / 1048576
    finally:
        b.stop()
        shutil.rmtree(work, ignore_errors=True)
    return res


def _get(r: dict[str, object], *path: str) -> float | None:
    v: object = r
    for p in path:
        if not isinstance(v, dict) or p not in v:
            return None
        v = v[p]
    return float(v) if isinstance(v, (int, float)) else None


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def print_report(results: dict[str, dict[str, object]], records: int, size: int, partitions: int) -> None:
    print(f"\nfastkafka data path — {records} records x {size} B, {partitions} partitions, loopback")
    rows = [
        ("produce records/s", ("produce", "records_per_sec")),
        ("produce MB/s", ("produce", "mb_per_sec")),
        ("produce p99 latency (ms)", ("produce", "p99_ms")),
        ("produce broker CPU (s)", ("produce_broker_cpu_s",)),
        ("fetch MB/s (warm)", ("fetch", "mb_per_sec")),
        ("fetch broker CPU s/GB (warm)", ("fetch", "broker_cpu_s_per_gb")),
    ]
    names = [n for n in CONFIGS if n in results]
    print(f"{'metric':32}" + "".join(f"{n:>18}" for n in names))
    for label, path in rows:
        vals = [_get(results[n], *path) for n in names]
        print(f"{label:32}" + "".join(f"{'' if v is None else f'{v:.1f}':>18}" for v in vals))
    fk, pw, cp, ak = (results.get(n, {}) for n in CONFIGS)
    print("\nratios (higher is better for throughput, lower for CPU):")
    print(f"  produce records/s, io_uring / pwrite      {_ratio(_get(fk, 'produce', 'records_per_sec'), _get(pw, 'produce', 'records_per_sec'))}")
    print(f"  produce broker CPU, io_uring / pwrite     {_ratio(_get(fk, 'produce_broker_cpu_s'), _get(pw, 'produce_broker_cpu_s'))}")
    print(f"  fetch MB/s, sendfile / copy               {_ratio(_get(fk, 'fetch', 'mb_per_sec'), _get(cp, 'fetch', 'mb_per_sec'))}")
    print(f"  fetch broker CPU/GB, sendfile / copy      {_ratio(_get(fk, 'fetch', 'broker_cpu_s_per_gb'), _get(cp, 'fetch', 'broker_cpu_s_per_gb'))}")
    print(f"  produce records/s, fastkafka / Kafka      {_ratio(_get(fk, 'produce', 'records_per_sec'), _get(ak, 'produce', 'records_per_sec'))}")
    print(f"  fetch MB/s, fastkafka / Kafka             {_ratio(_get(fk, 'fetch', 'mb_per_sec'), _get(ak, 'fetch', 'mb_per_sec'))}")
    print(f"  fetch broker CPU/GB, fastkafka / Kafka    {_ratio(_get(fk, 'fetch', 'broker_cpu_s_per_gb'), _get(ak, 'fetch', 'broker_cpu_s_per_gb'))}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--record-size", type=int, default=512)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--reads", type=int, default=3)
    ap.add_argument("--only", nargs="*", choices=list(CONFIGS))
    args = ap.parse_args()
    if not LIBS.is_dir():
        print(f"Kafka jars not found in {LIBS}: run `bash tools/fetch_kafka_jars.sh`", file=sys.stderr)
        return 2
    results: dict[str, dict[str, object]] = {}
    for name in CONFIGS:
        if args.only and name not in args.only:
            continue
        print(f"running {name} ...", flush=True)
        results[name] = run_config(name, args.records, args.record_size, args.partitions, args.reads)
    print_report(results, args.records, args.record_size, args.partitions)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"data-path-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"records": args.records, "record_size": args.record_size,
                                "partitions": args.partitions, "results": results}, indent=2))
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
