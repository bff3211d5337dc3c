"""The leader side of replication in `Partition` (issue 14, the commit path): the high watermark is
Kafka's maybeIncrementLeaderHW over the followers' fetch positions, acks=all appends wait for it
(DelayedProduce), and leadership changes complete what waits. Followers are driven here by
`update_follower_fetch_state`, as the leader's Fetch handling will drive them, so every rule is
checked with explicit times (Kafka's PartitionTest does the same)."""
from __future__ import annotations

import asyncio
import sys
import time
import types
from pathlib import Path

import pytest

from fastkafka.cluster.replication.partition import Partition
from fastkafka.cluster.replication.replica_manager import ReplicaManager
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage import LogManager, TopicPartition
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.unified_log import UnifiedLog

sys.path.insert(0, str(Path(__file__).parents[1] / "interop"))
from hostile_batches import batch, record  # noqa: E402

TP = TopicPartition("t", 0)
LAG_MS = 30_000
T0 = int(time.time() * 1000)


def _records(n: int) -> bytes:
    return batch(0, b"".join(record(i) for i in range(n)), n)


def _partition(tmp_path: Path, min_isr: int = 2, replicas: list[int] | None = None,
               isr: list[int] | None = None) -> tuple[Partition, LogConfig]:
    config = LogConfig.from_props({}, {"min.insync.replicas": str(min_isr)})
    log = UnifiedLog.open(str(tmp_path / "t-0"), config, topic_partition=TP)
    part = Partition(TP, b"\x07" * 16, log, local_node_id=1, replica_lag_time_max_ms=LAG_MS)
    replicas = replicas or [1, 2, 3]
    part.update_registration(1, 0, 0, replicas, isr or list(replicas), now_ms=T0)
    return part, config


def _append(part: Partition, config: LogConfig, n: int, acks: int = -1) -> int:
    info = part.append_records_to_leader(_records(n), acks, T0, config)
    return info.last_offset + 1


def test_high_watermark_is_the_smallest_isr_log_end(tmp_path: Path) -> None:
    part, config = _partition(tmp_path)
    assert set(part.remote_replicas) == {2, 3}
    end = _append(part, config, 10)
    assert part.log.high_watermark == 0  # the followers' positions are unknown to a new leader
    part.update_follower_fetch_state(2, 10, 0, T0 + 1, end)
    assert part.log.high_watermark == 0  # replica 3 (in the ISR) has fetched nothing yet
    part.update_follower_fetch_state(3, 4, 0, T0 + 2, end)
    assert part.log.high_watermark == 4
    part.update_follower_fetch_state(3, 10, 0, T0 + 3, end)
    assert part.log.high_watermark == 10
    part.log.close()


def test_acks_all_waits_for_the_high_watermark(tmp_path: Path) -> None:
    async def main() -> None:
        part, config = _partition(tmp_path)
        end = _append(part, config, 5)
        fut = part.await_replication(end)
        assert fut is not None and not fut.done()
        assert part.delayed_produce_count() == 1
        part.update_follower_fetch_state(2, end, 0, T0 + 1, end)
        assert not fut.done()
        part.update_follower_fetch_state(3, end, 0, T0 + 1, end)
        assert fut.done() and fut.result() == Errors.NONE
        assert part.delayed_produce_count() == 0
        assert part.await_replication(end) is None  # committed already: nothing to wait for
        part.log.close()
    asyncio.run(main())


def test_a_caught_up_follower_outside_the_isr_holds_the_high_watermark(tmp_path: Path) -> None:
    """Kafka's shouldWaitForReplicaToJoinIsr: a follower that is caught up will be added to the
    ISR, so the high watermark waits for it rather than commit records it lacks."""
    part, config = _partition(tmp_path, replicas=[1, 2, 3], isr=[1, 2])
    end = _append(part, config, 10)
    part.update_follower_fetch_state(2, end, 0, T0 + 1, end)
    assert part.log.high_watermark == 10  # replica 3: out of the ISR, never caught up
    part.update_follower_fetch_state(3, end, 0, T0 + 2, end)  # caught up with the leader's end
    end2 = _append(part, config, 5)
    part.update_follower_fetch_state(2, end2, 0, T0 + 3, end2)
    assert part.log.high_watermark == 10  # replica 3 is caught up (within the lag time): waited for
    part.update_follower_fetch_state(3, end, 0, T0 + LAG_MS + 10, end2)  # lagging for longer than that
    part.update_follower_fetch_state(2, end2, 0, T0 + LAG_MS + 10, end2)
    assert part.log.high_watermark == end2
    part.log.close()


