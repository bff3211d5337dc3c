"""Online migration of a group between the classic and the consumer protocol (KIP-848's upgrade
and downgrade path), as Kafka 4.4's GroupMetadataManager runs it, and the classic-protocol members
of a consumer group.

Upgrade (Kafka's validateOnlineUpgrade / convertToConsumerGroup / ConsumerGroup.fromClassicGroup):
the first ConsumerGroupHeartbeat (epoch 0) of a consumer-protocol member for a classic group with
members converts it when group.consumer.migration.policy is `upgrade` or `bidirectional`, the
group's protocol type is "consumer" and it is not larger than group.consumer.max.size; any other
case answers GROUP_ID_NOT_FOUND with Kafka's message. Every classic state converts: waiting
JoinGroup and SyncGroup answers get REBALANCE_IN_PROGRESS. The classic group's GroupMetadata gets
a tombstone, then the consumer group's records are written (epoch = the classic generation; each
member at that epoch, Stable, owning the partitions of its last ConsumerProtocol assignment, which
is also its target; subscriptions from its ConsumerProtocol subscription; its session timeout
and JoinGroup protocols kept as classic_member_metadata). The joining member bumps the group
epoch, so the target assignment is recomputed: that is the rebalance the upgrade triggers. An
assignment carrying user data (a custom client-side assignor) cannot be converted.

Classic members of a consumer group (Kafka's classicGroupJoinToConsumerGroup,
classicGroupSyncToConsumerGroup, classicGroupHeartbeatToConsumerGroup,
classicGroupLeaveToConsumerGroup): JoinGroup creates or updates a consumer group member from the
request's ConsumerProtocol subscription, bumps the group epoch when its subscription changed,
reconciles it toward its target (the partitions its subscription says it still owns decide
whether it must revoke first) and answers at once with generation = the member epoch and the
member's first protocol; SyncGroup answers the member's assigned partitions serialized in its
subscription's ConsumerProtocol version; Heartbeat answers REBALANCE_IN_PROGRESS while the member
is behind the group epoch, has partitions to revoke, or waits for partitions that are now free,
so it rejoins; LeaveGroup fences it. A member's session is its JoinGroup's session timeout; a
member told to rejoin must do so within its rebalance timeout (join timer), a joined one must sync
within it (sync timer), else it is fenced. OffsetCommit checks the generation against the member
epoch (ILLEGAL_GENERATION on a mismatch).

Downgrade (Kafka's validateOnlineDowngradeWithFencedMembers / convertToClassicGroup /
ClassicGroup.fromConsumerGroup): when members leave or are fenced (any protocol) and only classic
members remain, the policy is `downgrade` or `bidirectional` and they are at most group.max.size,
the consumer group's records get tombstones and a classic group replaces it: Stable, generation =
the group epoch, protocol "consumer", the protocol its members vote for, each member's assignment
its target assignment serialized in its subscription's version; its GroupMetadata record is
written, the members' sessions start and a rebalance is prepared, so they rejoin.

Left out (Kafka does them): a static classic member replacing the last consumer-protocol member
downgrading the group at its JoinGroup (validateOnlineDowngradeWithReplacedMember); the records
of one conversion are written as two batches (tombstones, then the new group's records) where
Kafka writes one.

Concurrency: event-loop thread only; functions of the ConsumerGroupManager and GroupCoordinator.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

from fastkafka.cluster.group.classic_group import ClassicGroup, ClassicGroupMember, GroupState
from fastkafka.cluster.group.consumer_group import Assignment, ConsumerGroup, ConsumerGroupMember, MemberState
from fastkafka.cluster.group.consumer_protocol import (parse_assignment, parse_subscription, serialize_assignment,
                                                       version_of)
from fastkafka.protocol.errors import Errors, KafkaError

log = logging.getLogger(__name__)

CONSUMER_PROTOCOL_TYPE = "consumer"


# -- upgrade ----------------------------------------------------------------------------------------
def validate_online_upgrade(manager: Any, classic: ClassicGroup) -> None:
    """Kafka's validateOnlineUpgrade: GROUP_ID_NOT_FOUND unless the group may be converted."""
    gid = classic.group_id
    if not manager.upgrade_enabled:
        why = "online upgrade is disabled"
    elif classic.protocol_type != CONSUMER_PROTOCOL_TYPE:
        why = "the group does not use the consumer embedded protocol"
    elif len(classic.members) > manager.max_size:
        why = "the group size exceeds the consumer group maximum size"
    else:
        return
    log.info("Cannot upgrade classic group %s to consumer group because %s.", gid, why)
    raise KafkaError(Errors.GROUP_ID_NOT_FOUND, f"Cannot upgrade classic group {gid} to consumer group because {why}.")


