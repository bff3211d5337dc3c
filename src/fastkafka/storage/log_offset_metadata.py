"""LogOffsetMetadata: an offset plus where it lives on disk (storage.internals.log.LogOffsetMetadata)."""
from __future__ import annotations

from typing import NamedTuple

UNKNOWN_OFFSET = -1
UNKNOWN_FILE_POSITION = -1


class LogOffsetMetadata(NamedTuple):
    """`message_offset` with the base offset of its segment and the byte position of its batch
    in that segment (UNKNOWN_* when not resolved, e.g. for an offset that is only a number)."""

    message_offset: int
    segment_base_offset: int = UNKNOWN_OFFSET
    relative_position_in_segment: int = UNKNOWN_FILE_POSITION

    @property
    def message_offset_only(self) -> bool:
        return self.segment_base_offset == UNKNOWN_OFFSET and self.relative_position_in_segment == UNKNOWN_FILE_POSITION
