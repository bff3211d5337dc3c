"""ConsumerGroupDescribe (key 69), v0-1: consumer-protocol groups with their epochs, assignor,
members, and each member's current and target assignment (Kafka's ConsumerGroup.asDescribedGroup).
A group id unknown to the consumer protocol is GROUP_ID_NOT_FOUND with Kafka's message: "Group g
is not a consumer group." for a classic group, "Group g not found." otherwise.

v1 (KIP-1099) adds each member's MemberType: 0 for a classic-protocol member of a consumer group
(one that joined with JoinGroup after an online upgrade), 1 for a consumer-protocol member; Kafka
never writes -1 (unknown).
"""
from __future__ import annotations

from typing import Any

from fastkafka.cluster.authorized_operations import AUTHORIZED_OPERATIONS_OMITTED, authorized_operations
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse



def _assignment(broker: BrokerServices, a: dict[bytes, set[int]]) -> Any:
    topics = broker.image.topics.by_id
    return ConsumerGroupDescribeResponse.Assignment(topic_partitions=[
        ConsumerGroupDescribeResponse.TopicPartitions(topic_id=t, topic_name=topics[t].name if t in topics else "",
                                                      partitions=sorted(ps))
        for t, ps in sorted(a.items()) if ps])


@handler(69, 0, 1)
def handle_consumer_group_describe(broker: BrokerServices, ctx: RequestContext,
                                   req: ConsumerGroupDescribeRequest) -> ConsumerGroupDescribeResponse:
    manager = broker.consumer_group_manager
    out = []
    for group_id in req.group_ids:
        def error(code: int, message: str | None = None) -> Any:
            return ConsumerGroupDescribeResponse.DescribedGroup(
                error_code=code, error_message=message, group_id=group_id, group_state="", group_epoch=0,
                assignment_epoch=0, assignor_name="", members=[], authorized_operations=AUTHORIZED_OPERATIONS_OMITTED)
        try:
            manager.check_coordinator(group_id)
        except KafkaError as e:
            out.append(error(e.code, None))
            continue
        group = manager.group(group_id)
        if group is None:
            classic = broker.group_coordinator.group(group_id)
            exists = classic is not None and classic.state.value != "Dead"
            out.append(error(Errors.GROUP_ID_NOT_FOUND, f"Group {group_id} is not a consumer group." if exists
                             else f"Group {group_id} not found."))
            continue
        members = []
        for m in sorted(group.members.values(), key=lambda x: x.member_id):
            owned = {t: set(ps) for t, ps in m.assigned.items()}
            for t, ps in m.pending_revocation.items():
                owned.setdefault(t, set()).update(ps)
            members.append(ConsumerGroupDescribeResponse.Member(
                member_id=m.member_id, instance_id=m.instance_id, rack_id=m.rack_id, member_epoch=m.member_epoch,
                client_id=m.client_id, client_host=m.client_host, subscribed_topic_names=list(m.subscribed_topic_names),
                subscribed_topic_regex=m.subscribed_topic_regex, assignment=_assignment(broker, owned),
                target_assignment=_assignment(broker, group.target_assignment.get(m.member_id, {})),
                member_type=0 if m.uses_classic_protocol else 1))  # v1: 0 classic, 1 consumer
        out.append(ConsumerGroupDescribeResponse.DescribedGroup(
            error_code=0, error_message=None, group_id=group_id, group_state=group.state.value,
            group_epoch=group.group_epoch, assignment_epoch=group.assignment_epoch,
            assignor_name=group.assignor_name or manager.assignors[0], members=members,
            authorized_operations=authorized_operations("group", req.include_authorized_operations)))
    return ConsumerGroupDescribeResponse(throttle_time_ms=0, groups=out)
