"""Server-side partition assignors of the consumer group protocol (KIP-848): Kafka's `uniform`
(UniformAssignor, the default) and `range` (RangeAssignor), configured by
`group.consumer.assignors`.

An assignor maps each member to the partitions it should own, from the members' subscriptions,
the subscribed topics' partition counts and the current target assignment.

Invariants of every result: each partition of a subscribed topic is assigned to exactly one member
subscribed to its topic; no member gets a partition of a topic it does not subscribe to; the
result is deterministic for the same input (members and partitions are visited in sorted order).
`uniform` is sticky and balanced: a member keeps its current partitions as long as that leaves
every member within one partition of its fair share (among members that could take them).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

TopicId = bytes
Assignment = dict[TopicId, set[int]]


@dataclass(frozen=True, slots=True)
class MemberSubscription:
    member_id: str
    topic_ids: frozenset[TopicId]
    current: Mapping[TopicId, frozenset[int]]  # the member's current target assignment


class PartitionAssignor:
    name = ""

    def assign(self, members: Sequence[MemberSubscription],
               partition_counts: Mapping[TopicId, int]) -> dict[str, Assignment]:
        raise NotImplementedError


class UniformAssignor(PartitionAssignor):
    """Balanced and sticky. Partitions are first left with their current owner if it still
    subscribes to the topic; unowned partitions go to the least loaded eligible member; then
    partitions move from a member with more than one partition above an eligible member until no
    such move exists (each move strictly reduces the spread, so this terminates)."""

    name = "uniform"

    def assign(self, members: Sequence[MemberSubscription],
               partition_counts: Mapping[TopicId, int]) -> dict[str, Assignment]:
        ordered = sorted(members, key=lambda m: m.member_id)
        result: dict[str, Assignment] = {m.member_id: {} for m in ordered}
        load = {m.member_id: 0 for m in ordered}
        eligible: dict[TopicId, list[str]] = {}
        for m in ordered:
            for t in m.topic_ids:
                if t in partition_counts:
                    eligible.setdefault(t, []).append(m.member_id)
        # Fair share per member if everything were spread evenly over eligible members.
        total = sum(partition_counts[t] for t in eligible)
        share = -(-total // len(ordered)) if ordered else 0  # ceiling
        owner: dict[tuple[TopicId, int], str] = {}
        for m in ordered:  # stickiness, bounded by the share
            for t, parts in sorted(m.current.items()):
                if t not in eligible or m.member_id not in eligible[t]:
                    continue
                for p in sorted(parts):
                    if p < partition_counts[t] and (t, p) not in owner and load[m.member_id] < share:
                        owner[(t, p)] = m.member_id
                        load[m.member_id] += 1
        for t in sorted(eligible):
            for p in range(partition_counts[t]):
                if (t, p) not in owner:
                    target = min(eligible[t], key=lambda mid: (load[mid], mid))
                    owner[(t, p)] = target
                    load[target] += 1
        # Even out: move a partition from a member at least two above an eligible member.
        moved = True
        while moved:
            moved = False
            for (t, p), mid in sorted(owner.items()):
                lightest = min(eligible[t], key=lambda x: (load[x], x))
                if load[mid] - load[lightest] >= 2:
                    owner[(t, p)] = lightest
                    load[mid] -= 1
                    load[lightest] += 1
                    moved = True
        for (t, p), mid in owner.items():
            result[mid].setdefault(t, set()).add(p)
        return result


class RangeAssignor(PartitionAssignor):
    """Per topic, the subscribed members sorted by id take consecutive ranges; the first
    `partitions % members` take one more (the classic range assignor, co-partitioned topics get
    the same member for the same partition number)."""

    name = "range"

    def assign(self, members: Sequence[MemberSubscription],
               partition_counts: Mapping[TopicId, int]) -> dict[str, Assignment]:
        result: dict[str, Assignment] = {m.member_id: {} for m in members}
        topics = sorted({t for m in members for t in m.topic_ids if t in partition_counts})
        for t in topics:
            subs = sorted(m.member_id for m in members if t in m.topic_ids)
            n, extra = divmod(partition_counts[t], len(subs))
            start = 0
            for i, mid in enumerate(subs):
                count = n + (1 if i < extra else 0)
                if count:
                    result[mid][t] = set(range(start, start + count))
                start += count
        return result


ASSIGNORS: dict[str, PartitionAssignor] = {a.name: a for a in (UniformAssignor(), RangeAssignor())}
