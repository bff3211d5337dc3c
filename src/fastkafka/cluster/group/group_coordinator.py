"""GroupCoordinator: classic consumer groups (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and
committed offsets, as Kafka's group coordinator runs them for the classic protocol.

Committed offsets are records in the compacted `__consumer_offsets` topic (key: int16 version 1
+ OffsetCommitKey; value: int16 version 3 + OffsetCommitValue; a null value deletes), written
through the partition's leader log before the commit is acknowledged, and loaded back into the
in-memory cache when the broker starts. A group's coordinator is the leader of partition
abs(hashCode(group id)) % offsets.topic.num.partitions, and the topic is created on first use
with Kafka's internal-topic settings.

Concurrency contract: one instance per broker, event-loop thread only; every group is mutated
only here. Timers (session expiry, rebalance deadlines) are loop callbacks.
"""
from __future__ import annotations

import asyncio
import logging
import struct
import time
import uuid
from typing import Any

from fastkafka._native.record_batch import MemoryRecordsBuilder, iter_records, scan_batches
from fastkafka.cluster.group.classic_group import ClassicGroup, ClassicGroupMember, GroupState, OffsetAndMetadata
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME
from fastkafka.protocol._generated import group_records as gr
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import CreateTopicsRequest, JoinGroupResponse
from fastkafka.storage import TopicPartition

log = logging.getLogger(__name__)

