"""CoordinatorShards: which partitions of a coordinator's internal topic (`__consumer_offsets`,
`__transaction_state`) this node serves, driven by the replica manager's one leadership hook.

Kafka's names: a coordinator partition is a *shard* (CoordinatorRuntime). Becoming leader of
partition P at epoch E schedules a load of P (GroupCoordinatorService.onElection,
TransactionStateManager.loadTransactionsForTxnTopicPartition); losing it unloads P
(onResignation, removeTransactionsForTxnTopicPartition): its groups or transactions leave the
cache and their requests answer NOT_COORDINATOR, so clients find the new coordinator.

States of a shard, as CoordinatorRuntime's: LOADING (queued or replaying; the coordinator answers
COORDINATOR_LOAD_IN_PROGRESS), ACTIVE at an epoch, FAILED (the replay raised; NOT_COORDINATOR).
A partition in none of them is not served here (NOT_COORDINATOR).

Invariants:
- one owner: these sets are mutated only here (tests may poke `loading` to hold a shard);
- a partition with nothing to replay (empty below its high watermark) is ACTIVE at its election;
  other loads run one at a time, in the order of elections, in a task that yields to the event loop
  between the replay's slices (the replay is a generator; nothing proportional to the log runs
  in one callback);
- an election at an epoch older than the shard's is ignored (Kafka logs "Ignored ... epoch");
  a resignation unloads whatever the shard's state, and a load it interrupts never reports
  loaded: its partial state is dropped by the coordinator's unload callback;
- event loop only.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Protocol

from fastkafka.cluster.replication.partition import Partition
from fastkafka.cluster.replication.replica_manager import LeadershipChange, LeadershipListener
from fastkafka.protocol.errors import Errors
from fastkafka.storage import TopicPartition

log = logging.getLogger(__name__)


class LeadershipSource(Protocol):
    """What a coordinator needs of the replica manager to follow its partitions' leadership."""

    def add_leadership_listener(self, topic: str, listener: LeadershipListener) -> None: ...

    def partition(self, tp: TopicPartition) -> Partition | None: ...


async def wait_committed(part: Partition, timeout_ms: int) -> int:
    """Until the high watermark of `part` passes everything appended to it so far: a
    coordinator's write is answered once committed, as Kafka's CoordinatorRuntime and
    appendTransactionToLog answer from the acks=all callback. The partition's error (NONE,
    NOT_LEADER_OR_FOLLOWER when leadership is lost) or REQUEST_TIMED_OUT after `timeout_ms`; the
    caller maps it as Kafka does. On one node, or with followers caught up, at once."""
    fut = part.await_replication(part.log.log_end_offset)
    if fut is None:
        return 0
    try:
        return await asyncio.wait_for(asyncio.shield(fut), timeout_ms / 1000)
    except asyncio.TimeoutError:
        fut.cancel()  # the partition drops it at its next completion pass
        return Errors.REQUEST_TIMED_OUT


# replay(partition) yields after each slice; its value is only counted for the log line.
Replay = Callable[[Partition], Iterator[int]]


class CoordinatorShards:
    def __init__(self, topic: str, replay: Replay,
                 on_loaded: Callable[[Partition], None],
                 on_unloaded: Callable[[int], None],
                 load_delay_s: Callable[[], float] = lambda: 0.0) -> None:
        self.topic = topic
        self._replay = replay
        self._on_loaded = on_loaded
        self._on_unloaded = on_unloaded
        self._load_delay_s = load_delay_s  # test hook: hold LOADING that long before a replay
        self.loading: set[int] = set()
        self.failed: set[int] = set()
        self.active: dict[int, int] = {}  # partition -> the leader epoch it was loaded at
        self._epochs: dict[int, int] = {}  # partition -> the epoch of its latest election
        self._queue: deque[int] = deque()
        self._source: LeadershipSource | None = None
        self._task: asyncio.Task[None] | None = None

    def attach(self, source: LeadershipSource) -> asyncio.Task[None] | None:
        """Follow `source`'s leadership of the topic; partitions led already are loaded at once.
        Returns the task loading them (None if none), so start-up can wait for it."""
        self._source = source
        source.add_leadership_listener(self.topic, self.on_leadership_change)
        return self._task

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._queue.clear()

    # -- the hook -----------------------------------------------------------------------------
    def on_leadership_change(self, change: LeadershipChange) -> None:
        partition = change.topic_partition.partition
        if change.is_leader:
            known = self._epochs.get(partition)
            if known is not None and change.leader_epoch < known:
                log.info("Ignored loading %s-%d at epoch %d: epoch %d is newer", self.topic, partition,
                         change.leader_epoch, known)
                return
            if known == change.leader_epoch and (partition in self.loading or partition in self.active):
                return  # the same election announced again
            if partition in self.active or partition in self.failed:
                self._unload(partition)  # a new epoch of our own leadership: load afresh
            self._epochs[partition] = change.leader_epoch
            part = self._source.partition(change.topic_partition) if self._source is not None else None
            if part is not None and part.is_leader and part.log.log_start_offset >= part.log.high_watermark:
                # Nothing to replay (a partition just created): served at once. Answering
                # COORDINATOR_LOAD_IN_PROGRESS here sent a KafkaJS consumer into a restart
                # backoff longer than the group's initial rebalance delay.
                self.active[partition] = change.leader_epoch
                self._on_loaded(part)
                return
            self.loading.add(partition)
            self._queue.append(partition)
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(
                    self._load_queued(), name=f"{self.topic}-load")
        else:
            self._epochs.pop(partition, None)
            self._unload(partition)

    def _unload(self, partition: int) -> None:
        was_served = partition in self.loading or partition in self.active or partition in self.failed
        self.loading.discard(partition)
        self.failed.discard(partition)
        self.active.pop(partition, None)
        try:
            self._queue.remove(partition)
        except ValueError:
            pass
        if was_served:
            self._on_unloaded(partition)
            log.info("Unloaded %s-%d", self.topic, partition)

    # -- loading ------------------------------------------------------------------------------
    async def _load_queued(self) -> None:
        delay = self._load_delay_s()
        if delay > 0:
            await asyncio.sleep(delay)
        while self._queue:
            partition = self._queue.popleft()
            await self._load(partition)

    async def _load(self, partition: int) -> None:
        assert self._source is not None
        epoch = self._epochs.get(partition)
        part = self._source.partition(TopicPartition(self.topic, partition))
        if epoch is None or part is None or not part.is_leader or part.leader_epoch != epoch:
            self.loading.discard(partition)  # led no more, or by a newer election queued behind
            return
        start = time.monotonic()
        loaded = 0
        try:
            for n in self._replay(part):
                loaded += n
                await asyncio.sleep(0)  # the listeners serve other requests meanwhile
                if self._epochs.get(partition) != epoch or partition not in self.loading:
                    return  # resigned (or re-elected) during the replay: the unload dropped its state
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Failed to load %s-%d; its requests answer NOT_COORDINATOR", self.topic, partition)
            self.loading.discard(partition)
            self.failed.add(partition)
            return
        self.loading.discard(partition)
        self.active[partition] = epoch
        self._on_loaded(part)
        if loaded:
            log.info("Finished loading of %s-%d (%d records) in %d milliseconds", self.topic, partition, loaded,
                     int((time.monotonic() - start) * 1000))
