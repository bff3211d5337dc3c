"""ConsumerGroupManager: the consumer group protocol of KIP-848 (ConsumerGroupHeartbeat,
ConsumerGroupDescribe), as Kafka's GroupMetadataManager runs it for consumer groups.

A heartbeat validates the request, creates or updates the member, bumps the group epoch when
membership, subscriptions or the subscribed topics' partitions changed, recomputes the target
assignment with the server-side assignor when the group epoch is ahead of the assignment epoch,
then moves the member toward its target (ConsumerGroup.reconcile) and answers its epoch and
assignment. Members are removed on leave (epoch -1), after `group.consumer.session.timeout.ms`
without a heartbeat, or when they do not revoke partitions within their rebalance timeout.

Committed offsets stay with the GroupCoordinator (one offsets store for both protocols); it asks
`validate_offset_commit` here for groups of this protocol.

Persistence (Kafka's consumer group records, consumer_group_records.py): after every change
(heartbeat, leave, session or revocation expiry, deletion) the group's records are compared with
those last written (`_written`) and the difference is appended to the group's
`__consumer_offsets` partition through the GroupCoordinator before the heartbeat is answered:
new or changed records, and tombstones for what disappeared (a member left or was fenced, the
group was deleted). The GroupCoordinator's load replays them here (`replay_record`), then
`on_loaded` restarts the members' session timers, so after a broker restart members keep their
epochs and assignments.

Concurrency: one instance per broker, event-loop thread only; it owns every ConsumerGroup.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from fastkafka.cluster import group_config
from fastkafka.cluster.group.assignors import ASSIGNORS, MemberSubscription
from fastkafka.cluster.group.consumer_group import (Assignment, ConsumerGroup, ConsumerGroupMember,
                                                    MemberState, ResolvedRegularExpression)
from fastkafka.cluster.group.consumer_group_records import (ConsumerGroupReplayer, RecordCache, group_records,
                                                            tombstone_order)
from fastkafka.cluster.metadata.config_resource import ConfigResource, ConfigResourceType
from fastkafka.protocol.errors import Errors, KafkaError

if TYPE_CHECKING:
    from fastkafka.net.broker_services import BrokerServices

log = logging.getLogger(__name__)

LEAVE_GROUP_MEMBER_EPOCH = -1
LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2
# Kafka's REGEX_BATCH_REFRESH_MIN_INTERVAL_MS: a group's regexes are resolved at most this often.
REGEX_BATCH_REFRESH_MIN_INTERVAL_MS = 10_000
_ASSIGNOR_CLASS_NAMES = {
    "org.apache.kafka.coordinator.group.assignor.UniformAssignor": "uniform",
    "org.apache.kafka.coordinator.group.assignor.RangeAssignor": "range",
}


class HeartbeatResult:
    __slots__ = ("member_id", "member_epoch", "heartbeat_interval_ms", "assignment")

    def __init__(self, member_id: str, member_epoch: int, heartbeat_interval_ms: int,
                 assignment: Assignment | None) -> None:
        self.member_id = member_id
        self.member_epoch = member_epoch
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.assignment = assignment


def _now_ms() -> int:
    return int(time.time() * 1000)


def resolve_regexes(topic_names: Iterable[str], regexes: Iterable[str], version: int,
                    now_ms: int) -> dict[str, ResolvedRegularExpression]:
    """Kafka's TopicRegexResolver.resolveRegularExpressions: one scan of the topic names for a
    batch of regexes (full matches). Runs on an executor thread, off the event loop: `topic_names`
    must be an immutable image's."""
    matched: dict[str, set[str]] = {r: set() for r in regexes}
    compiled = []
    for r in matched:
        try:
            compiled.append((r, re.compile(r)))
        except re.error as e:  # validated when a member subscribed; ignored as Kafka does
            log.error("Couldn't parse regular expression '%s' due to `%s`. Ignoring it.", r, e)
    for name in topic_names:
        for r, pattern in compiled:
            if pattern.fullmatch(name):
                matched[r].add(name)
    return {r: ResolvedRegularExpression(frozenset(ts), version, now_ms) for r, ts in matched.items()}


def _int(cfg: Mapping[str, str], key: str, default: int) -> int:
    value = cfg.get(key)
    return int(value) if value not in (None, "") else default


