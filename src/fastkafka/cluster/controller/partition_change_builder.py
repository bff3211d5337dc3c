"""PartitionChangeBuilder: the PartitionChangeRecord (if any) that takes a partition from its
current registration to a target replica set / ISR / leader (Kafka's controller.PartitionChangeBuilder
with PartitionReassignmentReplicas).

Used by leader elections (ElectLeaders) and partition reassignments (AlterPartitionReassignments);
the ISR changes of AlterPartition and broker fencing will use it too once there are followers.

Invariants of the record it builds (Kafka's): only the fields that change are set, so a no-op
yields None and nothing is written; a reassignment whose target replicas are all in the ISR
completes in the same record (replicas = target, adding/removing cleared); a leader is only ever
elected from the target ISR among acceptable (unfenced) brokers, except by an UNCLEAN election,
which then shrinks the ISR to the new leader and marks it RECOVERING; removing a replica from the
replica set bumps the leader epoch even when the leader stays.

Not modelled yet: eligible leader replicas (KIP-966: ELR/last-known-ELR are left as they are) and
the per-broker default log directory (new replicas get DirectoryId.UNASSIGNED).
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Sequence

from fastkafka.cluster.metadata.partition_registration import (
    NO_LEADER, NO_LEADER_CHANGE, LeaderRecoveryState, PartitionRegistration)
from fastkafka.protocol._generated import metadata_records as mr

# DirectoryId.UNASSIGNED: the controller does not know the new replica's log dir yet.
UNASSIGNED_DIRECTORY = bytes(16)


class Election(enum.Enum):
    """PartitionChangeBuilder.Election."""

    PREFERRED = 0  # move leadership to the first replica when it is in the ISR and acceptable
    ONLINE = 1  # keep the leader if valid, else any ISR member
    UNCLEAN = 2  # as ONLINE, then any acceptable replica even outside the ISR (may lose data)


class PartitionReassignmentReplicas:
    """The replicas/adding/removing lists of a reassignment from `current` to `target`:
    replicas = target followed by the current replicas being removed (Kafka's order)."""

    def __init__(self, removing: Sequence[int], adding: Sequence[int], replicas: Sequence[int]) -> None:
        self.removing = list(removing)
        self.adding = list(adding)
        self.replicas = list(replicas)

    @classmethod
    def between(cls, current: Sequence[int], target: Sequence[int]) -> "PartitionReassignmentReplicas":
        removing = sorted(set(current) - set(target))
        adding = sorted(set(target) - set(current))
        return cls(removing, adding, list(target) + removing)

    def in_progress(self) -> bool:
        return bool(self.removing or self.adding)

    def maybe_complete(self, target_isr: Sequence[int]) -> tuple[list[int], list[int]] | None:
        """(replicas, isr) once every remaining replica is in the ISR, else None."""
        if not self.in_progress():
            return None
        isr = list(target_isr)
        replicas = self.replicas
        if self.removing:
            isr = [r for r in isr if r not in self.removing]
            if not isr:
                return None
            replicas = [r for r in replicas if r not in self.removing]
            if not replicas:
                return None
        if not set(replicas) <= set(isr):
            return None
        return replicas, isr


def is_reassignment_in_progress(part: PartitionRegistration) -> bool:
    return bool(part.removing_replicas or part.adding_replicas)


def build_partition_change(
    part: PartitionRegistration, topic_id: bytes, *,
    is_acceptable_leader: Callable[[int], bool],
    record_version: int,
    election: Election = Election.ONLINE,
    target_replicas: Sequence[int] | None = None,
    target_isr: Sequence[int] | None = None,
    target_removing: Sequence[int] | None = None,
    target_adding: Sequence[int] | None = None,
) -> mr.PartitionChangeRecord | None:
    """The PartitionChangeRecord for the targets (None when nothing would change)."""
    replicas = list(part.replicas if target_replicas is None else target_replicas)
    isr = list(part.isr if target_isr is None else target_isr)
    removing = list(part.removing_replicas if target_removing is None else target_removing)
    adding = list(part.adding_replicas if target_adding is None else target_adding)
    recovery = part.leader_recovery_state

    # completeReassignmentIfNeeded
    done = PartitionReassignmentReplicas(removing, adding, replicas).maybe_complete(isr)
    if done is not None:
        replicas, isr = done
        removing, adding = [], []

    def valid_new_leader(r: int) -> bool:
        return r in isr and is_acceptable_leader(r)

    record = mr.PartitionChangeRecord(partition_id=part.partition_id, topic_id=topic_id)
    leader = part.leader
    # shouldTryElection: the leader left the ISR (or there is none), or a preferred election
    # was asked for and the first replica does not lead.
    if not valid_new_leader(part.leader) or (
            election is Election.PREFERRED and replicas and part.leader != replicas[0]):
        leader, unclean = _elect(part, replicas, election, valid_new_leader, is_acceptable_leader)
        if leader != part.leader:
            record.leader = leader
            if unclean:
                # An unclean leader is the whole ISR: what the others hold may be lost.
                record.isr = [leader]
                recovery = LeaderRecoveryState.RECOVERING
    # triggerLeaderEpochBumpForReplicaReassignmentIfNeeded: a replica leaving the set must not
    # be able to keep fetching under the old epoch.
    if record.leader == NO_LEADER_CHANGE and replicas != list(part.replicas) \
            and not set(part.replicas) <= set(replicas):
        record.leader = part.leader
    if record.isr is None and isr != list(part.isr):
        record.isr = isr
    if replicas != list(part.replicas):
        record.replicas = replicas
        if record_version >= 1:
            dirs = dict(zip(part.replicas, part.directories))
            record.directories = [dirs.get(r, UNASSIGNED_DIRECTORY) for r in replicas]
    if removing != list(part.removing_replicas):
        record.removing_replicas = removing
    if adding != list(part.adding_replicas):
        record.adding_replicas = adding
    if recovery != part.leader_recovery_state:
        record.leader_recovery_state = recovery
    if (record.leader == NO_LEADER_CHANGE and record.isr is None and record.replicas is None
            and record.removing_replicas is None and record.adding_replicas is None
            and record.leader_recovery_state == LeaderRecoveryState.NO_CHANGE):
        return None
    return record


def _elect(part: PartitionRegistration, replicas: list[int], election: Election,
           valid_new_leader: Callable[[int], bool],
           acceptable: Callable[[int], bool]) -> tuple[int, bool]:
    """(new leader, unclean?) as PartitionChangeBuilder.electLeader."""
    if election is Election.PREFERRED:
        if replicas and valid_new_leader(replicas[0]):
            return replicas[0], False
        if valid_new_leader(part.leader):
            return part.leader, False  # the current leader still qualifies: no churn
        return next((r for r in replicas[1:] if valid_new_leader(r)), NO_LEADER), False
    if valid_new_leader(part.leader):
        return part.leader, False
    online = next((r for r in replicas if valid_new_leader(r)), None)
    if online is not None:
        return online, False
    if election is Election.UNCLEAN:
        unclean = next((r for r in replicas if acceptable(r)), None)
        if unclean is not None:
            return unclean, True
    return NO_LEADER, False
