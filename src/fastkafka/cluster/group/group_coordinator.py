"""GroupCoordinator: classic consumer groups (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and
committed offsets, as Kafka's group coordinator runs them for the classic protocol.

Committed offsets are records in the compacted `__consumer_offsets` topic (key: int16 version 1
+ OffsetCommitKey; value: int16 version 3 + OffsetCommitValue; a null value deletes), written
through the partition's leader log before the commit is acknowledged, and loaded back into the
in-memory cache when the broker starts. A group's coordinator is the leader of partition
abs(hashCode(group id)) % offsets.topic.num.partitions, and the topic is created on first use
with Kafka's internal-topic settings.

A classic group's state is a GroupMetadata record (key version 2, value version 4) in the same
partition, written as Kafka writes it: when a new group is created, when the leader's SyncGroup
completes a rebalance (the assignment is given out only after the record is in the log), when a
static member is replaced without a rebalance, and when the group becomes empty; a tombstone
when it is deleted. Replay restores generation, protocol, leader and members (each with its
subscription for the selected protocol and its assignment) and the members' sessions start
again, so a restart keeps the group Stable if its members keep heartbeating.

Static membership (KIP-345): `ClassicGroup.static_members` maps group.instance.id to the latest
member id; an older member id of the same instance is fenced (FENCED_INSTANCE_ID on join, sync,
heartbeat, commit and leave).

Loading (Kafka's CoordinatorRuntime LOADING state): `start_loading()` attaches `CoordinatorShards`
to the replica manager's leadership hook: each `__consumer_offsets` partition this node becomes
leader of is marked loading and replayed in a background task, a slice of batches at a time with
a yield to the event loop in between, so the listeners serve other requests meanwhile; a partition
it stops leading is unloaded (`_unload_partition`: its groups leave the cache, waiting joins and
syncs answer NOT_COORDINATOR). While a group's partition is loading, its group APIs answer
COORDINATOR_LOAD_IN_PROGRESS (`_check_coordinator` raises it; a classic Heartbeat answers NONE
"blindly", as Kafka does); FindCoordinator answers normally. A partition's groups are used only
once its replay is complete (`_on_loaded(partition)`); a partition whose replay failed answers
NOT_COORDINATOR. Test-only: FASTKAFKA_TEST_GROUP_LOAD_DELAY_MS (milliseconds, default 0) holds the
loading state that long before the replay starts, so interop tests can observe it; production
never sets it.

Transactional offset commits (Kafka's OffsetMetadataManager.commitTransactionalOffset,
replayEndTransactionMarker): TxnOffsetCommit's offsets are OffsetCommit records in a transactional
batch of the request's producer id and epoch (appended with origin COORDINATOR, so the partition's
producer state holds the open transaction and its marker completes it), and wait in
`pending_txn_offsets` until the marker: the broker calls `on_txn_markers_written` after
`ReplicaManager.write_txn_markers`, and replay sends a transactional batch's records to pending
and a control batch completes them (COMMIT: the pending offset becomes committed unless a later
record is already cached, ABORT: dropped). OffsetFetch never returns pending offsets; with
require_stable their partitions answer UNSTABLE_OFFSET_COMMIT. Verification (KIP-890) asks the
local transaction coordinator whether the offsets partition is in the transaction, unless the
partition already holds the producer's open transaction at that epoch.

Concurrency contract: one instance per broker, event-loop thread only; every group is mutated
only here. Timers (member sessions, join and sync deadlines, the initial rebalance delay) are
loop callbacks that re-check the group's state when they fire.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import struct
import time
import uuid
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable, Iterator

from fastkafka._native.record_batch import MemoryRecordsBuilder, iter_records, scan_batches
from fastkafka.cluster.coordinator_shards import CoordinatorShards, wait_committed
from fastkafka.cluster.group.classic_group import ClassicGroup, ClassicGroupMember, GroupState, OffsetAndMetadata
from fastkafka.cluster.group.consumer_group_records import RECORD_TYPES as CONSUMER_GROUP_RECORD_TYPES
from fastkafka.cluster.group.group_migration import classic_heartbeat, classic_join, classic_leave, classic_sync
from fastkafka.cluster.group.pending_txn_offsets import PendingTransactionalOffsets
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME
from fastkafka.protocol._generated import group_records as gr
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import CreateTopicsRequest, JoinGroupResponse
from fastkafka.storage import TopicPartition
from fastkafka.storage.producer_state_manager import AppendOrigin

if TYPE_CHECKING:
    from fastkafka.net.broker_services import BrokerServices

log = logging.getLogger(__name__)

OFFSET_COMMIT_KEY_VERSION = 1
OFFSET_COMMIT_VALUE_VERSION = 3
GROUP_METADATA_KEY_VERSION = 2
GROUP_METADATA_VALUE_VERSION = 4
# Kafka's classicGroupNewMemberJoinTimeoutMs: a new member's JoinGroup waits at most this long.
NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000
CONSUMER_PROTOCOL_TYPE = "consumer"
# The background load yields to the event loop after replaying about this many bytes of batches.
_LOAD_YIELD_BYTES = 64 << 10
LOAD_DELAY_ENV = "FASTKAFKA_TEST_GROUP_LOAD_DELAY_MS"  # test-only, see the module docstring


def java_string_hash(s: str) -> int:
    """java.lang.String.hashCode over UTF-16 code units."""
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def _join_error(code: int, member_id: str, v: int) -> Any:
    return JoinGroupResponse(error_code=code, generation_id=-1, protocol_name=None if v >= 7 else "",
                             leader="", member_id=member_id, members=[])


class _MemberIdRequired:
    """A join future's result: KIP-394's MEMBER_ID_REQUIRED with the id handed out."""
    __slots__ = ("member_id",)

    def __init__(self, member_id: str) -> None:
        self.member_id = member_id


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _test_load_delay_s() -> float:
    delay_ms = int(os.environ.get(LOAD_DELAY_ENV) or 0)
    if delay_ms > 0:
        log.info("Delaying the load of offsets partitions by %d ms (%s, test only)", delay_ms, LOAD_DELAY_ENV)
    return delay_ms / 1000


class GroupCoordinator:
    def __init__(self, broker: BrokerServices) -> None:
        self.broker = broker
        cfg = broker.config
        self.num_partitions = int(cfg.get("offsets.topic.num.partitions") or 50)
        self.replication_factor = int(cfg.get("offsets.topic.replication.factor") or 3)
        self.segment_bytes = cfg.get("offsets.topic.segment.bytes") or "104857600"
        self.initial_rebalance_delay_ms = int(cfg.get("group.initial.rebalance.delay.ms") or 3000)
        self.min_session_timeout_ms = int(cfg.get("group.min.session.timeout.ms") or 6000)
        self.max_session_timeout_ms = int(cfg.get("group.max.session.timeout.ms") or 1800000)
        self.max_group_size = int(cfg.get("group.max.size") or 2**31 - 1)
        self.offsets_retention_ms = int(cfg.get("offsets.retention.minutes") or 10080) * 60 * 1000
        self.retention_check_interval_ms = int(cfg.get("offsets.retention.check.interval.ms") or 600000)
        # Kafka compares the metadata's String.length() (UTF-16 code units) with this.
        self.offset_metadata_max_bytes = int(cfg.get("offset.metadata.max.bytes") or 4096)
        # Bytes read from the log at a time while loading (a soft limit: a larger batch is read whole).
        self.load_buffer_size = int(cfg.get("offsets.load.buffer.size") or 5242880)
        # How long a write's answer waits for the high watermark (Kafka's coordinator write timeout).
        self.commit_timeout_ms = int(cfg.get("offsets.commit.timeout.ms") or 5000)
        self._expiration_timer: asyncio.TimerHandle | None = None
        self.groups: dict[str, ClassicGroup] = {}
        self._create_lock = asyncio.Lock()
        # The `__consumer_offsets` partitions served here, loaded and unloaded as this node gains
        # and loses their leadership (the replica manager's hook; start_loading attaches it).
        self.shards = CoordinatorShards(GROUP_METADATA_TOPIC_NAME, self._replay_partition, self._on_shard_loaded,
                                        self._unload_partition, load_delay_s=_test_load_delay_s)
        # TxnOffsetCommit offsets waiting for their transaction's marker.
        self.pending_txn_offsets = PendingTransactionalOffsets()

    # -- the offsets topic ------------------------------------------------------------------------
    def partition_for(self, group_id: str) -> int:
        # Kafka's Utils.abs: Integer.MIN_VALUE maps to 0 (Python's abs would give 2**31).
        h = java_string_hash(group_id)
        return (0 if h == -2**31 else abs(h)) % self.num_partitions

    def _topic_exists(self) -> bool:
        return GROUP_METADATA_TOPIC_NAME in self.broker.image.topics.by_name

    async def ensure_offsets_topic(self) -> None:
        """Create `__consumer_offsets` on first use (Kafka does it on FindCoordinator)."""
        if self._topic_exists():
            return
        async with self._create_lock:
            if self._topic_exists():
                return
            C = CreateTopicsRequest
            resp = await self.broker.controller.create_topics(C(topics=[C.CreatableTopic(
                name=GROUP_METADATA_TOPIC_NAME, num_partitions=self.num_partitions,
                replication_factor=self.replication_factor,
                configs=[C.CreatableTopicConfig(name="cleanup.policy", value="compact"),
                         C.CreatableTopicConfig(name="compression.type", value="producer"),
                         C.CreatableTopicConfig(name="segment.bytes", value=self.segment_bytes)])],
                timeout_ms=30000), 7)
            err = resp.topics[0].error_code
            if err not in (0, Errors.TOPIC_ALREADY_EXISTS):
                log.warning("Cannot create %s: %s", GROUP_METADATA_TOPIC_NAME, resp.topics[0].error_message)
                raise KafkaError(Errors.COORDINATOR_NOT_AVAILABLE, resp.topics[0].error_message)

    def _check_coordinator(self, group_id: str) -> TopicPartition:
        if not self._topic_exists():
            raise KafkaError(Errors.COORDINATOR_NOT_AVAILABLE)
        tp = TopicPartition(GROUP_METADATA_TOPIC_NAME, self.partition_for(group_id))
        part = self.broker.replica_manager.partition(tp)
        if part is None or not part.is_leader or tp.partition in self.failed_partitions:
            raise KafkaError(Errors.NOT_COORDINATOR)
        if tp.partition in self.loading_partitions:
            raise KafkaError(Errors.COORDINATOR_LOAD_IN_PROGRESS)
        return tp

    def is_loading(self) -> bool:
        """True while any offsets partition this node leads is still being replayed."""
        return bool(self.loading_partitions)

    @property
    def loading_partitions(self) -> set[int]:
        """Offsets partitions led here whose replay has not finished (COORDINATOR_LOAD_IN_PROGRESS)."""
        return self.shards.loading

    @property
    def failed_partitions(self) -> set[int]:
        """Offsets partitions led here whose replay failed (NOT_COORDINATOR)."""
        return self.shards.failed

    def start_loading(self) -> asyncio.Task[None]:
        """Start-up: follow the leadership of `__consumer_offsets` partitions (Kafka's onElection /
        onResignation); those led already are replayed in the background at once. Returns the
        task replaying them (done at once when there are none)."""
        task = self.shards.attach(self.broker.replica_manager)
        if self._expiration_timer is None:  # Kafka's cleanupGroupMetadata task starts with the coordinator
            self.start_offset_expiration()
        return task if task is not None else asyncio.get_running_loop().create_task(asyncio.sleep(0))

    def _on_shard_loaded(self, part: Any) -> None:
        self._on_loaded(part.topic_partition.partition)

    def _unload_partition(self, partition: int) -> None:
        """Kafka's onResignation: this node no longer serves the partition's groups. Their
        waiting JoinGroup/SyncGroup answers get NOT_COORDINATOR (the members find the new
        coordinator), their timers stop, and they leave the cache with their offsets and pending
        transactional offsets; the new leader replays them from the log."""
        for group_id, group in list(self.groups.items()):
            if self.partition_for(group_id) != partition:
                continue
            self._stop_group(group, Errors.NOT_COORDINATOR)
            del self.groups[group_id]
            self.pending_txn_offsets.remove_group(group_id)
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        if consumer_groups is not None:
            consumer_groups.unload(lambda group_id: self.partition_for(group_id) == partition)

    def _stop_group(self, group: ClassicGroup, waiting_error: int) -> None:
        """The group is no longer served here: its waiting JoinGroup and SyncGroup answers get
        `waiting_error`, its timers stop, and it becomes Dead, so its pending callbacks do nothing."""
        for m in group.members.values():
            for fut in (m.join_future, m.sync_future):
                if fut is not None and not fut.done():
                    fut.set_result(waiting_error)
            m.join_future = m.sync_future = None
            if m.heartbeat_timer is not None:
                m.heartbeat_timer.cancel()
                m.heartbeat_timer = None
        self._set_join_timer(group, None)
        self._remove_sync_expiration(group)
        group.transition(GroupState.DEAD)

    def _replay_partition(self, part: Any) -> Iterator[int]:
        """Replay one partition up to its high watermark; yields the offset records replayed
        since the previous yield, after every `_LOAD_YIELD_BYTES` of batches and at the end."""
        plog = part.log
        offset = plog.log_start_offset
        loaded = 0
        since_yield = 0
        while offset < plog.high_watermark:
            info = plog.read(offset, self.load_buffer_size, max_offset=plog.high_watermark, min_one_message=True)
            data = info.records.read_bytes() if info.records is not None else b""
            if not data:
                break
            headers, _end, _err = scan_batches(data, 0, False)
            if not headers:
                break
            for h in headers:
                offset = h.last_offset + 1
                records = iter_records(data[h.position:h.position + h.size])
                if h.is_control:
                    if h.is_transactional and records and records[0].key is not None and len(records[0].key) >= 4:
                        # EndTransactionMarker: key (version, type); COMMIT=1, ABORT=0.
                        (marker_type,) = struct.unpack_from(">h", records[0].key, 2)
                        if marker_type in (0, 1):
                            self.complete_transaction(part.topic_partition.partition, h.producer_id, marker_type == 1)
                    continue
                pid = h.producer_id if h.is_transactional else -1
                for rec in records:
                    loaded += self._replay(rec.key, rec.value, rec.offset, pid)
                since_yield += h.size
                if since_yield >= _LOAD_YIELD_BYTES:
                    yield loaded
                    loaded = since_yield = 0
        yield loaded

    def _on_loaded(self, partition: int | None = None) -> None:
        """Kafka's onLoaded: restored members' sessions start now; a group over group.max.size
        (lowered meanwhile) rebalances, so the members beyond the limit are refused at rejoin.
        `partition`: only the groups of that offsets partition (None: every group)."""
        for group in list(self.groups.values()):
            if partition is not None and self.partition_for(group.group_id) != partition:
                continue
            for m in group.members.values():
                self._reschedule_heartbeat(group, m)
            if len(group.members) > self.max_group_size:
                log.info("Freshly-loaded group %s (size %d) is over capacity %d. Rebalancing in order to give "
                         "a chance for consumers to commit offsets", group.group_id, len(group.members),
                         self.max_group_size)
                self._prepare_rebalance(group)
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        if consumer_groups is not None:
            consumer_groups.on_loaded(lambda group_id: partition is None or self.partition_for(group_id) == partition)
        if self._expiration_timer is None:
            self.start_offset_expiration()

    def _replay(self, key: bytes | None, value: bytes | None, record_offset: int = -1, producer_id: int = -1) -> int:
        if not key or len(key) < 2:
            return 0
        (kv,) = struct.unpack_from(">h", key)
        if kv == GROUP_METADATA_KEY_VERSION:
            group_id = gr.GroupMetadataKey.from_bytes(key[2:], kv).group
            if value is None:
                # The group's tombstone (DeleteGroups, or the group became a consumer-protocol
                # group): the group is gone, as Kafka's replay removes it; committed offsets live
                # apart from the group in Kafka, so any not tombstoned stay.
                old = self.groups.pop(group_id, None)
                if old is not None and old.offsets:
                    self.groups[group_id] = ClassicGroup(group_id)
                    self.groups[group_id].offsets = old.offsets
            else:
                self._replay_group_metadata(group_id, value)
            return 0
        if kv in CONSUMER_GROUP_RECORD_TYPES:
            consumer_groups = getattr(self.broker, "consumer_group_manager", None)
            if consumer_groups is not None:
                consumer_groups.replay_record(key, value)
            return 0
        if kv not in (0, 1):
            return 0  # share-group record types: no share groups here
        k = gr.OffsetCommitKey.from_bytes(key[2:], kv)
        group = self.groups.get(k.group) or self.groups.setdefault(k.group, ClassicGroup(k.group))
        tp = (k.topic, k.partition)
        if value is None:
            group.offsets.pop(tp, None)
            self.pending_txn_offsets.remove(k.group, k.topic, k.partition)
            return 1
        (vv,) = struct.unpack_from(">h", value)
        v = gr.OffsetCommitValue.from_bytes(value[2:], vv)
        om = OffsetAndMetadata(v.offset, v.leader_epoch if vv >= 3 else -1, v.metadata, v.commit_timestamp,
                               v.expire_timestamp if vv == 1 and v.expire_timestamp >= 0 else None, record_offset)
        if producer_id >= 0:
            self.pending_txn_offsets.add(producer_id, k.group, k.topic, k.partition, om)
        else:
            group.offsets[tp] = om
        return 1

    def _replay_group_metadata(self, group_id: str, value: bytes) -> None:
        """Kafka's ClassicGroup.fromRecord: Empty without members, else Stable with the record's
        generation, protocol, leader and members (the group's committed offsets are kept)."""
        (vv,) = struct.unpack_from(">h", value)
        v = gr.GroupMetadataValue.from_bytes(value[2:], vv)
        group = self.groups.get(group_id)
        if group is None:
            group = self.groups[group_id] = ClassicGroup(group_id)
        for m in group.members.values():
            if m.heartbeat_timer is not None:
                m.heartbeat_timer.cancel()
        group.members.clear()
        group.static_members.clear()
        group.pending_members.clear()
        group.pending_sync_members.clear()
        group.generation_id = v.generation
        group.protocol_type = v.protocol_type or None
        group.protocol_name = v.protocol
        group.leader_id = v.leader
        ts = v.current_state_timestamp if vv >= 2 and v.current_state_timestamp >= 0 else None
        for mm in v.members:
            member = ClassicGroupMember(
                mm.member_id, mm.group_instance_id if vv >= 3 else None, mm.client_id, mm.client_host,
                mm.rebalance_timeout if vv >= 1 and mm.rebalance_timeout > 0 else mm.session_timeout,
                mm.session_timeout, v.protocol_type, [(v.protocol or "", bytes(mm.subscription))],
                assignment=bytes(mm.assignment))
            group.members[member.member_id] = member
            if member.group_instance_id is not None:
                group.static_members[member.group_instance_id] = member.member_id
        group.state = GroupState.STABLE if group.members else GroupState.EMPTY
        group.previous_state = group.state
        group.current_state_timestamp_ms = ts

    # -- join -------------------------------------------------------------------------------------
    async def join_group(self, ctx: Any, req: Any) -> Any:
        """Kafka's classicGroupJoin. The response waits on the member's join future, which the
        join phase's completion (or a fencing / removal) resolves with response fields or an
        error code."""
        v = ctx.api_version
        if not req.group_id:
            return _join_error(Errors.INVALID_GROUP_ID, req.member_id, v)
        if not self.min_session_timeout_ms <= req.session_timeout_ms <= self.max_session_timeout_ms:
            return _join_error(Errors.INVALID_SESSION_TIMEOUT, req.member_id, v)
        try:
            await self.ensure_offsets_topic()
            self._check_coordinator(req.group_id)
        except KafkaError as e:
            # Kafka's runtime failures (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) answer an empty member id.
            return _join_error(e.code, "", v)
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        consumer_group = consumer_groups.group(req.group_id) if consumer_groups is not None else None
        if consumer_groups is not None and consumer_group is not None:
            if consumer_group.members:
                # Kafka's classicGroupJoinToConsumerGroup: a classic-protocol member of the consumer
                # group, answered at once (group_migration.py).
                error, fields = classic_join(consumer_groups, ctx, req)
                if error:
                    return _join_error(error, fields.get("member_id", ""), v)
                return JoinGroupResponse(error_code=0, **fields)
            # Kafka's maybeDeleteEmptyConsumerGroup: an empty consumer group becomes a classic group.
            consumer_groups.delete_group(req.group_id)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        member_id = req.member_id
        instance_id = req.group_instance_id if v >= 5 else None
        group = self.groups.get(req.group_id)
        is_new_group = group is None
        if group is None:
            if member_id:
                return _join_error(Errors.UNKNOWN_MEMBER_ID, member_id, v)
            group = self.groups[req.group_id] = ClassicGroup(req.group_id)
        if not self._accept_joining_member(group, member_id):
            self._remove_and_cancel(group, member_id)
            fut.set_result(Errors.GROUP_MAX_SIZE_REACHED)
            member_id = ""
        elif not member_id:
            self._join_new_member(ctx, req, group, instance_id, fut)
        else:
            self._join_existing_member(ctx, req, group, instance_id, fut)
        if is_new_group:
            # Kafka writes the new group's empty GroupMetadata record with the first join.
            self._store_group(group, {}, empty=True)
        result = await fut
        if isinstance(result, _MemberIdRequired):
            return _join_error(Errors.MEMBER_ID_REQUIRED, result.member_id, v)
        if isinstance(result, int):
            return _join_error(result, member_id, v)
        if v < 7 and result.get("protocol_name") is None:
            result["protocol_name"] = ""
        return JoinGroupResponse(error_code=0, **result)

    def _accept_joining_member(self, group: ClassicGroup, member_id: str) -> bool:
        """Kafka's acceptJoiningMember (group.max.size)."""
        if group.state in (GroupState.EMPTY, GroupState.DEAD):
            return True
        if group.state is GroupState.PREPARING_REBALANCE:
            m = group.members.get(member_id)
            return (m is not None and m.is_awaiting_join()) or group.num_awaiting_join() < self.max_group_size
        return member_id in group.members or len(group.members) < self.max_group_size

    def _join_new_member(self, ctx: Any, req: Any, group: ClassicGroup, instance_id: str | None,
                         fut: asyncio.Future[Any]) -> None:
        protocols = [(p.name, bytes(p.metadata)) for p in req.protocols]
        if group.state is GroupState.DEAD:
            fut.set_result(Errors.COORDINATOR_NOT_AVAILABLE)
            return
        if not group.supports(req.protocol_type, [n for n, _ in protocols]):
            fut.set_result(Errors.INCONSISTENT_GROUP_PROTOCOL)
            return
        new_member_id = f"{instance_id if instance_id is not None else (ctx.client_id or '')}-{uuid.uuid4()}"
        if instance_id is not None:
            existing = group.static_member_id(instance_id)
            if existing is not None:
                log.info("Static member with groupInstanceId=%s and unknown member id joins group %s in %s "
                         "state. Replacing previously mapped member %s with this groupInstanceId.",
                         instance_id, group.group_id, group.state.value, existing)
                self._update_static_member_then_rebalance(ctx, req, group, existing, new_member_id, protocols, fut)
                return
            self._add_member_then_rebalance(ctx, req, group, new_member_id, instance_id, protocols, fut)
            return
        if ctx.api_version >= 4:
            # KIP-394: hand out the id first; the member rejoins with it.
            group.pending_members.add(new_member_id)
            asyncio.get_running_loop().call_later(req.session_timeout_ms / 1000, self._expire_pending_member,
                                                  group, new_member_id)
            fut.set_result(_MemberIdRequired(new_member_id))
            return
        self._add_member_then_rebalance(ctx, req, group, new_member_id, None, protocols, fut)

    def _join_existing_member(self, ctx: Any, req: Any, group: ClassicGroup, instance_id: str | None,
                              fut: asyncio.Future[Any]) -> None:
        member_id = req.member_id
        protocols = [(p.name, bytes(p.metadata)) for p in req.protocols]
        if group.state is GroupState.DEAD:
            fut.set_result(Errors.COORDINATOR_NOT_AVAILABLE)
            return
        if not group.supports(req.protocol_type, [n for n, _ in protocols]):
            fut.set_result(Errors.INCONSISTENT_GROUP_PROTOCOL)
            return
        if member_id in group.pending_members:
            self._add_member_then_rebalance(ctx, req, group, member_id, None, protocols, fut)
            return
        try:
            member = group.validate_member(member_id, instance_id)
        except KafkaError as e:
            fut.set_result(e.code)
            return
        if group.state is GroupState.PREPARING_REBALANCE:
            self._update_member_then_rebalance(req, group, member, protocols, fut)
        elif group.state is GroupState.COMPLETING_REBALANCE:
            if member.protocols == protocols:
                # The member missed its JoinGroup response: the current generation again.
                fut.set_result(self._join_fields(group, member, with_members=member_id == group.leader_id))
            else:
                self._update_member_then_rebalance(req, group, member, protocols, fut)
        elif group.state is GroupState.STABLE:
            if member_id == group.leader_id or member.protocols != protocols:
                # A leader's JoinGroup always rebalances (topic metadata changes, as Kafka).
                self._update_member_then_rebalance(req, group, member, protocols, fut)
            else:
                # A follower rejoining with unchanged metadata gets the current generation back.
                self._reschedule_heartbeat(group, member)
                fut.set_result(self._join_fields(group, member, with_members=False))
        else:
            fut.set_result(Errors.UNKNOWN_MEMBER_ID)

    def _add_member_then_rebalance(self, ctx: Any, req: Any, group: ClassicGroup, member_id: str,
                                   instance_id: str | None, protocols: list[tuple[str, bytes]],
                                   fut: asyncio.Future[Any]) -> None:
        v = ctx.api_version
        rebalance_timeout = (req.rebalance_timeout_ms if v >= 1 and req.rebalance_timeout_ms > 0
                             else req.session_timeout_ms)
        client_host = "/" + ctx.client_address.rsplit(":", 1)[0]
        member = ClassicGroupMember(member_id, instance_id, ctx.client_id or "", client_host,
                                    rebalance_timeout, req.session_timeout_ms, req.protocol_type, protocols,
                                    join_future=fut, is_new=True)
        group.add(member)
        if group.state is GroupState.PREPARING_REBALANCE and group.previous_state is GroupState.EMPTY:
            group.new_member_added = True
        # A new member cannot heartbeat before its first join completes; a long rebalance must
        # not collect defunct members forever, so a new member's join times out on its own.
        self._reschedule_heartbeat(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS)
        self._maybe_prepare_rebalance_or_complete_join(group)

    def _update_member_then_rebalance(self, req: Any, group: ClassicGroup, member: ClassicGroupMember,
                                      protocols: list[tuple[str, bytes]], fut: asyncio.Future[Any]) -> None:
        self._update_member(req, member, protocols, fut)
        self._maybe_prepare_rebalance_or_complete_join(group)

    @staticmethod
    def _update_member(req: Any, member: ClassicGroupMember, protocols: list[tuple[str, bytes]],
                       fut: asyncio.Future[Any] | None) -> None:
        member.protocols = protocols
        if req.rebalance_timeout_ms > 0:
            member.rebalance_timeout_ms = req.rebalance_timeout_ms
        member.session_timeout_ms = req.session_timeout_ms
        old = member.join_future
        if old is not None and old is not fut and not old.done():
            old.set_result(Errors.REBALANCE_IN_PROGRESS)  # superseded by this JoinGroup
        member.join_future = fut

    def _update_static_member_then_rebalance(self, ctx: Any, req: Any, group: ClassicGroup, old_member_id: str,
                                             new_member_id: str, protocols: list[tuple[str, bytes]],
                                             fut: asyncio.Future[Any]) -> None:
        """Kafka's updateStaticMemberThenRebalanceOrCompleteJoin: the instance id's previous member
        id is fenced; in Stable with an unchanged selected protocol there is no rebalance, only the
        group's record rewritten with the new member id."""
        current_leader = group.leader_id
        member = group.replace_static_member(req.group_instance_id, old_member_id, new_member_id)
        self._reschedule_heartbeat(group, member)
        self._update_member(req, member, protocols, fut)
        if group.state is GroupState.STABLE:
            if group.protocol_name == group.select_protocol():
                log.info("Static member which joins during Stable stage and doesn't affect the selected "
                         "protocol will not trigger a rebalance.")
                member.join_future = None
                error = self._store_group(group, {m.member_id: m.assignment for m in group.members.values()})
                if error:
                    # Could not persist the new member id: the old one stays the instance's member.
                    old = group.replace_static_member(req.group_instance_id, new_member_id, old_member_id)
                    self._reschedule_heartbeat(group, old)
                    fut.set_result(error)
                    return
                if ctx.api_version >= 9:  # KIP-814: the static leader may skip the assignment
                    is_leader = group.leader_id == new_member_id
                    fut.set_result(self._join_fields(group, member, with_members=is_leader, skip_assignment=is_leader))
                else:
                    fields = self._join_fields(group, member, with_members=False)
                    fields["leader"] = current_leader or ""
                    fut.set_result(fields)
                return
            self._maybe_prepare_rebalance_or_complete_join(group)
            return
        if group.state is GroupState.COMPLETING_REBALANCE:
            # The leader may already be assigning to the old member id: rebalance again.
            self._prepare_rebalance(group)
            return
        self._maybe_complete_join(group)

    def _maybe_prepare_rebalance_or_complete_join(self, group: ClassicGroup) -> None:
        if group.state in (GroupState.STABLE, GroupState.COMPLETING_REBALANCE, GroupState.EMPTY):
            self._prepare_rebalance(group)
        else:
            self._maybe_complete_join(group)

    def _prepare_rebalance(self, group: ClassicGroup) -> None:
        """Kafka's prepareRebalance: waiting SyncGroups answer REBALANCE_IN_PROGRESS; a new
        group waits group.initial.rebalance.delay.ms (extended while members keep arriving)."""
        loop = asyncio.get_running_loop()
        if group.state is GroupState.COMPLETING_REBALANCE:
            self._propagate_assignment(group, Errors.REBALANCE_IN_PROGRESS, reset=True)
        self._remove_sync_expiration(group)
        is_initial = group.state is GroupState.EMPTY
        if is_initial:
            delay = self.initial_rebalance_delay_ms
            remaining = max(group.max_rebalance_timeout_ms() - delay, 0)
            self._set_join_timer(group, loop.call_later(delay / 1000, self._try_complete_initial_rebalance,
                                                        group, delay, remaining))
        group.transition(GroupState.PREPARING_REBALANCE, _now_ms())
        log.info("Preparing to rebalance group %s with old generation %d", group.group_id, group.generation_id)
        if not is_initial:
            if group.has_all_members_joined():
                self._complete_join(group)
            else:
                self._set_join_timer(group, loop.call_later(group.max_rebalance_timeout_ms() / 1000,
                                                            self._complete_join, group))

    def _try_complete_initial_rebalance(self, group: ClassicGroup, delay: int, remaining: int) -> None:
        if group.state is not GroupState.PREPARING_REBALANCE or self.groups.get(group.group_id) is not group:
            return
        if group.new_member_added and remaining != 0:
            group.new_member_added = False
            new_delay = min(self.initial_rebalance_delay_ms, remaining)
            new_remaining = max(remaining - delay, 0)
            self._set_join_timer(group, asyncio.get_running_loop().call_later(
                new_delay / 1000, self._try_complete_initial_rebalance, group, new_delay, new_remaining))
        else:
            self._complete_join(group)

    @staticmethod
    def _set_join_timer(group: ClassicGroup, handle: asyncio.TimerHandle | None) -> None:
        if group.join_timer is not None:
            group.join_timer.cancel()
        group.join_timer = handle

    def _maybe_complete_join(self, group: ClassicGroup) -> None:
        """Kafka's maybeCompleteJoinPhase: never during the initial rebalance (its delay runs)."""
        if group.state is GroupState.PREPARING_REBALANCE and group.previous_state is not GroupState.EMPTY and \
                group.has_all_members_joined():
            self._complete_join(group)

    def _complete_join(self, group: ClassicGroup) -> None:
        """Kafka's completeClassicGroupJoin: dynamic members that did not rejoin within the
        rebalance timeout are removed (static ones stay until their session expires), the next
        generation starts."""
        if group.state is not GroupState.PREPARING_REBALANCE:
            return
        self._set_join_timer(group, None)
        for m in group.not_yet_rejoined():
            if m.group_instance_id is None:
                group.remove(m.member_id)
        if not group.maybe_elect_new_joined_leader() and group.members:
            # Nobody rejoined: wait for the sessions of the silent members to expire.
            log.error("Group %s could not complete rebalance because no members rejoined.", group.group_id)
            self._set_join_timer(group, asyncio.get_running_loop().call_later(
                group.max_rebalance_timeout_ms() / 1000, self._complete_join, group))
            return
        group.generation_id += 1
        group.pending_sync_members.clear()
        if not group.members:
            group.protocol_name = None
            group.leader_id = None
            group.transition(GroupState.EMPTY, _now_ms())
            log.info("Group %s with generation %d is now empty.", group.group_id, group.generation_id)
            if self._store_group(group, {}):
                log.warning("Failed to write empty metadata for group %s", group.group_id)
            return
        group.protocol_name = group.select_protocol()
        group.transition(GroupState.COMPLETING_REBALANCE, _now_ms())
        log.info("Stabilized group %s generation %d with %d members.", group.group_id, group.generation_id,
                 len(group.members))
        for m in list(group.members.values()):
            fut, m.join_future = m.join_future, None
            if fut is not None and not fut.done():
                fut.set_result(self._join_fields(group, m, with_members=m.member_id == group.leader_id))
            self._reschedule_heartbeat(group, m)
            m.is_new = False
            group.pending_sync_members.add(m.member_id)
        group.sync_timer = asyncio.get_running_loop().call_later(
            group.max_rebalance_timeout_ms() / 1000, self._expire_pending_sync, group, group.generation_id)

    @staticmethod
    def _join_fields(group: ClassicGroup, member: ClassicGroupMember, with_members: bool,
                     skip_assignment: bool = False) -> dict[str, Any]:
        members = []
        if with_members:
            members = [JoinGroupResponse.JoinGroupResponseMember(
                member_id=m.member_id, group_instance_id=m.group_instance_id,
                metadata=m.metadata(group.protocol_name or "") if group.protocol_name in m.protocol_names() else b"")
                for m in group.members.values()]
        return {"generation_id": group.generation_id, "protocol_type": group.protocol_type,
                "protocol_name": group.protocol_name, "leader": group.leader_id or "",
                "skip_assignment": skip_assignment, "member_id": member.member_id, "members": members}

    # -- sync -------------------------------------------------------------------------------------
    async def sync_group(self, ctx: Any, req: Any) -> tuple[int, bytes, Any]:
        """(error, assignment, group) for SyncGroup (Kafka's classicGroupSync)."""
        try:
            self._check_coordinator(req.group_id)
        except KafkaError as e:
            return e.code, b"", None
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        if consumer_groups is not None and consumer_groups.group(req.group_id) is not None:
            # Kafka's classicGroupSyncToConsumerGroup: the response echoes the request's protocol.
            error, assignment = classic_sync(consumer_groups, req, ctx.api_version)
            return error, assignment, SimpleNamespace(protocol_type=req.protocol_type, protocol_name=req.protocol_name)
        group = self.groups.get(req.group_id)
        if group is None or not group.members:
            return Errors.UNKNOWN_MEMBER_ID, b"", group
        if group.state is GroupState.DEAD:
            return Errors.COORDINATOR_NOT_AVAILABLE, b"", group
        try:
            member = group.validate_member(req.member_id, req.group_instance_id if ctx.api_version >= 3 else None)
        except KafkaError as e:
            return e.code, b"", group
        if req.generation_id != group.generation_id:
            return Errors.ILLEGAL_GENERATION, b"", group
        if ctx.api_version >= 5 and ((req.protocol_type is not None and req.protocol_type != group.protocol_type) or
                                     (req.protocol_name is not None and req.protocol_name != group.protocol_name)):
            return Errors.INCONSISTENT_GROUP_PROTOCOL, b"", group
        if group.state is GroupState.PREPARING_REBALANCE:
            return Errors.REBALANCE_IN_PROGRESS, b"", group
        group.pending_sync_members.discard(member.member_id)
        if group.state is GroupState.STABLE:
            return 0, member.assignment, group
        # CompletingRebalance: wait for the leader's assignment.
        fut = member.sync_future = asyncio.get_running_loop().create_future()
        if member.member_id == group.leader_id:
            assignments = {a.member_id: bytes(a.assignment) for a in req.assignments}
            for m in group.members.values():
                assignments.setdefault(m.member_id, b"")
            # The assignment is given out only once the group's record holds it, committed
            # (Kafka's append future completes at the high watermark).
            error = self._store_group(group, assignments)
            if not error:
                error = await self.wait_committed(group.group_id)
            if self.groups.get(group.group_id) is not group:
                pass  # unloaded meanwhile: the unload answered every waiting member
            elif group.state is GroupState.COMPLETING_REBALANCE and req.generation_id == group.generation_id:
                if error:
                    self._propagate_assignment(group, error, reset=True)
                    self._maybe_prepare_rebalance_or_complete_join(group)
                else:
                    for m in group.members.values():
                        m.assignment = assignments[m.member_id]
                    self._propagate_assignment(group, 0)
                    group.transition(GroupState.STABLE, _now_ms())
        result = await fut
        if result:
            return int(result), b"", group
        return 0, member.assignment, group

    def _propagate_assignment(self, group: ClassicGroup, error: int, reset: bool = False) -> None:
        for m in group.members.values():
            if reset:
                m.assignment = b""
            fut, m.sync_future = m.sync_future, None
            if fut is not None and not fut.done():
                fut.set_result(error)
                # A session that expired while the member waited on the leader starts again now.
                self._reschedule_heartbeat(group, m)

    def _remove_sync_expiration(self, group: ClassicGroup) -> None:
        group.pending_sync_members.clear()
        if group.sync_timer is not None:
            group.sync_timer.cancel()
            group.sync_timer = None

    def _expire_pending_sync(self, group: ClassicGroup, generation_id: int) -> None:
        """Members that did not send SyncGroup within the rebalance timeout are removed."""
        group.sync_timer = None
        if generation_id != group.generation_id or self.groups.get(group.group_id) is not group:
            return
        if group.state in (GroupState.COMPLETING_REBALANCE, GroupState.STABLE) and group.pending_sync_members:
            pending = list(group.pending_sync_members)
            for mid in pending:
                self._remove_and_cancel(group, mid)
            log.info("Group %s removed members who haven't sent their sync requests: %s", group.group_id, pending)
            self._prepare_rebalance(group)

    # -- heartbeat and leave ----------------------------------------------------------------------
    def heartbeat(self, group_id: str, member_id: str, generation_id: int, instance_id: str | None = None) -> int:
        try:
            self._check_coordinator(group_id)
        except KafkaError as e:
            # Kafka: "The group is still loading, so blindly respond" NONE.
            return 0 if e.code == Errors.COORDINATOR_LOAD_IN_PROGRESS else e.code
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        if consumer_groups is not None and consumer_groups.group(group_id) is not None:
            return classic_heartbeat(consumer_groups, group_id, member_id, generation_id, instance_id)
        group = self.groups.get(group_id)
        if group is None:
            return Errors.UNKNOWN_MEMBER_ID
        if group.state is GroupState.DEAD:
            return Errors.COORDINATOR_NOT_AVAILABLE
        try:
            member = group.validate_member(member_id, instance_id)
        except KafkaError as e:
            return e.code
        if generation_id != group.generation_id:
            return Errors.ILLEGAL_GENERATION
        if group.state is GroupState.EMPTY:
            return Errors.UNKNOWN_MEMBER_ID
        self._reschedule_heartbeat(group, member)
        if group.state is GroupState.PREPARING_REBALANCE:
            return Errors.REBALANCE_IN_PROGRESS
        return 0

    def leave_group(self, group_id: str, members: list[Any]) -> tuple[int, list[int]]:
        """(top-level error, per-member errors); `members` are member ids or (member id,
        group instance id) pairs (LeaveGroup v3+ may name a static member by instance id only)."""
        try:
            self._check_coordinator(group_id)
        except KafkaError as e:
            return e.code, []
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        if consumer_groups is not None and consumer_groups.group(group_id) is not None:
            return classic_leave(consumer_groups, group_id, [
                (entry, None) if isinstance(entry, str) else entry for entry in members])
        group = self.groups.get(group_id)
        if group is None:
            return Errors.UNKNOWN_MEMBER_ID, []
        if group.state is GroupState.DEAD:
            return Errors.COORDINATOR_NOT_AVAILABLE, []
        out: list[int] = []
        left = False
        for entry in members:
            member_id, instance_id = (entry, None) if isinstance(entry, str) else entry
            if not member_id:
                static_id = group.static_member_id(instance_id) if instance_id is not None else None
                if static_id is None:
                    out.append(Errors.UNKNOWN_MEMBER_ID)
                    continue
                self._remove_current_member(group, static_id)
            elif member_id in group.pending_members:
                group.pending_members.discard(member_id)
            else:
                try:
                    group.validate_member(member_id, instance_id)
                except KafkaError as e:
                    out.append(e.code)
                    continue
                self._remove_current_member(group, member_id)
            out.append(0)
            left = True
        if left:
            if group.state in (GroupState.STABLE, GroupState.COMPLETING_REBALANCE):
                self._maybe_prepare_rebalance_or_complete_join(group)
            elif group.state is GroupState.PREPARING_REBALANCE:
                self._maybe_complete_join(group)
        return 0, out

    def _remove_current_member(self, group: ClassicGroup, member_id: str) -> None:
        member = group.members.get(member_id)
        if member is None:
            return
        for fut in (member.join_future, member.sync_future):
            if fut is not None and not fut.done():
                fut.set_result(Errors.UNKNOWN_MEMBER_ID)
        member.join_future = member.sync_future = None
        group.remove(member_id)

    def _remove_and_cancel(self, group: ClassicGroup, member_id: str) -> None:
        self._remove_current_member(group, member_id)
        group.pending_members.discard(member_id)

    def _reschedule_heartbeat(self, group: ClassicGroup, member: ClassicGroupMember,
                              timeout_ms: int | None = None) -> None:
        if member.heartbeat_timer is not None:
            member.heartbeat_timer.cancel()
        timeout = member.session_timeout_ms if timeout_ms is None else timeout_ms
        member.heartbeat_timer = asyncio.get_running_loop().call_later(
            timeout / 1000, self._expire_heartbeat, group, member)

    def _expire_pending_member(self, group: ClassicGroup, member_id: str) -> None:
        if member_id in group.pending_members:
            log.info("Pending member %s in group %s has been removed after session timeout expiration.",
                     member_id, group.group_id)
            group.pending_members.discard(member_id)
            if group.state is GroupState.PREPARING_REBALANCE and group.has_all_members_joined():
                self._complete_join(group)

    def _expire_heartbeat(self, group: ClassicGroup, member: ClassicGroupMember) -> None:
        """Kafka's expireClassicGroupMemberHeartbeat (dynamic and static members alike)."""
        member.heartbeat_timer = None
        if group.members.get(member.member_id) is not member or group.state is GroupState.DEAD:
            return
        if member.has_satisfied_heartbeat():
            return
        log.info("Member %s in group %s has failed, removing it from the group.", member.member_id, group.group_id)
        self._remove_current_member(group, member.member_id)
        if group.state in (GroupState.STABLE, GroupState.COMPLETING_REBALANCE):
            self._maybe_prepare_rebalance_or_complete_join(group)
        elif group.state is GroupState.PREPARING_REBALANCE and group.has_all_members_joined():
            self._complete_join(group)

    # -- GroupMetadata records --------------------------------------------------------------------
    def _group_metadata_record(self, group: ClassicGroup, assignment: dict[str, bytes],
                               empty: bool = False) -> tuple[bytes, bytes]:
        """Kafka's newGroupMetadataRecord: key version 2, value version 4; each member's
        subscription is its metadata for the selected protocol. `empty`: Kafka's
        newEmptyGroupMetadataRecord (generation 0, no protocol, leader or members)."""
        if empty:
            key = struct.pack(">h", GROUP_METADATA_KEY_VERSION) + gr.GroupMetadataKey(
                group=group.group_id).to_bytes(GROUP_METADATA_KEY_VERSION)
            return key, struct.pack(">h", GROUP_METADATA_VALUE_VERSION) + gr.GroupMetadataValue(
                protocol_type=group.protocol_type or "", generation=0, protocol=None, leader=None,
                current_state_timestamp=_now_ms(), members=[]).to_bytes(GROUP_METADATA_VALUE_VERSION)
        key = struct.pack(">h", GROUP_METADATA_KEY_VERSION) + gr.GroupMetadataKey(
            group=group.group_id).to_bytes(GROUP_METADATA_KEY_VERSION)
        M = gr._GroupMetadataValue_MemberMetadata
        members = [M(member_id=m.member_id, group_instance_id=m.group_instance_id, client_id=m.client_id,
                     client_host=m.client_host, rebalance_timeout=m.rebalance_timeout_ms,
                     session_timeout=m.session_timeout_ms,
                     subscription=m.metadata(group.protocol_name) if group.protocol_name in m.protocol_names() else b"",
                     assignment=assignment.get(m.member_id, b""))
                   for m in group.members.values()]
        value = struct.pack(">h", GROUP_METADATA_VALUE_VERSION) + gr.GroupMetadataValue(
            protocol_type=group.protocol_type or "", generation=group.generation_id, protocol=group.protocol_name,
            leader=group.leader_id, current_state_timestamp=group.current_state_timestamp_ms or -1,
            members=members).to_bytes(GROUP_METADATA_VALUE_VERSION)
        return key, value

    def _store_group(self, group: ClassicGroup, assignment: dict[str, bytes], empty: bool = False) -> int:
        """Append the group's GroupMetadata record to `__consumer_offsets`; an error code
        (Kafka's appendGroupMetadataErrorToResponseError) or 0."""
        builder = MemoryRecordsBuilder(timestamp_ms=_now_ms())
        builder.append(*self._group_metadata_record(group, assignment, empty))
        return self._append(group.group_id, builder.build(), group_metadata=True)

    def _append(self, group_id: str, records: bytes, group_metadata: bool = False) -> int:
        """Append to the group's `__consumer_offsets` partition (acks=all); 0 or the error a
        client retries on (Kafka's appendGroupMetadataErrorToResponseError for group records;
        the commit path keeps INVALID_COMMIT_OFFSET_SIZE for oversized commits)."""
        return self._append_at(group_id, records, group_metadata)[0]

    def _append_at(self, group_id: str, records: bytes, group_metadata: bool = False) -> tuple[int, int]:
        """`_append`, also returning the batch's base offset (-1 on error)."""
        tp = TopicPartition(GROUP_METADATA_TOPIC_NAME, self.partition_for(group_id))
        res = self.broker.replica_manager.append_records(tp, records, -1)
        if not res.error:
            return 0, int(getattr(res, "base_offset", -1))  # -1: a result without offsets (test doubles)
        return self._append_error(res.error, group_metadata), -1

    async def wait_committed(self, group_id: str) -> int:
        """Hold a write's answer until it is committed (`coordinator_shards.wait_committed`) in
        the group's `__consumer_offsets` partition. After `offsets.commit.timeout.ms` the answer
        is COORDINATOR_NOT_AVAILABLE (Kafka's mapping of REQUEST_TIMED_OUT and
        NOT_ENOUGH_REPLICAS); a lost leadership is NOT_COORDINATOR. The cache already holds the
        write (Kafka reads committed state only; see SKIPPED_FEATURES)."""
        tp = TopicPartition(GROUP_METADATA_TOPIC_NAME, self.partition_for(group_id))
        part = self.broker.replica_manager.partition(tp)
        if part is None:
            return Errors.NOT_COORDINATOR
        error = await wait_committed(part, self.commit_timeout_ms)
        return self._append_error(error, False) if error else 0

    @staticmethod
    def _append_error(error: int, group_metadata: bool) -> int:
        if error in (Errors.NOT_LEADER_OR_FOLLOWER, Errors.KAFKA_STORAGE_ERROR):
            return Errors.NOT_COORDINATOR
        if error == Errors.UNKNOWN_TOPIC_OR_PARTITION:
            return Errors.COORDINATOR_NOT_AVAILABLE if group_metadata else Errors.NOT_COORDINATOR
        if error in (Errors.MESSAGE_TOO_LARGE, Errors.RECORD_LIST_TOO_LARGE, Errors.INVALID_FETCH_SIZE):
            return Errors.UNKNOWN_SERVER_ERROR if group_metadata else Errors.INVALID_COMMIT_OFFSET_SIZE
        return Errors.COORDINATOR_NOT_AVAILABLE

    # -- offsets ----------------------------------------------------------------------------------
    def validate_commit(self, group_id: str, member_id: str, generation_id: int,
                        instance_id: str | None = None) -> ClassicGroup:
        """Kafka's ClassicGroup.validateOffsetCommit (OffsetCommit v7+ carries the instance id)."""
        self._check_coordinator(group_id)
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        if consumer_groups is not None and consumer_groups.group(group_id) is not None:
            # A consumer-protocol group (KIP-848): member epoch rules there, offsets kept here.
            consumer_groups.validate_offset_commit(group_id, member_id, generation_id)
            return self.groups.setdefault(group_id, ClassicGroup(group_id))
        group = self.groups.get(group_id)
        if group is None:
            if generation_id < 0:
                return self.groups.setdefault(group_id, ClassicGroup(group_id))  # a simple (assign()) group
            raise KafkaError(Errors.ILLEGAL_GENERATION)
        if group.state is GroupState.DEAD:
            raise KafkaError(Errors.COORDINATOR_NOT_AVAILABLE)
        if generation_id < 0 and group.state is GroupState.EMPTY:
            return group  # the admin client or an assign()-style consumer, while nobody owns the group
        if generation_id >= 0 or member_id or instance_id is not None:
            member = group.validate_member(member_id, instance_id)
            if generation_id != group.generation_id:
                raise KafkaError(Errors.ILLEGAL_GENERATION)
        elif group.state is not GroupState.EMPTY:
            raise KafkaError(Errors.UNKNOWN_MEMBER_ID)
        else:
            member = None
        if group.state is GroupState.COMPLETING_REBALANCE:
            raise KafkaError(Errors.REBALANCE_IN_PROGRESS)
        if member is not None:
            self._reschedule_heartbeat(group, member)
        return group

    def commit_offsets(self, group: ClassicGroup, offsets: dict[tuple[str, int], OffsetAndMetadata]) -> int:
        """Write the commits to `__consumer_offsets` (acks=all), then cache them. Returns an error code."""
        if not offsets:
            return 0
        builder = MemoryRecordsBuilder(timestamp_ms=_now_ms())
        for (topic, partition), om in offsets.items():
            # Kafka's offsetCommitValueVersion: version 1 carries an explicit expire timestamp.
            vv = OFFSET_COMMIT_VALUE_VERSION if om.expire_timestamp_ms is None else 1
            builder.append(_offset_key(group.group_id, topic, partition), struct.pack(">h", vv) + gr.OffsetCommitValue(
                offset=om.offset, leader_epoch=om.leader_epoch, metadata=om.metadata,
                commit_timestamp=om.commit_timestamp_ms,
                expire_timestamp=-1 if om.expire_timestamp_ms is None else om.expire_timestamp_ms).to_bytes(vv))
        error, base = self._append_at(group.group_id, builder.build())
        if not error:
            for i, (tp, om) in enumerate(offsets.items()):
                group.offsets[tp] = dataclasses.replace(om, record_offset=base + i)
        return error

    # -- transactional offset commits (TxnOffsetCommit) ------------------------------------------
    def validate_txn_commit(self, group_id: str, member_id: str, generation_id: int,
                            instance_id: str | None) -> ClassicGroup:
        """Kafka's validateTransactionalOffsetCommit: an unknown group is created (a simple
        group) for generation -1, else ILLEGAL_GENERATION; the member, instance and generation
        are checked only when any of them is given (v3+), and neither a group without members
        nor a rebalance in progress refuses a transactional commit."""
        self._check_coordinator(group_id)
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        if consumer_groups is not None and consumer_groups.group(group_id) is not None:
            consumer_group = consumer_groups.group(group_id)
            if not (generation_id < 0 and not consumer_group.members) and \
                    not (generation_id == -1 and not member_id and instance_id is None):
                try:
                    consumer_groups.validate_offset_commit(group_id, member_id, generation_id)
                except KafkaError as e:
                    # A stale member epoch is ILLEGAL_GENERATION for TxnOffsetCommit.
                    raise KafkaError(Errors.ILLEGAL_GENERATION if e.code == Errors.STALE_MEMBER_EPOCH else e.code,
                                     e.message) from None
            return self.groups.setdefault(group_id, ClassicGroup(group_id))
        group = self.groups.get(group_id)
        if group is None:
            if generation_id < 0:
                return self.groups.setdefault(group_id, ClassicGroup(group_id))
            raise KafkaError(Errors.ILLEGAL_GENERATION)
        if group.state is GroupState.DEAD:
            raise KafkaError(Errors.COORDINATOR_NOT_AVAILABLE)
        if generation_id < 0 and group.state is GroupState.EMPTY:
            return group
        if generation_id >= 0 or member_id or instance_id is not None:
            group.validate_member(member_id, instance_id)
            if generation_id != group.generation_id:
                raise KafkaError(Errors.ILLEGAL_GENERATION)
        return group

    def verify_transaction(self, group_id: str, transactional_id: str, producer_id: int, producer_epoch: int,
                           api_version: int) -> int:
        """KIP-890 before a transactional write (Kafka's maybeStartTransactionVerification): below
        TxnOffsetCommit v5 the group's offsets partition must already be in the transaction
        (AddOffsetsToTxn), which is verified; from v5 (transaction version 2, no AddOffsetsToTxn)
        it is added here. 0 or the error, mapped as AddPartitionsToTxnManager does."""
        add = api_version > 4
        if not add and str(self.broker.config.get("transaction.partition.verification.enable")
                           or "true").lower() != "true":
            return 0
        tc = getattr(self.broker, "transaction_coordinator", None)
        if tc is None:
            return 0
        tp = (GROUP_METADATA_TOPIC_NAME, self.partition_for(group_id))
        if self.broker.replica_manager.has_ongoing_transaction(TopicPartition(*tp), producer_id, producer_epoch):
            return 0  # the partition already holds this transaction: nothing to verify (Kafka)
        error = int(tc.handle_verify_or_add_partitions(transactional_id, producer_id, producer_epoch,
                                                       {tp}, add).get(tp, 0))
        if error == Errors.PRODUCER_FENCED:
            return Errors.INVALID_PRODUCER_EPOCH
        if error == Errors.TRANSACTION_ABORTABLE and api_version < 4:
            return Errors.INVALID_TXN_STATE  # clients before TxnOffsetCommit v4 do not know it
        return error

    def commit_transactional_offsets(self, group: ClassicGroup, producer_id: int, producer_epoch: int,
                                     offsets: dict[tuple[str, int], OffsetAndMetadata]) -> int:
        """Write the offsets as one transactional batch of the producer (origin COORDINATOR,
        base sequence 0 as Kafka's coordinator batches) and keep them pending. Returns an error
        code, mapped as Kafka's CoordinatorOperationExceptionHelper."""
        if not offsets:
            return 0
        builder = MemoryRecordsBuilder(timestamp_ms=_now_ms(), producer_id=producer_id,
                                       producer_epoch=producer_epoch, base_sequence=0, is_transactional=True)
        for (topic, partition), om in offsets.items():
            builder.append(_offset_key(group.group_id, topic, partition), struct.pack(
                ">h", OFFSET_COMMIT_VALUE_VERSION) + gr.OffsetCommitValue(
                offset=om.offset, leader_epoch=om.leader_epoch, metadata=om.metadata,
                commit_timestamp=om.commit_timestamp_ms, expire_timestamp=-1).to_bytes(OFFSET_COMMIT_VALUE_VERSION))
        tp = TopicPartition(GROUP_METADATA_TOPIC_NAME, self.partition_for(group.group_id))
        res = self.broker.replica_manager.append_records(tp, builder.build(), -1, origin=AppendOrigin.COORDINATOR)
        if res.error:
            if res.error in (Errors.NOT_LEADER_OR_FOLLOWER, Errors.KAFKA_STORAGE_ERROR,
                             Errors.UNKNOWN_TOPIC_OR_PARTITION, Errors.NOT_ENOUGH_REPLICAS,
                             Errors.REQUEST_TIMED_OUT, Errors.MESSAGE_TOO_LARGE,
                             Errors.RECORD_LIST_TOO_LARGE, Errors.INVALID_FETCH_SIZE):
                return self._append_error(res.error, True)
            return int(res.error)  # INVALID_PRODUCER_EPOCH, PRODUCER_FENCED...: as the log answers
        for i, ((topic, partition), om) in enumerate(offsets.items()):
            self.pending_txn_offsets.add(producer_id, group.group_id, topic, partition,
                                         dataclasses.replace(om, record_offset=res.base_offset + i))
        return 0

    def complete_transaction(self, offsets_partition: int, producer_id: int, committed: bool) -> None:
        """A COMMIT/ABORT marker of the producer is in `__consumer_offsets-<offsets_partition>`
        (written or replayed): its pending offsets of that partition's groups become committed
        or are dropped (Kafka's replayEndTransactionMarker: a committed offset replaces the
        cached one only if its record is later, so compaction never materializes an older one)."""
        taken = self.pending_txn_offsets.take(producer_id,
                                              lambda group_id: self.partition_for(group_id) == offsets_partition)
        if not committed:
            return
        for (group_id, topic, partition), om in taken.items():
            group = self.groups.get(group_id) or self.groups.setdefault(group_id, ClassicGroup(group_id))
            existing = group.offsets.get((topic, partition))
            if existing is None or om.record_offset > existing.record_offset:
                group.offsets[(topic, partition)] = om
            else:
                log.info("Skipped the materialization of transactional offset commit %s for producer id %d "
                         "in group %s with topic %s, partition %d since its record offset %d is smaller "
                         "than the record offset %d of the last committed offset.", om, producer_id,
                         group_id, topic, partition, om.record_offset, existing.record_offset)

    def on_txn_markers_written(self, producer_id: int, committed: bool, partitions: list[tuple[str, int]]) -> None:
        """ReplicaManager's transaction-marker listener (wired by the broker)."""
        for topic, partition in partitions:
            if topic == GROUP_METADATA_TOPIC_NAME:
                self.complete_transaction(partition, producer_id, committed)

    def pending_offset_partitions(self, group_id: str) -> set[tuple[str, int]]:
        """The group's partitions with pending transactional offsets (OffsetFetch require_stable)."""
        return self.pending_txn_offsets.pending_partitions(group_id)

    # -- OffsetDelete and offset retention ---------------------------------------------------------
    def subscribed_topics(self, group: ClassicGroup) -> set[str] | None:
        """Kafka's computeSubscribedTopics: the topics in the members' ConsumerProtocol
        subscriptions for the selected protocol; None when unknown (not the "consumer" protocol
        type, or a subscription that does not parse)."""
        if group.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return None
        if not group.members:
            return set()
        if group.protocol_name is None:
            return None
        topics: set[str] = set()
        try:
            for m in group.members.values():
                topics.update(parse_subscription_topics(m.metadata(group.protocol_name)))
        except (KeyError, struct.error, UnicodeDecodeError, ValueError):
            return None
        return topics

    def is_subscribed_to_topic(self, group: ClassicGroup, topic: str) -> bool:
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        subscribed = consumer_groups.is_subscribed_to_topic(group.group_id, topic) \
            if consumer_groups is not None else None
        if subscribed is not None:
            return bool(subscribed)  # a consumer-protocol group (Kafka's ModernGroup.isSubscribedToTopic)
        topics = self.subscribed_topics(group)
        if topics is None:
            return group.protocol_type == CONSUMER_PROTOCOL_TYPE
        return topic in topics

    def delete_offsets(self, group_id: str, topics: list[tuple[str, list[int]]]
                       ) -> tuple[int, dict[tuple[str, int], int]]:
        """OffsetDelete (Kafka's OffsetMetadataManager.deleteOffsets): (group error, partition
        errors). A topic the group is subscribed to answers GROUP_SUBSCRIBED_TO_TOPIC; the other
        partitions' committed offsets get tombstones, written before the answer."""
        self._check_coordinator(group_id)
        group = self.groups.get(group_id)
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        if group is None and consumer_groups is not None and consumer_groups.group(group_id) is not None:
            group = ClassicGroup(group_id)  # a consumer-protocol group without committed offsets
        if group is None:
            raise KafkaError(Errors.GROUP_ID_NOT_FOUND)
        if group.state is GroupState.DEAD:
            raise KafkaError(Errors.GROUP_ID_NOT_FOUND, f"Group {group_id} is in dead state.")
        if group.state is not GroupState.EMPTY and group.protocol_type != CONSUMER_PROTOCOL_TYPE:
            raise KafkaError(Errors.NON_EMPTY_GROUP)
        codes: dict[tuple[str, int], int] = {}
        deleted: list[tuple[str, int]] = []
        for topic, partitions in topics:
            subscribed = self.is_subscribed_to_topic(group, topic)
            for p in partitions:
                codes[(topic, p)] = Errors.GROUP_SUBSCRIBED_TO_TOPIC if subscribed else 0
                if not subscribed and ((topic, p) in group.offsets or
                                       self.pending_txn_offsets.has_pending(group_id, topic, p)):
                    deleted.append((topic, p))
        if deleted:
            error = self._write_tombstones(group_id, deleted)
            if error:
                return error, {}
            for tp in deleted:
                group.offsets.pop(tp, None)
                self.pending_txn_offsets.remove(group_id, *tp)
        return 0, codes

    def append_group_records(self, group_id: str, records: list[tuple[bytes, bytes | None]]) -> int:
        """Append other group records (the consumer group protocol's) to the group's partition in
        one batch; 0 or the error code a client retries on (as for GroupMetadata)."""
        builder = MemoryRecordsBuilder(timestamp_ms=_now_ms())
        for key, value in records:
            builder.append(key, value)
        return self._append(group_id, builder.build(), group_metadata=True)

    def _write_tombstones(self, group_id: str, partitions: list[tuple[str, int]], group_tombstone: bool = False) -> int:
        builder = MemoryRecordsBuilder(timestamp_ms=_now_ms())
        for topic, partition in partitions:
            builder.append(_offset_key(group_id, topic, partition), None)
        if group_tombstone:
            builder.append(struct.pack(">h", GROUP_METADATA_KEY_VERSION) + gr.GroupMetadataKey(
                group=group_id).to_bytes(GROUP_METADATA_KEY_VERSION), None)
        return self._append(group_id, builder.build(), group_metadata=group_tombstone)

    def start_offset_expiration(self) -> None:
        """Kafka's cleanupGroupMetadata task, every offsets.retention.check.interval.ms."""
        loop = asyncio.get_running_loop()

        def run() -> None:
            try:
                self.cleanup_group_metadata()
            except Exception:  # noqa: BLE001 - a failed pass must not stop the next ones
                log.exception("Offset expiration failed")
            self._expiration_timer = loop.call_later(self.retention_check_interval_ms / 1000, run)

        self._expiration_timer = loop.call_later(self.retention_check_interval_ms / 1000, run)

    def cleanup_group_metadata(self, now_ms: int | None = None) -> int:
        """Expire committed offsets past offsets.retention.minutes by Kafka's rules (an Empty
        group: since it became Empty, else since the commit; a group with members: never, except
        a Stable "consumer" group's offsets of topics none of its members subscribe to, since
        the commit), writing their tombstones; an Empty group whose offsets all expired is
        deleted (GroupMetadata tombstone). Returns the number of offsets expired."""
        now = _now_ms() if now_ms is None else now_ms
        expired_total = 0
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        for group_id, group in list(self.groups.items()):
            try:
                self._check_coordinator(group_id)
            except KafkaError:
                continue
            base = self._expiration_base(group)
            expired: list[tuple[str, int]] = []
            all_expired = base is not None
            if base is not None:
                for (topic, p), om in group.offsets.items():
                    if self.is_subscribed_to_topic(group, topic) or \
                            self.pending_txn_offsets.has_pending(group_id, topic, p):
                        all_expired = False
                        continue
                    if om.expire_timestamp_ms is not None:
                        gone = now >= om.expire_timestamp_ms
                    else:
                        gone = now - base(om) >= self.offsets_retention_ms
                    if gone:
                        expired.append((topic, p))
                    else:
                        all_expired = False
            consumer_group = consumer_groups.group(group_id) if consumer_groups is not None else None
            # Kafka's maybeDeleteGroup: only an empty group (of either protocol) goes with its offsets.
            delete_group = all_expired and group.state is GroupState.EMPTY and \
                not self.pending_txn_offsets.has_pending_group(group_id) and \
                (consumer_group is None or not consumer_group.members)
            if not expired and not delete_group:
                continue
            if self._write_tombstones(group_id, expired, group_tombstone=delete_group):
                continue
            for tp in expired:
                group.offsets.pop(tp, None)
            expired_total += len(expired)
            if expired:
                log.info("[GroupId %s] Expired %d offsets", group_id, len(expired))
            if delete_group:
                group.transition(GroupState.DEAD)
                del self.groups[group_id]
                if consumer_group is not None:
                    consumer_groups.delete_group(group_id)  # type: ignore[union-attr]
        if consumer_groups is not None:
            # An empty consumer group without any committed offset: all its offsets are expired.
            for consumer_group in consumer_groups.all_groups():
                gid = consumer_group.group_id
                if consumer_group.members or gid in self.groups:
                    continue
                try:
                    self._check_coordinator(gid)
                except KafkaError:
                    continue
                consumer_groups.delete_group(gid)
        return expired_total

    @staticmethod
    def _expiration_base(group: ClassicGroup) -> Callable[[OffsetAndMetadata], int] | None:
        """Kafka's ClassicGroup.offsetExpirationCondition: the timestamp an offset ages from."""
        if group.protocol_type:
            if group.state is GroupState.EMPTY:
                ts = group.current_state_timestamp_ms
                return (lambda om: ts) if ts is not None else (lambda om: om.commit_timestamp_ms)
            if group.protocol_type == CONSUMER_PROTOCOL_TYPE and group.state is GroupState.STABLE:
                return lambda om: om.commit_timestamp_ms
            return None
        return lambda om: om.commit_timestamp_ms

    def delete_empty_classic_group(self, group_id: str) -> ClassicGroup | None:
        """Kafka's maybeDeleteEmptyClassicGroup, before a consumer-protocol group of the same id is
        created: an Empty classic group's GroupMetadata gets a tombstone (its committed offsets
        stay) and only an offsets holder remains here. A classic group with members is returned:
        the caller converts it (online upgrade, group_migration.py) or refuses."""
        group = self.groups.get(group_id)
        if group is None:
            return None
        if group.members or group.state is not GroupState.EMPTY:
            return group
        if group.protocol_type is None and group.generation_id == 0:
            return None  # only committed offsets (an assign() or consumer-protocol group): nothing to delete
        self.replace_with_consumer_group(group)
        return None

    def replace_with_consumer_group(self, group: ClassicGroup) -> None:
        """The classic group gives way to a consumer group of the same id (Kafka's
        convertToConsumerGroup / maybeDeleteEmptyClassicGroup): its waiting JoinGroup and SyncGroup
        answers get REBALANCE_IN_PROGRESS, its timers stop, its GroupMetadata gets a tombstone;
        only an offsets holder (committed offsets live apart from groups in Kafka) remains."""
        group_id = group.group_id
        error = self._write_tombstones(group_id, [], group_tombstone=True)
        if error:
            raise KafkaError(error)
        self._stop_group(group, Errors.REBALANCE_IN_PROGRESS)
        holder = ClassicGroup(group_id)
        holder.offsets = group.offsets
        self.groups[group_id] = holder

    def install_downgraded_group(self, group: ClassicGroup) -> None:
        """A consumer group became this classic group (Kafka's convertToClassicGroup): it keeps
        the committed offsets, its GroupMetadata record is written, its members' sessions start
        and it rebalances, so they rejoin."""
        holder = self.groups.get(group.group_id)
        if holder is not None:
            group.offsets = holder.offsets
        self.groups[group.group_id] = group
        group.current_state_timestamp_ms = _now_ms()
        if self._store_group(group, {m.member_id: m.assignment for m in group.members.values()}):
            log.warning("Failed to write the metadata of downgraded group %s", group.group_id)
        for m in group.members.values():
            self._reschedule_heartbeat(group, m)
        group.transition(GroupState.STABLE, _now_ms())
        self._prepare_rebalance(group)

    # -- admin accessors (group_admin.py) --------------------------------------------------------
    def group(self, group_id: str) -> ClassicGroup | None:
        return self.groups.get(group_id)

    def all_groups(self) -> list[ClassicGroup]:
        return list(self.groups.values())

    def check_coordinator(self, group_id: str) -> None:
        """NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE for a group this node does not serve."""
        self._check_coordinator(group_id)

    def delete_group(self, group_id: str) -> int:
        """DeleteGroups for a group already validated as empty: one batch in `__consumer_offsets`
        with a tombstone per committed offset and the group's GroupMetadata tombstone (so the
        group stays deleted after a restart), then the group leaves the cache. Returns an error
        code (the commit path's mapping of log errors)."""
        group = self.groups.get(group_id)
        # Kafka's deleteAllOffsets: the pending transactional offsets get tombstones too (once per
        # partition), so a replay after the deletion drops them as well.
        partitions = list(group.offsets) if group is not None else []
        partitions += sorted(self.pending_txn_offsets.pending_partitions(group_id) - set(partitions))
        error = self._write_tombstones(group_id, partitions, group_tombstone=True)
        if error:
            return Errors.NOT_COORDINATOR if error == Errors.NOT_COORDINATOR else Errors.COORDINATOR_NOT_AVAILABLE
        if group is not None:
            for m in group.members.values():
                if m.heartbeat_timer is not None:
                    m.heartbeat_timer.cancel()
            group.transition(GroupState.DEAD)
            self.groups.pop(group_id, None)
        self.pending_txn_offsets.remove_group(group_id)
        return 0

    def fetch_offsets(self, group_id: str) -> dict[tuple[str, int], OffsetAndMetadata]:
        self._check_coordinator(group_id)
        group = self.groups.get(group_id)
        return dict(group.offsets) if group is not None else {}


def _offset_key(group_id: str, topic: str, partition: int) -> bytes:
    return struct.pack(">h", OFFSET_COMMIT_KEY_VERSION) + gr.OffsetCommitKey(
        group=group_id, topic=topic, partition=partition).to_bytes(OFFSET_COMMIT_KEY_VERSION)


def parse_subscription_topics(metadata: bytes) -> list[str]:
    """The topics of a ConsumerProtocolSubscription (versions 0-3, not flexible: int16 version,
    then an int32-counted array of int16-length strings; later fields are not needed)."""
    (count,) = struct.unpack_from(">i", metadata, 2)
    if count < 0:
        return []
    pos, topics = 6, []
    for _ in range(count):
        (n,) = struct.unpack_from(">h", metadata, pos)
        if n < 0 or pos + 2 + n > len(metadata):
            raise ValueError("malformed subscription")
        topics.append(metadata[pos + 2:pos + 2 + n].decode("utf-8"))
        pos += 2 + n
    return topics
