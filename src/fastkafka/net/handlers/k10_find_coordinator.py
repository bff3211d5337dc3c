"""FindCoordinator (key 10), v0-6; v4+ batches keys. Key types: 0 group, 1 transaction (2 share is
broker-internal and refused from clients).

The coordinator of a key is the leader of its partition of `__consumer_offsets` /
`__transaction_state` (partition = abs(java hashCode(key)) % partition count). A group lookup
creates `__consumer_offsets` on first use and a transaction lookup `__transaction_state`, as Kafka
does.
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import FindCoordinatorRequest, FindCoordinatorResponse


def _coordinator(broker: BrokerServices, ctx: RequestContext, key: str, key_type: int) -> tuple[int, int, str, int, str | None]:
    """(error, node_id, host, port, message) for one key."""
    if key_type not in (0, 1):
        return Errors.INVALID_REQUEST, -1, "", -1, f"Unsupported key type {key_type}"
    if key_type == 1 and not key:
        return Errors.INVALID_REQUEST, -1, "", -1, "Transactional id must not be empty"
    node = broker.coordinator_node(key, key_type, ctx.listener_name)
    if node is None:
        return Errors.COORDINATOR_NOT_AVAILABLE, -1, "", -1, None
    return 0, node[0], node[1], node[2], None


@handler(10, 0, 6)
async def handle_find_coordinator(broker: BrokerServices, ctx: RequestContext, req: FindCoordinatorRequest) -> FindCoordinatorResponse:
    v = ctx.api_version
    key_type = req.key_type if v >= 1 else 0
    if key_type == 0:
        try:
            await broker.group_coordinator.ensure_offsets_topic()
        except KafkaError:
            pass  # each key below then answers COORDINATOR_NOT_AVAILABLE
    elif key_type == 1:
        try:
            await broker.transaction_coordinator.ensure_transaction_topic()
        except KafkaError:
            pass

    if v < 4:
        err, node_id, host, port, msg = _coordinator(broker, ctx, req.key, key_type)
        return FindCoordinatorResponse(throttle_time_ms=0, error_code=err, error_message=msg,
                                       node_id=node_id, host=host, port=port)
    coords = []
    for key in req.coordinator_keys:
        err, node_id, host, port, msg = _coordinator(broker, ctx, key, key_type)
        coords.append(FindCoordinatorResponse.Coordinator(key=key, node_id=node_id, host=host, port=port,
                                                          error_code=err, error_message=msg))
    return FindCoordinatorResponse(throttle_time_ms=0, coordinators=coords)