def _by_name(manager: Any, partitions: dict[str, list[int]]) -> Assignment:
    """Topic names -> topic ids of the image (Kafka's toTopicPartitionMap: unknown topics dropped)."""
    topics = manager._topics()
    out: Assignment = {}
    for name, ps in partitions.items():
        t = topics.by_name.get(name)
        if t is not None and ps:
            out.setdefault(t.topic_id, set()).update(ps)
    return out


def _by_id(manager: Any, assignment: Assignment) -> dict[str, list[int]]:
    topics = manager._topics()
    out: dict[str, list[int]] = {}
    for topic_id, ps in assignment.items():
        t = topics.by_id.get(topic_id)
        if t is not None and ps:
            out[t.name] = sorted(ps)
    return out


def convert_to_consumer_group(manager: Any, classic: ClassicGroup) -> ConsumerGroup:
    """Kafka's convertToConsumerGroup (validation first; nothing changes when it fails)."""
    validate_online_upgrade(manager, classic)
    gid = classic.group_id
    parsed: list[tuple[ClassicGroupMember, Any, Assignment]] = []
    for m in classic.members.values():
        names = m.protocol_names()
        metadata = m.metadata(classic.protocol_name) if classic.protocol_name in names else m.protocols[0][1]
        try:
            subscription = parse_subscription(metadata)
            assigned: Assignment = {}
            if m.assignment:
                partitions, user_data = parse_assignment(m.assignment)
                if user_data:
                    log.warning("Cannot upgrade classic group %s to consumer group: userData from a custom "
                                "assignor would be lost.", gid)
                    raise KafkaError(Errors.GROUP_ID_NOT_FOUND, f"Cannot upgrade classic group {gid} to consumer "
                                     "group because an unsupported custom assignor is in use. Please refer to the "
                                     "documentation or switch to a default assignor before re-attempting the upgrade.")
                assigned = _by_name(manager, partitions)
        except ValueError as e:
            log.warning("Cannot upgrade classic group %s to consumer group because the embedded consumer protocol "
                        "is malformed: %s.", gid, e)
            raise KafkaError(Errors.GROUP_ID_NOT_FOUND, f"Cannot upgrade classic group {gid} to consumer group "
                             "because the embedded consumer protocol is malformed.") from None
        parsed.append((m, subscription, assigned))
    # The classic group's waiting joins and syncs answer REBALANCE_IN_PROGRESS, its tombstone is written.
    manager.broker.group_coordinator.replace_with_consumer_group(classic)
    group = ConsumerGroup(gid)
    group.group_epoch = group.assignment_epoch = classic.generation_id
    for m, subscription, assigned in parsed:
        member = ConsumerGroupMember(
            m.member_id, m.client_id, m.client_host, instance_id=m.group_instance_id, rack_id=subscription.rack_id,
            member_epoch=classic.generation_id, previous_member_epoch=classic.generation_id,
            rebalance_timeout_ms=m.rebalance_timeout_ms, subscribed_topic_names=sorted(set(subscription.topics)),
            classic_session_timeout_ms=m.session_timeout_ms, classic_protocols=list(m.protocols))
        group.members[member.member_id] = member
        if member.instance_id is not None:
            group.static_members[member.instance_id] = member.member_id
        group.target_assignment[member.member_id] = {t: set(ps) for t, ps in assigned.items()}
        group.set_owned(member, assigned, {})
    group.subscription_fingerprint = manager._subscription_fingerprint(group)
    group.assignor_name = manager._assignor_for(group)
    for member in group.members.values():
        manager._schedule_session_timeout(group, member)
    log.info("[GroupId %s] Converted the classic group to a consumer group.", gid)
    return group


