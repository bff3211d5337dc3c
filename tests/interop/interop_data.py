"""The records every client test writes and reads back, and the comparison they share.

A `Rec` is what a consumer can observe of one record. `sample_records()` covers what the brief asks
each client to send: keys, null keys, an empty key, null and empty values, headers with duplicate
keys and null values, non-ASCII header keys, binary payloads, explicit partitions and explicit
CreateTime timestamps (so read-back timestamps can be compared exactly).
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")

Header = tuple[str, bytes | None]


@dataclasses.dataclass(frozen=True, slots=True)
class Rec:
    partition: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]
    timestamp: int
    offset: int = -1

    def without_offset(self) -> Rec:
        return dataclasses.replace(self, offset=-1)


def sample_records(n: int = 60, partitions: int = 3, null_header_values: bool = True,
                   base_ts: int | None = None) -> list[Rec]:
    """Deterministic records; `null_header_values=False` for clients that cannot send a null header value."""
    base = base_ts if base_ts is not None else (int(time.time() * 1000) - 60_000)
    out: list[Rec] = []
    for i in range(n):
        key: bytes | None
        if i % 5 == 0:
            key = None
        elif i == 1:
            key = b""
        else:
            key = f"key-{i}".encode()
        value: bytes | None
        if i == 7:
            value = None  # a tombstone
        elif i == 8:
            value = b""
        else:
            value = bytes((i + j) % 256 for j in range(i * 13 % 300)) + f"|value-{i}".encode()
        headers: tuple[Header, ...]
        kind = i % 4
        if kind == 0:
            headers = ()
        elif kind == 1:
            headers = (("h1", b"v1"),)
        elif kind == 2:
            headers = (("dup", b"first"), ("dup", b"second"), ("empty", b""))
        else:
            headers = (("nullable", None if null_header_values else b"x"), ("ключ-ü", b"\x00\xff\x01"))
        out.append(Rec(partition=i % partitions, key=key, value=value, headers=headers, timestamp=base + i))
    return out


def with_expected_offsets(records: Iterable[Rec], start: int = 0) -> list[Rec]:
    """Offsets a single in-order producer must get: consecutive per partition, in send order."""
    next_offset: dict[int, int] = {}
    out = []
    for r in records:
        off = next_offset.get(r.partition, start)
        next_offset[r.partition] = off + 1
        out.append(dataclasses.replace(r, offset=off))
    return out


def by_partition(records: Iterable[Rec]) -> dict[int, list[Rec]]:
    out: dict[int, list[Rec]] = {}
    for r in records:
        out.setdefault(r.partition, []).append(r)
    return out


def counts_by_partition(records: Iterable[Rec]) -> dict[int, int]:
    return {p: len(rs) for p, rs in by_partition(records).items()}


def assert_same_records(got: Sequence[Rec], expected: Sequence[Rec]) -> None:
    """Byte-identical key/value/headers/timestamp, same partition, same offsets in the same order."""
    got_p, exp_p = by_partition(got), by_partition(expected)
    assert sorted(got_p) == sorted(exp_p), f"partitions differ: {sorted(got_p)} != {sorted(exp_p)}"
    for p in exp_p:
        g, e = got_p[p], exp_p[p]
        assert len(g) == len(e), f"partition {p}: {len(g)} records read, {len(e)} expected"
        for a, b in zip(g, e, strict=True):
            assert a == b, f"partition {p} offset {b.offset}: got {a!r}, expected {b!r}"
