"""Big appends written by the log writer thread (UnifiedLog.prevalidate + append_as_leader(validated=)):
offsets stay in append order, the high watermark and acknowledgements never pass unwritten bytes,
flush/truncation/close wait for them, and the stamped bytes are what a synchronous append writes."""
from __future__ import annotations

import asyncio
import mmap
import struct
import threading

import pytest

from batches import batch, now_ms, read_values
from fastkafka._native import record_batch as _rb
from fastkafka.storage.file_records import log_writer
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import UnifiedLog

TP = TopicPartition("topic", 0)
BIG = 1 << 20


def _config(**overrides: str) -> LogConfig:
    return LogConfig.from_props({}, {"max.message.bytes": str(8 << 20), **overrides})


def _pooled(data: bytes) -> tuple[mmap.mmap, memoryview]:
    """`data` in an anonymous mmap, as a large request frame is received (net/memory_pool.py)."""
    m = mmap.mmap(-1, len(data) + 100)
    m[100:] = data
    return m, memoryview(m).cast("B")[100:]


def _big_batch(ts: int | None = None) -> bytes:
    return batch(1100, value=b"x" * 1000, ts=ts)


def _file_batches(log: UnifiedLog) -> list[_rb.BatchHeader]:
    seg = log.active_segment
    data = seg.log.read_bytes(0, seg.log.size)
    headers, end, err = _rb.scan_batches(data, 0, True)
    assert end == len(data) and not err
    return headers


def _blocked_writer() -> threading.Event:
    """Hold the log writer thread until the returned event is set (what is queued waits)."""
    gate = threading.Event()
    log_writer().submit(gate.wait, 10)
    return gate


def test_big_append_is_written_by_the_writer_thread(tmp_path) -> None:
    async def run() -> None:
        log = UnifiedLog.open(str(tmp_path / "topic-0"), _config(), topic_partition=TP)
        log.append_as_leader(batch(3), 0, now_ms=now_ms())
        log.update_high_watermark(log.log_end_offset)
        data = _big_batch()
        assert len(data) > BIG
        m, view = _pooled(data)
        pre = await asyncio.get_running_loop().run_in_executor(None, lambda: log.prevalidate(view, now_ms=now_ms()))
        assert pre.stamped
        gate = _blocked_writer()
        info = log.append_as_leader(view, 0, now_ms=now_ms(), validated=pre)
        assert (info.first_offset, log.log_end_offset) == (3, 1103)
        # Not written yet: the high watermark cannot pass it, and a small append behind it gets
        # the next offsets at once.
        assert log.durable_end_offset == 3
        assert log.update_high_watermark(log.log_end_offset) == 3
        log.append_as_leader(batch(2), 0, now_ms=now_ms())
        assert log.log_end_offset == 1105 and log.durable_end_offset == 3
        written = log.unwritten_future()
        assert written is not None and not written.done()
        gate.set()
        await written
        assert log.durable_end_offset == 1105 and log.unwritten_future() is None
        assert log.update_high_watermark(log.log_end_offset) == 1105
        assert [(h.base_offset, h.last_offset) for h in _file_batches(log)] == [(0, 2), (3, 1102), (1103, 1104)]
        values = read_values(log.active_segment.log.read_bytes(0, log.active_segment.log.size))
        assert [o for o, _v in values] == list(range(1105))
        log.close()
        del view, pre
        m.close()
    asyncio.run(run())


