"""FetchDataInfo: the result of a log read (storage.internals.log.FetchDataInfo)."""
from __future__ import annotations

from typing import NamedTuple

from fastkafka.storage.file_records import FileRecordsSlice
from fastkafka.storage.log_offset_metadata import LogOffsetMetadata


class FetchDataInfo(NamedTuple):
    """`records` is a slice of one segment's `.log` file (possibly of size 0), starting at the
    batch that holds the fetch offset. It may end inside a batch when `max_bytes` cut it, as in
    Kafka: clients drop a trailing partial batch. `first_entry_incomplete` is True when even the
    first batch did not fit (min_one_message was False)."""

    fetch_offset_metadata: LogOffsetMetadata
    records: FileRecordsSlice | None
    first_entry_incomplete: bool = False

    @staticmethod
    def empty(offset_metadata: LogOffsetMetadata) -> "FetchDataInfo":
        return FetchDataInfo(offset_metadata, None, False)
