"""The initial rebalance of a new classic group (Kafka's prepareRebalance for an Empty group and
tryCompleteInitialRebalanceElseSchedule): the first member starts a delay of
group.initial.rebalance.delay.ms; only a member added while it runs extends it by one more delay
(bounded by the rebalance timeout), so a lone member's first generation completes after one delay
and static members (group.instance.id: no MEMBER_ID_REQUIRED round trip) joining a few ms apart
share generation 1. Timers are ordered by deadline on the event loop, so the sleeps below only
pick a side of a deadline; nothing measures durations."""
from __future__ import annotations

import asyncio

from test_group_classic import _Broker, join, sync  # the classic-protocol helpers

from fastkafka.cluster.group.classic_group import GroupState


def test_lone_member_completes_after_one_delay() -> None:
    """The member that starts the delay does not extend it (Kafka sets newMemberAdded only for a
    member added in PreparingRebalance after Empty)."""
    async def scenario() -> None:
        gc = _Broker(**{"group.initial.rebalance.delay.ms": "200"}).group_coordinator
        first = asyncio.ensure_future(join(gc, instance="i-a"))
        await asyncio.sleep(0.05)
        group = gc.groups["g"]
        assert group.state is GroupState.PREPARING_REBALANCE and not group.new_member_added
        await asyncio.sleep(0.25)  # past the first deadline (0.2 s), before a second one (0.4 s)
        assert first.done() and first.result().generation_id == 1

    asyncio.run(scenario())


def test_static_members_a_few_ms_apart_share_generation_one() -> None:
    async def scenario() -> None:
        gc = _Broker(**{"group.initial.rebalance.delay.ms": "100"}).group_coordinator
        first = asyncio.ensure_future(join(gc, instance="i-a"))
        await asyncio.sleep(0.003)
        second = asyncio.ensure_future(join(gc, instance="i-b"))
        a, b = await asyncio.gather(first, second)
        assert (a.error_code, b.error_code) == (0, 0)
        assert a.generation_id == b.generation_id == 1
        assert a.leader == a.member_id and {m.member_id for m in a.members} == {a.member_id, b.member_id}
        leader_assignments = {a.member_id: b"A", b.member_id: b"B"}
        got = await asyncio.gather(sync(gc, a, instance="i-a", assignments=leader_assignments),
                                   sync(gc, b, instance="i-b"))
        assert got == [(0, b"A"), (0, b"B")]
        group = gc.groups["g"]
        assert (group.state, group.generation_id) == (GroupState.STABLE, 1)

    asyncio.run(scenario())


def test_a_member_added_during_the_delay_extends_it_once() -> None:
    """A second member inside the first delay extends it by one delay; with nobody else the
    generation then completes with both."""
    async def scenario() -> None:
        gc = _Broker(**{"group.initial.rebalance.delay.ms": "200"}).group_coordinator
        first = asyncio.ensure_future(join(gc, instance="i-a"))
        await asyncio.sleep(0.15)
        second = asyncio.ensure_future(join(gc, instance="i-b"))
        await asyncio.sleep(0.1)  # past the first deadline (0.2 s): extended to 0.4 s
        assert not first.done() and gc.groups["g"].state is GroupState.PREPARING_REBALANCE
        a, b = await asyncio.gather(first, second)
        assert a.generation_id == b.generation_id == 1 and len(gc.groups["g"].members) == 2

    asyncio.run(scenario())