# -- downgrade --------------------------------------------------------------------------------------
def validate_online_downgrade(manager: Any, group: ConsumerGroup, fenced: list[str]) -> bool:
    """Kafka's validateOnlineDowngradeWithFencedMembers."""
    remaining = [m for mid, m in group.members.items() if mid not in fenced]
    if any(not m.uses_classic_protocol for m in remaining):
        return False
    if not remaining:
        log.debug("Skip downgrading the consumer group %s to classic group because it's empty.", group.group_id)
        return False
    if not manager.downgrade_enabled:
        log.info("Cannot downgrade consumer group %s to classic group because the online downgrade is disabled.",
                 group.group_id)
        return False
    if len(remaining) > manager.classic_max_size:
        log.info("Cannot downgrade consumer group %s to classic group because its group size is greater than "
                 "classic group max size.", group.group_id)
        return False
    return True


def convert_to_classic_group(manager: Any, group: ConsumerGroup, fenced: list[str]) -> None:
    """Kafka's convertToClassicGroup for leaving (fenced) members: tombstones for the consumer
    group, a Stable classic group of the remaining members, its record, then a rebalance."""
    gid = group.group_id
    classic = ClassicGroup(gid)
    classic.generation_id = group.group_epoch
    classic.protocol_type = CONSUMER_PROTOCOL_TYPE
    remaining = [m for mid, m in group.members.items() if mid not in fenced]
    for m in remaining:
        assert m.classic_protocols is not None and m.classic_session_timeout_ms is not None
        classic.add(ClassicGroupMember(m.member_id, m.instance_id, m.client_id, m.client_host, m.rebalance_timeout_ms,
                                       m.classic_session_timeout_ms, CONSUMER_PROTOCOL_TYPE, list(m.classic_protocols)))
    classic.new_member_added = False
    classic.protocol_name = classic.select_protocol()
    try:
        for cm in classic.members.values():
            target = group.target_assignment.get(cm.member_id, {})
            cm.assignment = serialize_assignment(_by_id(manager, target), version_of(cm.metadata(classic.protocol_name)))
    except ValueError as e:
        log.warning("Cannot downgrade the consumer group %s: fail to parse the Consumer Protocol consumer.", gid)
        raise KafkaError(Errors.GROUP_ID_NOT_FOUND, f"Cannot downgrade the classic group {gid}: {e}.") from None
    for mid in list(group.members):
        manager._cancel_timers(gid, mid)
    # The consumer group's records get tombstones (the difference with nothing), then the classic
    # group's record is written and it rebalances.
    del manager.groups[gid]
    error = manager._persist(gid)
    if error:
        manager.groups[gid] = group
        for m in group.members.values():
            manager._schedule_session_timeout(group, m)
        raise KafkaError(error)
    manager.broker.group_coordinator.install_downgraded_group(classic)
    log.info("[GroupId %s] Converted the consumer group to a classic group.", gid)


# -- classic members of a consumer group ------------------------------------------------------------
def _supports_classic_protocols(group: ConsumerGroup, protocol_type: str, names: list[str]) -> bool:
    """Kafka's ConsumerGroup.supportsClassicProtocols: the "consumer" protocol type and a
    protocol every classic member of the group supports."""
    if protocol_type != CONSUMER_PROTOCOL_TYPE:
        return False
    if not group.members:
        return bool(names)
    classic = [{n for n, _ in m.classic_protocols} for m in group.members.values() if m.classic_protocols is not None]
    return any(all(n in supported for supported in classic) for n in names)


