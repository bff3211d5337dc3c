#!/usr/bin/env python3
"""Which callbacks hold fastkafka's event loop, and for how long.

The broker's `LoopMonitor` logs one line per stall over `fastkafka.event.loop.lag.warn.ms`:
`Event loop stall: N ms in FUNC (file:line) < CALLER (file:line) < ...`. This tool prints those
lines as a table, per broker log and summed by function.

    tools/loop_stalls.py broker.log ...                  # tables from existing logs
    tools/loop_stalls.py --run [--warn-ms 20] -- tests/interop/test_hardening_admin.py -k delete
        # runs pytest with every test broker's threshold lowered (FASTKAFKA_TEST_LOOP_LAG_WARN_MS),
        # then prints the table of each test's broker.log (under a --basetemp it chooses)

Nothing here is asserted: it is the instrument for finding what to slice or move off the loop.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STALL = re.compile(r"^\[(?P<ts>[^\]]+)\] WARNING Event loop stall: (?P<ms>\d+) ms \(loop thread cpu (?P<cpu>\d+) ms\) in (?P<where>.*?) "
                   r"\[(?P<n>\d+)/(?P<total>\d+) samples\]")


Stall = tuple[str, int, int, str]  # timestamp, wall ms, loop-thread cpu ms, where


def parse(log: Path) -> list[Stall]:
    """(timestamp, wall ms, cpu ms, where) of each stall line in a broker log."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        m = STALL.match(line)
        if m:
            out.append((m["ts"], int(m["ms"]), int(m["cpu"]), m["where"]))
    return out


def table(stalls: list[Stall], chain: int = 3) -> str:
    """Stalls summed by their innermost `chain` frames, worst CPU first. Wall time includes the
    waits for a CPU (a loaded machine) and for the GIL; cpu is the loop thread's own work."""
    by: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for _, ms, cpu, where in stalls:
        by[" < ".join(where.split(" < ")[:chain])].append((ms, cpu))
    rows = sorted(by.items(), key=lambda kv: (-max(c for _, c in kv[1]), -max(m for m, _ in kv[1])))
    lines = [f"{'cpu max':>7} {'wall max':>8} {'count':>5} {'wall sum':>8}  function (innermost fastkafka frames, callers after <)"]
    for where, v in rows:
        lines.append(f"{max(c for _, c in v):>7} {max(m for m, _ in v):>8} {len(v):>5} {sum(m for m, _ in v):>8}  {where}")
    return "\n".join(lines)


def report(logs: list[Path], chain: int) -> None:
    every: list[Stall] = []
    for log in logs:
        stalls = parse(log)
        every += stalls
        print(f"\n== {log} : {len(stalls)} stalls" + (f", worst {max(s[1] for s in stalls)} ms" if stalls else ""))
        if stalls:
            print(table(stalls, chain))
    if len(logs) > 1 and every:
        print(f"\n== all logs: {len(every)} stalls")
        print(table(every, chain))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs", nargs="*", type=Path, help="broker logs to read (without --run)")
    ap.add_argument("--run", action="store_true", help="run pytest with the arguments after --, then read its brokers' logs")
    ap.add_argument("--warn-ms", default="20", help="the lowered fastkafka.event.loop.lag.warn.ms (default 20)")
    ap.add_argument("--chain", type=int, default=3, help="frames to group by (default 3)")
    ap.add_argument("--basetemp", type=Path, default=None, help="pytest --basetemp (default: a new temp dir)")
    argv = sys.argv[1:]
    rest: list[str] = []
    if "--" in argv:  # everything after -- goes to pytest
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    args = ap.parse_args(argv)
    if not args.run:
        report(args.logs, args.chain)
        return 0
    base = args.basetemp or Path(tempfile.mkdtemp(prefix="loop-stalls-"))
    env = dict(os.environ, FASTKAFKA_TEST_LOOP_LAG_WARN_MS=str(args.warn_ms))
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-s", f"--basetemp={base}", *rest], cwd=REPO, env=env)
    report(sorted(base.rglob("broker.log")), args.chain)
    return rc


if __name__ == "__main__":
    sys.exit(main())
