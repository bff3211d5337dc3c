"""ClusterImage: registered brokers (Kafka's image.ClusterImage)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from fastkafka.cluster.metadata.broker_registration import BrokerRegistration


@dataclasses.dataclass(frozen=True, slots=True)
class ClusterImage:
    """Immutable map of broker id -> registration, fenced ones included."""

    brokers: Mapping[int, BrokerRegistration]

    def broker(self, broker_id: int) -> BrokerRegistration | None:
        return self.brokers.get(broker_id)

    def unfenced_broker_ids(self) -> list[int]:
        """Brokers that may lead and host new replicas (not fenced, not shutting down), sorted."""
        return sorted(b.id for b in self.brokers.values() if not b.fenced and not b.in_controlled_shutdown)

    def is_alive(self, broker_id: int) -> bool:
        b = self.brokers.get(broker_id)
        return b is not None and not b.fenced


EMPTY_CLUSTER = ClusterImage(MappingProxyType({}))
