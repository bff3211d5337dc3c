"""batch_decompressor: bounded chunks whatever the decompressed size; garbage is a DecompressError
(UNKNOWN_SERVER_ERROR through check_compressed_batch), as Kafka answers it."""
from __future__ import annotations

import random
import struct
import time

import pytest

from fastkafka._native import record_batch as rb
from fastkafka.storage import batch_decompressor as bd
from fastkafka.storage.cleaner_codecs import compress

DATA = b"".join(b"record %d " % i * 10 for i in range(20000))  # ~2.4 MB, compressible


@pytest.mark.parametrize("codec", [1, 2, 3, 4])
def test_round_trip_in_bounded_chunks(codec: int) -> None:
    chunks = list(bd.iter_decompressed(codec, compress(codec, DATA)))
    assert b"".join(chunks) == DATA
    assert max(len(c) for c in chunks) <= bd.CHUNK


def test_raw_snappy_is_read() -> None:
    import cramjam
    assert b"".join(bd.iter_decompressed(2, bytes(cramjam.snappy.compress_raw(b"abc" * 1000)))) == b"abc" * 1000


@pytest.mark.parametrize("codec", [1, 2, 3, 4])
def test_garbage_is_a_decompress_error(codec: int) -> None:
    with pytest.raises(bd.DecompressError):
        list(bd.iter_decompressed(codec, random.Random(codec).randbytes(5000)))


def test_snappy_block_claiming_huge_length_is_refused_before_allocating() -> None:
    huge = bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) + b"\x00" * 10   # claims 4 GiB
    with pytest.raises(bd.DecompressError):
        list(bd.iter_decompressed(2, huge))
    xerial = b"\x82SNAPPY\x00" + struct.pack(">iii", 1, 1, len(huge)) + huge
    with pytest.raises(bd.DecompressError):
        list(bd.iter_decompressed(2, xerial))


@pytest.mark.parametrize("codec", [1, 3, 4])
def test_a_gigabyte_of_zeros_streams_in_bounded_chunks(codec: int) -> None:
    from tests.interop.hostile_batches import compressed_records_stream  # noqa: PLC0415
    data = compressed_records_stream(codec, (bytes(1 << 20) for _ in range(256)))
    total = 0
    for c in bd.iter_decompressed(codec, data):
        assert len(c) <= bd.CHUNK
        total += len(c)
    assert total == 256 << 20


def test_check_compressed_batch_garbage_is_unknown_server_error() -> None:
    hdr = bytearray(61)
    struct.pack_into(">i", hdr, 57, 3)
    with pytest.raises(rb.InvalidRecordError) as e:
        bd.check_compressed_batch(memoryview(bytes(hdr) + random.Random(1).randbytes(300)), 1, compacted=False,
                                  now_ms=int(time.time() * 1000), timestamp_type_log_append=False,
                                  timestamp_before_max_ms=1 << 62, timestamp_after_max_ms=1 << 62,
                                  topic_partition="t-0")
    assert e.value.code == -1