def _validate_member(group: ConsumerGroup, member_id: str, instance_id: str | None) -> ConsumerGroupMember:
    """Kafka's validateConsumerGroupMember, then throwIfMemberDoesNotUseClassicProtocol."""
    if instance_id is None:
        member = group.members.get(member_id)
        if member is None:
            raise KafkaError(Errors.UNKNOWN_MEMBER_ID,
                             f"Member {member_id} is not a member of group {group.group_id}.")
    else:
        static_id = group.static_members.get(instance_id)
        member = group.members.get(static_id) if static_id is not None else None
        if member is None:
            raise KafkaError(Errors.UNKNOWN_MEMBER_ID, f"Member with instance id {instance_id} is not a member of "
                             f"group {group.group_id}.")
        if member.member_id != member_id:
            raise KafkaError(Errors.FENCED_INSTANCE_ID, f"Static member {member_id} with instance id {instance_id} "
                             f"is fenced by existing member {member.member_id}.")
    if not member.uses_classic_protocol:
        raise KafkaError(Errors.UNKNOWN_MEMBER_ID, f"Member {member.member_id} does not use the classic protocol.")
    return member


def _schedule(manager: Any, timers: dict[tuple[str, str], Any], why: str, group: ConsumerGroup,
              member: ConsumerGroupMember, if_absent: bool) -> None:
    import asyncio
    key = (group.group_id, member.member_id)
    old = timers.get(key)
    if old is not None:
        if if_absent:
            return
        old.cancel()
    timers[key] = asyncio.get_running_loop().call_later(
        member.rebalance_timeout_ms / 1000, manager._expire, group.group_id, member.member_id, why)


def _cancel(timers: dict[tuple[str, str], Any], group: ConsumerGroup, member_id: str) -> None:
    h = timers.pop((group.group_id, member_id), None)
    if h is not None:
        h.cancel()