def test_isr_under_the_minimum_refuses_acks_all_and_freezes_the_high_watermark(tmp_path: Path) -> None:
    part, config = _partition(tmp_path, min_isr=2)
    end = _append(part, config, 3)
    part.update_follower_fetch_state(2, end, 0, T0 + 1, end)
    part.update_follower_fetch_state(3, end, 0, T0 + 1, end)
    assert part.log.high_watermark == 3
    part.update_registration(1, 0, 1, [1, 2, 3], [1], now_ms=T0 + 2)  # the controller shrank the ISR
    with pytest.raises(KafkaError) as e:
        _append(part, config, 1, acks=-1)
    assert e.value.code == Errors.NOT_ENOUGH_REPLICAS
    end = _append(part, config, 2, acks=1)  # acks=1 is never refused for the ISR size
    part.update_follower_fetch_state(2, end, 0, T0 + 3, end)
    assert part.log.high_watermark == 3  # KIP-966: no commit while under the minimum ISR
    # An append the high watermark passed before the shrink: written, but not to enough replicas.
    assert part.check_enough_replicas_reach_offset(3) == (True, Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND)
    part.log.close()


def test_effective_min_isr_is_capped_by_the_replicas(tmp_path: Path) -> None:
    part, config = _partition(tmp_path, min_isr=2, replicas=[1], isr=[1])
    assert part.effective_min_isr() == 1
    end = _append(part, config, 4)  # acks=all on a single replica: committed at once
    assert part.log.high_watermark == end
    assert part.check_enough_replicas_reach_offset(end) == (True, Errors.NONE)
    part.log.close()


def test_losing_leadership_completes_waiting_produces(tmp_path: Path) -> None:
    async def main() -> None:
        part, config = _partition(tmp_path)
        fut = part.await_replication(_append(part, config, 2))
        assert fut is not None
        part.update_registration(2, 1, 1, [1, 2, 3], [1, 2, 3], now_ms=T0 + 1)  # follower now
        assert fut.result() == Errors.NOT_LEADER_OR_FOLLOWER
        assert part.remote_replicas == {}
        with pytest.raises(KafkaError):
            part.update_follower_fetch_state(3, 2, 0, T0 + 2, 2)
        part.log.close()

        part2, config2 = _partition(tmp_path / "b")
        fut2 = part2.await_replication(_append(part2, config2, 2))
        part2.detach()  # the topic was deleted
        assert fut2 is not None and fut2.result() == Errors.NOT_LEADER_OR_FOLLOWER
        part2.log.close()
    asyncio.run(main())


def test_a_new_leader_epoch_resets_what_the_leader_knows(tmp_path: Path) -> None:
    part, config = _partition(tmp_path)
    end = _append(part, config, 3)
    part.update_follower_fetch_state(2, end, 0, T0 + 1, end)
    part.update_registration(2, 1, 1, [1, 2, 3], [1, 2, 3], now_ms=T0 + 2)  # follower
    part.update_registration(1, 2, 2, [1, 2, 3], [1, 2, 3], now_ms=T0 + 3)  # leader again
    assert all(r.log_end_offset == -1 for r in part.remote_replicas.values())
    part.log.close()


def test_timed_out_produces_are_purged(tmp_path: Path) -> None:
    from fastkafka.cluster.replication import partition as partition_module

    async def main() -> None:
        part, config = _partition(tmp_path)
        for _ in range(partition_module.PURGE_DELAYED_PRODUCES + 10):
            fut = part.await_replication(_append(part, config, 1))
            assert fut is not None
            fut.cancel()  # the request's timeout
        assert part.delayed_produce_count() <= 11
        part.log.close()
    asyncio.run(main())


