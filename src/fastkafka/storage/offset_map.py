"""OffsetMap: the cleaner's key -> latest offset map (Kafka's OffsetMap / SkimpyOffsetMap).

The map itself is native (`_native/log_cleaner.pyx`): fixed memory (`log.cleaner.dedupe.buffer.size`
split over the cleaner threads), 24-byte entries (16-byte key hash, int64 offset), Kafka's probe
sequence. A cleaning may add at most `slots * log.cleaner.io.buffer.load.factor` keys; the dirty
section beyond that waits for the next cleaning. One map per cleaner thread, used by that thread
only.
"""
from __future__ import annotations

from fastkafka._native.log_cleaner import OffsetMap

__all__ = ["OffsetMap", "max_desired_map_size"]


def max_desired_map_size(offset_map: OffsetMap, load_factor: float) -> int:
    """Kafka's `(map.slots * dupBufferLoadFactor).toInt`."""
    return int(offset_map.slots * load_factor)
