"""Test-only pure-Python RecordBatch v2 codec and a JSON record serde, used while the native
record_batch module and the generated record codecs are not in the tree. The kraft code under
test takes them through its BatchCodec/RecordSerde seams; production uses the native ones."""
from __future__ import annotations

import json
import struct
import types

import crc32c

from fastkafka.cluster.metadata.api_message_and_version import ApiMessageAndVersion

_HDR = struct.Struct(">qiibIhiqqqhii")


def _zz(v: int) -> bytes:
    v = (v << 1) ^ (v >> 63)
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _rzz(buf: bytes, pos: int) -> tuple[int, int]:
    shift = v = 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        if b < 0x80:
            return (v >> 1) ^ -(v & 1), pos
        shift += 7


class PyBatchCodec:
    def build(self, base_offset, leader_epoch, timestamp_ms, records, is_control=False):
        body = bytearray()
        for i, (k, v) in enumerate(records):
            rec = b"\x00" + _zz(0) + _zz(i)
            rec += _zz(-1) if k is None else _zz(len(k)) + k
            rec += _zz(-1) if v is None else _zz(len(v)) + v
            rec += _zz(0)
            body += _zz(len(rec)) + rec
        attrs = 0x20 if is_control else 0
        after_crc = struct.pack(">hiqqqhii", attrs, len(records) - 1, timestamp_ms, timestamp_ms, -1, -1, -1,
                                len(records)) + bytes(body)
        crc = crc32c.crc32c(after_crc)
        return struct.pack(">qiibI", base_offset, 4 + 1 + 4 + len(after_crc), leader_epoch, 2, crc) + after_crc

    def scan(self, buf):
        buf = bytes(buf)
        pos, out = 0, []
        while pos < len(buf):
            if len(buf) - pos < 61:
                return out, pos, 2
            (base, length, ple, magic, crc, attrs, lod, fts, mts, pid, pep, bseq, cnt) = _HDR.unpack_from(buf, pos)
            size = length + 12
            if magic != 2 or size < 61 or pos + size > len(buf) or crc32c.crc32c(buf[pos + 21:pos + size]) != crc:
                return out, pos, 2
            out.append(types.SimpleNamespace(position=pos, size=size, base_offset=base, last_offset=base + lod,
                                             partition_leader_epoch=ple, is_control=bool(attrs & 0x20),
                                             max_timestamp=mts, record_count=cnt))
            pos += size
        return out, pos, 0

    def records(self, batch):
        batch = bytes(batch)
        cnt = struct.unpack_from(">i", batch, 57)[0]
        pos, out = 61, []
        for _ in range(cnt):
            _len, pos = _rzz(batch, pos)
            pos += 1
            _, pos = _rzz(batch, pos)
            _, pos = _rzz(batch, pos)
            kl, pos = _rzz(batch, pos)
            key = None if kl < 0 else batch[pos:pos + kl]
            pos += max(kl, 0)
            vl, pos = _rzz(batch, pos)
            value = None if vl < 0 else batch[pos:pos + vl]
            pos += max(vl, 0)
            _, pos = _rzz(batch, pos)
            out.append((key, value))
        return out


def _plain(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return int(v)  # IntEnum members become plain ints
    if isinstance(v, (bytes, bytearray)):
        return {"__b": bytes(v).hex()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if hasattr(v, "__dict__"):
        return {"__t": type(v).__qualname__, **{k: _plain(x) for k, x in vars(v).items()}}
    return v


class JsonSerde:
    """Frames like MetadataRecordSerde (version, key) but with a JSON body; records are rebuilt
    from the record classes of the stubs/generated module."""

    def __init__(self, classes):
        self.classes = classes

    def serialize(self, record, version):
        return json.dumps({"k": record.API_KEY, "v": version, "r": _plain(record)}).encode()

    def deserialize(self, value):
        d = json.loads(bytes(value))
        return ApiMessageAndVersion(self._obj(d["r"]), d["v"])

    def _obj(self, d):
        if isinstance(d, list):
            return [self._obj(x) for x in d]
        if isinstance(d, dict):
            if "__b" in d:
                return bytes.fromhex(d["__b"])
            top, *nested = d.pop("__t").split(".")
            cls = self.classes[top]
            for n in nested:
                cls = getattr(cls, n)
            return cls(**{k: self._obj(v) for k, v in d.items()})
        return d