class ConsumerGroupManager:
    def __init__(self, broker: BrokerServices, cfg: Mapping[str, str]) -> None:
        self.broker = broker
        self._cfg = cfg
        protocols = [p.strip() for p in (cfg.get("group.coordinator.rebalance.protocols") or "classic,consumer").split(",")]
        self.enabled = "consumer" in protocols
        self.session_timeout_ms = _int(cfg, "group.consumer.session.timeout.ms", 45_000)
        self.heartbeat_interval_ms = _int(cfg, "group.consumer.heartbeat.interval.ms", 5_000)
        self.max_size = _int(cfg, "group.consumer.max.size", 2**31 - 1)
        names = [a.strip() for a in (cfg.get("group.consumer.assignors") or "uniform,range").split(",") if a.strip()]
        self.assignors = [_ASSIGNOR_CLASS_NAMES.get(n, n) for n in names]
        unknown = [n for n in self.assignors if n not in ASSIGNORS]
        if unknown:
            raise KafkaError(Errors.INVALID_CONFIG, f"Unknown group.consumer.assignors: {', '.join(unknown)}")
        self.groups: dict[str, ConsumerGroup] = {}
        self._session_timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        # group id -> record key -> value as last written to (or replayed from) __consumer_offsets.
        self._written: dict[str, dict[bytes, bytes]] = {}
        self._record_cache: dict[str, RecordCache] = {}  # group id -> its members' encoded records
        self._replayer = ConsumerGroupReplayer(self.groups)
        self._revocation_timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        # Classic-protocol members of consumer groups: the rebalance timeouts of their JoinGroup
        # (after a REBALANCE_IN_PROGRESS) and SyncGroup (after a join), Kafka's join/sync timers.
        self._join_timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._sync_timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        # group.consumer.migration.policy (Kafka's ConsumerGroupMigrationPolicy).
        policy = (cfg.get("group.consumer.migration.policy") or "bidirectional").strip().lower()
        self.migration_policy = policy
        self.upgrade_enabled = policy in ("upgrade", "bidirectional")
        self.downgrade_enabled = policy in ("downgrade", "bidirectional")
        self.classic_max_size = _int(cfg, "group.max.size", 2**31 - 1)
        self.regex_refresh_interval_ms = _int(cfg, "group.consumer.regex.refresh.interval.ms", 600_000)
        # Group id -> its regex resolution running on the executor (at most one per group).
        self._regex_refreshes: dict[str, asyncio.Future[dict[str, ResolvedRegularExpression]]] = {}
        # Kafka's lastMetadataImageWithNewTopics: the image version where topics last appeared.
        self._topics_seen: Any = None
        self._last_image_with_new_topics = -1

    # ------------------------------------------------------------------ lookups
    def group(self, group_id: str) -> ConsumerGroup | None:
        return self.groups.get(group_id)

    def all_groups(self) -> list[ConsumerGroup]:
        return list(self.groups.values())

    def delete_group(self, group_id: str) -> None:
        """DeleteGroups: forget an Empty group (the caller checked NON_EMPTY_GROUP first) and
        write its tombstones."""
        group = self.groups.get(group_id)
        if group is not None and not group.members:
            del self.groups[group_id]
            self._persist_quietly(group_id)

    # ------------------------------------------------------------------ persistence
    def _persist(self, group_id: str) -> int:
        """Append the difference between the group's records and those last written; returns
        0 or the coordinator's error code for the write."""
        group = self.groups.get(group_id)
        old = self._written.get(group_id, {})
        if group is not None:
            new = group_records(group, self._group_topics(group), self._record_cache.setdefault(group_id, {}))
        else:
            new = {}
            self._record_cache.pop(group_id, None)
        gone = tombstone_order([k for k in old if k not in new])
        changed = [(k, v) for k, v in new.items() if old.get(k) != v]
        if not gone and not changed:
            return 0
        records: list[tuple[bytes, bytes | None]] = [(k, None) for k in gone]
        records += changed
        error = int(self.broker.group_coordinator.append_group_records(group_id, records))
        if error:
            return error
        if new:
            self._written[group_id] = new
        else:
            self._written.pop(group_id, None)
        return 0

    def _persist_quietly(self, group_id: str) -> None:
        error = self._persist(group_id)
        if error:
            log.warning("Could not write the records of consumer group %s: error %d", group_id, error)

    def _group_topics(self, group: ConsumerGroup) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for m in group.members.values():
            out.update(self._subscribed_topics(group, m))
        return out

    def replay_record(self, key: bytes, value: bytes | None) -> None:
        """One consumer group record of `__consumer_offsets`, during the coordinator's load."""
        key = bytes(key)
        group_id = self._replayer.replay(key, None if value is None else bytes(value))
        written = self._written.setdefault(group_id, {})
        if value is None:
            written.pop(key, None)
        else:
            written[key] = bytes(value)
        if not written:
            del self._written[group_id]

    def on_loaded(self, in_partition: Any) -> None:
        """Kafka's onLoaded for the consumer groups of a loaded partition (`in_partition(group
        id)` tells which): the members' session (and revocation) timers start now."""
        for group in list(self.groups.values()):
            if not in_partition(group.group_id):
                continue
            if group.members:
                group.assignor_name = self._assignor_for(group)
            for member in group.members.values():
                self._schedule_session_timeout(group, member)
                self._schedule_revocation_timeout(group, member)

    def unload(self, in_partition: Any) -> None:
        """Kafka's onResignation for the consumer groups of an offsets partition this node no
        longer leads (`in_partition(group id)` tells which): their timers stop and they leave
        the cache with what was written of them; the new coordinator replays them."""
        for group_id in [g for g in self.groups if in_partition(g)]:
            group = self.groups.pop(group_id)
            for member_id in list(group.members):
                self._cancel_timers(group_id, member_id)
            self._written.pop(group_id, None)
            self._record_cache.pop(group_id, None)
            fut = self._regex_refreshes.pop(group_id, None)
            if fut is not None:
                fut.cancel()

    def is_subscribed_to_topic(self, group_id: str, topic: str) -> bool | None:
        """Kafka's ModernGroup.isSubscribedToTopic (the members' topic names and the topics their
        regexes resolve to); None when `group_id` is not a consumer-protocol group."""
        group = self.groups.get(group_id)
        if group is None:
            return None
        return topic in group.subscribed_topic_names() or topic in self._group_topics(group)

    def check_coordinator(self, group_id: str) -> None:
        """NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE as for classic groups: one coordinator
        (the leader of the group's `__consumer_offsets` partition) serves both protocols."""
        self.broker.group_coordinator._check_coordinator(group_id)

    def _topics(self) -> Any:
        return self.broker.image.topics

    # ------------------------------------------------------------------ heartbeat
    def heartbeat(self, *, group_id: str, member_id: str, member_epoch: int, instance_id: str | None,
                  rack_id: str | None, rebalance_timeout_ms: int, subscribed_topic_names: list[str] | None,
                  subscribed_topic_regex: str | None, server_assignor: str | None,
                  owned: list[tuple[bytes, list[int]]] | None, client_id: str, client_host: str) -> HeartbeatResult:
        """Raises KafkaError(code, message) for a request Kafka rejects. The group's changed
        records are in `__consumer_offsets` before it returns."""
        try:
            result = self._heartbeat(
                group_id=group_id, member_id=member_id, member_epoch=member_epoch, instance_id=instance_id,
                rack_id=rack_id, rebalance_timeout_ms=rebalance_timeout_ms,
                subscribed_topic_names=subscribed_topic_names, subscribed_topic_regex=subscribed_topic_regex,
                server_assignor=server_assignor, owned=owned, client_id=client_id, client_host=client_host)
        except KafkaError:
            self._persist_quietly(group_id)
            raise
        error = self._persist(group_id)
        if error:
            raise KafkaError(error)
        return result

    def _heartbeat(self, *, group_id: str, member_id: str, member_epoch: int, instance_id: str | None,
                   rack_id: str | None, rebalance_timeout_ms: int, subscribed_topic_names: list[str] | None,
                   subscribed_topic_regex: str | None, server_assignor: str | None,
                   owned: list[tuple[bytes, list[int]]] | None, client_id: str, client_host: str) -> HeartbeatResult:
        self._validate(group_id, member_id, member_epoch, rebalance_timeout_ms, subscribed_topic_names,
                       subscribed_topic_regex, server_assignor, owned)
        if member_epoch in (LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH):
            return self._leave(group_id, member_id, member_epoch, instance_id)
        group = self.groups.get(group_id)
        if group is None:
            if member_epoch != 0:
                raise KafkaError(Errors.UNKNOWN_MEMBER_ID, f"Member {member_id} is not a member of group {group_id}.")
            group = self.groups[group_id] = self._check_no_classic_group(group_id) or ConsumerGroup(group_id)
        member_id = member_id or str(uuid.uuid4())  # v0 clients may leave it to the coordinator
        member = group.members.get(member_id)
        bump = False
        if member_epoch == 0:
            if member is None:
                if len(group.members) >= self.max_size:
                    raise KafkaError(Errors.GROUP_MAX_SIZE_REACHED,
                                     f"The consumer group has reached its maximum capacity of {self.max_size} members.")
                member = ConsumerGroupMember(member_id, client_id, client_host)
                if instance_id is not None:
                    self._replace_static_member(group, instance_id, member)
                group.members[member_id] = member
                bump = True
            elif member.member_epoch != 0 or member.assigned or member.pending_revocation:
                # A known member rejoining from scratch (it lost its state): its partitions are free again.
                group.remove_member(member_id)
                member = ConsumerGroupMember(member_id, client_id, client_host)
                group.members[member_id] = member
                bump = True
        else:
            if member is None:
                raise KafkaError(Errors.UNKNOWN_MEMBER_ID, f"Member {member_id} is not a member of group {group_id}.")
            self._check_member_epoch(member, member_epoch, owned)
        if instance_id is not None and member.instance_id is None:
            member.instance_id = instance_id
        if member.classic_protocols is not None:
            # A consumer-protocol heartbeat: the member is no longer a classic one (Kafka sets
            # classicMemberMetadata to null).
            member.classic_protocols = member.classic_session_timeout_ms = None
        if rack_id is not None:
            member.rack_id = rack_id
        if rebalance_timeout_ms != -1:
            member.rebalance_timeout_ms = rebalance_timeout_ms
        if subscribed_topic_names is not None and sorted(subscribed_topic_names) != sorted(member.subscribed_topic_names):
            member.subscribed_topic_names = sorted(set(subscribed_topic_names))
            bump = True
        old_regex = member.subscribed_topic_regex
        if subscribed_topic_regex is not None and (subscribed_topic_regex or None) != old_regex:
            member.subscribed_topic_regex = subscribed_topic_regex or None
        if self._maybe_update_regexes(group, old_regex, member.subscribed_topic_regex):
            bump = True
        if server_assignor is not None and server_assignor != member.server_assignor:
            member.server_assignor = server_assignor
            bump = True
        self.update_group_epoch(group, bump)

        before = (member.member_epoch, {t: set(p) for t, p in member.assigned.items()})
        owned_assignment = None if owned is None else {t: set(ps) for t, ps in owned if ps}
        group.reconcile(member, owned_assignment)
        self._schedule_session_timeout(group, member)
        self._schedule_revocation_timeout(group, member)
        changed = (member.member_epoch, member.assigned) != before
        send_assignment = member_epoch == 0 or changed or (owned_assignment is not None and owned_assignment != member.assigned)
        return HeartbeatResult(member.member_id, member.member_epoch, self._heartbeat_interval_ms(group.group_id),
                               {t: set(p) for t, p in member.assigned.items()} if send_assignment else None)

    def _validate(self, group_id: str, member_id: str, member_epoch: int, rebalance_timeout_ms: int,
                  subscribed_topic_names: list[str] | None, subscribed_topic_regex: str | None,
                  server_assignor: str | None, owned: list[tuple[bytes, list[int]]] | None) -> None:
        """Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid."""
        if not group_id:
            raise KafkaError(Errors.INVALID_REQUEST, "GroupId can't be empty.")
        if member_epoch == 0:
            if rebalance_timeout_ms == -1:
                raise KafkaError(Errors.INVALID_REQUEST, "RebalanceTimeoutMs must be provided in first request.")
            if owned is None or any(ps for _t, ps in owned):
                raise KafkaError(Errors.INVALID_REQUEST, "TopicPartitions must be empty when (re-)joining.")
            if not subscribed_topic_names and not subscribed_topic_regex:
                raise KafkaError(Errors.INVALID_REQUEST,
                                 "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.")
        elif member_epoch > 0 or member_epoch in (LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH):
            if not member_id:
                raise KafkaError(Errors.INVALID_REQUEST, "MemberId can't be empty.")
        else:
            raise KafkaError(Errors.INVALID_REQUEST, f"MemberEpoch is invalid: {member_epoch}.")
        if subscribed_topic_regex:
            try:
                re.compile(subscribed_topic_regex)
            except re.error as e:
                raise KafkaError(Errors.INVALID_REGULAR_EXPRESSION,
                                 f"SubscribedTopicRegex `{subscribed_topic_regex}` is not a valid regular expression: {e}.") from e
        if server_assignor is not None and server_assignor not in self.assignors:
            raise KafkaError(Errors.UNSUPPORTED_ASSIGNOR, f"ServerAssignor {server_assignor} is not supported. "
                             f"Supported assignors: {', '.join(self.assignors)}.")

    def _check_no_classic_group(self, group_id: str) -> ConsumerGroup | None:
        """Kafka's getOrMaybeCreateConsumerGroup: an Empty classic group of this id is deleted
        (its offsets kept); one with members is converted into a consumer group when the
        migration policy allows it (returned), else GROUP_ID_NOT_FOUND."""
        classic = self.broker.group_coordinator.delete_empty_classic_group(group_id)
        if classic is None:
            return None
        from fastkafka.cluster.group.group_migration import convert_to_consumer_group
        return convert_to_consumer_group(self, classic)

    def _check_member_epoch(self, member: ConsumerGroupMember, received: int,
                            owned: list[tuple[bytes, list[int]]] | None) -> None:
        """Kafka's throwIfMemberEpochIsInvalid: the current epoch, or the previous one if the
        member did not get the new epoch's answer and owns nothing beyond its assignment."""
        if received > member.member_epoch:
            raise KafkaError(Errors.FENCED_MEMBER_EPOCH, f"The consumer group member has a greater member epoch "
                             f"({received}) than the one known by the group coordinator ({member.member_epoch}). "
                             "The member must abandon all its partitions and rejoin.")
        if received < member.member_epoch:
            if received == member.previous_member_epoch and owned is not None and all(
                    set(ps) <= member.assigned.get(t, set()) for t, ps in owned):
                return
            raise KafkaError(Errors.FENCED_MEMBER_EPOCH, f"The consumer group member has a smaller member epoch "
                             f"({received}) than the one known by the group coordinator ({member.member_epoch}). "
                             "The member must abandon all its partitions and rejoin.")

    def _replace_static_member(self, group: ConsumerGroup, instance_id: str, member: ConsumerGroupMember) -> None:
        """A static member (group.instance.id) rejoining under a new member id takes over the
        assignment of its previous incarnation if that one left temporarily (epoch -2); while the
        previous one is still active the id is taken (UNRELEASED_INSTANCE_ID)."""
        previous_id = group.static_members.get(instance_id)
        if previous_id is not None:
            previous = group.members.get(previous_id)
            if previous is not None and previous.member_epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH:
                raise KafkaError(Errors.UNRELEASED_INSTANCE_ID, f"Static member {previous_id} with instance id "
                                 f"{instance_id} is not released.")
            if previous is not None:
                target = group.target_assignment.pop(previous_id, {})
                self._cancel_timers(group.group_id, previous_id)
                group.remove_member(previous_id)
                group.target_assignment[member.member_id] = target
        member.instance_id = instance_id
        group.static_members[instance_id] = member.member_id

    def _leave(self, group_id: str, member_id: str, member_epoch: int, instance_id: str | None) -> HeartbeatResult:
        group = self.groups.get(group_id)
        member = group.members.get(member_id) if group is not None else None
        if group is None or member is None:
            raise KafkaError(Errors.UNKNOWN_MEMBER_ID, f"Member {member_id} is not a member of group {group_id}.")
        if member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH and member.instance_id is not None:
            # Kept (with its assignment) until its session expires or its instance rejoins.
            member.member_epoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH
            self._schedule_session_timeout(group, member)
        else:
            self._fence(group, [member_id])
        return HeartbeatResult(member_id, member_epoch, 0, None)

    def _remove(self, group: ConsumerGroup, member_id: str) -> None:
        self._cancel_timers(group.group_id, member_id)
        if group.remove_member(member_id) is not None:
            self._drop_unsubscribed_regexes(group)
            group.group_epoch += 1
            if group.members:
                self._compute_target_assignment(group)

    def _fence(self, group: ConsumerGroup, member_ids: list[str]) -> None:
        """Kafka's consumerGroupFenceMembers: the members leave (one group epoch bump), unless
        only classic-protocol members would remain and group.consumer.migration.policy allows a
        downgrade: then the group becomes a classic group of those members, which rebalances."""
        from fastkafka.cluster.group.group_migration import convert_to_classic_group, validate_online_downgrade
        if validate_online_downgrade(self, group, member_ids):
            try:
                convert_to_classic_group(self, group, member_ids)
                return
            except KafkaError as e:
                # The members still leave; the group stays a consumer group.
                log.warning("Could not downgrade consumer group %s: %s", group.group_id, e)
        removed = False
        for member_id in member_ids:
            self._cancel_timers(group.group_id, member_id)
            removed = group.remove_member(member_id) is not None or removed
        if removed:
            group.group_epoch += 1
            if group.members:
                self._compute_target_assignment(group)

    # ------------------------------------------------------------------ assignment
    def _subscribed_topics(self, group: ConsumerGroup, member: ConsumerGroupMember) -> dict[str, Any]:
        topics = self._topics()
        out = {n: topics.by_name[n] for n in member.subscribed_topic_names if n in topics.by_name}
        if member.subscribed_topic_regex:
            # Only the regex's latest resolution counts (none until the first one lands).
            resolved = group.resolved_regexes.get(member.subscribed_topic_regex)
            for name in resolved.topics if resolved is not None else ():
                t = topics.by_name.get(name)
                if t is not None:
                    out[name] = t
        return out

    # ------------------------------------------------------------------ regular expressions
    def _image_version(self) -> int:
        offset = getattr(self.broker.image, "offset", None)
        return int(offset()) if offset is not None else 0

    def _note_new_topics(self) -> None:
        """Kafka's onMetadataUpdate bookkeeping of lastMetadataImageWithNewTopics, done lazily:
        the topic ids are compared only when the (immutable) topics image was replaced."""
        topics = self._topics()
        if topics is self._topics_seen:
            return
        if self._topics_seen is None or topics.by_id.keys() - self._topics_seen.by_id.keys():
            self._last_image_with_new_topics = self._image_version()
        self._topics_seen = topics

    def _drop_unsubscribed_regexes(self, group: ConsumerGroup) -> None:
        """Kafka's maybeDeleteResolvedRegularExpressions: a regex nobody subscribes to any more
        loses its resolution (its record is tombstoned by the next persist)."""
        subscribed = group.subscribed_regexes()
        for regex in [r for r in group.resolved_regexes if r not in subscribed]:
            del group.resolved_regexes[regex]

    def _maybe_update_regexes(self, group: ConsumerGroup, old_regex: str | None, new_regex: str | None) -> bool:
        """Kafka's maybeUpdateRegularExpressions, called on every heartbeat after the member's
        subscription was updated. Returns whether the group epoch must be bumped (the member's
        regex changed). The resolution itself never runs here: when due it is scheduled on the
        executor for all the group's regexes at once (one scan of the topic names), at most one
        at a time per group, at most every REGEX_BATCH_REFRESH_MIN_INTERVAL_MS, and it lands
        later in `_on_regexes_resolved`. Due: a subscribed regex is not resolved, or topics were
        created since the last resolution, or group.consumer.regex.refresh.interval.ms passed."""
        changed = old_regex != new_regex
        if changed:
            self._drop_unsubscribed_regexes(group)
        subscribed = group.subscribed_regexes()
        if not subscribed or group.group_id in self._regex_refreshes:
            return changed
        now = _now_ms()
        last = group.last_regex_refresh_ms()
        if last is not None and now <= last + REGEX_BATCH_REFRESH_MIN_INTERVAL_MS:
            return changed
        self._note_new_topics()
        resolved = group.resolved_regexes.values()
        due = (len(subscribed) != len(group.resolved_regexes)
               or min(r.version for r in resolved) < self._last_image_with_new_topics
               or last is None or now > last + self.regex_refresh_interval_ms)
        if due:
            self._schedule_regex_refresh(group.group_id, sorted(subscribed))
        return changed

    def _schedule_regex_refresh(self, group_id: str, regexes: list[str]) -> None:
        image = self.broker.image
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(None, resolve_regexes, image.topics.by_name, regexes,
                                   self._image_version(), _now_ms())
        self._regex_refreshes[group_id] = fut
        fut.add_done_callback(functools.partial(self._on_regexes_resolved, group_id))

    def _on_regexes_resolved(self, group_id: str, fut: asyncio.Future[dict[str, ResolvedRegularExpression]]) -> None:
        """Kafka's handleRegularExpressionsResult, back on the event loop: the resolutions of
        regexes still subscribed are stored (ConsumerGroupRegularExpression records); if one
        matches other topics than before the group epoch is bumped, so the next heartbeat
        computes a target assignment with them."""
        if self._regex_refreshes.get(group_id) is fut:
            del self._regex_refreshes[group_id]
        if fut.cancelled():
            return
        error = fut.exception()
        if error is not None:
            log.error("[GroupId %s] Couldn't refresh the regular expressions: %s", group_id, error)
            return
        group = self.groups.get(group_id)
        if group is None:
            return
        subscribed = group.subscribed_regexes()
        bump = False
        for regex, resolved in fut.result().items():
            if regex not in subscribed:
                continue
            old = group.resolved_regexes.get(regex)
            if (old.topics if old is not None else frozenset()) != resolved.topics:
                bump = True
            group.resolved_regexes[regex] = resolved
        if bump:
            group.group_epoch += 1
            group.subscription_fingerprint = self._subscription_fingerprint(group)
            log.info("[GroupId %s] Bumped group epoch to %d (regular expressions resolved).",
                     group_id, group.group_epoch)
        self._persist_quietly(group_id)

    def update_group_epoch(self, group: ConsumerGroup, bump: bool) -> bool:
        """After a member's change: the group epoch goes up when `bump` or when the subscribed
        topics' metadata changed (the fingerprint), and the target assignment is recomputed when
        the epoch is ahead of it (Kafka's consumerGroupHeartbeat). Returns whether it went up."""
        fingerprint = self._subscription_fingerprint(group)
        if fingerprint != group.subscription_fingerprint:
            group.subscription_fingerprint = fingerprint
            bump = True
        if bump:
            group.group_epoch += 1
        if group.group_epoch > group.assignment_epoch:
            self._compute_target_assignment(group)
        return bump

    def _subscription_fingerprint(self, group: ConsumerGroup) -> tuple[tuple[str, bytes, int], ...]:
        seen: dict[str, tuple[str, bytes, int]] = {}
        for m in group.members.values():
            for name, t in self._subscribed_topics(group, m).items():
                seen[name] = (name, t.topic_id, len(t.partitions))
        return tuple(sorted(seen.values()))

    def _assignor_for(self, group: ConsumerGroup) -> str:
        """The assignor most members ask for, else the configured default (Kafka's choice)."""
        votes: dict[str, int] = {}
        for m in group.members.values():
            if m.server_assignor:
                votes[m.server_assignor] = votes.get(m.server_assignor, 0) + 1
        if not votes:
            return self.assignors[0]
        return max(sorted(votes), key=lambda n: votes[n])

    def _compute_target_assignment(self, group: ConsumerGroup) -> None:
        counts: dict[bytes, int] = {}
        subs = []
        for m in sorted(group.members.values(), key=lambda x: x.member_id):
            topics = self._subscribed_topics(group, m)
            for t in topics.values():
                counts[t.topic_id] = len(t.partitions)
            current = group.target_assignment.get(m.member_id, {})
            subs.append(MemberSubscription(m.member_id, frozenset(t.topic_id for t in topics.values()),
                                           {t: frozenset(p) for t, p in current.items()}))
        group.assignor_name = self._assignor_for(group)
        result = ASSIGNORS[group.assignor_name].assign(subs, counts)
        group.target_assignment = {mid: a for mid, a in result.items()}
        group.assignment_epoch = group.group_epoch

    # ------------------------------------------------------------------ timers
    def _cancel_timers(self, group_id: str, member_id: str) -> None:
        for timers in (self._session_timers, self._revocation_timers, self._join_timers, self._sync_timers):
            h = timers.pop((group_id, member_id), None)
            if h is not None:
                h.cancel()

    def _group_config(self, group_id: str) -> Mapping[str, str]:
        # Kafka's GroupConfigManager.groupConfig: the group's dynamic configs (ConfigResource
        # GROUP), read at each use so that a change applies from the member's next heartbeat.
        configs = getattr(self.broker.image, "configs", None)
        return configs.config(ConfigResource(ConfigResourceType.GROUP, group_id)) if configs is not None else {}

    def _session_timeout_ms(self, group_id: str) -> int:
        return group_config.effective_int(self._group_config(group_id), "consumer.session.timeout.ms", self._cfg,
                                          self.session_timeout_ms)

    def _heartbeat_interval_ms(self, group_id: str) -> int:
        return group_config.effective_int(self._group_config(group_id), "consumer.heartbeat.interval.ms", self._cfg,
                                          self.heartbeat_interval_ms)

    def _schedule_session_timeout(self, group: ConsumerGroup, member: ConsumerGroupMember) -> None:
        key = (group.group_id, member.member_id)
        h = self._session_timers.pop(key, None)
        if h is not None:
            h.cancel()
        # A classic-protocol member's session is its JoinGroup's session timeout.
        timeout_ms = member.classic_session_timeout_ms if member.classic_session_timeout_ms is not None \
            else self._session_timeout_ms(group.group_id)
        self._session_timers[key] = asyncio.get_running_loop().call_later(
            timeout_ms / 1000, self._expire, group.group_id, member.member_id, "session")

    def _schedule_revocation_timeout(self, group: ConsumerGroup, member: ConsumerGroupMember) -> None:
        key = (group.group_id, member.member_id)
        if member.state is MemberState.UNREVOKED_PARTITIONS and not member.uses_classic_protocol:
            # Classic members have join and sync timers instead (Kafka's maybeReconcile).
            if key not in self._revocation_timers:
                self._revocation_timers[key] = asyncio.get_running_loop().call_later(
                    member.rebalance_timeout_ms / 1000, self._expire, group.group_id, member.member_id, "revocation")
        else:
            h = self._revocation_timers.pop(key, None)
            if h is not None:
                h.cancel()

    def _expire(self, group_id: str, member_id: str, why: str) -> None:
        group = self.groups.get(group_id)
        if group is None or member_id not in group.members:
            return
        timers = {"session": self._session_timers, "revocation": self._revocation_timers,
                  "join": self._join_timers, "sync": self._sync_timers}[why]
        timers.pop((group_id, member_id), None)
        log.info("[GroupId %s] Member %s fenced from the group: its %s timeout expired.", group_id, member_id, why)
        self._fence(group, [member_id])
        self._persist_quietly(group_id)

    # ------------------------------------------------------------------ offsets
    def validate_offset_commit(self, group_id: str, member_id: str, member_epoch: int) -> None:
        """OffsetCommit for a consumer group (Kafka's ConsumerGroup.validateOffsetCommit): a
        commit without member (generation -1, admin tools) is allowed only for an empty group;
        otherwise the member must exist and send its current epoch."""
        group = self.groups.get(group_id)
        if group is None:
            return
        if member_epoch < 0 and not member_id:
            if group.members:
                raise KafkaError(Errors.UNKNOWN_MEMBER_ID, "Offsets of a non-empty consumer group need a member.")
            return
        member = group.members.get(member_id)
        if member is None:
            raise KafkaError(Errors.UNKNOWN_MEMBER_ID, f"Member {member_id} is not a member of group {group_id}.")
        if member_epoch != member.member_epoch:
            if member.uses_classic_protocol:
                # Kafka's validateMemberEpoch for a classic member: the generation it knows.
                raise KafkaError(Errors.ILLEGAL_GENERATION, f"The received generation id {member_epoch} does not "
                                 f"match the expected member epoch {member.member_epoch}.")
            raise KafkaError(Errors.STALE_MEMBER_EPOCH, f"The member epoch {member_epoch} is stale; "
                             f"the current epoch is {member.member_epoch}.")
