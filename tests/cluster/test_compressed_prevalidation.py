"""ReplicaManager.prevalidate / validate_off_loop: compressed payloads are validated before their
append, inline up to INLINE_DECOMPRESSED_BYTES of records, else on the worker threads."""
from __future__ import annotations

import asyncio
import random
import sys
import types
from pathlib import Path

from fastkafka.cluster.replication import replica_manager as rm_mod
from fastkafka.cluster.replication.replica_manager import ReplicaManager
from fastkafka.storage import LogManager, TopicPartition
from fastkafka.storage.unified_log import Prevalidated

sys.path.insert(0, str(Path(__file__).parents[1] / "interop"))
from hostile_batches import batch, compress, compressed_records_stream, record  # noqa: E402

TID = b"\x02" * 16
TP = TopicPartition("t", 0)


def make_rm(tmp_path: Path, compact: bool = False) -> ReplicaManager:
    rm = ReplicaManager(1, LogManager([str(tmp_path / "logs")], {}), {})
    regs = [types.SimpleNamespace(partition_id=0, leader=1, leader_epoch=0, partition_epoch=0, replicas=[1], isr=[1])]
    rm.apply_topic("t", TID, regs, {"cleanup.policy": "compact"} if compact else {})
    return rm


def test_prevalidate_outcomes(tmp_path: Path) -> None:
    rm = make_rm(tmp_path)
    three = b"".join(record(i) for i in range(3))
    assert rm.prevalidate(TP, batch(0, three, 3)) is True                    # uncompressed: the append walks it
    assert rm.prevalidate(TopicPartition("nope", 0), batch(4, compress(4, three), 3)) is True
    assert rm.prevalidate(TP, batch(4, compress(4, three), 3)) is None       # valid
    bad = rm.prevalidate(TP, batch(1, random.Random(1).randbytes(300), 3))
    assert bad is not None and bad is not True and (bad.error, bad.error_message) == (-1, None)
    big = batch(4, compressed_records_stream(4, iter([record(i, value=bytes(1 << 20)) for i in range(8)])), 8)
    assert rm.prevalidate(TP, big) is False                                   # > 4 MiB of records
    # Valid: the payload's validation (and timestamp stamping) result, for append_records(validated=).
    assert isinstance(asyncio.run(rm.validate_off_loop(TP, big)), Prevalidated)
    rm.close()


def test_off_loop_keyless_record_lists_it(tmp_path: Path) -> None:
    rm = make_rm(tmp_path, compact=True)
    recs = [record(i, key=None if i == 5 else b"k", value=bytes(1 << 20)) for i in range(8)]
    big = batch(4, compressed_records_stream(4, iter(recs)), 8)
    assert rm.prevalidate(TP, big) is False
    res = asyncio.run(rm.validate_off_loop(TP, big))
    assert res is not None and res.error == 87 and [i for i, _ in res.record_errors] == [5]
    assert rm_mod.INLINE_DECOMPRESSED_BYTES < 8 << 20
    rm.close()


# --- recompression (topic compression.type) routed off the loop ------------------------------

def make_rm_codec(tmp_path: Path, config: dict[str, str]) -> ReplicaManager:
    rm = ReplicaManager(1, LogManager([str(tmp_path / "logs")], {}), {})
    regs = [types.SimpleNamespace(partition_id=0, leader=1, leader_epoch=0, partition_epoch=0, replicas=[1], isr=[1])]
    rm.apply_topic("t", TID, regs, config)
    return rm


def _stored_codecs(rm: ReplicaManager) -> list[int]:
    from fastkafka._native import record_batch as _rb
    log = rm.partition(TP).log  # type: ignore[union-attr]
    data = b"".join(seg.log.read_bytes(0) for seg in log.segments)
    out, pos = [], 0
    while pos < len(data):
        h = _rb.read_batch_header(data, pos)
        out.append(h.attributes & 7)
        pos += h.size
    return out


