"""The broker's half of AlterConfigs / IncrementalAlterConfigs (Kafka's ConfigAdminManager).

Before anything is forwarded to the controller, each resource is checked here: a resource named
twice in one request, duplicate keys, null values (except DELETE), an unknown resource type;
BROKER_LOGGER changes are validated and applied locally (never written to the metadata log);
BROKER changes must name this broker (or "" for the cluster default) and may only touch keys
Kafka can change dynamically, with values of the right type. The resources that pass go to the
QuorumController in one request; the response lists every resource in request order with
either its preprocessing error or the controller's answer.

Invariant: a resource that fails here is never sent to the controller, so a failed request
writes nothing for it; `validate_only` writes nothing at all (and changes no logger).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastkafka.cluster import broker_loggers
from fastkafka.cluster.dynamic_broker_config import validate_dynamic_broker_configs
from fastkafka.cluster.metadata.config_resource import ConfigResourceType
from fastkafka.config import BROKER_CONFIG_DEFS
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import (
    AlterConfigsRequest, AlterConfigsResponse, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse)

SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
_KNOWN_TYPES = (ConfigResourceType.TOPIC, ConfigResourceType.BROKER, ConfigResourceType.BROKER_LOGGER,
                ConfigResourceType.CLIENT_METRICS, ConfigResourceType.GROUP)

Error = tuple[int, str | None]


def _validate_node_id(name: str, node_id: int) -> None:
    try:
        requested = int(name)
    except ValueError:
        raise KafkaError(Errors.INVALID_REQUEST, f"Node id must be an integer, but it is: {name}") from None
    if requested != node_id:
        raise KafkaError(Errors.INVALID_REQUEST, f"Unexpected broker id, expected {node_id}, but received {name}")


def _duplicates(resources: Any) -> set[int]:
    seen: dict[tuple[int, str], int] = {}
    dup: set[int] = set()
    for i, r in enumerate(resources):
        key = (r.resource_type, r.resource_name)
        if key in seen:
            dup.update((seen[key], i))
        else:
            seen[key] = i
    return dup


def _list_items(raw: str | None) -> list[str]:
    return [x for x in (raw or "").split(",") if x]


def prepare_incremental_configs(ops: Any, props: dict[str, str]) -> None:
    """ConfigAdminManager.prepareIncrementalConfigs over broker keys (KafkaConfig.configKeys)."""
    for op in ops:
        code = op.config_operation
        if code == SET:
            props[op.name] = op.value
        elif code == DELETE:
            props.pop(op.name, None)
        elif code in (APPEND, SUBTRACT):
            d = BROKER_CONFIG_DEFS.get(op.name)
            if d is None:
                raise KafkaError(Errors.INVALID_CONFIG, f"Unknown config name: {op.name}")
            verb = "append" if code == APPEND else "subtract"
            if d.type != "list":
                raise KafkaError(Errors.INVALID_CONFIG, f"Config value {verb} is not allowed for config key: {op.name}")
            old = _list_items(props.get(op.name, d.default))
            vals = op.value.split(",")
            if code == APPEND:
                new = old + [v for v in vals if v not in old]
            else:
                new = list(old)
                for v in vals:
                    if v in new:
                        new.remove(v)
            props[op.name] = ",".join(new)
        else:
            raise KafkaError(Errors.INVALID_REQUEST, f"Unknown operations type {code}")


class ConfigAdminManager:
    """Stateless besides the wiring: reads the current dynamic configs from the metadata image."""

    def __init__(self, node_id: int, image_configs: Any, controller: Any) -> None:
        self.node_id = node_id
        self._image_configs = image_configs  # () -> ConfigurationsImage
        self._controller = controller

    def _current(self, rtype: int, name: str) -> dict[str, str]:
        from fastkafka.cluster.metadata.config_resource import ConfigResource

        configs: Mapping[str, str] = self._image_configs().config(ConfigResource(rtype, name))
        return dict(configs)

    def _preprocess_common(self, r: Any, null_ok_for_delete: bool) -> None:
        names = [c.name for c in r.configs]
        if len(set(names)) != len(names):
            raise KafkaError(Errors.INVALID_REQUEST, "Error due to duplicate config keys")
        nulls = [c.name for c in r.configs if c.value is None
                 and not (null_ok_for_delete and c.config_operation == DELETE)]
        if nulls:
            raise KafkaError(Errors.INVALID_REQUEST, "Null value not supported for : " + ", ".join(nulls))
        if r.resource_type not in _KNOWN_TYPES:
            raise KafkaError(Errors.INVALID_REQUEST, f"Unknown resource type {r.resource_type}")

    async def incremental_alter_configs(self, req: IncrementalAlterConfigsRequest,
                                        version: int) -> IncrementalAlterConfigsResponse:
        resources = list(req.resources)
        errors: dict[int, Error] = {i: (Errors.INVALID_REQUEST, "Each resource must appear at most once.")
                                    for i in _duplicates(resources)}
        for i, r in enumerate(resources):
            if i in errors:
                continue
            try:
                self._preprocess_common(r, True)
                if r.resource_type == ConfigResourceType.BROKER_LOGGER:
                    broker_loggers.validate_node_id(r.resource_name, self.node_id)
                    broker_loggers.validate(r.configs)
                    if not req.validate_only:
                        broker_loggers.apply(r.configs)
                    errors[i] = (0, None)
                elif r.resource_type == ConfigResourceType.BROKER:
                    if r.resource_name != "":
                        _validate_node_id(r.resource_name, self.node_id)
                    props = self._current(r.resource_type, r.resource_name)
                    prepare_incremental_configs(r.configs, props)
                    validate_dynamic_broker_configs(props, r.resource_name != "")
            except KafkaError as e:
                errors[i] = (int(e.code), e.message)
        forwarded = [r for i, r in enumerate(resources) if i not in errors]
        answers: dict[tuple[int, str], Error] = {}
        if forwarded:
            sub = IncrementalAlterConfigsRequest(resources=forwarded, validate_only=req.validate_only)
            resp = await self._controller.incremental_alter_configs(sub, version)
            answers = {(x.resource_type, x.resource_name): (x.error_code, x.error_message) for x in resp.responses}
        Resp = IncrementalAlterConfigsResponse.AlterConfigsResourceResponse
        out = []
        for i, r in enumerate(resources):
            code, msg = errors.get(i) or answers.get((r.resource_type, r.resource_name), (Errors.UNKNOWN_SERVER_ERROR, None))
            out.append(Resp(error_code=code, error_message=msg, resource_type=r.resource_type,
                            resource_name=r.resource_name))
        return IncrementalAlterConfigsResponse(throttle_time_ms=0, responses=out)

    async def alter_configs(self, req: AlterConfigsRequest, version: int) -> AlterConfigsResponse:
        resources = list(req.resources)
        errors: dict[int, Error] = {i: (Errors.INVALID_REQUEST, "Each resource must appear at most once.")
                                    for i in _duplicates(resources)}
        for i, r in enumerate(resources):
            if i in errors:
                continue
            try:
                self._preprocess_common(r, False)
                if r.resource_type == ConfigResourceType.BROKER_LOGGER:
                    # Legacy AlterConfigs has no BROKER_LOGGER case in Kafka's preprocess.
                    raise KafkaError(Errors.INVALID_REQUEST, f"Unknown resource type {r.resource_type}")
                if r.resource_type == ConfigResourceType.BROKER:
                    if r.resource_name != "":
                        _validate_node_id(r.resource_name, self.node_id)
                    validate_dynamic_broker_configs({c.name: c.value for c in r.configs}, r.resource_name != "")
            except KafkaError as e:
                errors[i] = (int(e.code), e.message)
        forwarded = [r for i, r in enumerate(resources) if i not in errors]
        answers: dict[tuple[int, str], Error] = {}
        if forwarded:
            sub = AlterConfigsRequest(resources=forwarded, validate_only=req.validate_only)
            resp = await self._controller.alter_configs(sub, version)
            answers = {(x.resource_type, x.resource_name): (x.error_code, x.error_message) for x in resp.responses}
        Resp = AlterConfigsResponse.AlterConfigsResourceResponse
        out = []
        for i, r in enumerate(resources):
            code, msg = errors.get(i) or answers.get((r.resource_type, r.resource_name), (Errors.UNKNOWN_SERVER_ERROR, None))
            out.append(Resp(error_code=code, error_message=msg, resource_type=r.resource_type,
                            resource_name=r.resource_name))
        return AlterConfigsResponse(throttle_time_ms=0, responses=out)