def test_replica_manager_returns_the_delayed_produce_for_acks_all(tmp_path: Path) -> None:
    async def main() -> None:
        rm = ReplicaManager(1, LogManager([str(tmp_path / "logs")], {}), {})
        regs = [types.SimpleNamespace(partition_id=0, leader=1, leader_epoch=0, partition_epoch=0,
                                      replicas=[1, 2], isr=[1, 2])]
        rm.apply_topic("t", b"\x08" * 16, regs, {})
        res = rm.append_records(TP, _records(2), -1)
        assert res.error == 0 and res.replicated is not None and not res.replicated.done()
        res1 = rm.append_records(TP, _records(2), 1)
        assert res1.error == 0 and res1.replicated is None  # acks=1: the leader's log is enough
        part = rm.partition(TP)
        assert part is not None
        part.update_follower_fetch_state(2, 4, 0, T0, 4)
        assert res.replicated.result() == Errors.NONE
        rm.close()
    asyncio.run(main())


def test_produce_answers_each_delayed_partition_or_times_it_out() -> None:
    """k00_produce's DelayedProduce wait: a committed partition keeps error 0, one whose ISR shrank
    answers NOT_ENOUGH_REPLICAS_AFTER_APPEND, one still waiting after timeout_ms answers
    REQUEST_TIMED_OUT with its base offset (the records stay in the log, as in Kafka)."""
    from fastkafka.net.handlers.k00_produce import _await_replication
    from fastkafka.protocol.messages import ProduceResponse

    async def main() -> list[tuple[int, int]]:
        loop = asyncio.get_running_loop()
        parts = [ProduceResponse.PartitionProduceResponse(index=i, error_code=0, base_offset=10 * i)
                 for i in range(3)]
        futs: list[asyncio.Future[int]] = [loop.create_future() for _ in range(3)]
        loop.call_later(0.01, futs[0].set_result, Errors.NONE)
        futs[1].set_result(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND)
        await _await_replication(list(zip(parts, futs)), timeout_ms=100)
        assert futs[2].cancelled()
        return [(p.error_code, p.base_offset) for p in parts]
    assert asyncio.run(main()) == [(Errors.NONE, 0), (Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND, 10),
                                   (Errors.REQUEST_TIMED_OUT, 20)]


def test_leadership_listeners_hear_election_resignation_and_removal(tmp_path: Path) -> None:
    """The one leadership hook (ReplicaManager.add_leadership_listener): what the group and
    transaction coordinators load and unload their partitions on."""
    from fastkafka.cluster.replication.replica_manager import LeadershipChange

    rm = ReplicaManager(1, LogManager([str(tmp_path / "logs")], {}), {})
    tid = b"\x09" * 16

    def reg(leader: int, epoch: int, pid: int = 0) -> types.SimpleNamespace:
        return types.SimpleNamespace(partition_id=pid, leader=leader, leader_epoch=epoch, partition_epoch=epoch,
                                     replicas=[1, 2], isr=[1, 2])
    rm.apply_topic("__consumer_offsets", tid, [reg(1, 0, 0), reg(2, 0, 1)], {})
    heard: list[LeadershipChange] = []
    rm.add_leadership_listener("__consumer_offsets", heard.append)
    other: list[LeadershipChange] = []
    rm.add_leadership_listener("t", other.append)
    p0, p1 = TopicPartition("__consumer_offsets", 0), TopicPartition("__consumer_offsets", 1)
    assert heard == [LeadershipChange(p0, 0, True)]  # led already: announced at once
    rm.apply_topic("__consumer_offsets", tid, [reg(1, 0, 0), reg(2, 0, 1)], {})
    assert len(heard) == 1  # the same registration again: no change
    rm.apply_topic("__consumer_offsets", tid, [reg(2, 1, 0), reg(1, 1, 1)], {})
    assert heard[1:] == [LeadershipChange(p0, 1, False), LeadershipChange(p1, 1, True)]
    rm.apply_topic("__consumer_offsets", tid, [reg(2, 1, 0), reg(1, 2, 1)], {})
    assert heard[3:] == [LeadershipChange(p1, 2, True)]  # re-elected at a new epoch
    rm.remove_topics({"__consumer_offsets"})
    assert heard[4:] == [LeadershipChange(p1, -1, False, removed=True)]
    assert other == []
    rm.close()


