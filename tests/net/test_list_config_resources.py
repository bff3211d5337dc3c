"""ListConfigResources (74) handler, v0 and v1 encoded and decoded, over a hand-built image with
three brokers (one fenced, one without the request's listener), topics, and GROUP and
CLIENT_METRICS config resources: Kafka's type order, the empty list meaning every supported type,
v0 (ListClientMetricsResources) seeing only client metrics, UNSUPPORTED_VERSION for other types."""
from __future__ import annotations

import dataclasses
from types import MappingProxyType, SimpleNamespace

from fastkafka.cluster.metadata.broker_registration import BrokerRegistration, Endpoint
from fastkafka.cluster.metadata.cluster_image import ClusterImage
from fastkafka.cluster.metadata.config_resource import ConfigResource, ConfigResourceType as T
from fastkafka.cluster.metadata.configuration_image import ConfigurationsImage
from fastkafka.cluster.metadata.metadata_image import EMPTY_IMAGE
from fastkafka.cluster.metadata.topic_image import TopicImage, TopicsImage
from fastkafka.net.handlers.k74_list_config_resources import handle_list_config_resources
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import ListConfigResourcesRequest, ListConfigResourcesResponse


def _reg(bid: int, fenced: bool = False, listener: str = "PLAINTEXT") -> BrokerRegistration:
    return BrokerRegistration(id=bid, epoch=bid, incarnation_id=bytes(16),
                              listeners={listener: Endpoint(listener, "h", 9000 + bid, 0)},
                              supported_features={}, rack=None, fenced=fenced, in_controlled_shutdown=False)


def _broker() -> SimpleNamespace:
    topics = {n: TopicImage(n, bytes([i + 1]) * 16, MappingProxyType({})) for i, n in enumerate(["t2", "t1"])}
    configs = {ConfigResource(T.GROUP, "g2"): {"consumer.session.timeout.ms": "50000"},
               ConfigResource(T.GROUP, "g1"): {"consumer.session.timeout.ms": "50000"},
               ConfigResource(T.CLIENT_METRICS, "sub"): {"metrics": "x"},
               ConfigResource(T.TOPIC, "t1"): {"retention.ms": "1"},
               ConfigResource(T.BROKER, ""): {"log.retention.ms": "1"}}
    image = dataclasses.replace(
        EMPTY_IMAGE,
        cluster=ClusterImage(MappingProxyType({b.id: b for b in (_reg(3), _reg(1, fenced=True), _reg(2, listener="X"))})),
        topics=TopicsImage(MappingProxyType({t.topic_id: t for t in topics.values()}), MappingProxyType(topics)),
        configs=ConfigurationsImage(MappingProxyType(configs)))
    return SimpleNamespace(image=image)


def _call(version: int, types: list[int] | None = None) -> ListConfigResourcesResponse:
    ctx = RequestContext(api_key=74, api_version=version, correlation_id=1, client_id="t", listener_name="PLAINTEXT",
                         security_protocol="PLAINTEXT", client_address="127.0.0.1", connection_id="c")
    req = ListConfigResourcesRequest.from_bytes(ListConfigResourcesRequest(resource_types=types or []).to_bytes(version),
                                                version)
    resp = handle_list_config_resources(_broker(), ctx, req)
    return ListConfigResourcesResponse.from_bytes(resp.to_bytes(version), version)


def _pairs(resp: ListConfigResourcesResponse) -> list[tuple[str, int]]:
    assert resp.error_code == 0
    return [(r.resource_name, r.resource_type) for r in resp.config_resources]


def test_every_type_in_kafkas_order() -> None:
    everything = [("g1", T.GROUP), ("g2", T.GROUP), ("sub", T.CLIENT_METRICS), ("1", T.BROKER_LOGGER),
                  ("3", T.BROKER_LOGGER), ("1", T.BROKER), ("3", T.BROKER), ("t1", T.TOPIC), ("t2", T.TOPIC)]
    assert _pairs(_call(1)) == everything
    # The order is Kafka's whatever the order of the request's list.
    assert _pairs(_call(1, [T.TOPIC, T.GROUP, T.CLIENT_METRICS, T.BROKER, T.BROKER_LOGGER])) == everything


def test_filters() -> None:
    assert _pairs(_call(1, [T.TOPIC])) == [("t1", T.TOPIC), ("t2", T.TOPIC)]
    assert _pairs(_call(1, [T.BROKER, T.BROKER])) == [("1", T.BROKER), ("3", T.BROKER)]
    assert _pairs(_call(1, [T.GROUP])) == [("g1", T.GROUP), ("g2", T.GROUP)]


def test_v0_is_list_client_metrics_resources() -> None:
    resp = _call(0)
    # v0 has no type on the wire: it decodes as the field's default, CLIENT_METRICS (16).
    assert _pairs(resp) == [("sub", T.CLIENT_METRICS)]


def test_unsupported_types_fail_the_request() -> None:
    for types in ([T.UNKNOWN], [T.TOPIC, 64], [-1]):
        resp = _call(1, types)
        assert resp.error_code == Errors.UNSUPPORTED_VERSION and resp.config_resources == []
