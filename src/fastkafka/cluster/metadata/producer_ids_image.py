"""ProducerIdsImage: the next unallocated producer id (Kafka's image.ProducerIdsImage)."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class ProducerIdsImage:
    """Invariant: every id below `next_producer_id` has been handed to some broker; ids only grow."""

    next_producer_id: int = 0


EMPTY_PRODUCER_IDS = ProducerIdsImage(0)
