"""ClassicGroup: one consumer group of the classic (JoinGroup/SyncGroup) protocol, as Kafka's
group coordinator models it (coordinator.group.classic.ClassicGroup, ClassicGroupMember).

States (Kafka's ClassicGroupState) and the moves between them:
  EMPTY --join--> PREPARING_REBALANCE --all joined / rebalance timeout--> COMPLETING_REBALANCE
  COMPLETING_REBALANCE --leader's SyncGroup--> STABLE --join / leave / session expiry--> PREPARING_REBALANCE
  any --last member gone--> EMPTY ; DEAD once deleted.
Invariants: `generation_id` grows by one per completed join phase; `leader_id` is a member while
there are members; every member of a generation has joined with a protocol the group selected.
Concurrency contract: owned by the GroupCoordinator; event-loop thread only.
"""
from __future__ import annotations

import asyncio
import dataclasses
import enum
from typing import Any


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
    session_deadline: float = 0.0
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


@dataclasses.dataclass(frozen=True, slots=True)
class OffsetAndMetadata:
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp_ms: int


class ClassicGroup:
    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.state = GroupState.EMPTY
        self.generation_id = 0
        self.protocol_type: str | None = None
        self.protocol_name: str | None = None
        self.leader_id: str | None = None
        self.members: dict[str, ClassicGroupMember] = {}
        # Member ids handed out with MEMBER_ID_REQUIRED, not yet joined (KIP-394).
        self.pending_members: set[str] = set()
        self.offsets: dict[tuple[str, int], OffsetAndMetadata] = {}
        self.rebalance_task: asyncio.TimerHandle | None = None
        self.initial_delay_deadline = 0.0

    def is_in(self, *states: GroupState) -> bool:
        return self.state in states

    def transition(self, state: GroupState) -> None:
        self.state = state

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
        return max(first.protocol_names(), key=lambda n: (votes.get(n, 0), -first.protocol_names().index(n)))

    def all_members_joined(self) -> bool:
        return not self.pending_members and all(m.join_future is not None for m in self.members.values())

    def max_rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)