def classic_join(manager: Any, ctx: Any, req: Any) -> tuple[int, dict[str, Any]]:
    """Kafka's classicGroupJoinToConsumerGroup for a non-empty consumer group: (error, the
    JoinGroupResponse fields). The member's records are written before it returns."""
    group: ConsumerGroup = manager.groups[req.group_id]
    gid = group.group_id
    v = ctx.api_version
    if manager.migration_policy == "disabled":
        log.info("Cannot join the consumer group %s with the classic protocol because the group migration is "
                 "disabled.", gid)
        return Errors.INCONSISTENT_GROUP_PROTOCOL, {"member_id": req.member_id}
    instance_id = req.group_instance_id if v >= 5 else None
    member_id = req.member_id
    unknown = not member_id
    if unknown:
        member_id = str(uuid.uuid4())
    if member_id not in group.members and len(group.members) >= manager.max_size:
        return Errors.GROUP_MAX_SIZE_REACHED, {"member_id": member_id}
    protocols = [(p.name, bytes(p.metadata)) for p in req.protocols]
    if not protocols or not _supports_classic_protocols(group, req.protocol_type, [n for n, _ in protocols]):
        return Errors.INCONSISTENT_GROUP_PROTOCOL, {"member_id": member_id}
    if v >= 4 and instance_id is None and unknown:
        # KIP-394: the member rejoins with the id handed out.
        log.info("[GroupId %s] Dynamic member with unknown member id joins the consumer group. Created a new "
                 "member id %s and requesting the member to rejoin with this id.", gid, member_id)
        return Errors.MEMBER_ID_REQUIRED, {"member_id": member_id}
    try:
        subscription = parse_subscription(protocols[0][1])
    except ValueError:
        return Errors.UNKNOWN_SERVER_ERROR, {"member_id": member_id}
    client_host = "/" + ctx.client_address.rsplit(":", 1)[0]
    new = False
    if instance_id is None:
        member = group.members.get(member_id)
        if member is None:
            member = group.members[member_id] = ConsumerGroupMember(member_id, ctx.client_id or "", client_host)
            new = True
    else:
        existing_id = group.static_members.get(instance_id)
        existing = group.members.get(existing_id) if existing_id is not None else None
        if not unknown:
            if existing is None:
                return Errors.UNKNOWN_MEMBER_ID, {"member_id": member_id}
            if existing.member_id != member_id:
                return Errors.FENCED_INSTANCE_ID, {"member_id": member_id}
            member = existing
        elif existing is None:
            member = group.members[member_id] = ConsumerGroupMember(member_id, ctx.client_id or "", client_host,
                                                                    instance_id=instance_id)
            group.static_members[instance_id] = member_id
            new = True
        else:
            # The instance rejoins under a new member id: it takes over the previous member's
            # subscriptions and partitions (Kafka's replaceMember), at epoch 0.
            member = ConsumerGroupMember(
                member_id, existing.client_id, existing.client_host, instance_id=instance_id,
                rack_id=existing.rack_id, rebalance_timeout_ms=existing.rebalance_timeout_ms,
                subscribed_topic_names=list(existing.subscribed_topic_names),
                subscribed_topic_regex=existing.subscribed_topic_regex, server_assignor=existing.server_assignor)
            assigned, pending = existing.assigned, existing.pending_revocation
            target = group.target_assignment.get(existing.member_id)
            manager._cancel_timers(gid, existing.member_id)
            group.remove_member(existing.member_id)
            group.members[member_id] = member
            group.static_members[instance_id] = member_id
            if target is not None:
                group.target_assignment[member_id] = target
            group.set_owned(member, assigned, pending)
    bump = new or sorted(set(subscription.topics)) != member.subscribed_topic_names
    if subscription.rack_id:
        member.rack_id = subscription.rack_id
    if v >= 1 and req.rebalance_timeout_ms > 0:
        member.rebalance_timeout_ms = req.rebalance_timeout_ms
    member.subscribed_topic_names = sorted(set(subscription.topics))
    member.client_id, member.client_host = ctx.client_id or "", client_host
    member.classic_session_timeout_ms = req.session_timeout_ms
    member.classic_protocols = protocols
    if manager.update_group_epoch(group, bump):
        log.info("[GroupId %s] Bumped group epoch to %d.", gid, group.group_epoch)
    group.reconcile(member, _by_name(manager, subscription.owned_partitions))
    error = manager._persist(gid)
    if error:
        return error, {"member_id": member_id}
    _cancel(manager._join_timers, group, member_id)
    _cancel(manager._revocation_timers, group, member_id)
    manager._schedule_session_timeout(group, member)
    _schedule(manager, manager._sync_timers, "sync", group, member, if_absent=False)
    return 0, {"generation_id": member.member_epoch, "protocol_type": CONSUMER_PROTOCOL_TYPE,
               "protocol_name": protocols[0][0], "leader": "", "skip_assignment": False,
               "member_id": member_id, "members": []}


def _rebalance_in_progress(manager: Any, group: ConsumerGroup, member: ConsumerGroupMember) -> None:
    _schedule(manager, manager._join_timers, "join", group, member, if_absent=True)
    raise KafkaError(Errors.REBALANCE_IN_PROGRESS, f"A new rebalance is triggered in group {group.group_id} and "
                     f"member {member.member_id} should rejoin to catch up.")


