"""DescribeCluster (key 60) on a broker listener, without a network: the response encoded and
decoded at every version. v2's IncludeFencedBrokers (KIP-1073) adds the fenced brokers with
IsFenced true; without it (or below v2) only unfenced ones are listed, as Kafka's KafkaApis. The
ControllerId a broker answers is an unfenced broker even when fenced ones are listed."""
from __future__ import annotations

from types import SimpleNamespace

from fastkafka.cluster.metadata.broker_registration import BrokerRegistration, Endpoint
from fastkafka.net.handlers.k60_describe_cluster import handle_describe_cluster
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import DescribeClusterRequest, DescribeClusterResponse


def _registration(bid: int, fenced: bool, listeners: tuple[str, ...] = ("PLAINTEXT",)) -> BrokerRegistration:
    return BrokerRegistration(
        id=bid, epoch=10 + bid, incarnation_id=bytes(16),
        listeners={name: Endpoint(name, f"h{bid}", 9090 + bid, 0) for name in listeners},
        supported_features={}, rack="r1" if bid == 2 else None, fenced=fenced, in_controlled_shutdown=False)


def _broker() -> SimpleNamespace:
    brokers = {1: _registration(1, fenced=True), 2: _registration(2, fenced=False),
               3: _registration(3, fenced=False, listeners=("OTHER",)), 4: _registration(4, fenced=True)}
    return SimpleNamespace(cluster_id="cid", config=SimpleNamespace(controller_listener_names=["CONTROLLER"]),
                           image=SimpleNamespace(cluster=SimpleNamespace(brokers=brokers)))


def _describe(v: int, include_fenced: bool, endpoint_type: int = 1) -> DescribeClusterResponse:
    ctx = RequestContext(api_key=60, api_version=v, correlation_id=1, client_id="cli", listener_name="PLAINTEXT",
                         security_protocol="PLAINTEXT", client_address="10.0.0.7:5555", connection_id="c")
    resp = handle_describe_cluster(_broker(), ctx, DescribeClusterRequest(
        include_cluster_authorized_operations=False, endpoint_type=endpoint_type,
        include_fenced_brokers=include_fenced))
    return DescribeClusterResponse.from_bytes(resp.to_bytes(v), v)


def test_fenced_brokers_only_when_asked_from_v2() -> None:
    for v in range(3):
        for include_fenced in (False, True):
            resp = _describe(v, include_fenced)
            assert (resp.error_code, resp.cluster_id) == (0, "cid")
            listed = {b.broker_id: b for b in resp.brokers}
            if v >= 2 and include_fenced:
                assert sorted(listed) == [1, 2, 4]  # broker 3 has no PLAINTEXT listener
                assert [listed[i].is_fenced for i in (1, 2, 4)] == [True, False, True]
            else:
                assert sorted(listed) == [2]
                assert listed[2].is_fenced is False
            assert (listed[2].host, listed[2].port, listed[2].rack) == ("h2", 9092, "r1")
            assert resp.controller_id == 2  # an alive broker, never a fenced one


def test_controllers_on_a_broker_listener_still_mismatched() -> None:
    resp = _describe(2, True, endpoint_type=2)
    assert (resp.error_code, resp.brokers) == (Errors.MISMATCHED_ENDPOINT_TYPE, [])
