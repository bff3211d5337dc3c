"""ClassicGroup: one consumer group of the classic (JoinGroup/SyncGroup) protocol, as Kafka's
group coordinator models it (coordinator.group.classic.ClassicGroup, ClassicGroupMember).

States (Kafka's ClassicGroupState) and the moves between them:
  EMPTY --join--> PREPARING_REBALANCE --all joined / rebalance timeout--> COMPLETING_REBALANCE
  COMPLETING_REBALANCE --leader's SyncGroup--> STABLE --join / leave / session expiry--> PREPARING_REBALANCE
  PREPARING_REBALANCE --no member left--> EMPTY ; DEAD once deleted.
Invariants: `generation_id` grows by one per completed join phase; `leader_id` is a member while
there are members; `static_members` maps each group.instance.id to exactly one member id (the
latest to join with it; an older id is fenced); every member of a generation has joined with a
protocol the group selected.
Concurrency contract: owned by the GroupCoordinator; event-loop thread only.
"""
from __future__ import annotations

import asyncio
import dataclasses
import enum
from typing import Any

from fastkafka.protocol.errors import Errors, KafkaError


class GroupState(enum.Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


@dataclasses.dataclass(eq=False)
class ClassicGroupMember:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]  # (name, metadata), in the member's order of preference
    assignment: bytes = b""
    join_future: asyncio.Future[Any] | None = None
    sync_future: asyncio.Future[Any] | None = None
    heartbeat_timer: asyncio.TimerHandle | None = None
    is_new: bool = False

    def protocol_names(self) -> list[str]:
        return [n for n, _ in self.protocols]

    def metadata(self, protocol: str) -> bytes:
        for n, m in self.protocols:
            if n == protocol:
                return m
        raise KeyError(protocol)

    def vote(self, candidates: set[str]) -> str:
        """The member's first preference among the protocols every member supports."""
        return next(n for n, _ in self.protocols if n in candidates)

    def is_awaiting_join(self) -> bool:
        return self.join_future is not None

    def is_awaiting_sync(self) -> bool:
        return self.sync_future is not None

    def has_satisfied_heartbeat(self) -> bool:
        """Kafka's hasSatisfiedHeartbeat: a member waiting in a rebalance needs no heartbeat,
        except a new member, which may expire while it waits for its first join."""
        if self.is_new:
            return False
        return self.is_awaiting_join() or self.is_awaiting_sync()


@dataclasses.dataclass(frozen=True, slots=True)
class OffsetAndMetadata:
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp_ms: int
    expire_timestamp_ms: int | None = None  # OffsetCommit v2-4 retention_time_ms (never sent by 4.x clients)
    # The offset of its record in `__consumer_offsets` (-1: unknown); a committed transaction's
    # offset replaces a cached one only if its record is later (Kafka's recordOffset).
    # Not part of the value: equal offsets compare equal wherever their records are.
    record_offset: int = dataclasses.field(default=-1, compare=False)