def classic_sync(manager: Any, req: Any, api_version: int) -> tuple[int, bytes]:
    """Kafka's classicGroupSyncToConsumerGroup: (error, the member's assignment)."""
    group: ConsumerGroup = manager.groups[req.group_id]
    try:
        member = _validate_member(group, req.member_id, req.group_instance_id if api_version >= 3 else None)
        if req.generation_id != member.member_epoch:
            raise KafkaError(Errors.ILLEGAL_GENERATION)
        assert member.classic_protocols is not None
        protocol_name = member.classic_protocols[0][0]
        protocol_type = req.protocol_type if api_version >= 5 else None
        request_name = req.protocol_name if api_version >= 5 else None
        if (protocol_type is not None and protocol_type != CONSUMER_PROTOCOL_TYPE) or \
                (request_name is not None and request_name != protocol_name):
            raise KafkaError(Errors.INCONSISTENT_GROUP_PROTOCOL)
        # A member in UNREVOKED_PARTITIONS has rejoined already: it revokes first.
        if group.group_epoch > member.member_epoch and member.state is not MemberState.UNREVOKED_PARTITIONS:
            _rebalance_in_progress(manager, group, member)
    except KafkaError as e:
        return e.code, b""
    _cancel(manager._sync_timers, group, member.member_id)
    manager._schedule_session_timeout(group, member)
    try:
        version = version_of(member.classic_protocols[0][1])
    except ValueError:
        return Errors.UNKNOWN_SERVER_ERROR, b""
    return 0, serialize_assignment(_by_id(manager, member.assigned), version)


def _waiting_on_unreleased_partition(group: ConsumerGroup, member: ConsumerGroupMember) -> bool:
    """Kafka's waitingOnUnreleasedPartition: some partition of its target is still owned by
    another member."""
    for t, ps in group.target_assignment.get(member.member_id, {}).items():
        for p in ps:
            if p in member.assigned.get(t, ()):
                continue
            owner = group.owners.get((t, p))
            if owner is not None and owner != member.member_id:
                return True
    return False


def classic_heartbeat(manager: Any, group_id: str, member_id: str, generation_id: int,
                      instance_id: str | None) -> int:
    """Kafka's classicGroupHeartbeatToConsumerGroup: 0 or the error code."""
    group: ConsumerGroup = manager.groups[group_id]
    try:
        member = _validate_member(group, member_id, instance_id)
        if generation_id != member.member_epoch:
            raise KafkaError(Errors.ILLEGAL_GENERATION)
        manager._schedule_session_timeout(group, member)
        # Rejoin when: the group epoch moved on; it must revoke partitions; the partitions it
        # waits for are free now.
        if member.member_epoch < group.group_epoch or member.state is MemberState.UNREVOKED_PARTITIONS or (
                member.state is MemberState.UNRELEASED_PARTITIONS and
                not _waiting_on_unreleased_partition(group, member)):
            _rebalance_in_progress(manager, group, member)
    except KafkaError as e:
        return e.code
    return 0


def classic_leave(manager: Any, group_id: str, members: list[tuple[str, str | None]]) -> tuple[int, list[int]]:
    """Kafka's classicGroupLeaveToConsumerGroup: (error, per-member errors); the valid members
    are fenced together (which may downgrade the group)."""
    group: ConsumerGroup = manager.groups[group_id]
    codes: list[int] = []
    leaving: list[str] = []
    for member_id, instance_id in members:
        try:
            if instance_id is None:
                member = _validate_member(group, member_id, None)
            else:
                static_id = group.static_members.get(instance_id)
                if static_id is None or static_id not in group.members:
                    raise KafkaError(Errors.UNKNOWN_MEMBER_ID, f"Instance id {instance_id} is unknown.")
                # An admin may remove a static member by its instance id alone.
                member = _validate_member(group, member_id or static_id, instance_id)
            log.info("[Group %s] Member %s has left group through explicit `LeaveGroup` request.",
                     group_id, member.member_id)
            if member.member_id not in leaving:
                leaving.append(member.member_id)
            codes.append(0)
        except KafkaError as e:
            codes.append(e.code)
    if leaving:
        try:
            manager._fence(group, leaving)
        except KafkaError as e:
            return e.code, []
        error = manager._persist(group_id)
        if error:
            return error, []
    return 0, codes