OFFSET_COMMIT_KEY_VERSION = 1
OFFSET_COMMIT_VALUE_VERSION = 3
GROUP_METADATA_KEY_VERSION = 2
OFFSET_METADATA_MAX_BYTES = 4096  # offset.metadata.max.bytes
_LOAD_CHUNK = 1 << 20


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


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class GroupCoordinator:
    def __init__(self, broker: Any) -> None:
        self.broker = broker
        cfg = broker.config
        self.num_partitions = int(cfg.get("offsets.topic.num.partitions") or 50)
        self.replication_factor = int(cfg.get("offsets.topic.replication.factor") or 3)
        self.segment_bytes = cfg.get("offsets.topic.segment.bytes") or "104857600"
        self.initial_rebalance_delay_ms = int(cfg.get("group.initial.rebalance.delay.ms") or 3000)
        self.min_session_timeout_ms = int(cfg.get("group.min.session.timeout.ms") or 6000)
        self.max_session_timeout_ms = int(cfg.get("group.max.session.timeout.ms") or 1800000)
        self.max_group_size = int(cfg.get("group.max.size") or 2**31 - 1)
        self.groups: dict[str, ClassicGroup] = {}
        self._create_lock = asyncio.Lock()

    # -- the offsets topic ------------------------------------------------------------------------
    def partition_for(self, group_id: str) -> int:
        return abs(java_string_hash(group_id)) % self.num_partitions

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
        if part is None or not part.is_leader:
            raise KafkaError(Errors.NOT_COORDINATOR)
        return tp

    def load(self) -> None:
        """Rebuild the offset cache from every `__consumer_offsets` partition this node leads."""
        rm = self.broker.replica_manager
        loaded = 0
        for part in rm.all_partitions():
            if part.topic_partition.topic != GROUP_METADATA_TOPIC_NAME or not part.is_leader:
                continue
            plog = part.log
            offset = plog.log_start_offset
            while offset < plog.high_watermark:
                info = plog.read(offset, _LOAD_CHUNK, max_offset=plog.high_watermark, min_one_message=True)
                data = info.records.read_bytes() if info.records is not None else b""
                if not data:
                    break
                headers, _end, _err = scan_batches(data, 0, False)
                for h in headers:
                    offset = h.last_offset + 1
                    if h.is_control:
                        continue
                    for rec in iter_records(data[h.position:h.position + h.size]):
                        loaded += self._replay(rec.key, rec.value)
        if loaded:
            log.info("Loaded %d committed offsets for %d groups", loaded, len(self.groups))

    def _replay(self, key: bytes | None, value: bytes | None) -> int:
        if not key or len(key) < 2:
            return 0
        (kv,) = struct.unpack_from(">h", key)
        if kv == GROUP_METADATA_KEY_VERSION and value is None:
            # The group's tombstone (DeleteGroups): the group is gone, as Kafka's replay removes it.
            self.groups.pop(gr.GroupMetadataKey.from_bytes(key[2:], kv).group, None)
            return 0
        if kv not in (0, 1):
            return 0  # group metadata (version 2) and newer record types: members are not restored
        k = gr.OffsetCommitKey.from_bytes(key[2:], kv)
        group = self.groups.get(k.group) or self.groups.setdefault(k.group, ClassicGroup(k.group))
        tp = (k.topic, k.partition)
        if value is None:
            group.offsets.pop(tp, None)
            return 1
        (vv,) = struct.unpack_from(">h", value)
        v = gr.OffsetCommitValue.from_bytes(value[2:], vv)
        group.offsets[tp] = OffsetAndMetadata(v.offset, v.leader_epoch if vv >= 3 else -1, v.metadata,
                                              v.commit_timestamp)
        return 1

    # -- join -------------------------------------------------------------------------------------
    async def join_group(self, ctx: Any, req: Any) -> Any:
        v = ctx.api_version

        def error(code: int, member_id: str = "") -> Any:
            return _join_error(code, member_id, v)

        if not req.group_id:
            return error(Errors.INVALID_GROUP_ID)
        if not self.min_session_timeout_ms <= req.session_timeout_ms <= self.max_session_timeout_ms:
            return error(Errors.INVALID_SESSION_TIMEOUT)
        try:
            await self.ensure_offsets_topic()
            self._check_coordinator(req.group_id)
        except KafkaError as e:
            return error(e.code)
        group = self.groups.get(req.group_id)
        if group is None:
            if req.member_id:
                return error(Errors.UNKNOWN_MEMBER_ID, req.member_id)
            group = self.groups[req.group_id] = ClassicGroup(req.group_id)
        if group.state is GroupState.DEAD:
            return error(Errors.COORDINATOR_NOT_AVAILABLE)
        protocols = [(p.name, bytes(p.metadata)) for p in req.protocols]
        if not group.supports(req.protocol_type, [n for n, _ in protocols]):
            return error(Errors.INCONSISTENT_GROUP_PROTOCOL, req.member_id)
        rebalance_timeout = req.rebalance_timeout_ms if v >= 1 and req.rebalance_timeout_ms > 0 else req.session_timeout_ms
        instance_id = req.group_instance_id if v >= 5 else None
        member_id = req.member_id
        if not member_id:
            member_id = f"{instance_id or ctx.client_id or ''}-{uuid.uuid4()}"
            if len(group.members) >= self.max_group_size:
                return error(Errors.GROUP_MAX_SIZE_REACHED)
            if v >= 4 and instance_id is None:
                # KIP-394: hand out the id first; the member rejoins with it.
                group.pending_members.add(member_id)
                asyncio.get_running_loop().call_later(req.session_timeout_ms / 1000,
                                                      group.pending_members.discard, member_id)
                return error(Errors.MEMBER_ID_REQUIRED, member_id)
            return await self._add_member_and_rebalance(group, ctx, req, member_id, instance_id, protocols,
                                                        rebalance_timeout, v)
        if member_id in group.pending_members:
            group.pending_members.discard(member_id)
            return await self._add_member_and_rebalance(group, ctx, req, member_id, instance_id, protocols,
                                                        rebalance_timeout, v)
        member = group.members.get(member_id)
        if member is None:
            return error(Errors.UNKNOWN_MEMBER_ID, member_id)
        same = member.protocols == protocols
        member.rebalance_timeout_ms = rebalance_timeout
        member.session_timeout_ms = req.session_timeout_ms
        if group.state is GroupState.PREPARING_REBALANCE or not same or \
                (group.state is GroupState.STABLE and member_id == group.leader_id):
            member.protocols = protocols
            return await self._await_join(group, member, v)
        # A follower rejoining with unchanged metadata gets the current generation back.
        self._schedule_session_expiry(group, member)
        return self._join_response(group, member, v)

    async def _add_member_and_rebalance(self, group: ClassicGroup, ctx: Any, req: Any, member_id: str,
                                        instance_id: str | None, protocols: list[tuple[str, bytes]],
                                        rebalance_timeout: int, v: int) -> Any:
        member = ClassicGroupMember(member_id, instance_id, ctx.client_id or "", ctx.client_address.rsplit(":", 1)[0],
                                    rebalance_timeout, req.session_timeout_ms, req.protocol_type, protocols, is_new=True)
        if not group.members:
            group.protocol_type = req.protocol_type
        group.members[member_id] = member
        return await self._await_join(group, member, v)

    async def _await_join(self, group: ClassicGroup, member: ClassicGroupMember, v: int) -> Any:
        loop = asyncio.get_running_loop()
        member.join_future = loop.create_future()
        fut = member.join_future
        if group.state is not GroupState.PREPARING_REBALANCE:
            self._prepare_rebalance(group)
        self._maybe_complete_join(group)
        result = await fut
        if isinstance(result, int):
            return _join_error(result, member.member_id, v)
        return self._join_response(group, member, v)

    def _prepare_rebalance(self, group: ClassicGroup) -> None:
        loop = asyncio.get_running_loop()
        if group.state is GroupState.COMPLETING_REBALANCE:
            for m in group.members.values():
                m.assignment = b""
                if m.sync_future is not None and not m.sync_future.done():
                    m.sync_future.set_result(Errors.REBALANCE_IN_PROGRESS)
                m.sync_future = None
        was_empty = group.state is GroupState.EMPTY
        group.transition(GroupState.PREPARING_REBALANCE)
        timeout_s = group.max_rebalance_timeout_ms() / 1000
        if was_empty:
            # InitialDelayedJoin: give the other members of a new group a moment to arrive.
            delay = min(self.initial_rebalance_delay_ms / 1000, timeout_s)
            group.initial_delay_deadline = loop.time() + delay
            loop.call_later(delay, self._maybe_complete_join, group)
        else:
            group.initial_delay_deadline = 0.0
        if group.rebalance_task is not None:
            group.rebalance_task.cancel()
        group.rebalance_task = loop.call_later(timeout_s, self._complete_join, group)

    def _maybe_complete_join(self, group: ClassicGroup) -> None:
        if group.state is GroupState.PREPARING_REBALANCE and group.all_members_joined() and \
                asyncio.get_running_loop().time() >= group.initial_delay_deadline:
            self._complete_join(group)

    def _complete_join(self, group: ClassicGroup) -> None:
        if group.state is not GroupState.PREPARING_REBALANCE:
            return
        if group.rebalance_task is not None:
            group.rebalance_task.cancel()
            group.rebalance_task = None
        for mid in [mid for mid, m in group.members.items() if m.join_future is None]:
            self._remove_member(group, mid, rebalance=False)  # did not rejoin within the rebalance timeout
        group.generation_id += 1
        if not group.members:
            group.transition(GroupState.EMPTY)
            group.protocol_name = None
            group.leader_id = None
            return
        group.protocol_name = group.select_protocol()
        if group.leader_id not in group.members:
            group.leader_id = next(iter(group.members))
        group.transition(GroupState.COMPLETING_REBALANCE)
        for m in group.members.values():
            fut, m.join_future = m.join_future, None
            m.is_new = False
            self._schedule_session_expiry(group, m)
            if fut is not None and not fut.done():
                fut.set_result(m)  # resolved into a response by the waiting handler below

    def _join_response(self, group: ClassicGroup, member: ClassicGroupMember, v: int) -> Any:
        is_leader = member.member_id == group.leader_id
        members = []
        if is_leader:
            members = [JoinGroupResponse.JoinGroupResponseMember(
                member_id=m.member_id, group_instance_id=m.group_instance_id,
                metadata=m.metadata(group.protocol_name or ""))
                for m in group.members.values()]
        return JoinGroupResponse(error_code=0, generation_id=group.generation_id,
                                 protocol_type=group.protocol_type, protocol_name=group.protocol_name,
                                 leader=group.leader_id or "", skip_assignment=False, member_id=member.member_id,
                                 members=members)

    # -- sync -------------------------------------------------------------------------------------
    async def sync_group(self, ctx: Any, req: Any) -> tuple[int, bytes, Any]:
        """(error, assignment, group) for SyncGroup."""
        try:
            self._check_coordinator(req.group_id)
        except KafkaError as e:
            return e.code, b"", None
        group = self.groups.get(req.group_id)
        if group is None or req.member_id not in group.members:
            return Errors.UNKNOWN_MEMBER_ID, b"", group
        if req.generation_id != group.generation_id:
            return Errors.ILLEGAL_GENERATION, b"", group
        if ctx.api_version >= 5 and ((req.protocol_type is not None and req.protocol_type != group.protocol_type) or
                                     (req.protocol_name is not None and req.protocol_name != group.protocol_name)):
            return Errors.INCONSISTENT_GROUP_PROTOCOL, b"", group
        member = group.members[req.member_id]
        self._schedule_session_expiry(group, member)
        if group.state is GroupState.PREPARING_REBALANCE:
            return Errors.REBALANCE_IN_PROGRESS, b"", group
        if group.state is GroupState.STABLE:
            return 0, member.assignment, group
        if group.state is not GroupState.COMPLETING_REBALANCE:
            return Errors.UNKNOWN_MEMBER_ID, b"", group
        member.sync_future = asyncio.get_running_loop().create_future()
        fut = member.sync_future
        if req.member_id == group.leader_id:
            assignments = {a.member_id: bytes(a.assignment) for a in req.assignments}
            for m in group.members.values():
                m.assignment = assignments.get(m.member_id, b"")
            group.transition(GroupState.STABLE)
            for m in group.members.values():
                if m.sync_future is not None and not m.sync_future.done():
                    m.sync_future.set_result(0)
                m.sync_future = None
        result = await fut
        if result:
            return int(result), b"", group
        return 0, member.assignment, group

    # -- heartbeat and leave ----------------------------------------------------------------------
    def heartbeat(self, group_id: str, member_id: str, generation_id: int) -> int:
        try:
            self._check_coordinator(group_id)
        except KafkaError as e:
            return e.code
        group = self.groups.get(group_id)
        if group is None or group.state is GroupState.EMPTY or member_id not in group.members:
            return Errors.UNKNOWN_MEMBER_ID
        if generation_id != group.generation_id:
            return Errors.ILLEGAL_GENERATION
        self._schedule_session_expiry(group, group.members[member_id])
        if group.state is GroupState.PREPARING_REBALANCE:
            return Errors.REBALANCE_IN_PROGRESS
        return 0

    def leave_group(self, group_id: str, member_ids: list[str]) -> tuple[int, list[int]]:
        """(top-level error, per-member errors)."""
        try:
            self._check_coordinator(group_id)
        except KafkaError as e:
            return e.code, []
        group = self.groups.get(group_id)
        out = []
        for mid in member_ids:
            if group is not None and mid in group.pending_members:
                group.pending_members.discard(mid)
                out.append(0)
            elif group is None or mid not in group.members:
                out.append(Errors.UNKNOWN_MEMBER_ID)
            else:
                self._remove_member(group, mid, rebalance=True)
                out.append(0)
        return 0, out

    def _schedule_session_expiry(self, group: ClassicGroup, member: ClassicGroupMember) -> None:
        loop = asyncio.get_running_loop()
        member.session_deadline = loop.time() + member.session_timeout_ms / 1000
        loop.call_later(member.session_timeout_ms / 1000 + 0.001, self._check_session, group, member)

    def _check_session(self, group: ClassicGroup, member: ClassicGroupMember) -> None:
        if group.members.get(member.member_id) is not member:
            return
        loop = asyncio.get_running_loop()
        if member.join_future is not None or loop.time() < member.session_deadline:
            return  # heartbeat arrived meanwhile, or waiting in a join (its own timeout applies)
        log.info("Member %s in group %s has failed (session timeout), removing it", member.member_id,
                 group.group_id)
        self._remove_member(group, member.member_id, rebalance=True)

    def _remove_member(self, group: ClassicGroup, member_id: str, rebalance: bool) -> None:
        member = group.members.pop(member_id, None)
        if member is None:
            return
        for fut in (member.join_future, member.sync_future):
            if fut is not None and not fut.done():
                fut.set_result(Errors.UNKNOWN_MEMBER_ID)
        if not rebalance:
            return
        if group.state in (GroupState.STABLE, GroupState.COMPLETING_REBALANCE):
            if group.members:
                self._prepare_rebalance(group)
            else:
                group.generation_id += 1
                group.transition(GroupState.EMPTY)
                group.leader_id = None
                group.protocol_name = None
        elif group.state is GroupState.PREPARING_REBALANCE:
            self._maybe_complete_join(group)

    # -- offsets ----------------------------------------------------------------------------------
    def validate_commit(self, group_id: str, member_id: str, generation_id: int) -> ClassicGroup:
        self._check_coordinator(group_id)
        consumer_groups = getattr(self.broker, "consumer_group_manager", None)
        if consumer_groups is not None and consumer_groups.group(group_id) is not None:
            # A consumer-protocol group (KIP-848): member epoch rules there, offsets kept here.
            consumer_groups.validate_offset_commit(group_id, member_id, generation_id)
            return self.groups.setdefault(group_id, ClassicGroup(group_id))
        group = self.groups.get(group_id)
        if generation_id < 0 and not member_id:
            # A standalone (assign()-style) commit: only while no member owns the group.
            if group is not None and group.members:
                raise KafkaError(Errors.UNKNOWN_MEMBER_ID)
            return group or self.groups.setdefault(group_id, ClassicGroup(group_id))
        if group is None:
            raise KafkaError(Errors.ILLEGAL_GENERATION)
        if member_id not in group.members:
            raise KafkaError(Errors.UNKNOWN_MEMBER_ID)
        if generation_id != group.generation_id:
            raise KafkaError(Errors.ILLEGAL_GENERATION)
        if group.state is GroupState.COMPLETING_REBALANCE:
            raise KafkaError(Errors.REBALANCE_IN_PROGRESS)
        self._schedule_session_expiry(group, group.members[member_id])
        return group

    def commit_offsets(self, group: ClassicGroup, offsets: dict[tuple[str, int], OffsetAndMetadata]) -> int:
        """Write the commits to `__consumer_offsets` (acks=all), then cache them. Returns an error code."""
        if not offsets:
            return 0
        builder = MemoryRecordsBuilder(timestamp_ms=_now_ms())
        for (topic, partition), om in offsets.items():
            key = struct.pack(">h", OFFSET_COMMIT_KEY_VERSION) + gr.OffsetCommitKey(
                group=group.group_id, topic=topic, partition=partition).to_bytes(OFFSET_COMMIT_KEY_VERSION)
            value = struct.pack(">h", OFFSET_COMMIT_VALUE_VERSION) + gr.OffsetCommitValue(
                offset=om.offset, leader_epoch=om.leader_epoch, metadata=om.metadata,
                commit_timestamp=om.commit_timestamp_ms).to_bytes(OFFSET_COMMIT_VALUE_VERSION)
            builder.append(key, value)
        tp = TopicPartition(GROUP_METADATA_TOPIC_NAME, self.partition_for(group.group_id))
        res = self.broker.replica_manager.append_records(tp, builder.build(), -1)
        if res.error:
            # Kafka maps log errors of the offsets topic to coordinator errors clients retry.
            if res.error in (Errors.NOT_LEADER_OR_FOLLOWER, Errors.UNKNOWN_TOPIC_OR_PARTITION):
                return Errors.NOT_COORDINATOR
            if res.error in (Errors.MESSAGE_TOO_LARGE, Errors.RECORD_LIST_TOO_LARGE):
                return Errors.INVALID_COMMIT_OFFSET_SIZE
            return Errors.COORDINATOR_NOT_AVAILABLE
        group.offsets.update(offsets)
        return 0

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
        builder = MemoryRecordsBuilder(timestamp_ms=_now_ms())
        for topic, partition in (group.offsets if group is not None else {}):
            builder.append(struct.pack(">h", OFFSET_COMMIT_KEY_VERSION) + gr.OffsetCommitKey(
                group=group_id, topic=topic, partition=partition).to_bytes(OFFSET_COMMIT_KEY_VERSION), None)
        builder.append(struct.pack(">h", GROUP_METADATA_KEY_VERSION) + gr.GroupMetadataKey(
            group=group_id).to_bytes(GROUP_METADATA_KEY_VERSION), None)
        tp = TopicPartition(GROUP_METADATA_TOPIC_NAME, self.partition_for(group_id))
        res = self.broker.replica_manager.append_records(tp, builder.build(), -1)
        if res.error:
            if res.error in (Errors.NOT_LEADER_OR_FOLLOWER, Errors.UNKNOWN_TOPIC_OR_PARTITION):
                return Errors.NOT_COORDINATOR
            return Errors.COORDINATOR_NOT_AVAILABLE
        if group is not None:
            group.transition(GroupState.DEAD)
            self.groups.pop(group_id, None)
        return 0

    def fetch_offsets(self, group_id: str) -> dict[tuple[str, int], OffsetAndMetadata]:
        self._check_coordinator(group_id)
        group = self.groups.get(group_id)
        return dict(group.offsets) if group is not None else {}
