"""DescribeCluster (key 60), v0-1. EndpointType (v1): 1 brokers, 2 controllers (KIP-919); asking a
broker listener for controllers is MISMATCHED_ENDPOINT_TYPE, as in Kafka."""
from __future__ import annotations

from typing import Any

from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import DescribeClusterRequest, DescribeClusterResponse

_NO_AUTHZ = -2147483648


@handler(60, 0, 1, listeners=("broker", "controller"))
def handle_describe_cluster(broker: Any, ctx: RequestContext, req: DescribeClusterRequest) -> DescribeClusterResponse:
    on_controller = ctx.listener_name in broker.config.controller_listener_names
    endpoint_type = req.endpoint_type if ctx.api_version >= 1 else 1
    if endpoint_type not in (1, 2) or (endpoint_type == 2) != on_controller:
        return DescribeClusterResponse(
            throttle_time_ms=0, error_code=Errors.MISMATCHED_ENDPOINT_TYPE if endpoint_type in (1, 2) else Errors.UNSUPPORTED_ENDPOINT_TYPE,
            error_message=f"The request was sent to an endpoint of type {'controller' if on_controller else 'broker'}, "
                          f"but we wanted an endpoint of type {'controller' if endpoint_type == 2 else 'broker'}",
            endpoint_type=endpoint_type, cluster_id=broker.cluster_id, controller_id=-1, brokers=[],
            cluster_authorized_operations=_NO_AUTHZ)
    if endpoint_type == 2:
        nodes = broker.controller_nodes()
    else:
        nodes = broker.alive_brokers(ctx.listener_name)
    return DescribeClusterResponse(
        throttle_time_ms=0, error_code=0, error_message=None, endpoint_type=endpoint_type,
        cluster_id=broker.cluster_id,
        controller_id=(nodes[0][0] if nodes else -1),
        brokers=[DescribeClusterResponse.DescribeClusterBroker(broker_id=n[0], host=n[1], port=n[2], rack=n[3])
                 for n in nodes],
        cluster_authorized_operations=_NO_AUTHZ,
    )
