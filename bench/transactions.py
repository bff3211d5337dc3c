"""Exactly-once benchmark: transactional produce, read_committed fetch and a Java exactly-once
pipeline, fastkafka against Apache Kafka 4.4, same machine, same run.

    python bench/transactions.py [--records N] [--record-size B] [--partitions P]
                                 [--durations MS,MS] [--pipeline-records N] [--only fastkafka|apache]

Each broker is a fresh single-node broker+controller on loopback (bench/run.py's Broker), one after
the other. For each:

1. Transactional produce: `kafka-producer-perf-test --transactional-id ... --transaction-duration-ms D`
   (ProducerPerformance 4.4: begin, send for D ms, commitTransaction, repeat) into a topic of P
   partitions, for each D. A shorter D means more transactions: each one costs the coordinator
   AddPartitionsToTxn, EndTxn, a PrepareCommit and a CompleteCommit record in
   `__transaction_state` and a COMMIT marker in every partition it touched. Records/s, p99
   latency (the perf test's: it includes waiting behind a commit) and broker CPU seconds.
2. Fetch of the transactional topic written with the longest D: `kafka-consumer-perf-test`
   with isolation.level=read_committed, then read_uncommitted, each from the start, twice in
   turn, the second run of each reported (page cache warm): MB/s and broker CPU s per GB (read_committed stops at the last stable offset and looks up aborted
   transactions in `.txnindex`; with no aborts the two should cost the same).
3. Exactly-once pipeline: `tests/interop/clients/JavaEosPipeline.java` (read_committed consumer ->
   transform -> transactional producer with sendOffsetsToTransaction, one transaction per poll)
   copying an input topic of P partitions: wall time from process start until the pipeline
   reports every input record committed, and the rate after its first commit (without JVM
   start-up and the group join).

Prints fastkafka/Kafka ratios; JSON to bench/results/. Speed is measured here, never asserted in
tests. Needs the venv (`make setup`) and the Kafka jars (`bash tools/fetch_kafka_jars.sh`).
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

from run import CONSUMER_PERF, LIBS, PRODUCER_PERF, ROOT, _PERF_RE, Broker, create_topic, java  # noqa: E402

PIPELINE = ROOT / "tests" / "interop" / "clients" / "JavaEosPipeline.java"


def _cpu_seconds(b: Broker) -> float:
    assert b.proc is not None
    t = psutil.Process(b.proc.pid).cpu_times()
    return float(t.user + t.system)


def transactional_produce(b: Broker, topic: str, records: int, size: int, duration_ms: int) -> dict[str, float]:
    cpu0 = _cpu_seconds(b)
    t0 = time.monotonic()
    out = subprocess.run(java(PRODUCER_PERF, "--topic", topic, "--num-records", str(records), "--record-size",
                              str(size), "--throughput", "-1",
                              "--transactional-id", f"bench-txn-{duration_ms}",
                              "--transaction-duration-ms", str(duration_ms),
                              "--producer-props", f"bootstrap.servers={b.bootstrap}", "linger.ms=5",
                              "batch.size=65536"),
                         capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - t0
    m = None
    for line in out.stdout.splitlines():
        m = _PERF_RE.search(line) or m
    if m is None or out.returncode != 0:
        raise RuntimeError(f"transactional perf test failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return {"records_per_sec": float(m.group(2)), "mb_per_sec": float(m.group(3)), "avg_ms": float(m.group(4)),
            "p99_ms": float(m.group(8)), "wall_s": wall, "broker_cpu_s": _cpu_seconds(b) - cpu0}


def fetch(b: Broker, topic: str, records: int, isolation: str, workdir: Path) -> dict[str, float]:
    cfg = workdir / f"consumer-{isolation}.properties"
    cfg.write_text(f"isolation.level={isolation}\n")
    cpu0 = _cpu_seconds(b)
    out = subprocess.run(java(CONSUMER_PERF, "--bootstrap-server", b.bootstrap, "--topic", topic,
                              "--messages", str(records), "--timeout", "60000", "--fetch-size", str(8 << 20),
                              "--group", f"bench-{isolation}-{time.monotonic_ns()}", "--consumer.config", str(cfg)),
                         capture_output=True, text=True, timeout=900)
    cpu = _cpu_seconds(b) - cpu0
    lines = [ln for ln in out.stdout.splitlines() if ln and ln[0].isdigit()]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"consumer perf test failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    cols = [c.strip() for c in lines[-1].split(",")]
    mb = float(cols[2])
    return {"mb_per_sec": float(cols[3]), "records_per_sec": float(cols[5]), "records": float(cols[4]),
            "broker_cpu_s_per_gb": cpu / (mb / 1024) if mb else 0.0}


def fill(b: Broker, topic: str, records: int, size: int) -> None:
    out = subprocess.run(java(PRODUCER_PERF, "--topic", topic, "--num-records", str(records), "--record-size",
                              str(size), "--throughput", "-1", "--producer-props",
                              f"bootstrap.servers={b.bootstrap}", "acks=all", "linger.ms=5", "batch.size=65536"),
                         capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"filling {topic} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")


def pipeline(b: Broker, records: int, size: int, partitions: int) -> dict[str, float]:
    create_topic(b, "eos-in", partitions)
    create_topic(b, "eos-out", partitions)
    fill(b, "eos-in", records, size)
    cpu0 = _cpu_seconds(b)
    t0 = time.monotonic()
    proc = subprocess.Popen(["java", "-Xmx512m", "-cp", f"{LIBS}/*", str(PIPELINE), b.bootstrap, "eos-in",
                             "eos-out", "bench-eos", "bench-eos-txn"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    done = 0
    transactions = 0
    first_commit: float | None = None
    deadline = t0 + 900
    try:
        for line in proc.stdout:
            if line.startswith("committed "):
                done += int(line.split()[1])
                transactions += 1
                if first_commit is None:
                    first_commit = time.monotonic()
                if done >= records or time.monotonic() > deadline:
                    break
    finally:
        end = time.monotonic()
        proc.kill()
        proc.wait()
    if done < records or first_commit is None:
        raise RuntimeError(f"the pipeline committed {done} of {records} records")
    return {"wall_s": end - t0, "records_per_sec_after_first_commit": done / max(end - first_commit, 1e-9),
            "transactions": float(transactions), "broker_cpu_s": _cpu_seconds(b) - cpu0}


def run_one(kind: str, args: argparse.Namespace) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-txn-{kind}-"))
    b = Broker(kind, work)
    res: dict[str, object] = {}
    try:
        b.start()
        for d in args.durations:
            topic = f"txn-{d}"
            create_topic(b, topic, args.partitions)
            res[f"produce_{d}ms"] = transactional_produce(b, topic, args.records, args.record_size, d)
            print(f"  {kind}: transactional produce, {d} ms transactions: {res[f'produce_{d}ms']}", flush=True)
        longest = f"txn-{max(args.durations)}"
        time.sleep(2)  # let the background flushes of the produce phase finish: they would count as fetch CPU
        for _ in range(2):  # alternate, keep the second (warm) run of each
            for isolation in ("read_committed", "read_uncommitted"):
                res[f"fetch_{isolation}"] = fetch(b, longest, args.records, isolation, work)
        print(f"  {kind}: fetch {res['fetch_read_committed']} / {res['fetch_read_uncommitted']}", flush=True)
        res["pipeline"] = pipeline(b, args.pipeline_records, args.record_size, args.partitions)
        print(f"  {kind}: pipeline {res['pipeline']}", flush=True)
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


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"


def print_report(results: dict[str, dict[str, object]], args: argparse.Namespace) -> None:
    print(f"\nfastkafka exactly-once — {args.records} records x {args.record_size} B, {args.partitions} partitions; "
          f"pipeline {args.pipeline_records} records; loopback")
    rows: list[tuple[str, tuple[str, ...]]] = []
    for d in args.durations:
        rows += [(f"txn produce {d} ms: records/s", (f"produce_{d}ms", "records_per_sec")),
                 (f"txn produce {d} ms: p99 ms", (f"produce_{d}ms", "p99_ms")),
                 (f"txn produce {d} ms: broker CPU s", (f"produce_{d}ms", "broker_cpu_s"))]
    rows += [("read_committed MB/s", ("fetch_read_committed", "mb_per_sec")),
             ("read_committed broker CPU s/GB", ("fetch_read_committed", "broker_cpu_s_per_gb")),
             ("read_uncommitted MB/s", ("fetch_read_uncommitted", "mb_per_sec")),
             ("read_uncommitted broker CPU s/GB", ("fetch_read_uncommitted", "broker_cpu_s_per_gb")),
             ("EOS pipeline wall s", ("pipeline", "wall_s")),
             ("EOS pipeline records/s after 1st commit", ("pipeline", "records_per_sec_after_first_commit")),
             ("EOS pipeline transactions", ("pipeline", "transactions")),
             ("EOS pipeline broker CPU s", ("pipeline", "broker_cpu_s")),
             ("peak RSS MB", ("peak_rss_mb",))]
    fk, ap = results.get("fastkafka", {}), results.get("apache", {})
    print(f"{'metric':42} {'fastkafka':>12} {'Kafka 4.4':>12} {'fk/Kafka':>9}")
    for name, path in rows:
        a, b = _get(fk, *path), _get(ap, *path)
        ratio = f"{a / b:.2f}x" if a and b else "-"
        print(f"{name:42} {_fmt(a):>12} {_fmt(b):>12} {ratio:>9}")
    print("(ratios are fastkafka / Kafka: higher is better for rates, lower for latency, CPU, wall time and RSS)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--record-size", type=int, default=100)
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--durations", type=lambda s: [int(x) for x in s.split(",")], default=[100, 10],
                   help="transaction durations in ms, comma separated (default 100,10)")
    p.add_argument("--pipeline-records", type=int, default=300_000)
    p.add_argument("--only", choices=["fastkafka", "apache"])
    args = p.parse_args()
    kinds = [args.only] if args.only else ["fastkafka", "apache"]
    results: dict[str, dict[str, object]] = {}
    for kind in kinds:
        print(f"== {kind}", flush=True)
        results[kind] = run_one(kind, args)
    print_report(results, args)
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"transactions-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"args": vars(args), "results": results}, indent=2))
    print(f"raw figures: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
