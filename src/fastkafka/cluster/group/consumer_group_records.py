"""The records a consumer group (KIP-848) is persisted as in `__consumer_offsets`, and their replay.

Kafka's GroupCoordinatorRecordHelpers / GroupMetadataManager.replay for consumer groups, in the
record formats of `kafka-protocol/group-coordinator/` (key: int16 version + key struct; value:
int16 version 0 + flexible value struct; a null value is a tombstone):

  key 3 ConsumerGroupMetadata               group epoch
  key 4 ConsumerGroupPartitionMetadata      the subscribed topics (id, name, partition count)
  key 5 ConsumerGroupMemberMetadata         a member's client, subscriptions, assignor, timeouts
                                            (and a classic-protocol member's session timeout
                                            and JoinGroup protocols: classic_member_metadata)
  key 6 ConsumerGroupTargetAssignmentMetadata  the assignment epoch
  key 7 ConsumerGroupTargetAssignmentMember    a member's target assignment
  key 8 ConsumerGroupCurrentMemberAssignment   a member's epochs, state, owned and revoking partitions
  key 16 ConsumerGroupRegularExpression       a subscribed regex's resolution (topics, image version, time)

`group_records(group, topics, cache)` is the group's whole persisted state as an ordered mapping of
record key -> value bytes, in Kafka's write order (group epoch, members' subscriptions, target
assignment, then current assignments); `tombstone_order` sorts the keys that disappeared in
Kafka's deletion order (current assignments, target assignments, the assignment epoch,
subscriptions, partition metadata, the group epoch), so a replay never meets a member's
subscription tombstone before its assignment's. `ConsumerGroupReplayer` rebuilds ConsumerGroups
from records in log order.

Pure functions plus a replayer that mutates only the groups dict it is given (the
ConsumerGroupManager's, during the load).
"""
from __future__ import annotations

import struct
from typing import Any

from fastkafka.cluster.group.consumer_group import (Assignment, ConsumerGroup, ConsumerGroupMember, MemberState,
                                                    ResolvedRegularExpression)
from fastkafka.protocol._generated import group_records as gr

GROUP_METADATA = 3
PARTITION_METADATA = 4
MEMBER_METADATA = 5
TARGET_ASSIGNMENT_METADATA = 6
TARGET_ASSIGNMENT_MEMBER = 7
CURRENT_MEMBER_ASSIGNMENT = 8
REGULAR_EXPRESSION = 16
RECORD_TYPES = frozenset(range(GROUP_METADATA, CURRENT_MEMBER_ASSIGNMENT + 1)) | {REGULAR_EXPRESSION}
_VALUE_VERSION = struct.pack(">h", 0)

# Kafka's MemberState ids (modern/MemberState.java).
_STATE_IDS = {MemberState.STABLE: 0, MemberState.UNREVOKED_PARTITIONS: 1, MemberState.UNRELEASED_PARTITIONS: 2}
_STATES = {v: k for k, v in _STATE_IDS.items()}
# Deletion order of Kafka's createGroupTombstoneRecords / removeMember.
_TOMBSTONE_ORDER = {CURRENT_MEMBER_ASSIGNMENT: 0, TARGET_ASSIGNMENT_MEMBER: 1, TARGET_ASSIGNMENT_METADATA: 2,
                    MEMBER_METADATA: 3, REGULAR_EXPRESSION: 4, PARTITION_METADATA: 4, GROUP_METADATA: 5}


def _key(version: int, record: Any) -> bytes:
    return struct.pack(">h", version) + bytes(record.to_bytes(version))


def _value(record: Any) -> bytes:
    return _VALUE_VERSION + bytes(record.to_bytes(0))


def _topic_partitions(cls: Any, assignment: Assignment) -> list[Any]:
    return [cls(topic_id=t, partitions=sorted(ps)) for t, ps in sorted(assignment.items()) if ps]


_Records = tuple[tuple[bytes, bytes], tuple[bytes, bytes] | None, tuple[bytes, bytes]]
# Per member: (the member's state as plain values, its encoded records). Encoding is skipped for
# members whose state did not change, so a heartbeat costs O(members) tuple compares, not encodes.
RecordCache = dict[str, tuple[tuple[Any, ...], _Records]]


