"""Offset and time indexes: the case lists of Kafka's OffsetIndexTest / TimeIndexTest /
AbstractIndex behaviour, and the on-disk format (big-endian entries, preallocated while active,
trimmed on close) checked byte for byte with struct."""
from __future__ import annotations

import bisect
import os
import random
import struct

import pytest

from fastkafka._native.index import OffsetIndex, TimeIndex


@pytest.fixture
def path(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return str(tmp_path / "00000000000000000045.index")


@pytest.fixture
def tpath(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return str(tmp_path / "00000000000000000045.timeindex")


# -- OffsetIndexTest ------------------------------------------------------------------------------------
def test_random_lookup_against_a_reference_floor_in_and_out_of_the_warm_section(path: str) -> None:
    rnd = random.Random(7)
    base = 45
    ix = OffsetIndex(path, base, 6000 * 8)
    offsets = sorted(rnd.sample(range(base + 1, base + 1_000_000), 5000))
    positions = sorted(rnd.sample(range(1, 2**31 - 1), 5000))
    for off, pos in zip(offsets, positions):
        ix.append(off, pos)
    assert ix.entries == 5000  # the warm section is the last 1024 entries: both search branches run
    for target in rnd.sample(range(0, base + 1_000_010), 3000) + offsets[:50] + offsets[-50:]:
        i = bisect.bisect_right(offsets, target) - 1
        want = (base, 0) if i < 0 else (offsets[i], positions[i])
        assert ix.lookup(target) == want, target
    ix.close()


def test_lookup_extreme_cases(path: str) -> None:
    ix = OffsetIndex(path, 45, 30 * 8)
    assert ix.lookup(45) == (45, 0)  # empty index: the base offset at position 0
    assert ix.last_entry() == (45, 0)
    for i in range(ix.max_entries):
        ix.append(46 + i, i * 100 + 1)
    assert ix.lookup(45) == (45, 0)  # below every entry
    assert ix.lookup(2**62) == ix.last_entry() == (45 + 30, 29 * 100 + 1)
    assert ix.lookup(-(2**62)) == (45, 0)


def test_entry_and_entry_overflow(path: str) -> None:
    ix = OffsetIndex(path, 45, 30 * 8)
    ix.append(50, 7)
    ix.append(60, 9)
    assert ix.entry(0) == (50, 7) and ix.entry(1) == (60, 9)
    with pytest.raises(IndexError):
        ix.entry(2)
    with pytest.raises(IndexError):
        ix.entry(-1)


def test_append_too_many(path: str) -> None:
    ix = OffsetIndex(path, 45, 3 * 8 + 5)  # rounded down to 3 entries
    assert ix.max_entries == 3 and os.path.getsize(path) == 24
    for i in range(3):
        ix.append(46 + i, i)
    assert ix.is_full()
    with pytest.raises(ValueError):
        ix.append(49, 30)


def test_append_out_of_order_and_overflow(path: str) -> None:
    ix = OffsetIndex(path, 45, 10 * 8)
    ix.append(51, 0)
    with pytest.raises(ValueError):
        ix.append(50, 1)
    with pytest.raises(ValueError):
        ix.append(51, 1)  # equal is not larger
    with pytest.raises(ValueError):
        ix.append(45 + 2**31, 1)  # relative offset does not fit an int32
    with pytest.raises(ValueError):
        ix.append(60, 2**31)  # position does not fit an int32
    assert ix.entries == 1


def test_reopen_read_only_keeps_entries_and_is_full(path: str) -> None:
    ix = OffsetIndex(path, 45, 30 * 8)
    for i in range(1, 6):
        ix.append(45 + i * 3, i * 11)
    ix.flush()
    ix.close()
    assert os.path.getsize(path) == 5 * 8  # trimmed on close
    ro = OffsetIndex(path, 45, 30 * 8, writable=False)
    assert ro.entries == 5 and ro.max_entries == 5
    assert [ro.lookup(45 + i * 3) for i in range(1, 6)] == [(45 + i * 3, i * 11) for i in range(1, 6)]
    with pytest.raises(ValueError):
        ro.append(100, 100)
    ro.sanity_check()
    ro.close()
    again = OffsetIndex(path, 45, 30 * 8)  # an existing file keeps its length until resized
    assert again.is_full() and again.resize(30 * 8) and not again.resize(30 * 8 + 3)
    again.append(100, 100)
    assert again.entries == 6
    again.close()


def test_truncate_to(path: str) -> None:  # OffsetIndexTest.truncate, verbatim case list
    ix = OffsetIndex(path, 0, 10 * 8)
    ix.truncate()
    for i in range(1, 10):
        ix.append(i, i)
    ix.truncate_to(12)
    assert ix.lookup(10) == (9, 9) and ix.last_entry()[0] == 9
    ix.append(10, 10)
    ix.truncate_to(10)
    assert ix.lookup(10) == (9, 9) and ix.last_entry()[0] == 9
    ix.append(10, 10)
    ix.truncate_to(9)
    assert ix.lookup(10) == (8, 8) and ix.last_entry()[0] == 8
    ix.append(9, 9)
    ix.truncate_to(5)
    assert ix.lookup(10) == (4, 4) and ix.last_entry()[0] == 4
    ix.append(5, 5)
    ix.truncate()
    assert ix.entries == 0
    ix.append(0, 0)
    ix.truncate_to(-3)
    assert ix.entries == 0


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


def test_reads_an_index_kafka_wrote_and_an_unclean_zero_tail(path: str) -> None:
    entries = [(3, 4100), (9, 8300), (20, 12500)]
    with open(path, "wb") as f:
        f.write(b"".join(struct.pack(">ii", r, p) for r, p in entries) + b"\x00" * 8 * 7)
    ix = OffsetIndex(path, 1000, 80)
    assert ix.entries == 3 and ix.lookup(1010) == (1009, 8300)
    ix.close()
    assert os.path.getsize(path) == 24
    exact = OffsetIndex(path, 1000, 80, writable=False, entries=2)  # a count the caller knows
    assert exact.entries == 2 and exact.last_entry() == (1009, 8300)
    with pytest.raises(ValueError):
        OffsetIndex(path, 1000, 80, entries=4)


def test_use_after_close_is_an_error(path: str) -> None:  # forceUnmapTest
    ix = OffsetIndex(path, 45, 80)
    ix.append(50, 1)
    ix.close()
    ix.close()  # idempotent
    with pytest.raises(ValueError):
        ix.lookup(50)
    with pytest.raises(ValueError):
        ix.append(60, 2)


def test_sanity_last_offset_equal_to_base_offset(path: str) -> None:
    ix = OffsetIndex(path, 20, 80)
    ix.append(20, 10)
    ix.sanity_check()


def test_sanity_check_detects_corruption(path: str) -> None:
    with open(path, "wb") as f:
        f.write(b"\x00" * 13)
    with pytest.raises(ValueError):
        OffsetIndex(path, 0, 80, writable=False).sanity_check()
    with open(path, "wb") as f:
        f.write(struct.pack(">ii", -5, 1))  # last offset below the base offset
    with pytest.raises(ValueError):
        OffsetIndex(path, 0, 80, writable=False).sanity_check()
    with open(path, "wb") as f:
        f.write(struct.pack(">iiii", 9, 1, 4, 2))  # decreasing
    with pytest.raises(ValueError):
        OffsetIndex(path, 0, 80, writable=False).sanity_check()


def test_resize_never_drops_entries_and_reset(path: str) -> None:
    ix = OffsetIndex(path, 0, 10 * 8)
    for i in range(1, 5):
        ix.append(i, i)
    assert ix.resize(8)  # clamps to the 4 entries present
    assert os.path.getsize(path) == 32 and ix.max_entries == 4 and ix.lookup(3) == (3, 3)
    ix.reset()
    assert ix.entries == 0 and ix.max_entries == 10 and os.path.getsize(path) == 80


# -- TimeIndexTest --------------------------------------------------------------------------------------
def append_entries(ti: TimeIndex, n: int, base: int = 45) -> None:
    for i in range(1, n + 1):
        ti.maybe_append(i * 10, i * 10 + base)


def test_time_index_lookup(tpath: str) -> None:
    ti = TimeIndex(tpath, 45, 30 * 12)
    assert ti.lookup(100) == (-1, 45)
    append_entries(ti, ti.max_entries - 1)
    assert ti.lookup(9) == (-1, 45)  # before the earliest entry
    assert ti.lookup(25) == (20, 65)  # between two entries
    assert ti.lookup(30) == (30, 75)  # equal to an entry
    assert ti.lookup(2**62) == ti.last_entry() == (290, 335)


def test_time_index_entry(tpath: str) -> None:
    ti = TimeIndex(tpath, 45, 30 * 12)
    with pytest.raises(IndexError):
        ti.entry(0)
    append_entries(ti, ti.max_entries - 1)
    assert ti.entry(0) == (10, 55) and ti.entry(1) == (20, 65) and ti.entry(2) == (30, 75)


def test_time_index_truncate(tpath: str) -> None:
    ti = TimeIndex(tpath, 45, 30 * 12)
    append_entries(ti, ti.max_entries - 1)
    ti.truncate_to(10 + 45)
    assert ti.entries == 0 and ti.lookup(10) == (-1, 45)
    append_entries(ti, ti.max_entries - 1)
    ti.truncate_to(100 + 45)  # drops entries with offset >= 145
    assert ti.entries == 9 and ti.last_entry() == (90, 135)


def test_time_index_append_rules_and_reserved_slot(tpath: str) -> None:
    ti = TimeIndex(tpath, 45, 30 * 12)
    append_entries(ti, ti.max_entries - 1)
    assert ti.is_full()  # the last slot is reserved for the roll/close entry
    with pytest.raises(ValueError):
        ti.maybe_append(10000, 1000)
    with pytest.raises(ValueError):
        ti.maybe_append(10000, (ti.max_entries - 2) * 10, True)  # offset below the last entry's
    ti.maybe_append(10000, 1000, True)
    assert ti.entries == ti.max_entries and ti.last_entry() == (10000, 1000)
    ti.maybe_append(10001, 1001, True)  # beyond even the reserved slot: the file grows by one entry
    assert ti.entries == 31 and os.path.getsize(tpath) == 31 * 12


def test_time_index_only_appends_larger_timestamps(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = str(tmp_path / "00000000000000000000.timeindex")
    ti = TimeIndex(p, 0, 12 * 10)
    ti.maybe_append(-1, 0)  # NO_TIMESTAMP is not larger than an empty index's last (-1)
    assert ti.entries == 0
    ti.maybe_append(100, 0)
    ti.maybe_append(100, 5)  # same timestamp: not added (Kafka's rule)
    with pytest.raises(ValueError):
        ti.maybe_append(90, 6)  # smaller: an error, as Kafka's IllegalStateException
    ti.maybe_append(200, 10)
    assert ti.entries == 2
    assert ti.lookup(99) == (-1, 0) and ti.lookup(150) == (100, 0) and ti.lookup(999) == (200, 10)
    ti.truncate_to(10)
    assert ti.last_entry() == (100, 0)
    ti.close()
    assert open(p, "rb").read() == struct.pack(">qi", 100, 0)


def test_time_index_warm_section_lookup(tpath: str) -> None:
    rnd = random.Random(3)
    ti = TimeIndex(tpath, 0, 3000 * 12)
    stamps = sorted(rnd.sample(range(1, 10**9), 2500))
    for i, ts in enumerate(stamps):
        ti.maybe_append(ts, i * 2)
    for target in rnd.sample(range(0, 10**9), 2000) + stamps[:20] + stamps[-20:]:
        i = bisect.bisect_right(stamps, target) - 1
        assert ti.lookup(target) == ((-1, 0) if i < 0 else (stamps[i], i * 2)), target


def test_time_index_sanity_check(tpath: str) -> None:
    ti = TimeIndex(tpath, 45, 30 * 12)
    append_entries(ti, 5)
    ti.close()
    again = TimeIndex(tpath, 45, 30 * 12, writable=False)
    assert again.entries == 5
    again.sanity_check()
    with open(tpath, "wb") as f:
        f.write(struct.pack(">qiqi", 30, 1, 10, 2))  # last timestamp below the first
    with pytest.raises(ValueError):
        TimeIndex(tpath, 45, 360, writable=False).sanity_check()
    with open(tpath, "wb") as f:
        f.write(struct.pack(">qi", 30, -1))  # last offset below the base offset
    with pytest.raises(ValueError):
        TimeIndex(tpath, 45, 360, writable=False).sanity_check()
    with open(tpath, "wb") as f:
        f.write(b"\x01" * 13)
    with pytest.raises(ValueError):
        TimeIndex(tpath, 45, 360, writable=False).sanity_check()


@pytest.mark.parametrize("final", [(35, 80), (30, 75), (5, 80)], ids=["newer", "same-timestamp", "older"])
def test_time_index_close_with_final_entry_matches_maybe_append_then_close(tmp_path, final) -> None:
    a, b = str(tmp_path / "a.timeindex"), str(tmp_path / "b.timeindex")
    for path in (a, b):
        ti = TimeIndex(path, 45, 30 * 12)
        append_entries(ti, 3)
        if path == a:
            if final[0] >= 30:
                ti.maybe_append(*final, True)
            ti.close()
        else:
            ti.close_with_final_entry(*final)  # an older timestamp is not appended, never an error
    assert open(a, "rb").read() == open(b, "rb").read()
    assert os.path.getsize(b) == (4 if final == (35, 80) else 3) * 12
    assert TimeIndex(b, 45, 30 * 12).last_entry() == ((35, 80) if final == (35, 80) else (30, 75))
