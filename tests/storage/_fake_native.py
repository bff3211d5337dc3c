"""Pure-Python stand-ins for fastkafka._native.index / record_batch, used by these tests ONLY
while the native modules are not built (conftest installs them then). They follow the .pyi
contracts closely enough for storage tests; the real modules are always preferred."""
from __future__ import annotations

import os
import struct
import types

import crc32c as _crc

_HDR = struct.Struct(">qiibIhiqqqhii")  # 61 bytes


class InvalidRecordError(ValueError):
    def __init__(self, code: int, msg: str = "") -> None:
        super().__init__(msg or f"invalid record ({code})")
        self.code = code


class _Obj:
    def __init__(self, **kw: object) -> None:
        self.__dict__.update(kw)


def _header(buf, pos):  # type: ignore[no-untyped-def]
    (base, length, ple, magic, crc, attrs, lod, first_ts, max_ts, pid, pepoch, bseq, count) = _HDR.unpack_from(buf, pos)
    return _Obj(position=pos, size=length + 12, base_offset=base, last_offset=base + lod, partition_leader_epoch=ple,
                magic=magic, crc=crc, attributes=attrs, max_timestamp=max_ts, first_timestamp=first_ts,
                producer_id=pid, producer_epoch=pepoch, base_sequence=bseq, record_count=count,
                is_transactional=bool(attrs & 0x10), is_control=bool(attrs & 0x20), last_offset_delta=lod)


def scan_batches(buf, start=0, check_crc=True):  # type: ignore[no-untyped-def]
    pos, out, n = start, [], len(buf)
    while pos < n:
        if n - pos < 61:
            return out, pos, 2
        h = _header(buf, pos)
        if h.size < 61 or pos + h.size > n or h.magic != 2:
            return out, pos, 2
        if check_crc and _crc.crc32c(bytes(buf[pos + 21:pos + h.size])) != h.crc:
            return out, pos, 2
        out.append(h)
        pos += h.size
    return out, pos, 0


def read_batch_header(buf, pos):  # type: ignore[no-untyped-def]
    return _header(buf, pos)


def validate_produce_batches(buf, *, max_batch_size, compacted, now_ms, timestamp_type_log_append,
                             timestamp_before_max_ms, timestamp_after_max_ms):  # type: ignore[no-untyped-def]
    hs, end, err = scan_batches(buf, 0, True)
    if err or not hs or end != len(buf):
        if hs and any(h.size > max_batch_size for h in hs):
            raise InvalidRecordError(10)
        raise InvalidRecordError(2, "corrupt")
    for h in hs:
        if h.size > max_batch_size:
            raise InvalidRecordError(10, "too large")
        if h.record_count != h.last_offset_delta + 1:
            raise InvalidRecordError(2, "count mismatch")
        if not timestamp_type_log_append and h.max_timestamp >= 0:
            if now_ms - h.max_timestamp > timestamp_before_max_ms or h.max_timestamp - now_ms > timestamp_after_max_ms:
                raise InvalidRecordError(32, "timestamp out of range")
    f, l = hs[0], hs[-1]
    mx = max(hs, key=lambda h: h.max_timestamp)
    return _Obj(base_offset=f.base_offset, last_offset=l.last_offset, batch_count=len(hs),
                record_count=sum(h.record_count for h in hs), size=end, max_timestamp=mx.max_timestamp,
                offset_of_max_timestamp=mx.last_offset, first_timestamp=f.first_timestamp, producer_id=f.producer_id,
                producer_epoch=f.producer_epoch, base_sequence=f.base_sequence,
                last_sequence=-1 if f.base_sequence < 0 else (f.base_sequence + l.last_offset - f.base_offset) % 2**31,
                attributes=f.attributes, compression=f.attributes & 7, is_transactional=f.is_transactional,
                is_control=f.is_control, partition_leader_epoch=f.partition_leader_epoch)


def assign_offsets(buf, base_offset, partition_leader_epoch, log_append_time_ms):  # type: ignore[no-untyped-def]
    pos, off = 0, base_offset
    while pos < len(buf):
        h = _header(buf, pos)
        struct.pack_into(">q", buf, pos, off)
        struct.pack_into(">i", buf, pos + 12, partition_leader_epoch)
        if log_append_time_ms >= 0:
            struct.pack_into(">h", buf, pos + 21, h.attributes | 0x08)
            struct.pack_into(">q", buf, pos + 35, log_append_time_ms)
            struct.pack_into(">I", buf, pos + 17, _crc.crc32c(bytes(buf[pos + 21:pos + h.size])))
        off += h.last_offset_delta + 1
        pos += h.size
    return off


def iter_records(batch):  # type: ignore[no-untyped-def]
    raise InvalidRecordError(76, "fake: records not decoded")