def _rm_with_follower(tmp_path: Path) -> ReplicaManager:
    rm = ReplicaManager(1, LogManager([str(tmp_path / "logs")], {}), {})
    regs = [types.SimpleNamespace(partition_id=0, leader=1, leader_epoch=3, partition_epoch=0,
                                  replicas=[1, 2], isr=[1, 2])]
    rm.apply_topic("t", b"\x0a" * 16, regs, {})
    return rm


def test_a_follower_fetch_reads_past_the_high_watermark_and_commits_what_it_has(tmp_path: Path) -> None:
    from fastkafka.cluster.replication.replica_manager import FetchPartitionRequest

    async def main() -> None:
        rm = _rm_with_follower(tmp_path)
        res = rm.append_records(TP, _records(3), -1)
        assert res.replicated is not None and not res.replicated.done()
        consumer = await rm.fetch_messages([FetchPartitionRequest(TP, 0, 1 << 20)], max_wait_ms=0, min_bytes=1,
                                           max_bytes=1 << 20, isolation_level=0)
        assert consumer[0].high_watermark == 0 and not consumer[0].records  # nothing committed yet
        first = await rm.fetch_messages([FetchPartitionRequest(TP, 0, 1 << 20, 3, 0, -1)], max_wait_ms=0,
                                        min_bytes=1, max_bytes=1 << 20, isolation_level=0, replica_id=2)
        assert first[0].error == 0 and len(first[0].records) > 0  # up to the log end, for the follower
        assert not res.replicated.done()  # fetch offset 0: the follower has nothing yet
        await rm.fetch_messages([FetchPartitionRequest(TP, 3, 1 << 20, 3, 0, 3)], max_wait_ms=0,
                                min_bytes=1, max_bytes=1 << 20, isolation_level=0, replica_id=2)
        assert res.replicated.done() and res.replicated.result() == Errors.NONE
        part = rm.partition(TP)
        assert part is not None and part.log.high_watermark == 3
        rm.close()
    asyncio.run(main())


def test_a_follower_fetch_from_a_diverged_log_or_an_unknown_replica(tmp_path: Path) -> None:
    from fastkafka.cluster.replication.replica_manager import FetchPartitionRequest

    async def main() -> None:
        rm = _rm_with_follower(tmp_path)
        rm.append_records(TP, _records(3), 1)
        # The follower has epoch-3 records up to offset 7; the leader's epoch 3 ends at 3.
        diverged = await rm.fetch_messages([FetchPartitionRequest(TP, 7, 1 << 20, 3, 0, 3)], max_wait_ms=0,
                                           min_bytes=1, max_bytes=1 << 20, isolation_level=0, replica_id=2)
        assert diverged[0].error == 0 and diverged[0].diverging_epoch == (3, 3) and not diverged[0].records
        # An epoch newer than any the leader knows: undefined (-1, -1), as Kafka's endOffsetFor.
        newer = await rm.fetch_messages([FetchPartitionRequest(TP, 3, 1 << 20, 3, 0, 5)], max_wait_ms=0,
                                        min_bytes=1, max_bytes=1 << 20, isolation_level=0, replica_id=2)
        assert newer[0].diverging_epoch == (-1, -1)
        part = rm.partition(TP)
        assert part is not None and part.remote_replicas[2].log_end_offset == -1  # no position taken
        stranger = await rm.fetch_messages([FetchPartitionRequest(TP, 0, 1 << 20)], max_wait_ms=0, min_bytes=1,
                                           max_bytes=1 << 20, isolation_level=0, replica_id=9)
        assert stranger[0].error == Errors.NOT_LEADER_OR_FOLLOWER
        rm.close()
    asyncio.run(main())
