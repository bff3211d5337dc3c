"""LogAppendInfo: what an append did (storage.internals.log.LogAppendInfo), reduced to what a
Produce response and the replica manager need."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class LogAppendInfo:
    """`first_offset`/`last_offset` of the appended (or, for a duplicate, the originally
    appended) records; `log_append_time` is the broker time stamped into LogAppendTime batches,
    -1 for CreateTime (for a duplicate Kafka reports the cached batch timestamp);
    `duplicate` marks an idempotent retry that wrote nothing."""

    first_offset: int
    last_offset: int
    log_append_time: int
    log_start_offset: int
    record_count: int
    max_timestamp: int = -1
    shallow_offset_of_max_timestamp: int = -1
    valid_bytes: int = 0
    duplicate: bool = False
