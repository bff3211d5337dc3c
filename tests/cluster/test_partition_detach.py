"""A deleted partition is freed by reference counting alone (no cycle between Partition and its
UnifiedLog survives `detach()`), so GcPolicy's frozen objects never hold a deleted topic; a log
moved to another dir reports its background writes to the partition (replace_log)."""
from __future__ import annotations

import asyncio
import gc
import types
from pathlib import Path

from fastkafka.cluster.replication.replica_manager import ReplicaManager
from fastkafka.storage import LogManager, TopicPartition
from fastkafka.storage.unified_log import UnifiedLog
from fastkafka.storage.log_config import LogConfig

TP = TopicPartition("t", 0)


def _rm(tmp_path: Path) -> ReplicaManager:
    rm = ReplicaManager(1, LogManager([str(tmp_path / "logs")], {}), {})
    regs = [types.SimpleNamespace(partition_id=0, leader=1, leader_epoch=0, partition_epoch=0, replicas=[1], isr=[1])]
    rm.apply_topic("t", b"\x05" * 16, regs, {})
    return rm


def test_deleted_partition_is_freed_without_the_collector(tmp_path: Path) -> None:
    async def main() -> list[str]:
        rm = _rm(tmp_path)
        await asyncio.sleep(0.1)
        gc.collect()
        gc.disable()
        try:
            rm.remove_topic("t")
            await asyncio.sleep(0.2)  # the file worker closes and removes the files
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            left = sorted({type(o).__name__ for o in gc.garbage} & {"Partition", "UnifiedLog", "LogSegment"})
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
        rm.close()
        return left
    assert asyncio.run(main()) == []  # nothing of the partition was left for the collector


def test_replaced_log_reports_to_the_partition(tmp_path: Path) -> None:
    rm = _rm(tmp_path)
    part = rm.partition(TP)
    assert part is not None
    old = part.log
    new = UnifiedLog.open(str(tmp_path / "other" / "t-0"), LogConfig(), topic_partition=TP)
    part.replace_log(new)
    assert part.log is new and old.on_written is None
    assert new.on_written is not None and new.on_written.__self__ is part  # type: ignore[attr-defined]
    new.close()
    rm.close()
