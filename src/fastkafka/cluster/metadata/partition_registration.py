"""PartitionRegistration: one partition's replica assignment and leadership
(Kafka's metadata.PartitionRegistration)."""
from __future__ import annotations

import dataclasses
from typing import Any

NO_LEADER = -1
# PartitionChangeRecord.Leader default: the leader (and so the leader epoch) is unchanged.
NO_LEADER_CHANGE = -2


class LeaderRecoveryState:
    RECOVERED = 0
    RECOVERING = 1
    NO_CHANGE = -1  # PartitionChangeRecord default


@dataclasses.dataclass(frozen=True, slots=True)
class PartitionRegistration:
    """Immutable. Invariants (checked by the controller before it writes a record):
    isr ⊆ replicas; leader ∈ isr or NO_LEADER; `partition_epoch` grows by one on every change;
    `leader_epoch` grows by one whenever a change names a leader (even the same one)."""

    partition_id: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    removing_replicas: tuple[int, ...] = ()
    adding_replicas: tuple[int, ...] = ()
    leader: int = NO_LEADER
    leader_recovery_state: int = LeaderRecoveryState.RECOVERED
    leader_epoch: int = 0
    partition_epoch: int = 0
    directories: tuple[bytes, ...] = ()
    elr: tuple[int, ...] = ()
    last_known_elr: tuple[int, ...] = ()

    @classmethod
    def from_record(cls, r: Any) -> "PartitionRegistration":
        """From a PartitionRecord."""
        return cls(
            partition_id=r.partition_id,
            replicas=tuple(r.replicas),
            isr=tuple(r.isr),
            removing_replicas=tuple(r.removing_replicas or ()),
            adding_replicas=tuple(r.adding_replicas or ()),
            leader=r.leader,
            leader_recovery_state=getattr(r, "leader_recovery_state", 0) or 0,
            leader_epoch=r.leader_epoch,
            partition_epoch=r.partition_epoch,
            directories=tuple(bytes(d) for d in (getattr(r, "directories", None) or ())),
            elr=tuple(getattr(r, "eligible_leader_replicas", None) or ()),
            last_known_elr=tuple(getattr(r, "last_known_elr", None) or ()),
        )

    def merge(self, r: Any) -> "PartitionRegistration":
        """Apply a PartitionChangeRecord: null fields keep their value; a named leader bumps the
        leader epoch; every change bumps the partition epoch (Kafka's PartitionRegistration.merge)."""
        def pick(value: Any, current: tuple[Any, ...]) -> tuple[Any, ...]:
            return current if value is None else tuple(value)

        if r.leader == NO_LEADER_CHANGE:
            leader, leader_epoch = self.leader, self.leader_epoch
        else:
            leader, leader_epoch = r.leader, self.leader_epoch + 1
        lrs = getattr(r, "leader_recovery_state", LeaderRecoveryState.NO_CHANGE)
        return PartitionRegistration(
            partition_id=self.partition_id,
            replicas=pick(r.replicas, self.replicas),
            isr=pick(r.isr, self.isr),
            removing_replicas=pick(r.removing_replicas, self.removing_replicas),
            adding_replicas=pick(r.adding_replicas, self.adding_replicas),
            leader=leader,
            leader_recovery_state=self.leader_recovery_state if lrs in (None, LeaderRecoveryState.NO_CHANGE) else lrs,
            leader_epoch=leader_epoch,
            partition_epoch=self.partition_epoch + 1,
            directories=tuple(bytes(d) for d in pick(getattr(r, "directories", None), self.directories)),
            elr=pick(getattr(r, "eligible_leader_replicas", None), self.elr),
            last_known_elr=pick(getattr(r, "last_known_elr", None), self.last_known_elr),
        )

    def has_leader(self) -> bool:
        return self.leader >= 0
