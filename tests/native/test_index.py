"""Offset and time indexes: the case list of Kafka's OffsetIndexTest / TimeIndexTest, and the
on-disk format (big-endian entries, preallocated while active, trimmed on close)."""
from __future__ import annotations

import os
import struct

import pytest

from fastkafka._native.index import OffsetIndex, TimeIndex


@pytest.fixture
def path(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return str(tmp_path / "00000000000000000045.index")


def test_offset_index_lookup_floor(path: str) -> None:
    ix = OffsetIndex(path, 45, 30 * 8)
    entries = [(45 + i * 3 + 1, i * 100) for i in range(20)]
    for off, pos in entries:
        ix.append(off, pos)
    assert ix.lookup(44) == (45, 0)  # below everything: the base offset at position 0
    for off, pos in entries:
        assert ix.lookup(off) == (off, pos)
        assert ix.lookup(off + 1) == (off, pos)
    assert ix.last_entry() == entries[-1]


def test_offset_index_append_rules_and_full(path: str) -> None:
    ix = OffsetIndex(path, 45, 3 * 8)
    ix.append(46, 0)
    with pytest.raises(ValueError):
        ix.append(46, 10)  # offsets must increase
    ix.append(47, 10)
    ix.append(48, 20)
    assert ix.is_full()
    with pytest.raises(ValueError):
        ix.append(49, 30)


def test_truncate_to_and_trimmed_reopen_in_kafkas_format(path: str) -> None:
    ix = OffsetIndex(path, 45, 10 * 8)
    for i in range(1, 6):
        ix.append(45 + i * 2, i * 10)
    assert os.path.getsize(path) == 80  # preallocated while active
    ix.truncate_to(51)  # entries 47, 49, 51, 53, 55: drops offsets >= 51
    assert ix.entries == 2 and ix.last_entry() == (49, 20)
    ix.close()
    data = open(path, "rb").read()
    assert data == b"".join(struct.pack(">ii", i * 2, i * 10) for i in range(1, 3))
    again = OffsetIndex(path, 45, 10 * 8)
    assert again.entries == 2 and again.lookup(100) == (49, 20)
    again.sanity_check()
    again.close()


def test_misaligned_index_fails_sanity_check(path: str) -> None:
    with open(path, "wb") as f:
        f.write(b"\x00" * 13)
    ix = OffsetIndex(path, 0, 80, writable=False)
    with pytest.raises(ValueError):
        ix.sanity_check()


def test_time_index_only_appends_larger_timestamps(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ti = TimeIndex(str(tmp_path / "00000000000000000000.timeindex"), 0, 12 * 10)
    ti.maybe_append(100, 0)
    ti.maybe_append(100, 5)  # same timestamp: not added (Kafka's rule)
    ti.maybe_append(90, 6)  # smaller: not added
    ti.maybe_append(200, 10)
    assert ti.entries == 2
    assert ti.lookup(99) == (-1, 0) and ti.lookup(150) == (100, 0) and ti.lookup(999) == (200, 10)
    ti.truncate_to(10)
    assert ti.last_entry() == (100, 0)
    ti.close()
    assert open(str(tmp_path / "00000000000000000000.timeindex"), "rb").read() == struct.pack(">qi", 100, 0)