def _frozen(a: Assignment | None) -> tuple[tuple[bytes, tuple[int, ...]], ...]:
    return tuple(sorted((t, tuple(sorted(ps))) for t, ps in (a or {}).items() if ps))


def _member_records(gid: str, m: ConsumerGroupMember, target: Assignment | None) -> _Records:
    meta = (_key(MEMBER_METADATA, gr.ConsumerGroupMemberMetadataKey(group_id=gid, member_id=m.member_id)), _value(
        gr.ConsumerGroupMemberMetadataValue(
            instance_id=m.instance_id, rack_id=m.rack_id, client_id=m.client_id, client_host=m.client_host,
            subscribed_topic_names=list(m.subscribed_topic_names), subscribed_topic_regex=m.subscribed_topic_regex,
            rebalance_timeout_ms=m.rebalance_timeout_ms, server_assignor=m.server_assignor,
            classic_member_metadata=_classic_metadata(m))))
    return meta, _target_record(gid, m.member_id, target), _current_record(gid, m)


def _classic_metadata(m: ConsumerGroupMember) -> Any:
    """Kafka's ClassicMemberMetadata of a classic-protocol member (None for the others)."""
    if m.classic_protocols is None:
        return None
    V: Any = gr.ConsumerGroupMemberMetadataValue
    return V.ClassicMemberMetadata(
        session_timeout_ms=m.classic_session_timeout_ms if m.classic_session_timeout_ms is not None else -1,
        supported_protocols=[V.ClassicProtocol(name=n, metadata=md) for n, md in m.classic_protocols])


def _target_record(gid: str, member_id: str, target: Assignment | None) -> tuple[bytes, bytes] | None:
    if target is None:
        return None
    TA: Any = gr.ConsumerGroupTargetAssignmentMemberValue  # nested classes are set on it at import
    return (_key(TARGET_ASSIGNMENT_MEMBER, gr.ConsumerGroupTargetAssignmentMemberKey(group_id=gid, member_id=member_id)),
            _value(TA(topic_partitions=_topic_partitions(TA.TopicPartition, target))))


def _current_record(gid: str, m: ConsumerGroupMember) -> tuple[bytes, bytes]:
    CA: Any = gr.ConsumerGroupCurrentMemberAssignmentValue
    return (_key(CURRENT_MEMBER_ASSIGNMENT,
                 gr.ConsumerGroupCurrentMemberAssignmentKey(group_id=gid, member_id=m.member_id)),
            _value(CA(member_epoch=m.member_epoch, previous_member_epoch=m.previous_member_epoch,
                      state=_STATE_IDS[m.state],
                      assigned_partitions=_topic_partitions(CA.TopicPartitions, m.assigned),
                      partitions_pending_revocation=_topic_partitions(CA.TopicPartitions, m.pending_revocation))))


