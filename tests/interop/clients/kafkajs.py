"""Runs kafkajs (Node) scripts from tests/interop/js for the interop tests."""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from interop_data import Rec

JS_DIR = Path(__file__).resolve().parents[1] / "js"


def node() -> str:
    exe = shutil.which("node")
    if exe is None:
        raise FileNotFoundError("node not found on PATH (Node 20 drives kafkajs)")
    if not (JS_DIR / "node_modules" / "kafkajs").is_dir():
        raise FileNotFoundError(f"kafkajs not installed in {JS_DIR}: run `bash tools/setup_test_env.sh`")
    return exe


def run_script(script: Path, args: Sequence[str] = (), stdin: bytes | None = None, timeout: float = 120.0,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    full_env = dict(os.environ)
    full_env.setdefault("KAFKAJS_NO_PARTITIONER_WARNING", "1")
    full_env.update(env or {})
    return subprocess.run([node(), str(script), *args], input=stdin, capture_output=True, timeout=timeout,
                          cwd=JS_DIR, env=full_env)


def _b64(v: bytes | None) -> str | None:
    return None if v is None else base64.b64encode(v).decode()


def produce(bootstrap: str, topic: str, records: Sequence[Rec], compression: str = "none", idempotent: bool = True,
            create_partitions: int | None = None, config: dict[str, str] | None = None) -> dict[str, object]:
    job = {
        "bootstrap": bootstrap, "topic": topic, "compression": compression, "idempotent": idempotent,
        "createTopic": None if create_partitions is None else {
            "numPartitions": create_partitions,
            "configEntries": [{"name": k, "value": v} for k, v in (config or {}).items()]},
        "records": [{"partition": r.partition, "key": _b64(r.key), "value": _b64(r.value),
                     "headers": [[k, _b64(v)] for k, v in r.headers], "timestamp": r.timestamp} for r in records],
    }
    proc = run_script(JS_DIR / "produce.js", stdin=json.dumps(job).encode())
    assert proc.returncode == 0, f"kafkajs failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')[-5000:]}"
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def consume_group(bootstrap: str, topic: str, group_id: str, count: int) -> list[Rec]:
    """Read `count` records with a kafkajs consumer group (subscribe fromBeginning, eachMessage)."""
    job = {"bootstrap": bootstrap, "topic": topic, "groupId": group_id, "count": count}
    proc = run_script(JS_DIR / "consume.js", stdin=json.dumps(job).encode())
    assert proc.returncode == 0, f"kafkajs consumer failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')[-5000:]}"
    out = json.loads(proc.stdout)
    unb64 = (lambda v: None if v is None else base64.b64decode(v))
    return [Rec(partition=r["partition"], key=unb64(r["key"]), value=unb64(r["value"]),
                headers=tuple((k, unb64(v)) for k, v in r["headers"]), timestamp=r["timestamp"], offset=r["offset"])
            for r in out["records"]]
