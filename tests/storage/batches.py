"""Test batch builders (kafka-python's DefaultRecordBatchBuilder: an independent encoder)."""
from __future__ import annotations

import struct
import time

from kafka.record.default_records import DefaultRecordBatchBuilder


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def batch(n: int = 1, *, ts: int | None = None, value: bytes = b"v", key: bytes | None = b"k",
          producer_id: int = -1, producer_epoch: int = -1, base_sequence: int = -1,
          transactional: bool = False, compression: int = 0, base_offset: int = 0,
          ts_step: int = 0) -> bytes:
    t = now_ms() if ts is None else ts
    b = DefaultRecordBatchBuilder(magic=2, compression_type=compression, is_transactional=transactional,
                                  producer_id=producer_id, producer_epoch=producer_epoch,
                                  base_sequence=base_sequence, batch_size=1 << 30)
    for i in range(n):
        b.append(i, timestamp=t + i * ts_step, key=key, value=value + str(i).encode(), headers=[])
    out = bytearray(b.build())
    struct.pack_into(">q", out, 0, base_offset)  # BaseOffset is outside the CRC
    return bytes(out)


def read_values(data: bytes) -> list[tuple[int, bytes | None]]:
    """(offset, value) of every record in a byte range of a log, dropping a trailing partial batch."""
    from kafka.record.default_records import DefaultRecordBatch
    import struct

    out = []
    pos = 0
    while pos + 61 <= len(data):
        length = struct.unpack_from(">i", data, pos + 8)[0]
        if pos + 12 + length > len(data):
            break
        for r in DefaultRecordBatch(data[pos:pos + 12 + length]):
            out.append((r.offset, r.value))
        pos += 12 + length
    return out
