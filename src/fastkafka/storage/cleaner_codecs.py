"""Record-batch codecs for the log cleaner: the records section of a compressed batch is
decompressed to read keys, and retained records are recompressed with the batch's codec.

Formats as Kafka writes and reads them: gzip (RFC 1952), snappy with the xerial framing of
snappy-java's SnappyOutputStream (magic, version 1, compatible 1, then int32-length-prefixed raw
blocks; a raw snappy stream without the magic is accepted on read), LZ4 frame (Kafka's
KafkaLZ4BlockOutputStream: 64 KiB independent blocks, no content size), zstd frame. Called once
per compressed batch, never per record.
"""
from __future__ import annotations

import gzip
import struct
import zlib

import cramjam
import lz4.frame  # type: ignore[import-untyped]
import zstandard

GZIP, SNAPPY, LZ4, ZSTD = 1, 2, 3, 4
_XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER = _XERIAL_MAGIC + struct.pack(">ii", 1, 1)
_XERIAL_BLOCK = 32 * 1024
_I32 = struct.Struct(">i")


def decompress(codec: int, data: bytes) -> bytes:
    """The records bytes of a batch whose attributes name `codec`."""
    if codec == GZIP:
        return zlib.decompress(data, 16 + zlib.MAX_WBITS)
    if codec == SNAPPY:
        return _snappy_decompress(data)
    if codec == LZ4:
        return bytes(lz4.frame.decompress(data))
    if codec == ZSTD:
        return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(data))
    raise ValueError(f"unknown compression codec {codec}")


def compress(codec: int, data: bytes) -> bytes:
    if codec == GZIP:
        return gzip.compress(data, compresslevel=6, mtime=0)
    if codec == SNAPPY:
        out = [_XERIAL_HEADER]
        for i in range(0, len(data), _XERIAL_BLOCK):
            block = bytes(cramjam.snappy.compress_raw(data[i:i + _XERIAL_BLOCK]))
            out.append(_I32.pack(len(block)))
            out.append(block)
        return b"".join(out)
    if codec == LZ4:
        return bytes(lz4.frame.compress(data, block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=False,
                                        content_checksum=False, store_size=False))
    if codec == ZSTD:
        return bytes(zstandard.ZstdCompressor(level=3).compress(data))
    raise ValueError(f"unknown compression codec {codec}")


def _snappy_decompress(data: bytes) -> bytes:
    if not data.startswith(_XERIAL_MAGIC):
        return bytes(cramjam.snappy.decompress_raw(data))
    pos = len(_XERIAL_HEADER)
    out = []
    while pos + 4 <= len(data):
        (n,) = _I32.unpack_from(data, pos)
        pos += 4
        out.append(bytes(cramjam.snappy.decompress_raw(data[pos:pos + n])))
        pos += n
    return b"".join(out)
