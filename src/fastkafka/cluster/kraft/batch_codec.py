"""BatchCodec: the few RecordBatch operations the metadata log needs, over the native module.

A seam, not a second implementation: production uses `NativeBatchCodec` (fastkafka._native.
record_batch); tests may pass a pure-Python codec while the native module is not built."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class BatchCodec(Protocol):
    def build(self, base_offset: int, leader_epoch: int, timestamp_ms: int,
              records: Sequence[tuple[bytes | None, bytes | None]], is_control: bool = False) -> bytes:
        """One uncompressed v2 batch with these (key, value) records."""

    def scan(self, buf: bytes | bytearray | memoryview) -> tuple[list[Any], int, int]:
        """scan_batches: (headers with base_offset/last_offset/partition_leader_epoch/is_control/
        position/size/max_timestamp, valid_bytes_end, error_code)."""

    def records(self, batch: bytes | bytearray | memoryview) -> list[tuple[bytes | None, bytes | None]]:
        """(key, value) of each record of one batch."""


class NativeBatchCodec:
    def build(self, base_offset: int, leader_epoch: int, timestamp_ms: int,
              records: Sequence[tuple[bytes | None, bytes | None]], is_control: bool = False) -> bytes:
        from fastkafka._native.record_batch import MemoryRecordsBuilder
        b = MemoryRecordsBuilder(base_offset=base_offset, timestamp_ms=timestamp_ms, is_control=is_control,
                                 partition_leader_epoch=leader_epoch)
        for key, value in records:
            b.append(key, value, None, timestamp_ms)
        return b.build()

    def scan(self, buf: bytes | bytearray | memoryview) -> tuple[list[Any], int, int]:
        from fastkafka._native.record_batch import scan_batches
        return scan_batches(buf, 0, True)

    def records(self, batch: bytes | bytearray | memoryview) -> list[tuple[bytes | None, bytes | None]]:
        from fastkafka._native.record_batch import iter_records
        return [(r.key, r.value) for r in iter_records(batch)]
