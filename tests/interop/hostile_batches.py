"""Hostile record batches and a raw-socket Produce sender for the hardening tests.

Real clients never send these bytes (a gzip-flagged batch of random bytes, a batch whose
RecordsCount lies, a batch that decompresses to gigabytes), so they are built here and sent on a
raw socket with Produce v8 (non-flexible, RecordErrors and ErrorMessage present). The answer is
parsed back: (error_code, error_message, record_errors) of the one partition. Big payloads are
compressed as a stream (`compressed_records_stream`), never materialised whole.
"""
from __future__ import annotations

import gzip
import io
import socket
import struct
import time
import zlib
from collections.abc import Iterator

import lz4.frame  # type: ignore[import-untyped]
import zstandard

from fastkafka._native.record_batch import crc32c, encode_varint, encode_varlong

CODECS = {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def record(i: int, *, key: bytes | None = b"k", value: bytes = b"v", offset_delta: int | None = None,
           ts_delta: int = 0) -> bytes:
    body = (b"\x00" + encode_varlong(ts_delta) + encode_varint(i if offset_delta is None else offset_delta)
            + (encode_varint(-1) if key is None else encode_varint(len(key)) + key)
            + encode_varint(len(value)) + value + encode_varint(0))
    return encode_varint(len(body)) + body


def batch(codec: int, records_section: bytes, count: int, *, base_ts: int | None = None) -> bytes:
    """A v2 batch whose records section is `records_section` as given (already compressed, or
    garbage), with a correct CRC and header, claiming `count` records."""
    ts = int(time.time() * 1000) if base_ts is None else base_ts
    after_crc = (struct.pack(">hiqqqhii", codec, count - 1, ts, ts, -1, -1, -1, count) + records_section)
    crc = crc32c(after_crc)
    body = struct.pack(">ib", 0, 2) + struct.pack(">I", crc) + after_crc
    return struct.pack(">qi", 0, len(body)) + body


def compress(codec: int, data: bytes) -> bytes:
    if codec == 1:
        return gzip.compress(data)
    if codec == 2:
        import cramjam
        block = bytes(cramjam.snappy.compress_raw(data))
        return b"\x82SNAPPY\x00" + struct.pack(">iii", 1, 1, len(block)) + block
    if codec == 3:
        return bytes(lz4.frame.compress(data, block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=False))
    return zstandard.ZstdCompressor().compress(data)


def compressed_records_stream(codec: int, parts: Iterator[bytes], lz4_linked: bool = False) -> bytes:
    """Compress the concatenation of `parts` as one stream of `codec` (gzip, lz4, zstd). LZ4 frames
    have independent blocks, as Kafka's KafkaLZ4BlockOutputStream writes and reads them."""
    out = io.BytesIO()
    if codec == 1:
        c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        for p in parts:
            out.write(c.compress(p))
        out.write(c.flush())
    elif codec == 3:
        with lz4.frame.LZ4FrameCompressor(block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=lz4_linked) as c:
            out.write(c.begin())
            for p in parts:
                out.write(c.compress(p))
            out.write(c.flush())
    elif codec == 4:
        c = zstandard.ZstdCompressor(level=3).compressobj()
        for p in parts:
            out.write(c.compress(p))
        out.write(c.flush())
    else:
        raise ValueError(codec)
    return out.getvalue()


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise ConnectionError("closed by the broker")
        buf += chunk
    return bytes(buf)


def _str(b: bytes, pos: int) -> tuple[str | None, int]:
    (n,) = struct.unpack_from(">h", b, pos)
    pos += 2
    if n < 0:
        return None, pos
    return b[pos:pos + n].decode(), pos + n


def raw_produce(bootstrap: str, topic: str, partition: int, records: bytes,
                timeout: float = 300.0) -> tuple[int, str | None, list[tuple[int, str | None]]]:
    """Produce v8, acks=1: (error_code, error_message, record_errors) of the partition."""
    host, port = bootstrap.rsplit(":", 1)
    t = topic.encode()
    body = (struct.pack(">hhih", 0, 8, 7, 6) + b"hostil"            # header v1: client id "hostil"
            + struct.pack(">hhi", -1, 1, 30_000)                   # transactional_id null, acks, timeout
            + struct.pack(">ih", 1, len(t)) + t
            + struct.pack(">iii", 1, partition, len(records)) + records)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        (n,) = struct.unpack(">i", _recv_exact(s, 4))
        r = _recv_exact(s, n)
    pos = 4  # correlation id
    pos += 4  # topics array length (1)
    _, pos = _str(r, pos)
    pos += 4  # partitions array length (1)
    _index, code = struct.unpack_from(">ih", r, pos)
    pos += 6 + 24  # base_offset, log_append_time, log_start_offset
    (nerr,) = struct.unpack_from(">i", r, pos)
    pos += 4
    errors = []
    for _ in range(max(nerr, 0)):
        (bi,) = struct.unpack_from(">i", r, pos)
        m, pos = _str(r, pos + 4)
        errors.append((bi, m))
    msg, pos = _str(r, pos)
    return code, msg, errors
