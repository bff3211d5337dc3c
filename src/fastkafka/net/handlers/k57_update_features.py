"""UpdateFeatures (key 57), v0-2: finalize feature levels (`kafka-features upgrade/downgrade`,
Admin.updateFeatures), on the broker and controller listeners as Kafka (a broker forwards to the
controller; here the node is both). Kafka's ControllerApis.handleUpdateFeatures +
FeatureControlManager.updateFeatures:

- v0 says `allow_downgrade` (true: a safe downgrade); v1+ says `upgrade_type` (1 upgrade, 2 safe
  downgrade, 3 unsafe downgrade) and may be `validate_only`.
- All or nothing: one invalid update fails every feature with INVALID_UPDATE_VERSION and one
  message; an empty request is INVALID_REQUEST; a feature named twice is INVALID_REQUEST.
- v0-1 answer one result per feature (the same error for each); v2 only the top-level error.
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import UpdateFeaturesRequest, UpdateFeaturesResponse

_Result = UpdateFeaturesResponse.UpdatableFeatureResult


@handler(57, 0, 2, listeners=("broker", "controller"))
async def handle_update_features(broker: BrokerServices, ctx: RequestContext,
                                 req: UpdateFeaturesRequest) -> UpdateFeaturesResponse:
    v = ctx.api_version
    names = [u.feature for u in req.feature_updates]

    def answer(code: int, message: str | None) -> UpdateFeaturesResponse:
        results = [_Result(feature=n, error_code=code, error_message=message) for n in names] if v < 2 else []
        return UpdateFeaturesResponse(throttle_time_ms=0, error_code=code if v >= 2 or not names else 0,
                                      error_message=message if v >= 2 or not names else None, results=results)

    if not names:
        return answer(Errors.INVALID_REQUEST, "No feature updates specified.")
    if len(set(names)) != len(names):
        return answer(Errors.INVALID_REQUEST, "Duplicate feature updates are not allowed.")
    updates = {}
    for u in req.feature_updates:
        upgrade_type = u.upgrade_type if v >= 1 else (2 if u.allow_downgrade else 1)
        updates[u.feature] = (u.max_version_level, upgrade_type)
    try:
        await broker.controller.update_features(updates, validate_only=v >= 1 and req.validate_only)
    except KafkaError as e:
        return answer(e.code, e.message)
    return answer(Errors.NONE, None)
