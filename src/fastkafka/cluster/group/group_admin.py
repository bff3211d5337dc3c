"""Group admin operations (ListGroups, DescribeGroups, DeleteGroups) over the groups of both
protocols, as Kafka's GroupMetadataManager / GroupCoordinatorShard answer them.

Kafka keeps classic and consumer-protocol groups in one map; fastkafka keeps classic groups (and
the committed offsets of every group) in the GroupCoordinator and consumer-protocol groups in the
ConsumerGroupManager. A group id known to the ConsumerGroupManager is a "consumer" group even if
the GroupCoordinator also holds its offsets; any other id the GroupCoordinator knows is a
"classic" group (one created only by commits is an Empty classic group with protocol type "",
as in Kafka).

Invariants: this module owns no state; it reads the two owners and asks them to delete. A group
is deleted only when empty, and its offsets are tombstoned in `__consumer_offsets` before it
leaves memory, so a deletion survives a restart.
"""
from __future__ import annotations

import dataclasses
import logging

from fastkafka.cluster.group.classic_group import GroupState
from fastkafka.net.broker_services import BrokerServices
from fastkafka.protocol.errors import Errors, KafkaError

log = logging.getLogger(__name__)

CLASSIC = "classic"
CONSUMER = "consumer"
# Kafka's Group.GroupType names: a types filter entry that is none of them matches no group.
GROUP_TYPES = frozenset({CLASSIC, CONSUMER, "share", "streams"})


@dataclasses.dataclass(frozen=True, slots=True)
class ListedGroup:
    group_id: str
    protocol_type: str
    group_state: str
    group_type: str


@dataclasses.dataclass(frozen=True, slots=True)
class DescribedMember:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    member_metadata: bytes
    member_assignment: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class DescribedGroup:
    error_code: int
    group_id: str
    group_state: str
    protocol_type: str
    protocol_data: str
    members: list[DescribedMember]
    error_message: str | None = None


def _listed(broker: BrokerServices) -> list[ListedGroup]:
    manager = broker.consumer_group_manager
    out = [ListedGroup(g.group_id, CONSUMER, g.state.value, CONSUMER) for g in manager.all_groups()]
    consumer_ids = {g.group_id for g in out}
    for g in broker.group_coordinator.all_groups():
        if g.group_id in consumer_ids or g.state is GroupState.DEAD:
            continue
        out.append(ListedGroup(g.group_id, g.protocol_type or "", g.state.value, CLASSIC))
    return out


def list_groups(broker: BrokerServices, states_filter: list[str], types_filter: list[str]) -> list[ListedGroup]:
    """Kafka's listGroups: states compared case-insensitively (trimmed); types parsed
    case-insensitively, an unknown type matching nothing; an empty filter matches every group.
    Raises COORDINATOR_LOAD_IN_PROGRESS while any offsets partition is loading (Kafka's read-all
    operation fails as a whole then)."""
    if broker.group_coordinator.is_loading():
        raise KafkaError(Errors.COORDINATOR_LOAD_IN_PROGRESS)
    states = {s.strip().lower() for s in states_filter}
    types = {t.strip().lower() for t in types_filter}
    types = {t if t in GROUP_TYPES else "\0unknown" for t in types}
    return [g for g in _listed(broker)
            if (not states or g.group_state.lower() in states) and (not types or g.group_type in types)]


def describe_group(broker: BrokerServices, group_id: str, api_version: int = 0) -> DescribedGroup:
    """Kafka's describeGroups for one id: a classic group with its members (metadata only while
    Stable, when the protocol is known). Anything else (unknown, deleted, or a group of another
    type) is Kafka's GroupIdNotFoundException, answered as state Dead: with no error up to v5,
    and from v6 (KIP-1043) with GROUP_ID_NOT_FOUND and the exception's message."""
    try:
        broker.group_coordinator.check_coordinator(group_id)
    except KafkaError as e:
        return DescribedGroup(e.code, group_id, "", "", "", [])  # no message, as Kafka's error list

    def not_found(message: str) -> DescribedGroup:
        if api_version >= 6:
            return DescribedGroup(Errors.GROUP_ID_NOT_FOUND, group_id, GroupState.DEAD.value, "", "", [], message)
        return DescribedGroup(0, group_id, GroupState.DEAD.value, "", "", [])

    if broker.consumer_group_manager.group(group_id) is not None:
        return not_found(f"Group {group_id} is not a classic group.")
    group = broker.group_coordinator.group(group_id)
    if group is None or group.state is GroupState.DEAD:
        return not_found(f"Group {group_id} not found.")
    stable = group.state is GroupState.STABLE and group.protocol_name is not None
    members = [DescribedMember(m.member_id, m.group_instance_id, m.client_id, m.client_host,
                               m.metadata(group.protocol_name) if stable and group.protocol_name else b"",
                               m.assignment)
               for m in group.members.values()]
    return DescribedGroup(0, group_id, group.state.value, group.protocol_type or "",
                          (group.protocol_name or "") if stable else "", members)


def validate_delete_group(broker: BrokerServices, group_id: str) -> None:
    """Kafka's validateDeleteGroup: GROUP_ID_NOT_FOUND for an unknown or dead group,
    NON_EMPTY_GROUP unless the group is Empty."""
    consumer_group = broker.consumer_group_manager.group(group_id)
    if consumer_group is not None:
        if consumer_group.members:
            raise KafkaError(Errors.NON_EMPTY_GROUP)
        return
    group = broker.group_coordinator.group(group_id)
    if group is None:
        raise KafkaError(Errors.GROUP_ID_NOT_FOUND, f"Group {group_id} not found.")
    if group.state is GroupState.DEAD:
        raise KafkaError(Errors.GROUP_ID_NOT_FOUND, f"Group {group_id} is in dead state.")
    if group.state is not GroupState.EMPTY:
        raise KafkaError(Errors.NON_EMPTY_GROUP)


def delete_groups(broker: BrokerServices, group_ids: list[str]) -> list[tuple[str, int]]:
    """DeleteGroups: per group, validate, then tombstone its offsets and its metadata in
    `__consumer_offsets` and forget it. Returns (group id, error code) in request order."""
    gc = broker.group_coordinator
    out: list[tuple[str, int]] = []
    deleted: list[str] = []
    for group_id in group_ids:
        try:
            gc.check_coordinator(group_id)
            validate_delete_group(broker, group_id)
        except KafkaError as e:
            out.append((group_id, e.code))
            continue
        group = gc.group(group_id)
        offsets = len(group.offsets) if group is not None else 0
        error = gc.delete_group(group_id)
        if not error:
            broker.consumer_group_manager.delete_group(group_id)
            deleted.append(f"{group_id} ({offsets} offsets)")
        out.append((group_id, error))
    if deleted:
        log.info("The following groups were deleted: %s.", ", ".join(deleted))
    return out
