"""A group id used by both protocols, over a real GroupCoordinator and ConsumerGroupManager without
a network, as Kafka 4.4's GroupMetadataManager answers: a classic JoinGroup for a live consumer
(KIP-848) group needs the "consumer" protocol type and a ConsumerProtocol subscription, one for an
empty consumer group turns it into a classic group; a ConsumerGroupHeartbeat for a classic group
whose members' metadata is not the consumer protocol answers GROUP_ID_NOT_FOUND, one for an Empty
classic group writes its GroupMetadata tombstone and creates the consumer group; committed offsets
survive both conversions (also across a replay). The online upgrade and downgrade of groups with
members are in test_group_online_migration.py."""
from __future__ import annotations

import asyncio
import struct
from types import SimpleNamespace
from typing import Any

from fake_partition import committed_leader
from fastkafka._native.record_batch import iter_records
from fastkafka.cluster.group.classic_group import ClassicGroup, GroupState, OffsetAndMetadata
from fastkafka.cluster.group.consumer_group_manager import ConsumerGroupManager
from fastkafka.cluster.group.group_coordinator import GroupCoordinator
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME
from fastkafka.net.handlers.k11_join_group import handle_join_group
from fastkafka.net.handlers.k68_consumer_group_heartbeat import handle_consumer_group_heartbeat
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import ConsumerGroupHeartbeatRequest, JoinGroupRequest, SyncGroupRequest

TOPIC_ID = b"\x07" * 16


class _Broker:
    def __init__(self) -> None:
        self.config = {"offsets.topic.num.partitions": "3", "group.initial.rebalance.delay.ms": "0"}
        topic = SimpleNamespace(name="t", topic_id=TOPIC_ID, partitions={0: None, 1: None})
        self.image = SimpleNamespace(topics=SimpleNamespace(
            by_name={GROUP_METADATA_TOPIC_NAME: object(), "t": topic}, by_id={TOPIC_ID: topic}))
        self.appended: list[bytes] = []
        self.replica_manager = SimpleNamespace(partition=lambda tp: committed_leader(),
                                               append_records=self._append)
        self.group_coordinator = GroupCoordinator(self)
        self.consumer_group_manager = ConsumerGroupManager(self, {})

    def _append(self, tp: Any, records: bytes, acks: int) -> Any:
        self.appended.append(bytes(records))
        return SimpleNamespace(error=0)

    def records(self) -> list[tuple[bytes | None, bytes | None]]:
        return [(r.key, r.value) for batch in self.appended for r in iter_records(batch)]


def _ctx(api_key: int, version: int) -> RequestContext:
    return RequestContext(api_key=api_key, api_version=version, correlation_id=1, client_id="cli",
                          listener_name="PLAINTEXT", security_protocol="PLAINTEXT", client_address="10.0.0.7:5555",
                          connection_id="c")


def _join_req(member_id: str = "", protocol_type: str = "consumer") -> JoinGroupRequest:
    J = JoinGroupRequest
    return J(group_id="g", session_timeout_ms=10000, rebalance_timeout_ms=10000, member_id=member_id,
             protocol_type=protocol_type, protocols=[J.JoinGroupRequestProtocol(name="range", metadata=b"m")])


def _cgh(broker: _Broker, member_id: str, epoch: int) -> Any:
    return handle_consumer_group_heartbeat(broker, _ctx(68, 1), ConsumerGroupHeartbeatRequest(
        group_id="g", member_id=member_id, member_epoch=epoch, rebalance_timeout_ms=10000 if epoch == 0 else -1,
        subscribed_topic_names=["t"] if epoch == 0 else None, topic_partitions=[] if epoch == 0 else None))


def _cancel_timers(broker: _Broker) -> None:
    for g in broker.group_coordinator.groups.values():
        for m in g.members.values():
            if m.heartbeat_timer is not None:
                m.heartbeat_timer.cancel()
    for h in list(broker.consumer_group_manager._session_timers.values()) + \
            list(broker.consumer_group_manager._revocation_timers.values()):
        h.cancel()


