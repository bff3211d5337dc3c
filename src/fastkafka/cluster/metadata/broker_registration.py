"""BrokerRegistration: a broker as the controller knows it (Kafka's metadata.BrokerRegistration)."""
from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class Endpoint:
    """One advertised listener. `security_protocol` is Kafka's SecurityProtocol id
    (0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL)."""

    name: str
    host: str
    port: int
    security_protocol: int


@dataclasses.dataclass(frozen=True, slots=True)
class BrokerRegistration:
    """Immutable. `epoch` is the broker epoch: the offset of the RegisterBrokerRecord that created
    this registration, so a re-registration always has a larger epoch. `listeners` maps the
    listener name (upper case) to its endpoint. `supported_features` maps a feature name to its
    (min, max) supported level."""

    id: int
    epoch: int
    incarnation_id: bytes
    listeners: dict[str, Endpoint]
    supported_features: dict[str, tuple[int, int]]
    rack: str | None
    fenced: bool
    in_controlled_shutdown: bool
    is_migrating_zk_broker: bool = False
    directories: tuple[bytes, ...] = ()

    @classmethod
    def from_record(cls, record: Any) -> "BrokerRegistration":
        """From a RegisterBrokerRecord."""
        listeners = {e.name: Endpoint(e.name, e.host, e.port, e.security_protocol) for e in record.end_points}
        features = {f.name: (f.min_supported_version, f.max_supported_version) for f in record.features}
        return cls(
            id=record.broker_id,
            epoch=record.broker_epoch,
            incarnation_id=bytes(record.incarnation_id),
            listeners=listeners,
            supported_features=features,
            rack=record.rack,
            fenced=bool(record.fenced),
            in_controlled_shutdown=bool(getattr(record, "in_controlled_shutdown", False)),
            is_migrating_zk_broker=bool(getattr(record, "is_migrating_zk_broker", False)),
            directories=tuple(bytes(d) for d in (getattr(record, "log_dirs", None) or ())),
        )

    def node(self, listener_name: str) -> tuple[int, str, int, str | None] | None:
        """(id, host, port, rack) on one listener, or None if the broker has no such listener."""
        ep = self.listeners.get(listener_name)
        return None if ep is None else (self.id, ep.host, ep.port, self.rack)

    def with_changes(self, *, fenced: bool | None = None, in_controlled_shutdown: bool | None = None,
                     directories: tuple[bytes, ...] | None = None) -> "BrokerRegistration":
        return dataclasses.replace(
            self,
            fenced=self.fenced if fenced is None else fenced,
            in_controlled_shutdown=(self.in_controlled_shutdown if in_controlled_shutdown is None
                                    else in_controlled_shutdown),
            directories=self.directories if directories is None else directories,
        )
