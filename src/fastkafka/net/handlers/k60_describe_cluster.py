"""DescribeCluster (key 60), v0-2. EndpointType (v1): 1 brokers, 2 controllers (KIP-919); asking a
broker listener for controllers is MISMATCHED_ENDPOINT_TYPE, as in Kafka.

v2 (KIP-1073): IncludeFencedBrokers asks a broker listener for the fenced brokers too, each
broker carrying IsFenced. As Kafka's KafkaApis, the brokers are every registered broker with the
request's listener, fenced ones only when asked for (the flag is false below v2), and ControllerId
is still an alive (unfenced) broker. A controller listener ignores the flag (Kafka's ControllerApis
lists the quorum's voters, never fenced)."""
from __future__ import annotations

from fastkafka.cluster.authorized_operations import AUTHORIZED_OPERATIONS_OMITTED, authorized_operations
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import DescribeClusterRequest, DescribeClusterResponse


@handler(60, 0, 2, listeners=("broker", "controller"))
def handle_describe_cluster(broker: BrokerServices, ctx: RequestContext, req: DescribeClusterRequest) -> DescribeClusterResponse:
    on_controller = ctx.listener_name in broker.config.controller_listener_names
    endpoint_type = req.endpoint_type if ctx.api_version >= 1 else 1
    if endpoint_type not in (1, 2) or (endpoint_type == 2) != on_controller:
        return DescribeClusterResponse(
            throttle_time_ms=0, error_code=Errors.MISMATCHED_ENDPOINT_TYPE if endpoint_type in (1, 2) else Errors.UNSUPPORTED_ENDPOINT_TYPE,
            error_message=f"The request was sent to an endpoint of type {'controller' if on_controller else 'broker'}, "
                          f"but we wanted an endpoint of type {'controller' if endpoint_type == 2 else 'broker'}",
            endpoint_type=endpoint_type, cluster_id=broker.cluster_id, controller_id=-1, brokers=[],
            cluster_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED)
    if endpoint_type == 2:
        nodes = [(n, False) for n in broker.controller_nodes()]
        controller_id = nodes[0][0][0] if nodes else -1
    else:
        include_fenced = ctx.api_version >= 2 and req.include_fenced_brokers
        nodes = []
        brokers = broker.image.cluster.brokers
        for bid in sorted(brokers):
            b = brokers[bid]
            node = b.node(ctx.listener_name)
            if node is not None and (include_fenced or not b.fenced):
                nodes.append((node, b.fenced))
        # Kafka's getRandomAliveBrokerId: any unfenced broker (on any listener); fastkafka takes
        # the lowest id so the answer is stable.
        controller_id = min((bid for bid, b in brokers.items() if not b.fenced), default=-1)
    return DescribeClusterResponse(
        throttle_time_ms=0, error_code=0, error_message=None, endpoint_type=endpoint_type,
        cluster_id=broker.cluster_id,
        controller_id=controller_id,
        brokers=[DescribeClusterResponse.DescribeClusterBroker(broker_id=n[0], host=n[1], port=n[2], rack=n[3],
                                                               is_fenced=fenced)
                 for n, fenced in nodes],
        cluster_authorized_operations=authorized_operations("cluster", req.include_cluster_authorized_operations),
    )
