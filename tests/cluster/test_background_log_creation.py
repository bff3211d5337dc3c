"""New partition logs are created on the LogManager's file worker, in slices, off the event loop:
the partition answers NOT_LEADER_OR_FOLLOWER until its log exists, then it is led with its
latest registration; a topic deleted (or re-created) meanwhile leaves no files behind; deleted
logs are renamed `-delete` and removed on the same worker, in order."""
from __future__ import annotations

import asyncio
import os
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fastkafka.cluster.replication.replica_manager import ReplicaManager
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage import LogManager, TopicPartition

TID = b"\x07" * 16
TID2 = b"\x08" * 16


def regs(n: int, epoch: int = 0) -> list[types.SimpleNamespace]:
    return [types.SimpleNamespace(partition_id=i, leader=1, leader_epoch=epoch, partition_epoch=epoch,
                                  replicas=[1], isr=[1]) for i in range(n)]


def make(tmp_path: Path) -> tuple[LogManager, ReplicaManager, ThreadPoolExecutor]:
    lm = LogManager([str(tmp_path / "logs")], {})
    lm.startup()
    pool = lm.file_worker = ThreadPoolExecutor(1)
    rm = ReplicaManager(1, lm, {})
    rm.begin_metadata_publication(inline_logs=0)  # every new log in the background (the broker allows 32 inline)
    return lm, rm, pool


async def settle(pool: ThreadPoolExecutor) -> None:
    """Let the worker drain and the slices' hand-backs run on the loop."""
    for _ in range(5):  # FIFO worker: a round trip after the work, then the hand-backs run
        await asyncio.get_running_loop().run_in_executor(pool, lambda: None)
        await asyncio.sleep(0.01)


def partition_dirs(tmp_path: Path, topic: str) -> list[str]:
    return sorted(d for d in os.listdir(tmp_path / "logs") if d.startswith(topic + "-"))


def test_logs_created_in_slices_off_the_loop(tmp_path: Path) -> None:
    lm, rm, pool = make(tmp_path)

    async def main() -> None:
        rm.apply_topic("big", TID, regs(250), {})
        # Nothing was created on the loop: the partitions are retriable until their log exists.
        assert rm.partition(TopicPartition("big", 0)) is None
        with pytest.raises(KafkaError) as ei:
            rm.leader_partition(TopicPartition("big", 249))
        assert ei.value.code == Errors.NOT_LEADER_OR_FOLLOWER
        # A newer registration arriving meanwhile is the one applied.
        rm.apply_topic("big", TID, regs(250, epoch=5), {})
        await settle(pool)
        for i in range(250):
            part = rm.leader_partition(TopicPartition("big", i))
            assert part.leader_epoch == 5
            assert lm.get_log(TopicPartition("big", i)) is part.log
        assert len(partition_dirs(tmp_path, "big")) == 250

    asyncio.run(main())
    pool.shutdown()
    lm.shutdown()


def test_topic_deleted_while_its_logs_are_created_leaves_nothing(tmp_path: Path) -> None:
    lm, rm, pool = make(tmp_path)

    async def main() -> None:
        rm.apply_topic("gone", TID, regs(120), {})
        rm.remove_topic("gone")
        await settle(pool)
        assert rm.partition(TopicPartition("gone", 0)) is None
        assert lm.get_log(TopicPartition("gone", 0)) is None
        with pytest.raises(KafkaError) as ei:
            rm.leader_partition(TopicPartition("gone", 0))
        assert ei.value.code == Errors.UNKNOWN_TOPIC_OR_PARTITION
        assert partition_dirs(tmp_path, "gone") == []

    asyncio.run(main())
    pool.shutdown()
    lm.shutdown()


def test_small_publication_creates_inline_then_background(tmp_path: Path) -> None:
    lm, rm, pool = make(tmp_path)
    rm.begin_metadata_publication(inline_logs=32, inline_seconds=60)

    async def main() -> None:
        rm.apply_topic("small", TID, regs(4), {})
        assert rm.leader_partition(TopicPartition("small", 3)).log is lm.get_log(TopicPartition("small", 3))
        rm.apply_topic("more", TID2, regs(40), {})  # 28 left inline, the other 12 in the background
        assert rm.partition(TopicPartition("more", 27)) is not None
        assert rm.partition(TopicPartition("more", 28)) is None
        await settle(pool)
        assert all(rm.partition(TopicPartition("more", i)) is not None for i in range(40))

    asyncio.run(main())
    pool.shutdown()
    lm.shutdown()


def test_no_inline_logs_while_the_worker_is_busy_or_after_the_time_budget(tmp_path: Path) -> None:
    """Beside the worker's own creations and removals (the fuzz target making and deleting big
    topics every second) 32 inline creations held the loop 100-171 ms: a publication creates
    inline only while the worker is idle, and beyond its first few (untimed: one creation on a
    loaded machine can take the whole budget) within its loop-time budget."""
    lm, rm, pool = make(tmp_path)

    async def main() -> None:
        rm.apply_topic("big", TID, regs(100), {})  # all to the worker
        assert lm.worker_busy()
        rm.begin_metadata_publication(inline_logs=32, inline_seconds=60)
        rm.apply_topic("small", TID2, regs(2), {})
        assert rm.partition(TopicPartition("small", 0)) is None  # queued behind the worker's files
        await settle(pool)
        assert not lm.worker_busy()
        assert rm.partition(TopicPartition("small", 1)) is not None
        rm.begin_metadata_publication(inline_logs=32, inline_seconds=0, untimed=3)
        rm.apply_topic("late", TID, regs(5), {})
        assert rm.partition(TopicPartition("late", 2)) is not None  # the untimed ones
        assert rm.partition(TopicPartition("late", 3)) is None  # then the time budget was spent
        await settle(pool)
        assert rm.partition(TopicPartition("late", 4)) is not None

    asyncio.run(main())
    pool.shutdown()
    lm.shutdown()


def test_delete_then_recreate_same_name_in_order(tmp_path: Path) -> None:
    lm, rm, pool = make(tmp_path)

    async def main() -> None:
        rm.apply_topic("t", TID, regs(3), {})
        await settle(pool)
        old = rm.leader_partition(TopicPartition("t", 0)).log
        rm.remove_topic("t")
        rm.apply_topic("t", TID2, regs(3), {})  # re-created before the worker removed the old dirs
        await settle(pool)
        new = rm.leader_partition(TopicPartition("t", 0))
        assert new.topic_id == TID2 and new.log is not old
        assert partition_dirs(tmp_path, "t") == ["t-0", "t-1", "t-2"]  # no `-delete` dir left
        assert new.log.topic_id == TID2

    asyncio.run(main())
    pool.shutdown()
    lm.shutdown()
