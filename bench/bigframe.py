"""Where the event loop's time goes for one big Produce request: a per-stage breakdown.

    python bench/bigframe.py [--sizes 17,64] [--record-size 1000] [--repeat 3] [--uring/--no-uring]

For each size (MiB of records in one uncompressed v2 batch) it builds a Produce v9 frame and runs
the broker's own code for each stage of the produce path, in process, timing each call that
would run on the event loop (wall ms, best of --repeat, plus the longest single callback):

    receive     KafkaConnection.data_received in 256 KiB chunks (uvloop's read size), the frame
                going into its pooled mmap (net/memory_pool.py); `max cb` is the longest call
    decode      ProduceRequest.decode of the frame (records stay a memoryview: no copy)
    prevalidate ReplicaManager.prevalidate's loop part (what the handler does before deciding
                to go off the loop)
    validate    UnifiedLog.validate_records: framing, CRC-32C, record walk (on the loop today
                for uncompressed batches; off the loop once this issue's change is in)
    append      UnifiedLog.append_as_leader as the handler calls it (inside batched_appends: the
                io_uring submission completes at the end of the block), split into its parts:
                copy (bytearray(records)), assign_offsets, segment write (+ io_uring complete)
    encode      the ProduceResponse

`on_loop_one_callback` is what one callback held the loop for before this issue's change (all
the stages above in the handler's synchronous call); the `new.*` rows are the path big payloads
take now: prevalidate (validation + timestamp stamping, on a worker thread), the append's loop
part (offsets, producer state, indexes; no copy, no CRC, no write), and the write on the log
writer thread; `new.on_loop_one_callback` is the loop's share.

`--e2e` starts a broker process on asyncio's loop with every callback's thread CPU time measured
(noise-free: another process's load does not count) and sends one big Produce on a raw socket
while a probe sends ApiVersions. Figures depend on the machine: run it on an idle one.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from fastkafka._native import record_batch as _rb  # noqa: E402
from fastkafka._native.wire import Reader, Writer  # noqa: E402
from fastkafka.protocol.messages import ProduceRequest, ProduceResponse  # noqa: E402
from fastkafka.storage import file_records  # noqa: E402
from fastkafka.storage.log_config import LogConfig  # noqa: E402
from fastkafka.storage.topic_partition import TopicPartition  # noqa: E402
from fastkafka.storage.unified_log import UnifiedLog  # noqa: E402

MIB = 1 << 20


def _varint(v: int) -> bytes:
    return _rb.encode_varint(v)


def build_batch(total: int, record_size: int) -> bytes:
    """One uncompressed v2 batch of about `total` bytes of records of `record_size` bytes."""
    value = b"v" * max(record_size - 20, 1)
    parts = []
    n = max(total // record_size, 1)
    for i in range(n):
        key = b"k%d" % i
        body = (b"\x00" + _rb.encode_varlong(0) + _varint(i) + _varint(len(key)) + key
                + _varint(len(value)) + value + _varint(0))
        parts.append(_varint(len(body)) + body)
    records = b"".join(parts)
    ts = int(time.time() * 1000)
    after_crc = struct.pack(">hiqqqhii", 0, n - 1, ts, ts, -1, -1, -1, n) + records
    body = struct.pack(">ib", 0, 2) + struct.pack(">I", _rb.crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(body)) + body


def produce_frame(topic: str, records: bytes) -> bytes:
    """Request header v1 + Produce v9 body (flexible), without the size prefix."""
    req = ProduceRequest(transactional_id=None, acks=1, timeout_ms=30000, topic_data=[
        ProduceRequest.TopicProduceData(name=topic, partition_data=[
            ProduceRequest.PartitionProduceData(index=0, records=records)])])
    w = Writer(len(records) + 256)
    w.raw(struct.pack(">hhih", 0, 9, 7, 5) + b"bench")
    w.uvarint(0)  # header tagged fields (header v2)
    req.encode(w, 9)
    return b"".join(bytes(p) for p in w.parts())


class _Stage:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.max_cb: dict[str, float] = {}

    @contextlib.contextmanager
    def time(self, name: str) -> Any:
        t0 = time.perf_counter()
        yield
        self.add(name, time.perf_counter() - t0)

    def add(self, name: str, seconds: float) -> None:
        self.times.setdefault(name, []).append(seconds)


def measure_receive(frame: bytes, st: _Stage) -> Any:
    """The real KafkaConnection receiving the frame in 256 KiB chunks; returns the frame buffer
    it dispatched."""
    from fastkafka.net.connection import KafkaConnection
    from fastkafka.net.memory_pool import MemoryPool

    got: list[Any] = []

    class _Transport:
        def get_extra_info(self, name: str) -> Any:
            return ("127.0.0.1", 1) if name in ("peername", "sockname") else None

        def pause_reading(self) -> None:
            pass

        def resume_reading(self) -> None:
            pass

        def close(self) -> None:
            pass

    class _Cfg:
        socket_request_max_bytes = 1 << 30

    class _Server:
        config = _Cfg()
        memory_pool = MemoryPool(1 << 30)
        sendfile_enabled = False
        broker = None

        def connection_opened(self, c: Any) -> None:
            pass

        def connection_closed(self, c: Any) -> None:
            pass

    class _Conn(KafkaConnection):
        def _dispatch(self, frame: Any) -> None:
            got.append(frame)  # the frame buffer (pooled mmap); decode is timed on its own

    conn = _Conn(_Server(), "PLAINTEXT", "PLAINTEXT", {})  # type: ignore[arg-type]
    conn.connection_made(_Transport())  # type: ignore[arg-type]
    data = struct.pack(">i", len(frame)) + frame
    chunk = 256 * 1024
    worst = 0.0
    t_all = time.perf_counter()
    for i in range(0, len(data), chunk):
        piece = data[i:i + chunk]
        t0 = time.perf_counter()
        conn.data_received(piece)
        worst = max(worst, time.perf_counter() - t0)
    st.add("receive", time.perf_counter() - t_all)
    st.max_cb["receive"] = max(st.max_cb.get("receive", 0.0), worst)
    assert got, "frame not dispatched"
    return got[0]


def run_size(size_mib: int, record_size: int, repeat: int, uring: bool) -> dict[str, float]:
    records = build_batch(size_mib * MIB, record_size)
    frame = produce_frame("bench", records)
    st = _Stage()
    appender = None
    if uring:
        try:
            from fastkafka._native.uring import UringAppender
            appender = UringAppender()
        except (ImportError, OSError) as e:
            print(f"io_uring unavailable ({e}); pwrite", file=sys.stderr)
    cfg = LogConfig.from_props({}, {"max.message.bytes": str(len(records) + MIB), "segment.bytes": str(1 << 30)})
    loop_parts: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bigframe-") as d:
        log = UnifiedLog.open(os.path.join(d, "bench-0"), cfg, topic_partition=TopicPartition("bench", 0))
        for _ in range(repeat):
            fbuf = measure_receive(frame, st)
            r = Reader(fbuf, 0)
            r.pos = 10 + 5
            r.uvarint()
            with st.time("decode"):
                req = ProduceRequest.decode(r, 9)
            recs = req.topic_data[0].partition_data[0].records
            assert isinstance(recs, memoryview), type(recs)
            now = int(time.time() * 1000)
            with st.time("validate"):
                log.validate_records(recs, now_ms=now)
            # The append's parts, measured separately on copies of the same bytes.
            with st.time("append.copy"):
                copy = bytearray(recs)
            with st.time("append.assign_offsets"):
                _rb.assign_offsets(copy, log.log_end_offset, 0, -1)
            with st.time("append.whole"):
                with file_records.batched_appends(appender):
                    log.append_as_leader(recs, 0, now_ms=now)
            with st.time("append.pwrite_17MB_equiv"):
                fd = os.open(os.path.join(d, "scratch"), os.O_RDWR | os.O_CREAT, 0o644)
                os.pwrite(fd, copy, 0)
                os.close(fd)
            with st.time("encode"):
                resp = ProduceResponse(responses=[ProduceResponse.TopicProduceResponse(name="bench", partition_responses=[
                    ProduceResponse.PartitionProduceResponse(index=0, error_code=0, base_offset=0)])])
                w = Writer(256)
                resp.encode(w, 9)
            del copy
            # The path big payloads take now: prevalidate (validate + stamp) on a worker thread,
            # the append's loop part, the write on the log writer thread.
            fbuf2 = measure_receive(frame, _Stage())
            r2 = Reader(fbuf2, 0)
            r2.pos = 10 + 5
            r2.uvarint()
            recs2 = ProduceRequest.decode(r2, 9).topic_data[0].partition_data[0].records

            async def new_path() -> None:
                loop = asyncio.get_running_loop()
                with st.time("new.prevalidate(worker)"):
                    pre = await loop.run_in_executor(None, lambda: log.prevalidate(recs2, now_ms=now))
                with st.time("new.append(loop)"):
                    with file_records.batched_appends(appender):
                        log.append_as_leader(recs2, 0, now_ms=now, validated=pre)
                with st.time("new.write(writer thread)"):
                    w = log.unwritten_future()
                    if w is not None:
                        await w
            asyncio.run(new_path())
            del req, recs, r, fbuf, recs2, r2, fbuf2
        log.close()
    if appender is not None:
        appender.close()
    out = {k: min(v) * 1000 for k, v in st.times.items()}
    out["receive.max_cb"] = st.max_cb["receive"] * 1000
    loop_parts = {k: out[k] for k in ("receive.max_cb", "decode", "validate", "append.whole", "encode")}
    out["on_loop_one_callback"] = sum(v for k, v in loop_parts.items() if k != "receive.max_cb")
    out["new.on_loop_one_callback"] = out["decode"] + out["new.append(loop)"] + out["encode"]
    return out


# Runs a broker on asyncio's own loop with every callback timed: its thread CPU time (what the
# loop itself spent, whatever else the machine runs) and wall time; callbacks over 1 ms of CPU or
# 10 ms of wall time (waiting for the GIL or the CPU) are logged with their repr.
_TIMED_BROKER = r"""
import asyncio, atexit, logging, sys, time
from asyncio import events
_log = logging.getLogger("bigframe.callbacks")
_worst = [0.0, 0.0, ""]
_orig = events.Handle._run
def _run(self):
    c0 = time.thread_time(); w0 = time.perf_counter()
    try:
        return _orig(self)
    finally:
        cpu = time.thread_time() - c0; wall = time.perf_counter() - w0
        if cpu > _worst[0]:
            _worst[:] = [cpu, wall, repr(self)[:300]]
        if cpu > 0.001 or wall > 0.01:
            _log.warning("callback cpu %.1f ms wall %.1f ms: %s", cpu * 1e3, wall * 1e3, repr(self)[:300])