@pytest.mark.parametrize("log_append_time", [False, True])
def test_stamped_bytes_equal_a_synchronous_append(tmp_path, log_append_time: bool) -> None:
    """stamp_timestamps on the worker + assign_offsets(stamped=True) writes what assign_offsets
    writes (MaxTimestamp recomputed from the records, the LogAppendTime attribute, the CRC)."""
    overrides = {"message.timestamp.type": "LogAppendTime"} if log_append_time else {}
    data = bytearray(_big_batch(ts=now_ms() - 1000))
    struct.pack_into(">q", data, 35, 0)  # a wrong MaxTimestamp (outside the CRC check: fix the CRC)
    struct.pack_into(">I", data, 17, _rb.crc32c(bytes(data[21:])))
    now = now_ms()
    expected = bytearray(data)
    _rb.assign_offsets(expected, 7, 3, now if log_append_time else -1)

    async def run() -> bytes:
        log = UnifiedLog.open(str(tmp_path / "topic-0"), _config(**overrides), topic_partition=TP)
        log.truncate_fully_and_start_at(7)
        m, view = _pooled(bytes(data))
        pre = await asyncio.get_running_loop().run_in_executor(None, lambda: log.prevalidate(view, now_ms=now))
        info = log.append_as_leader(view, 3, now_ms=now + 5, validated=pre)
        assert info.log_append_time == (now if log_append_time else -1)
        await log.unwritten_future()
        out = log.active_segment.log.read_bytes(0, log.active_segment.log.size)
        log.close()
        del view, pre
        m.close()
        return out
    assert asyncio.run(run()) == bytes(expected)


def test_flush_truncate_and_close_wait_for_the_writer(tmp_path) -> None:
    async def run() -> None:
        log = UnifiedLog.open(str(tmp_path / "topic-0"), _config(), topic_partition=TP)
        m, view = _pooled(_big_batch())
        pre = await asyncio.get_running_loop().run_in_executor(None, lambda: log.prevalidate(view, now_ms=now_ms()))
        gate = _blocked_writer()
        log.append_as_leader(view, 0, now_ms=now_ms(), validated=pre)
        threading.Timer(0.2, gate.set).start()
        log.flush()  # blocks until written, then fsyncs
        assert log.recovery_point == log.log_end_offset == 1100
        assert log.durable_end_offset == 1100
        assert [(h.base_offset, h.last_offset) for h in _file_batches(log)] == [(0, 1099)]
        m2, view2 = _pooled(_big_batch())
        pre2 = await asyncio.get_running_loop().run_in_executor(None, lambda: log.prevalidate(view2, now_ms=now_ms()))
        gate = _blocked_writer()
        log.append_as_leader(view2, 0, now_ms=now_ms(), validated=pre2)
        threading.Timer(0.2, gate.set).start()
        assert log.truncate_to(1100)
        assert log.log_end_offset == 1100 and log.durable_end_offset == 1100
        assert [(h.base_offset, h.last_offset) for h in _file_batches(log)] == [(0, 1099)]
        log.close()
        del view, view2, pre, pre2
        m.close()
        m2.close()
    asyncio.run(run())


def test_config_change_after_prevalidation_validates_again(tmp_path) -> None:
    async def run() -> None:
        log = UnifiedLog.open(str(tmp_path / "topic-0"), _config(), topic_partition=TP)
        m, view = _pooled(_big_batch())
        pre = await asyncio.get_running_loop().run_in_executor(None, lambda: log.prevalidate(view, now_ms=now_ms()))
        log.update_config(_config(**{"max.message.bytes": "1000"}))
        with pytest.raises(Exception) as ei:
            log.append_as_leader(view, 0, now_ms=now_ms(), validated=pre)
        assert getattr(ei.value, "error", None) == 10  # MESSAGE_TOO_LARGE under the new config
        assert log.log_end_offset == 0
        log.close()
    asyncio.run(run())


def test_without_a_loop_or_writable_buffer_the_append_is_synchronous(tmp_path) -> None:
    log = UnifiedLog.open(str(tmp_path / "topic-0"), _config(), topic_partition=TP)
    data = _big_batch()
    pre = log.prevalidate(memoryview(data), now_ms=now_ms())
    assert not pre.stamped  # read-only bytes: stamped by the append, on a copy
    log.append_as_leader(memoryview(data), 0, now_ms=now_ms(), validated=pre)
    assert log.durable_end_offset == log.log_end_offset == 1100
    assert [(h.base_offset, h.last_offset) for h in _file_batches(log)] == [(0, 1099)]
    log.close()
