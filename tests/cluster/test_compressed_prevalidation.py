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