events.Handle._run = _run
def _report():
    _log.warning("WORST callback cpu %.1f ms wall %.1f ms: %s", _worst[0] * 1e3, _worst[1] * 1e3, _worst[2])
    logging.shutdown()
import fastkafka.__main__ as m
_orig_loop_run = m._event_loop_run
def _ev(coro):
    try:
        return _orig_loop_run(coro)
    finally:
        _report()
m._event_loop_run = _ev
sys.exit(m.main(["start", sys.argv[1]]))
"""


def run_e2e(size_mib: int, record_size: int) -> None:
    """A broker process on asyncio's loop (callbacks timed), one big Produce on a raw socket
    while a probe sends ApiVersions: the worst callback's CPU and wall ms, the probe's worst wait."""
    import re
    import shutil
    import socket
    import subprocess
    import threading
    import uuid

    from run import Broker  # bench/run.py

    work = Path(tempfile.mkdtemp(prefix="bigframe-e2e-"))
    b = Broker("fastkafka", work)
    fmt, _start = b._commands()
    subprocess.run(fmt, check=True, stdout=b.log, stderr=subprocess.STDOUT)
    env = dict(os.environ, FASTKAFKA_EVENT_LOOP="asyncio", PYTHONPATH=str(ROOT / "src"))
    b.proc = subprocess.Popen([sys.executable, "-c", _TIMED_BROKER, str(b.props_path)], stdout=b.log,
                              stderr=subprocess.STDOUT, env=env)
    from run import api_versions_answered
    t0 = time.monotonic()
    while not api_versions_answered(b.port):
        if b.proc.poll() is not None or time.monotonic() - t0 > 120:
            raise RuntimeError(f"broker did not start; see {work / 'broker.log'}")
        time.sleep(0.05)
    topic = f"big-{uuid.uuid4().hex[:6]}"
    records = build_batch(size_mib * MIB, record_size)
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1, config={"max.message.bytes": str(len(records) + MIB)})])[topic].result(60)
    del admin
    time.sleep(1)
    log_start = (work / "broker.log").stat().st_size
    worst_probe = [0.0]
    stop = threading.Event()

    def probe() -> None:
        s = socket.create_connection(("127.0.0.1", b.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        body = struct.pack(">hhih", 18, 0, 1, 1) + b"p"
        while not stop.is_set():
            t = time.monotonic()
            s.sendall(struct.pack(">i", len(body)) + body)
            n = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
            s.recv(n, socket.MSG_WAITALL)
            worst_probe[0] = max(worst_probe[0], time.monotonic() - t)
            time.sleep(0.01)
        s.close()

    frame = produce_frame(topic, records)  # before the probe starts: building it holds our GIL
    th = threading.Thread(target=probe, daemon=True)
    th.start()
    time.sleep(0.1)
    t = time.monotonic()
    with socket.create_connection(("127.0.0.1", b.port)) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        n = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
        resp = s.recv(n, socket.MSG_WAITALL)
    took = time.monotonic() - t
    time.sleep(0.3)
    stop.set()
    th.join()
    log_end = (work / "broker.log").stat().st_size
    b.proc.terminate()
    b.proc.wait(60)
    b.log.close()
    text = (work / "broker.log").read_bytes()[log_start:log_end].decode(errors="replace")
    slow = re.findall(r"callback cpu ([\d.]+) ms wall ([\d.]+) ms: (.*)", text)
    worst = max(slow, key=lambda x: float(x[0]), default=None)
    print(f"\n== e2e, {size_mib} MiB of {record_size}-byte records, asyncio loop with timed callbacks ==")
    print(f"  produce answered in {took * 1000:.0f} ms ({len(resp)} bytes); probe worst wait {worst_probe[0] * 1000:.1f} ms")
    print(f"  callbacks over 1 ms CPU or 10 ms wall during the produce: {len(slow)}")
    if worst:
        print(f"  worst: cpu {worst[0]} ms, wall {worst[1]} ms: {worst[2][:160]}")
    for c in slow:
        print(f"    cpu {c[0]} wall {c[1]}: {c[2][:200]}")
    shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="17,64", help="MiB of records per request, comma separated")
    ap.add_argument("--record-size", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-uring", action="store_true")
    ap.add_argument("--e2e", action="store_true", help="also a broker process, callbacks timed (see run_e2e)")
    args = ap.parse_args()
    if args.e2e:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        for s in (int(x) for x in args.sizes.split(",")):
            run_e2e(s, args.record_size)
        return 0
    asyncio.set_event_loop(asyncio.new_event_loop())
    for s in (int(x) for x in args.sizes.split(",")):
        res = run_size(s, args.record_size, args.repeat, not args.no_uring)
        print(f"\n== {s} MiB of {args.record_size}-byte records in one uncompressed batch "
              f"({'io_uring' if not args.no_uring else 'pwrite'}), ms (best of {args.repeat}) ==")
        for k, v in res.items():
            print(f"  {k:28s} {v:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
