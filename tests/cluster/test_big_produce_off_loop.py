"""Big Produce payloads (issue 13, event-loop budget): ReplicaManager sends them off the loop
(validated and stamped on a worker), the append writes them on the log writer thread, and the
high watermark / the partition result's `written` future wait for that write."""
from __future__ import annotations

import asyncio
import mmap
import sys
import threading
import types
from pathlib import Path

from fastkafka.cluster.replication.replica_manager import OFF_LOOP_REQUEST_BYTES, ReplicaManager
from fastkafka.storage import LogManager, TopicPartition
from fastkafka.storage.file_records import log_writer
from fastkafka.storage.unified_log import Prevalidated

sys.path.insert(0, str(Path(__file__).parents[1] / "interop"))
from hostile_batches import batch, record  # noqa: E402

TID = b"\x03" * 16
TP = TopicPartition("t", 0)


def make_rm(tmp_path: Path) -> ReplicaManager:
    rm = ReplicaManager(1, LogManager([str(tmp_path / "logs")], {}), {})
    regs = [types.SimpleNamespace(partition_id=0, leader=1, leader_epoch=0, partition_epoch=0, replicas=[1], isr=[1])]
    rm.apply_topic("t", TID, regs, {"max.message.bytes": str(8 << 20)})
    return rm


def _payload(total: int) -> bytes:
    n = total // 980 + 1  # records of a bit more than 980 bytes: the payload is over `total`
    return batch(0, b"".join(record(i, value=b"x" * 980) for i in range(n)), n)


def test_which_payloads_go_off_the_loop(tmp_path: Path) -> None:
    rm = make_rm(tmp_path)
    small, big = _payload(1000), _payload(OFF_LOOP_REQUEST_BYTES)
    assert rm.prevalidate(TP, small) is True                                            # inline
    assert rm.prevalidate(TP, small, request_bytes=OFF_LOOP_REQUEST_BYTES) is False      # in a big request
    assert rm.prevalidate(TP, big, request_bytes=len(big) + 100) is False
    assert rm.prevalidate(TopicPartition("nope", 0), big, request_bytes=len(big) + 100) is True  # the append answers
    rm.close()


def test_many_payloads_validated_in_one_job(tmp_path: Path) -> None:
    rm = make_rm(tmp_path)
    good = types.SimpleNamespace(index=0, records=_payload(1000))
    bad = types.SimpleNamespace(index=0, records=_payload(1000)[:-1])
    other = types.SimpleNamespace(index=5, records=_payload(1000))
    got = asyncio.run(rm.validate_many_off_loop([("t", [good, bad, other]), (None, [good])]))
    assert isinstance(got[id(good)], Prevalidated)
    assert got[id(bad)].error == 2  # CORRUPT_MESSAGE (truncated)
    assert id(other) not in got  # not hosted here: the append answers
    rm.close()


def test_big_append_acknowledged_once_written(tmp_path: Path) -> None:
    rm = make_rm(tmp_path)
    data = _payload(2 << 20)
    buf = mmap.mmap(-1, len(data), flags=mmap.MAP_PRIVATE)  # as the connection receives a large frame
    buf[:] = data
    view = memoryview(buf).cast("B")

    async def run() -> None:
        pre = await rm.validate_off_loop(TP, view)
        assert isinstance(pre, Prevalidated) and pre.stamped  # a writable (pooled) buffer
        gate = threading.Event()
        log_writer().submit(gate.wait, 10)  # hold the writer: the write stays pending
        res = rm.append_records(TP, view, 1, validated=pre)
        assert res.error == 0 and res.base_offset == 0 and res.written is not None
        part = rm.partition(TP)
        assert part is not None and part.log.high_watermark == 0 and part.log.log_end_offset > 0
        small = rm.append_records(TP, _payload(1000), 1)  # behind it: its ack waits for the big write
        assert small.error == 0 and small.base_offset == part.log.log_end_offset - 2 and small.written is res.written
        assert not res.written.done()
        gate.set()
        await res.written
        assert part.log.high_watermark == part.log.log_end_offset
    asyncio.run(run())
    rm.close()
