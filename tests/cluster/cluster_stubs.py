"""Stand-ins for the generated protocol classes while `fastkafka.protocol._generated` /
`fastkafka.protocol.messages` are not in the tree. `install()` registers them only when the real
modules cannot be imported, so the same tests run against the generated code once it lands.
The stand-ins take keyword fields with Kafka's defaults; they have no wire encoding."""
from __future__ import annotations

import sys
import types
from typing import Any


class _StubMeta(type):
    def __getattr__(cls, name: str) -> Any:
        if name[:1].isupper() and not name.startswith("_"):
            sub = _StubMeta(name, (_Stub,), {"__qualname__": f"{cls.__qualname__}.{name}"})
            setattr(cls, name, sub)
            return sub
        raise AttributeError(name)


class _Stub(metaclass=_StubMeta):
    _defaults: dict[str, Any] = {}

    def __init__(self, **kw: Any) -> None:
        for k, v in self._defaults.items():
            setattr(self, k, list(v) if isinstance(v, list) else v)
        for k, v in kw.items():
            setattr(self, k, v)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return None

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({vars(self)})"


def _rec(name: str, key: int, **defaults: Any) -> type:
    return _StubMeta(name, (_Stub,), {"API_KEY": key, "_defaults": defaults})


RECORDS = {
    "RegisterBrokerRecord": _rec("RegisterBrokerRecord", 0, is_migrating_zk_broker=False, end_points=[],
                                 features=[], rack=None, fenced=True, in_controlled_shutdown=False, log_dirs=[]),
    "UnregisterBrokerRecord": _rec("UnregisterBrokerRecord", 1),
    "TopicRecord": _rec("TopicRecord", 2),
    "PartitionRecord": _rec("PartitionRecord", 3, partition_id=-1, replicas=[], isr=[], removing_replicas=[],
                            adding_replicas=[], leader=-1, leader_recovery_state=0, leader_epoch=-1,
                            partition_epoch=-1, directories=[], eligible_leader_replicas=None,
                            last_known_elr=None),
    "ConfigRecord": _rec("ConfigRecord", 4),
    "PartitionChangeRecord": _rec("PartitionChangeRecord", 5, partition_id=-1, isr=None, leader=-2, replicas=None,
                                  removing_replicas=None, adding_replicas=None, leader_recovery_state=-1,
                                  directories=None, eligible_leader_replicas=None, last_known_elr=None),
    "FenceBrokerRecord": _rec("FenceBrokerRecord", 7),
    "UnfenceBrokerRecord": _rec("UnfenceBrokerRecord", 8),
    "RemoveTopicRecord": _rec("RemoveTopicRecord", 9),
    "FeatureLevelRecord": _rec("FeatureLevelRecord", 12),
    "ProducerIdsRecord": _rec("ProducerIdsRecord", 15, broker_epoch=-1),
    "BrokerRegistrationChangeRecord": _rec("BrokerRegistrationChangeRecord", 17, fenced=0, in_controlled_shutdown=0,
                                           log_dirs=[]),
    "NoOpRecord": _rec("NoOpRecord", 20),
}

_MESSAGES = ["CreateTopicsRequest", "CreateTopicsResponse", "DeleteTopicsRequest", "DeleteTopicsResponse",
             "CreatePartitionsRequest", "CreatePartitionsResponse", "IncrementalAlterConfigsRequest",
             "IncrementalAlterConfigsResponse", "AlterConfigsRequest", "AlterConfigsResponse"]


def install() -> None:
    try:
        import fastkafka.protocol._generated.metadata_records  # noqa: F401
    except ImportError:
        mod = types.ModuleType("fastkafka.protocol._generated.metadata_records")
        for name, cls in RECORDS.items():
            setattr(mod, name, cls)
        pkg = sys.modules.get("fastkafka.protocol._generated") or types.ModuleType("fastkafka.protocol._generated")
        pkg.__path__ = getattr(pkg, "__path__", [])  # type: ignore[attr-defined]
        pkg.metadata_records = mod  # type: ignore[attr-defined]
        sys.modules["fastkafka.protocol._generated"] = pkg
        sys.modules["fastkafka.protocol._generated.metadata_records"] = mod
    try:
        import fastkafka.protocol.messages  # noqa: F401
    except ImportError:
        mod = types.ModuleType("fastkafka.protocol.messages")
        for name in _MESSAGES:
            setattr(mod, name, _StubMeta(name, (_Stub,), {}))
        sys.modules["fastkafka.protocol.messages"] = mod
