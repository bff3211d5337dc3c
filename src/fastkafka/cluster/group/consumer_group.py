"""A consumer group of the KIP-848 protocol: its epochs, members and target assignment, and
Kafka's CurrentAssignmentBuilder (how a member moves from its current assignment to its target).

Epochs: the group epoch is bumped by any change of membership or subscriptions (or of the
subscribed topics' partitions); the assignment epoch is the group epoch the target assignment
was computed for; a member's epoch reaches the assignment epoch once it has revoked what it must
give up.

Invariants:
- A partition is owned (assigned or pending revocation) by at most one member at any time: a
  member is given a partition of its target only once its previous owner has revoked it
  (UNRELEASED_PARTITIONS until then).
- A member whose owned partitions include some outside its target first gets an assignment
  without them (UNREVOKED_PARTITIONS) and keeps its epoch; it moves to the new epoch only after it
  reports, in a heartbeat, that it no longer owns them.
Concurrency: owned by the ConsumerGroupManager, event-loop thread only.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

TopicId = bytes
Assignment = dict[TopicId, set[int]]


class MemberState(enum.Enum):
    STABLE = "stable"
    UNREVOKED_PARTITIONS = "unrevoked_partitions"
    UNRELEASED_PARTITIONS = "unreleased_partitions"


class ConsumerGroupState(enum.Enum):
    EMPTY = "Empty"
    ASSIGNING = "Assigning"
    RECONCILING = "Reconciling"
    STABLE = "Stable"
    DEAD = "Dead"


def copy_assignment(a: Assignment) -> Assignment:
    return {t: set(p) for t, p in a.items() if p}


def subtract(a: Assignment, b: Assignment) -> Assignment:
    return {t: ps - b.get(t, set()) for t, ps in a.items() if ps - b.get(t, set())}


def intersect(a: Assignment, b: Assignment) -> Assignment:
    return {t: ps & b.get(t, set()) for t, ps in a.items() if ps & b.get(t, set())}


@dataclass(frozen=True, slots=True)
class ResolvedRegularExpression:
    """Kafka's ResolvedRegularExpression: the topic names a subscribed regex matched, the
    metadata image offset (`version`) and the time (`timestamp_ms`) of that resolution."""
    topics: frozenset[str]
    version: int
    timestamp_ms: int


@dataclass(eq=False)
class ConsumerGroupMember:
    member_id: str
    client_id: str
    client_host: str
    instance_id: str | None = None
    rack_id: str | None = None
    member_epoch: int = 0
    previous_member_epoch: int = 0
    state: MemberState = MemberState.STABLE
    rebalance_timeout_ms: int = 300_000
    subscribed_topic_names: list[str] = field(default_factory=list)
    subscribed_topic_regex: str | None = None
    server_assignor: str | None = None
    assigned: Assignment = field(default_factory=dict)
    pending_revocation: Assignment = field(default_factory=dict)
    # A member of the classic protocol (JoinGroup/SyncGroup) inside this consumer group (Kafka's
    # ClassicMemberMetadata): its session timeout and JoinGroup protocols (name, metadata), in
    # its order of preference; None for a consumer-protocol member.
    classic_session_timeout_ms: int | None = None
    classic_protocols: list[tuple[str, bytes]] | None = None

    @property
    def uses_classic_protocol(self) -> bool:
        return self.classic_protocols is not None


class ConsumerGroup:
    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.group_epoch = 0
        self.assignment_epoch = 0
        self.members: dict[str, ConsumerGroupMember] = {}
        self.static_members: dict[str, str] = {}  # instance id -> member id
        self.target_assignment: dict[str, Assignment] = {}
        # Partition -> member currently owning it (assigned or pending revocation).
        self.owners: dict[tuple[TopicId, int], str] = {}
        self.assignor_name = ""
        self.subscription_fingerprint: tuple[tuple[str, bytes, int], ...] = ()
        # Regex -> its latest resolution (ConsumerGroupRegularExpression records). A member's
        # regex adds only these topics to its subscription: a regex not resolved yet adds none.
        self.resolved_regexes: dict[str, ResolvedRegularExpression] = {}

    @property
    def state(self) -> ConsumerGroupState:
        if not self.members:
            return ConsumerGroupState.EMPTY
        if self.group_epoch > self.assignment_epoch:
            return ConsumerGroupState.ASSIGNING
        for m in self.members.values():
            if m.member_epoch != self.assignment_epoch or m.state is not MemberState.STABLE:
                return ConsumerGroupState.RECONCILING
        return ConsumerGroupState.STABLE

    def subscribed_topic_names(self) -> set[str]:
        return {t for m in self.members.values() for t in m.subscribed_topic_names}

    def subscribed_regexes(self) -> dict[str, int]:
        """Kafka's subscribedRegularExpressions: regex -> number of members subscribed to it."""
        out: dict[str, int] = {}
        for m in self.members.values():
            if m.subscribed_topic_regex:
                out[m.subscribed_topic_regex] = out.get(m.subscribed_topic_regex, 0) + 1
        return out

    def last_regex_refresh_ms(self) -> int | None:
        """When the regexes were last resolved (they are resolved in batches); None: never."""
        return max((r.timestamp_ms for r in self.resolved_regexes.values()), default=None)

    # ------------------------------------------------------------------ ownership
    def set_owned(self, member: ConsumerGroupMember, assigned: Assignment, pending: Assignment) -> None:
        """`member` owns exactly `assigned` and `pending` (its revocations) from now on."""
        self._set_owned(member, assigned, pending)

    def _set_owned(self, member: ConsumerGroupMember, assigned: Assignment, pending: Assignment) -> None:
        for key, owner in list(self.owners.items()):
            if owner == member.member_id:
                del self.owners[key]
        member.assigned = copy_assignment(assigned)
        member.pending_revocation = copy_assignment(pending)
        for a in (member.assigned, member.pending_revocation):
            for t, ps in a.items():
                for p in ps:
                    self.owners[(t, p)] = member.member_id

    def remove_member(self, member_id: str) -> ConsumerGroupMember | None:
        member = self.members.pop(member_id, None)
        if member is None:
            return None
        self._set_owned(member, {}, {})
        self.target_assignment.pop(member_id, None)
        if member.instance_id is not None and self.static_members.get(member.instance_id) == member_id:
            del self.static_members[member.instance_id]
        return member

    # ------------------------------------------------------------------ reconciliation
    def reconcile(self, member: ConsumerGroupMember, owned: Assignment | None) -> None:
        """Kafka's CurrentAssignmentBuilder: move `member` toward its target assignment.
        `owned` is what the member reported owning in this heartbeat (None: unchanged)."""
        if member.state is MemberState.UNREVOKED_PARTITIONS:
            if owned is None or intersect(owned, member.pending_revocation):
                return  # still revoking: keep answering the reduced assignment
            self._set_owned(member, member.assigned, {})
            member.state = MemberState.STABLE
            # Revocation done: the member may now move on to the target epoch (below).
            member.previous_member_epoch = member.member_epoch
            self._advance(member, owned)
            return
        if member.member_epoch != self.assignment_epoch or member.state is MemberState.UNRELEASED_PARTITIONS:
            self._advance(member, owned)

    def _advance(self, member: ConsumerGroupMember, owned: Assignment | None = None) -> None:
        target = self.target_assignment.get(member.member_id, {})
        revoke = subtract(member.assigned, target)
        # Kafka's computeNextAssignment/ownsRevokedPartitions: a member that reported (in this
        # heartbeat) owning none of the partitions to revoke already gave them up (a client
        # revokes a topic it unsubscribed from on its own), so it moves on to the target epoch at
        # once. Waiting for a revocation it will never report again (later heartbeats carry no
        # owned partitions while they are unchanged) would hold the member, and whoever waits for
        # its partitions, until its rebalance timeout.
        if revoke and (owned is None or intersect(owned, revoke)):
            self._set_owned(member, intersect(member.assigned, target), revoke)
            member.state = MemberState.UNREVOKED_PARTITIONS
            return
        unreleased: Assignment = {}
        grant: Assignment = {}
        for t, ps in target.items():
            for p in ps:
                owner = self.owners.get((t, p))
                if owner is not None and owner != member.member_id:
                    unreleased.setdefault(t, set()).add(p)
                else:
                    grant.setdefault(t, set()).add(p)
        self._set_owned(member, grant, {})
        if member.member_epoch != self.assignment_epoch:
            member.previous_member_epoch = member.member_epoch
            member.member_epoch = self.assignment_epoch
        member.state = MemberState.UNRELEASED_PARTITIONS if unreleased else MemberState.STABLE