class _Index:
    ENTRY = 8

    def __init__(self, path, base_offset, max_index_size=10485760, writable=True):  # type: ignore[no-untyped-def]
        self.path, self.base_offset = path, base_offset
        new = not os.path.exists(path) or os.path.getsize(path) == 0
        self._max_size = max_index_size // self.ENTRY * self.ENTRY
        self._entries: list[tuple[int, int]] = []
        if not new:
            with open(path, "rb") as f:
                data = f.read()
            self._corrupt = len(data) % self.ENTRY != 0
            for i in range(0, len(data) - len(data) % self.ENTRY, self.ENTRY):
                self._entries.append(self._unpack(data, i))
            # Preallocated zero tail of an active index: trailing all-zero entries beyond the first.
            while len(self._entries) > 1 and self._entries[-1] == self._zero():
                self._entries.pop()
            if len(self._entries) == 1 and self._entries[0] == self._zero() and len(data) > self.ENTRY:
                self._entries.pop()
        else:
            self._corrupt = False
        self._write()

    @property
    def entries(self):  # type: ignore[no-untyped-def]
        return len(self._entries)

    @property
    def max_entries(self):  # type: ignore[no-untyped-def]
        return self._max_size // self.ENTRY

    def is_full(self):  # type: ignore[no-untyped-def]
        return len(self._entries) >= self.max_entries

    def _write(self):  # type: ignore[no-untyped-def]
        with open(self.path, "wb") as f:
            f.write(b"".join(self._pack(e) for e in self._entries))

    def truncate(self):  # type: ignore[no-untyped-def]
        self._entries = []
        self._write()

    def truncate_to(self, offset):  # type: ignore[no-untyped-def]
        self._entries = [e for e in self._entries if self._off(e) < offset]
        self._write()

    def resize(self, new_size):  # type: ignore[no-untyped-def]
        self._max_size = new_size // self.ENTRY * self.ENTRY

    def trim_to_valid_size(self):  # type: ignore[no-untyped-def]
        self._write()

    def flush(self):  # type: ignore[no-untyped-def]
        self._write()

    def close(self):  # type: ignore[no-untyped-def]
        self._write()


class OffsetIndex(_Index):
    ENTRY = 8

    def _unpack(self, data, i):  # type: ignore[no-untyped-def]
        rel, pos = struct.unpack_from(">ii", data, i)
        return (self.base_offset + rel, pos)

    def _pack(self, e):  # type: ignore[no-untyped-def]
        return struct.pack(">ii", e[0] - self.base_offset, e[1])

    def _zero(self):  # type: ignore[no-untyped-def]
        return (self.base_offset, 0)

    def _off(self, e):  # type: ignore[no-untyped-def]
        return e[0]

    def append(self, offset, position):  # type: ignore[no-untyped-def]
        if self.is_full():
            raise ValueError("index full")
        if self._entries and offset <= self._entries[-1][0]:
            raise ValueError("offset not larger")
        self._entries.append((offset, position))
        self._write()

    def lookup(self, target):  # type: ignore[no-untyped-def]
        best = (self.base_offset, 0)
        for e in self._entries:
            if e[0] <= target:
                best = e
        return best

    def last_entry(self):  # type: ignore[no-untyped-def]
        return self._entries[-1] if self._entries else (self.base_offset, 0)

    def sanity_check(self):  # type: ignore[no-untyped-def]
        if self._corrupt or (self._entries and self._entries[-1][0] < self.base_offset):
            raise ValueError("corrupt index")
        for a, b in zip(self._entries, self._entries[1:]):
            if b[0] <= a[0]:
                raise ValueError("corrupt index")


class TimeIndex(_Index):
    ENTRY = 12

    def _unpack(self, data, i):  # type: ignore[no-untyped-def]
        ts, rel = struct.unpack_from(">qi", data, i)
        return (ts, self.base_offset + rel)

    def _pack(self, e):  # type: ignore[no-untyped-def]
        return struct.pack(">qi", e[0], e[1] - self.base_offset)

    def _zero(self):  # type: ignore[no-untyped-def]
        return (0, self.base_offset)

    def _off(self, e):  # type: ignore[no-untyped-def]
        return e[1]

    def maybe_append(self, timestamp, offset, skip_full_check=False):  # type: ignore[no-untyped-def]
        if not skip_full_check and self.is_full():
            raise ValueError("index full")
        if not self._entries or timestamp > self._entries[-1][0]:
            self._entries.append((timestamp, offset))
            self._write()

    def lookup(self, target):  # type: ignore[no-untyped-def]
        best = (-1, self.base_offset)
        for e in self._entries:
            if e[0] <= target:
                best = e
        return best

    def last_entry(self):  # type: ignore[no-untyped-def]
        return self._entries[-1] if self._entries else (-1, self.base_offset)

    def sanity_check(self):  # type: ignore[no-untyped-def]
        if self._corrupt:
            raise ValueError("corrupt time index")


def modules() -> tuple[types.ModuleType, types.ModuleType]:
    rb = types.ModuleType("fastkafka._native.record_batch")
    for name in ("InvalidRecordError", "scan_batches", "read_batch_header", "validate_produce_batches",
                 "assign_offsets", "iter_records"):
        setattr(rb, name, globals()[name])
    rb.RECORD_BATCH_OVERHEAD = 61  # type: ignore[attr-defined]
    rb.LOG_OVERHEAD = 12  # type: ignore[attr-defined]
    rb.crc32c = lambda data, crc=0: _crc.crc32c(bytes(data), crc)  # type: ignore[attr-defined]
    ix = types.ModuleType("fastkafka._native.index")
    ix.OffsetIndex = OffsetIndex  # type: ignore[attr-defined]
    ix.TimeIndex = TimeIndex  # type: ignore[attr-defined]
    return rb, ix