def group_records(group: ConsumerGroup, subscribed_topics: dict[str, Any],
                  cache: RecordCache | None = None) -> dict[bytes, bytes]:
    """The group's persisted state: record key -> value, in Kafka's write order.
    `subscribed_topics`: name -> topic image (topic_id, partitions) of the group's subscriptions.
    `cache`: the group's member records from the previous call (updated in place)."""
    gid = group.group_id
    cache = {} if cache is None else cache
    per_member: list[_Records] = []
    for mid in sorted(group.members):
        m = group.members[mid]
        target = group.target_assignment.get(mid)
        sig = (m.instance_id, m.rack_id, m.client_id, m.client_host, tuple(m.subscribed_topic_names),
               m.subscribed_topic_regex, m.rebalance_timeout_ms, m.server_assignor, m.member_epoch,
               m.previous_member_epoch, m.state, _frozen(m.assigned), _frozen(m.pending_revocation),
               target is None, _frozen(target), m.classic_session_timeout_ms,
               None if m.classic_protocols is None else tuple(m.classic_protocols))
        hit = cache.get(mid)
        if hit is None or hit[0] != sig:
            hit = cache[mid] = (sig, _member_records(gid, m, target))
        per_member.append(hit[1])
    for mid in [mid for mid in cache if mid not in group.members]:
        del cache[mid]
    out: dict[bytes, bytes] = {}
    out[_key(GROUP_METADATA, gr.ConsumerGroupMetadataKey(group_id=gid))] = _value(
        gr.ConsumerGroupMetadataValue(epoch=group.group_epoch))
    PM: Any = gr.ConsumerGroupPartitionMetadataValue
    out[_key(PARTITION_METADATA, gr.ConsumerGroupPartitionMetadataKey(group_id=gid))] = _value(PM(topics=[
        PM.TopicMetadata(topic_id=t.topic_id, topic_name=name, num_partitions=len(t.partitions),
                         partition_metadata=[])
        for name, t in sorted(subscribed_topics.items())]))
    RV: Any = gr.ConsumerGroupRegularExpressionValue
    for regex, resolved in sorted(group.resolved_regexes.items()):
        out[_key(REGULAR_EXPRESSION, gr.ConsumerGroupRegularExpressionKey(group_id=gid, regular_expression=regex))] = \
            _value(RV(topics=sorted(resolved.topics), version=resolved.version, timestamp=resolved.timestamp_ms))
    for meta, _target, _current in per_member:
        out[meta[0]] = meta[1]
    for _meta, target_kv, _current in per_member:
        if target_kv is not None:
            out[target_kv[0]] = target_kv[1]
    for mid in sorted(group.target_assignment):  # targets of ids that are not members (rare)
        if mid not in group.members:
            kv = _target_record(gid, mid, group.target_assignment[mid])
            assert kv is not None
            out[kv[0]] = kv[1]
    out[_key(TARGET_ASSIGNMENT_METADATA, gr.ConsumerGroupTargetAssignmentMetadataKey(group_id=gid))] = _value(
        gr.ConsumerGroupTargetAssignmentMetadataValue(assignment_epoch=group.assignment_epoch))
    for _meta, _target, current in per_member:
        out[current[0]] = current[1]
    return out


def record_type(key: bytes) -> int:
    return int(struct.unpack_from(">h", key)[0])


def tombstone_order(keys: list[bytes]) -> list[bytes]:
    """`keys` sorted in Kafka's deletion order (stable within one record type)."""
    return sorted(keys, key=lambda k: _TOMBSTONE_ORDER[record_type(k)])


def _assignment(topic_partitions: list[Any]) -> Assignment:
    return {bytes(tp.topic_id): set(tp.partitions) for tp in topic_partitions if tp.partitions}


