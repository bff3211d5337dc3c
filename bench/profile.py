"""Where the broker spends its time on produce and fetch: py-spy samples of a fastkafka broker under
`kafka-producer-perf-test` and then `kafka-consumer-perf-test`, summarised per function.

    python bench/profile.py [--records N] [--record-size B] [--partitions P]

What to look for: on the produce and fetch paths every Python function runs once per request,
per partition or per batch; per-record work (varints, CRCs, offset assignment, record
validation) is in the Cython modules of `_native/`, which py-spy shows as native frames
(`--native`). The table lists the functions with the most samples (self time, leaf frame) and,
for each phase, the share of samples spent in fastkafka's Python code vs native code vs idle
waiting in the event loop. The raw collapsed stacks are written to bench/results/ for a flame graph
(e.g. `inferno-flamegraph < file`).

Needs py-spy (`pip install py-spy`, the `bench` extra) and ptrace permission on the broker
process (root, or kernel.yama.ptrace_scope=0).
"""
from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import CONSUMER_PERF, ROOT, Broker, create_topic, java, producer_perf  # noqa: E402


def _py_spy() -> str:
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        raise SystemExit("py-spy not found: pip install py-spy")
    return exe


def _record(pid: int, out: Path, rate: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([_py_spy(), "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
                             "--native", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop(p: subprocess.Popen[bytes]) -> None:
    p.send_signal(2)  # SIGINT: py-spy writes its output and exits
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()


def _is_fastkafka_python(frame: str) -> bool:
    return "fastkafka/" in frame and ".py:" in frame and "fastkafka/_native" not in frame


def _leaf_kind(frame: str) -> str:
    if _is_fastkafka_python(frame):
        return "fastkafka python"
    if "fastkafka/_native" in frame or "liburing" in frame:
        return "fastkafka native (Cython, liburing)"
    if "select" in frame or "epoll" in frame or "_run_once" in frame or "run_forever" in frame:
        return "event loop / idle"
    return "other (CPython, libc, kernel, uvloop)"


def summarise(path: Path, title: str, records: int, top: int = 25) -> None:
    leaves: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    py_inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack:
            continue
        n = int(count_s)
        frames = stack.split(";")
        leaf = frames[-1]
        total += n
        leaves[leaf] += n
        kinds[_leaf_kind(leaf)] += n
        seen = set()
        for f in frames:
            if _is_fastkafka_python(f):
                name = f.split(" (")[0] + " (" + f.split("fastkafka/")[-1].split(":")[0] + ")"
                if name not in seen:
                    seen.add(name)
                    py_inclusive[name] += n
    print(f"\n== {title}: {total} samples ({records} records) ==")
    for kind, n in kinds.most_common():
        print(f"  {kind:40} {100 * n / max(total, 1):5.1f}%")
    print(f"  top leaf frames (self time):")
    for leaf, n in leaves.most_common(top):
        print(f"    {100 * n / max(total, 1):5.1f}%  {leaf[:110]}")
    print(f"  fastkafka Python functions, inclusive (samples per 1M records; a per-record function would"
          f" scale with records):")
    for f, n in py_inclusive.most_common(15):
        print(f"    {100 * n / max(total, 1):5.1f}%  {n * 1_000_000 / max(records, 1):9.0f}/1M  {f[:100]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--record-size", type=int, default=100)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    args = ap.parse_args()
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    b = Broker("fastkafka", work)
    try:
        b.start()
        assert b.proc is not None
        create_topic(b, "profile", args.partitions)
        produce_out = out_dir / f"profile-produce-{stamp}.txt"
        spy = _record(b.proc.pid, produce_out, args.rate)
        time.sleep(1.0)
        perf = producer_perf(b, "profile", args.records, args.record_size, "1")
        _stop(spy)
        fetch_out = out_dir / f"profile-fetch-{stamp}.txt"
        spy = _record(b.proc.pid, fetch_out, args.rate)
        time.sleep(1.0)
        subprocess.run(java(CONSUMER_PERF, "--bootstrap-server", b.bootstrap, "--topic", "profile",
                            "--messages", str(args.records), "--timeout", "60000"),
                       check=True, capture_output=True, timeout=900)
        _stop(spy)
    finally:
        b.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"produce: {perf['records_per_sec']:.0f} records/s while sampled")
    summarise(produce_out, "produce (kafka-producer-perf-test, acks=1)", args.records)
    summarise(fetch_out, "fetch (kafka-consumer-perf-test)", args.records)
    print(f"\nraw stacks: {produce_out} {fetch_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