def test_big_rebuild_prevalidated_on_worker(tmp_path: Path) -> None:
    rm = make_rm_codec(tmp_path, {"compression.type": "zstd", "max.message.bytes": str(4 << 20)})
    small = batch(3, compress(3, b"".join(record(i) for i in range(3))), 3)
    assert rm.prevalidate(TP, small) is None                                  # small lz4: rebuilt inline by the append
    big_plain = batch(0, b"".join(record(i, value=random.Random(i).randbytes(300 << 10)) for i in range(4)), 4)
    assert rm.prevalidate(TP, big_plain) is False                             # uncompressed 1.2 MiB -> zstd: worker
    pre = asyncio.run(rm.validate_off_loop(TP, big_plain))
    assert isinstance(pre, Prevalidated) and pre.records is not None and pre.records[21:23] == b"\x00\x04"
    assert pre.stamped  # the rebuild (a bytearray of ours) was stamped on the worker
    assert rm.append_records(TP, small, 1, compressed_checked=True).error == 0
    res = rm.append_records(TP, big_plain, 1, validated=pre)
    assert (res.error, res.base_offset) == (0, 3)
    assert _stored_codecs(rm) == [4, 4]
    rm.close()


def test_prevalidated_ignored_after_config_change(tmp_path: Path) -> None:
    rm = make_rm_codec(tmp_path, {"compression.type": "gzip"})
    big = batch(4, compressed_records_stream(4, iter([record(i, value=bytes(100 << 10)) for i in range(4)])), 4)
    assert rm.prevalidate(TP, big) is False                                   # 400 KiB of records -> gzip: worker
    pre = asyncio.run(rm.validate_off_loop(TP, big))
    assert isinstance(pre, Prevalidated) and pre.records is not None
    regs = [types.SimpleNamespace(partition_id=0, leader=1, leader_epoch=0, partition_epoch=0, replicas=[1], isr=[1])]
    rm.apply_topic("t", TID, regs, {"compression.type": "snappy"})           # AlterConfigs meanwhile
    assert rm.append_records(TP, big, 1, compressed_checked=True, validated=pre).error == 0
    assert _stored_codecs(rm) == [2]                                          # the new codec, rebuilt again
    rm.close()


def test_rebuilt_over_max_message_bytes_off_loop(tmp_path: Path) -> None:
    rm = make_rm_codec(tmp_path, {"compression.type": "uncompressed", "max.message.bytes": "100000"})
    big = batch(4, compressed_records_stream(4, iter([record(i, value=bytes(100 << 10)) for i in range(20)])), 20)
    assert rm.prevalidate(TP, big) is False                                   # 2 MiB of records
    res = asyncio.run(rm.validate_off_loop(TP, big))
    assert res is not None and (res.error, res.error_message) == (10, None)  # MESSAGE_TOO_LARGE, as Kafka 4.4
    rm.close()


def test_rebuilt_batch_stamped_off_loop_and_written_by_log_writer(tmp_path: Path) -> None:
    """One off-loop path for big payloads and big rebuilds: UnifiedLog.prevalidate rebuilds the
    payload for the topic's codec and stamps the rebuild (LogAppendTime here) on the worker; the
    append takes it without a copy and the log writer thread writes it (the ack waits for it).
    The request's own bytes are left as sent."""
    import crc32c
    from fastkafka._native import record_batch as _rb
    rm = make_rm_codec(tmp_path, {"compression.type": "zstd", "message.timestamp.type": "LogAppendTime",
                                  "max.message.bytes": str(4 << 20)})
    sent = bytearray(batch(0, b"".join(record(i, value=random.Random(i).randbytes(300 << 10)) for i in range(4)), 4))
    as_sent = bytes(sent)
    view = memoryview(sent)  # writable, as a pooled request buffer

    async def run() -> int:
        assert rm.prevalidate(TP, view) is False
        pre = await rm.validate_off_loop(TP, view)
        assert isinstance(pre, Prevalidated) and pre.records is not None and pre.stamped
        assert pre.log_append_time > 0 and bytes(sent) == as_sent
        res = rm.append_records(TP, view, 1, validated=pre)
        assert (res.error, res.base_offset, res.log_append_time_ms) == (0, 0, pre.log_append_time)
        assert res.written is not None
        await res.written
        return pre.log_append_time
    append_time = asyncio.run(run())
    log = rm.partition(TP).log  # type: ignore[union-attr]
    data = b"".join(seg.log.read_bytes(0) for seg in log.segments)
    h = _rb.read_batch_header(data, 0)
    assert (h.size, h.attributes & 0x0F) == (len(data), 0x08 | 4)      # one batch: zstd, LogAppendTime
    assert h.max_timestamp == append_time
    assert crc32c.crc32c(data[21:]) == int.from_bytes(data[17:21], "big")
    assert log.high_watermark == log.log_end_offset == 4
    rm.close()