def test_classic_join_to_a_consumer_group() -> None:
    async def scenario() -> None:
        broker = _Broker()
        gc = broker.group_coordinator
        resp = _cgh(broker, "member-a", 0)
        assert resp.error_code == 0 and resp.member_epoch > 0
        # The consumer group's committed offsets are kept by the GroupCoordinator.
        gc.commit_offsets(gc.groups.setdefault("g", ClassicGroup("g")), {("t", 0): OffsetAndMetadata(42, -1, "", 1, None)})
        # A live consumer group: a classic join needs the "consumer" protocol type and a parsable
        # ConsumerProtocol subscription (Kafka: INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_SERVER_ERROR).
        for v in (0, 5, 9):
            join = await handle_join_group(broker, _ctx(11, v), _join_req(protocol_type="connect"))
            assert join.error_code == Errors.INCONSISTENT_GROUP_PROTOCOL, v
        join = await handle_join_group(broker, _ctx(11, 3), _join_req())
        assert join.error_code == Errors.UNKNOWN_SERVER_ERROR
        assert broker.consumer_group_manager.group("g") is not None
        # The member leaves: the empty consumer group becomes a classic group at the next join.
        assert _cgh(broker, "member-a", -1).error_code == 0
        join = await handle_join_group(broker, _ctx(11, 9), _join_req())
        assert join.error_code == Errors.MEMBER_ID_REQUIRED
        join = await handle_join_group(broker, _ctx(11, 9), _join_req(join.member_id))
        assert join.error_code == 0 and join.generation_id == 1
        assert broker.consumer_group_manager.group("g") is None
        assert gc.fetch_offsets("g") == {("t", 0): OffsetAndMetadata(42, -1, "", 1, None)}
        _cancel_timers(broker)

    asyncio.run(scenario())


def test_consumer_group_heartbeat_to_a_classic_group() -> None:
    async def scenario() -> None:
        broker = _Broker()
        gc = broker.group_coordinator
        join = await handle_join_group(broker, _ctx(11, 3), _join_req())
        assert join.error_code == 0
        err, _, _ = await gc.sync_group(_ctx(14, 3), SyncGroupRequest(
            group_id="g", generation_id=join.generation_id, member_id=join.member_id,
            assignments=[SyncGroupRequest.SyncGroupRequestAssignment(member_id=join.member_id, assignment=b"a")]))
        assert err == 0
        gc.commit_offsets(gc.groups["g"], {("t", 1): OffsetAndMetadata(7, -1, "", 1, None)})
        # Members: an online upgrade needs the members' ConsumerProtocol subscriptions.
        resp = _cgh(broker, "member-b", 0)
        assert resp.error_code == Errors.GROUP_ID_NOT_FOUND
        assert resp.error_message == ("Cannot upgrade classic group g to consumer group because the embedded "
                                      "consumer protocol is malformed.")
        assert gc.groups["g"].state is GroupState.STABLE
        # Empty: its GroupMetadata gets a tombstone, the consumer group is created, offsets stay.
        code, _ = gc.leave_group("g", [join.member_id])
        assert code == 0 and gc.groups["g"].state is GroupState.EMPTY
        before = len(broker.records())
        resp = _cgh(broker, "member-b", 0)
        assert resp.error_code == 0 and resp.member_epoch > 0
        tail = broker.records()[before:]
        # The classic group's tombstone, then the new consumer group's records (key versions 3-8).
        kinds = [(struct.unpack_from(">h", k)[0], v is None) for k, v in tail if k]
        assert kinds[0] == (2, True) and {k for k, _ in kinds[1:]} == {3, 4, 5, 6, 7, 8}
        assert broker.consumer_group_manager.group("g") is not None
        assert gc.fetch_offsets("g") == {("t", 1): OffsetAndMetadata(7, -1, "", 1, None)}
        # A restart replays the tombstone: no classic group any more, the offsets are kept.
        fresh = _Broker()
        for key, value in broker.records():
            fresh.group_coordinator._replay(key, value)
        restored = fresh.group_coordinator.groups["g"]
        assert restored.protocol_type is None and not restored.members
        assert restored.offsets == {("t", 1): OffsetAndMetadata(7, -1, "", 1, None)}
        _cancel_timers(broker)

    asyncio.run(scenario())

