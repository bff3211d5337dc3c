"""MetadataProvenance: where in the metadata log an image comes from (Kafka's image.MetadataProvenance)."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class MetadataProvenance:
    """Invariant: the image reflects exactly the committed records up to and including
    `last_contained_offset`, written in leader epoch `last_contained_epoch`."""

    last_contained_offset: int
    last_contained_epoch: int
    last_contained_log_time_ms: int = -1

    def offset_and_epoch(self) -> tuple[int, int]:
        return self.last_contained_offset, self.last_contained_epoch


EMPTY_PROVENANCE = MetadataProvenance(-1, -1, -1)