class ClassicGroup:
    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.state = GroupState.EMPTY
        self.previous_state = GroupState.EMPTY
        self.current_state_timestamp_ms: int | None = None
        self.generation_id = 0
        self.protocol_type: str | None = None
        self.protocol_name: str | None = None
        self.leader_id: str | None = None
        self.members: dict[str, ClassicGroupMember] = {}
        self.static_members: dict[str, str] = {}  # group.instance.id -> member id
        # Member ids handed out with MEMBER_ID_REQUIRED, not yet joined (KIP-394).
        self.pending_members: set[str] = set()
        # Members of the current generation that have not sent SyncGroup yet.
        self.pending_sync_members: set[str] = set()
        self.new_member_added = False
        self.offsets: dict[tuple[str, int], OffsetAndMetadata] = {}
        self.join_timer: asyncio.TimerHandle | None = None
        self.sync_timer: asyncio.TimerHandle | None = None

    # -- state --------------------------------------------------------------------------------
    def is_in(self, *states: GroupState) -> bool:
        return self.state in states

    def transition(self, state: GroupState, now_ms: int | None = None) -> None:
        self.previous_state = self.state
        self.state = state
        self.current_state_timestamp_ms = now_ms

    # -- membership ---------------------------------------------------------------------------
    def add(self, member: ClassicGroupMember) -> None:
        if not self.members:
            self.protocol_type = member.protocol_type
        if self.leader_id is None:
            self.leader_id = member.member_id
        self.members[member.member_id] = member
        if member.group_instance_id is not None:
            self.static_members[member.group_instance_id] = member.member_id
        self.pending_members.discard(member.member_id)
        # `new_member_added` is not set here: only a member added while the initial rebalance's
        # delay runs extends it (GroupCoordinator._add_member_then_rebalance, as Kafka's
        # addMemberThenRebalanceOrCompleteJoin); the member that starts the delay does not.

    def remove(self, member_id: str) -> ClassicGroupMember | None:
        """Kafka's ClassicGroup.remove: the leader passes to the first remaining member."""
        member = self.members.pop(member_id, None)
        if member is not None:
            if member.group_instance_id is not None and self.static_members.get(member.group_instance_id) == member_id:
                del self.static_members[member.group_instance_id]
            if member.heartbeat_timer is not None:
                member.heartbeat_timer.cancel()
                member.heartbeat_timer = None
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        self.pending_members.discard(member_id)
        self.pending_sync_members.discard(member_id)
        return member

    def replace_static_member(self, instance_id: str, old_member_id: str, new_member_id: str) -> ClassicGroupMember:
        """Kafka's replaceStaticMember: the old member id is fenced at once (its waiting join or
        sync answers FENCED_INSTANCE_ID); the new member takes over its metadata and assignment."""
        old = self.members.pop(old_member_id)
        if old.heartbeat_timer is not None:
            old.heartbeat_timer.cancel()
        for fut in (old.join_future, old.sync_future):
            if fut is not None and not fut.done():
                fut.set_result(Errors.FENCED_INSTANCE_ID)
        new = ClassicGroupMember(new_member_id, old.group_instance_id, old.client_id, old.client_host,
                                 old.rebalance_timeout_ms, old.session_timeout_ms, old.protocol_type,
                                 old.protocols, assignment=old.assignment)
        self.members[new_member_id] = new
        if self.leader_id == old_member_id:
            self.leader_id = new_member_id
        self.static_members[instance_id] = new_member_id
        self.pending_sync_members.discard(old_member_id)
        return new

    def static_member_id(self, instance_id: str) -> str | None:
        return self.static_members.get(instance_id)

    def validate_member(self, member_id: str, instance_id: str | None) -> ClassicGroupMember:
        """Kafka's validateMember: a static member's id must be the latest for its instance id
        (FENCED_INSTANCE_ID otherwise), and the member must exist (UNKNOWN_MEMBER_ID)."""
        if instance_id is not None:
            existing = self.static_members.get(instance_id)
            if existing is None:
                raise KafkaError(Errors.UNKNOWN_MEMBER_ID)
            if existing != member_id:
                raise KafkaError(Errors.FENCED_INSTANCE_ID)
        member = self.members.get(member_id)
        if member is None:
            raise KafkaError(Errors.UNKNOWN_MEMBER_ID)
        return member

    def num_awaiting_join(self) -> int:
        return sum(1 for m in self.members.values() if m.join_future is not None)

    def not_yet_rejoined(self) -> list[ClassicGroupMember]:
        return [m for m in self.members.values() if m.join_future is None]

    def has_all_members_joined(self) -> bool:
        return not self.pending_members and all(m.join_future is not None for m in self.members.values())

    def all_members_joined(self) -> bool:  # the previous name, kept for callers
        return self.has_all_members_joined()

    def maybe_elect_new_joined_leader(self) -> bool:
        """Kafka's maybeElectNewJoinedLeader: a leader that did not rejoin hands over to a member
        that did; False when nobody rejoined."""
        if self.leader_id is None:
            return False
        leader = self.members.get(self.leader_id)
        if leader is not None and leader.join_future is not None:
            return True
        for m in self.members.values():
            if m.join_future is not None:
                self.leader_id = m.member_id
                return True
        return False

    # -- protocols ----------------------------------------------------------------------------
    def supports(self, protocol_type: str, protocols: list[str]) -> bool:
        """Kafka's supportsProtocols: same protocol type, and some protocol every member has."""
        if not self.members:
            return bool(protocol_type) and bool(protocols)
        if protocol_type != self.protocol_type:
            return False
        common = set(protocols)
        for m in self.members.values():
            common &= set(m.protocol_names())
        return bool(common)

    def candidate_protocols(self) -> set[str]:
        members = list(self.members.values())
        common = set(members[0].protocol_names())
        for m in members[1:]:
            common &= set(m.protocol_names())
        return common

    def select_protocol(self) -> str:
        """Kafka's selectProtocol: each member votes for its preferred common protocol; the most
        votes win (ties broken by the first member's preference order)."""
        candidates = self.candidate_protocols()
        votes: dict[str, int] = {}
        for m in self.members.values():
            v = m.vote(candidates)
            votes[v] = votes.get(v, 0) + 1
        first = next(iter(self.members.values()))
        return max((n for n in first.protocol_names() if n in candidates),
                   key=lambda n: (votes.get(n, 0), -first.protocol_names().index(n)))

    def max_rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)