class ConsumerGroupReplayer:
    """Kafka's GroupMetadataManager.replay for the consumer group record types, into `groups`."""

    def __init__(self, groups: dict[str, ConsumerGroup]) -> None:
        self.groups = groups

    def _group(self, group_id: str, create: bool) -> ConsumerGroup | None:
        group = self.groups.get(group_id)
        if group is None and create:
            group = self.groups[group_id] = ConsumerGroup(group_id)
        return group

    @staticmethod
    def _member(group: ConsumerGroup, member_id: str) -> ConsumerGroupMember:
        member = group.members.get(member_id)
        if member is None:
            member = group.members[member_id] = ConsumerGroupMember(member_id, "", "")
        return member

    def replay(self, key: bytes, value: bytes | None) -> str:
        """Apply one record; returns its group id."""
        kind = record_type(key)
        body = key[2:]
        if kind == GROUP_METADATA:
            gid = gr.ConsumerGroupMetadataKey.from_bytes(body, kind).group_id
            if value is None:
                self.groups.pop(gid, None)
            else:
                group = self._group(gid, True)
                assert group is not None
                group.group_epoch = gr.ConsumerGroupMetadataValue.from_bytes(value[2:], 0).epoch
            return str(gid)
        if kind == PARTITION_METADATA:
            gid = gr.ConsumerGroupPartitionMetadataKey.from_bytes(body, kind).group_id
            group = self._group(gid, value is not None)
            if group is not None:
                # The persisted subscription metadata is the fingerprint a heartbeat compares with
                # the image: topics changed while the broker was down bump the group epoch.
                topics = [] if value is None else \
                    gr.ConsumerGroupPartitionMetadataValue.from_bytes(value[2:], 0).topics
                group.subscription_fingerprint = tuple(sorted(
                    (t.topic_name, bytes(t.topic_id), t.num_partitions) for t in topics))
            return str(gid)
        if kind == TARGET_ASSIGNMENT_METADATA:
            gid = gr.ConsumerGroupTargetAssignmentMetadataKey.from_bytes(body, kind).group_id
            group = self._group(gid, value is not None)
            if group is not None:
                group.assignment_epoch = -1 if value is None else \
                    gr.ConsumerGroupTargetAssignmentMetadataValue.from_bytes(value[2:], 0).assignment_epoch
            return str(gid)
        if kind == MEMBER_METADATA:
            k = gr.ConsumerGroupMemberMetadataKey.from_bytes(body, kind)
            group = self._group(k.group_id, value is not None)
            if group is None:
                return str(k.group_id)
            if value is None:
                group.remove_member(k.member_id)
                return str(k.group_id)
            mv = gr.ConsumerGroupMemberMetadataValue.from_bytes(value[2:], 0)
            m = self._member(group, k.member_id)
            m.instance_id, m.rack_id = mv.instance_id, mv.rack_id
            m.client_id, m.client_host = mv.client_id, mv.client_host
            m.subscribed_topic_names = list(mv.subscribed_topic_names)
            m.subscribed_topic_regex = mv.subscribed_topic_regex or None
            m.rebalance_timeout_ms = mv.rebalance_timeout_ms
            m.server_assignor = mv.server_assignor
            cm = mv.classic_member_metadata
            m.classic_session_timeout_ms = None if cm is None else cm.session_timeout_ms
            m.classic_protocols = None if cm is None else \
                [(p.name, bytes(p.metadata)) for p in cm.supported_protocols]
            if m.instance_id is not None:
                group.static_members[m.instance_id] = m.member_id
            return str(k.group_id)
        if kind == TARGET_ASSIGNMENT_MEMBER:
            tk = gr.ConsumerGroupTargetAssignmentMemberKey.from_bytes(body, kind)
            group = self._group(tk.group_id, value is not None)
            if group is not None:
                if value is None:
                    group.target_assignment.pop(tk.member_id, None)
                else:
                    tv = gr.ConsumerGroupTargetAssignmentMemberValue.from_bytes(value[2:], 0)
                    group.target_assignment[tk.member_id] = _assignment(tv.topic_partitions)
            return str(tk.group_id)
        if kind == CURRENT_MEMBER_ASSIGNMENT:
            ck = gr.ConsumerGroupCurrentMemberAssignmentKey.from_bytes(body, kind)
            group = self._group(ck.group_id, value is not None)
            if group is None:
                return str(ck.group_id)
            if value is None:
                member = group.members.get(ck.member_id)
                if member is not None:
                    member.member_epoch = member.previous_member_epoch = -1
                    group.set_owned(member, {}, {})
                return str(ck.group_id)
            cv = gr.ConsumerGroupCurrentMemberAssignmentValue.from_bytes(value[2:], 0)
            m = self._member(group, ck.member_id)
            m.member_epoch, m.previous_member_epoch = cv.member_epoch, cv.previous_member_epoch
            m.state = _STATES.get(cv.state, MemberState.STABLE)
            group.set_owned(m, _assignment(cv.assigned_partitions), _assignment(cv.partitions_pending_revocation))
            return str(ck.group_id)
        if kind == REGULAR_EXPRESSION:
            rk = gr.ConsumerGroupRegularExpressionKey.from_bytes(body, 0)
            group = self._group(rk.group_id, value is not None)
            if group is not None:
                if value is None:
                    group.resolved_regexes.pop(rk.regular_expression, None)
                else:
                    rv = gr.ConsumerGroupRegularExpressionValue.from_bytes(value[2:], 0)
                    group.resolved_regexes[rk.regular_expression] = ResolvedRegularExpression(
                        frozenset(rv.topics), rv.version, rv.timestamp)
            return str(rk.group_id)
        raise ValueError(f"not a consumer group record type: {kind}")
