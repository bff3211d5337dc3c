"""ApiVersions (key 18) v5 (KIP-1242) over a stand-in broker, without a network, encoded and
decoded: a cluster id and node id naming this broker get the full answer; a different cluster or
node is REBOOTSTRAP_REQUIRED on a broker listener but not on a controller listener (Kafka's
ControllerApis does not compare them); naming only one of the two, or a bad software name (v3+),
is INVALID_REQUEST; both errors carry no API keys, as Kafka's getErrorResponse."""
from __future__ import annotations

from types import SimpleNamespace

from fastkafka.net.handlers.k18_api_versions import handle_api_versions
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import ApiVersionsRequest, ApiVersionsResponse


def _broker() -> SimpleNamespace:
    return SimpleNamespace(cluster_id="cid", node_id=1, features=lambda: (5, {"metadata.version": (7, 29)}, {}),
                           config=SimpleNamespace(controller_listener_names=["CONTROLLER"]))


def _api_versions(v: int, cluster_id: str | None, node_id: int, listener: str = "PLAINTEXT",
                  name: str = "apache-kafka-java") -> ApiVersionsResponse:
    ctx = RequestContext(api_key=18, api_version=v, correlation_id=1, client_id="cli", listener_name=listener,
                         security_protocol="PLAINTEXT", client_address="10.0.0.7:5555", connection_id="c")
    req = ApiVersionsRequest(client_software_name=name, client_software_version="4.4.0", cluster_id=cluster_id,
                             node_id=node_id)
    return ApiVersionsResponse.from_bytes(handle_api_versions(_broker(), ctx, req).to_bytes(v), v)


def test_matching_or_absent_ids_get_the_versions() -> None:
    for cluster_id, node_id in (("cid", 1), (None, -1)):
        resp = _api_versions(5, cluster_id, node_id)
        assert resp.error_code == 0
        assert any(k.api_key == 18 and k.max_version == 5 for k in resp.api_keys)
    # Below v5 the fields are not sent, so nothing is compared.
    assert _api_versions(4, "other", 9).error_code == 0


def test_mismatch_is_rebootstrap_required_on_a_broker_listener() -> None:
    for cluster_id, node_id in (("other", 1), ("cid", 2)):
        resp = _api_versions(5, cluster_id, node_id)
        assert (resp.error_code, resp.api_keys, resp.supported_features) == (Errors.REBOOTSTRAP_REQUIRED, [], [])
        assert _api_versions(5, cluster_id, node_id, listener="CONTROLLER").error_code == 0


def test_invalid_requests() -> None:
    for cluster_id, node_id in (("cid", -1), (None, 1)):
        for listener in ("PLAINTEXT", "CONTROLLER"):
            resp = _api_versions(5, cluster_id, node_id, listener=listener)
            assert (resp.error_code, resp.api_keys) == (Errors.INVALID_REQUEST, [])
    resp = _api_versions(3, None, -1, name="bad name!")
    assert (resp.error_code, resp.api_keys) == (Errors.INVALID_REQUEST, [])
