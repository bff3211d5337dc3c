"""Case list of Kafka's LogSegmentTest (those that apply without the transaction index)."""
import os
import struct

import pytest

from batches import batch, read_values
from fastkafka.storage.log_segment import INT32_MAX, LogSegment, RollParams


@pytest.fixture
def seg_factory(tmp_path):
    segs = []

    def make(base=0, index_interval_bytes=10, max_index_size=1000):
        s = LogSegment.open(str(tmp_path), base, index_interval_bytes=index_interval_bytes,
                            max_index_size=max_index_size)
        segs.append(s)
        return s

    yield make
    for s in segs:
        s.close()


def append(seg, base_offset, n=1, **kw):
    b = batch(n, base_offset=base_offset, **kw)
    seg.append(base_offset + n - 1, b)
    return b


def read_all(info):
    return read_values(info.records.read_bytes()) if info is not None and info.records is not None else []


def test_file_names_are_20_digit_base_offsets(tmp_path, seg_factory):
    seg_factory(base=40)
    assert sorted(os.listdir(tmp_path)) == ["00000000000000000040.index", "00000000000000000040.log",
                                            "00000000000000000040.timeindex"]


def test_read_on_empty_segment(seg_factory):
    seg = seg_factory(40)
    assert seg.read(40, 300) is None


def test_read_before_first_offset(seg_factory):
    seg = seg_factory(40)
    b = append(seg, 50, 3)
    info = seg.read(41, 300)
    assert info.records.read_bytes() == b


def test_read_after_last(seg_factory):
    seg = seg_factory(40)
    append(seg, 50, 2)
    assert seg.read(52, 200) is None


def test_read_from_gap(seg_factory):
    seg = seg_factory(40)
    append(seg, 50, 2)
    b2 = append(seg, 60, 2)
    info = seg.read(55, 200)
    assert info.records.read_bytes() == b2


def test_read_respects_max_size_and_min_one_message(seg_factory):
    seg = seg_factory(40)
    b1 = append(seg, 50, 2)
    append(seg, 52, 2)
    info = seg.read(50, 10)
    assert info.records.size == 10 and info.first_entry_incomplete
    info = seg.read(50, 10, min_one_message=True)
    assert info.records.read_bytes() == b1 and not info.first_entry_incomplete
    info = seg.read(50, 0)
    assert info.records.size == 0


def test_read_respects_max_position(seg_factory):
    seg = seg_factory(40)
    b1 = append(seg, 50, 2)
    append(seg, 52, 2)
    info = seg.read(50, 10_000, max_position=len(b1))
    assert info.records.read_bytes() == b1


def test_truncate(seg_factory):
    seg = seg_factory(40)
    offset = 40
    for _ in range(30):
        append(seg, offset, 2)
        append(seg, offset + 2, 1)
        seg.truncate_to(offset + 2)
        assert seg.read_next_offset() == offset + 2
        assert seg.read(offset + 2, 1000) is None
        assert [o for o, _ in read_all(seg.read(offset, 10_000))][-1] == offset + 1
        offset += 2


def test_truncate_empty_segment(seg_factory):
    seg = seg_factory(0)
    assert seg.truncate_to(0) == 0
    assert seg.size == 0


def test_truncate_full_resets_roll_time(seg_factory):
    seg = seg_factory(40)
    append(seg, 40, 2, ts=1000)
    append(seg, 42, 2, ts=2000)
    seg.truncate_to(0)
    assert seg.size == 0 and seg.read(0, 1024) is None
    assert seg.first_batch_timestamp() is None
    append(seg, 41, 1)
    assert seg.read_next_offset() == 42


def test_reload_largest_timestamp_after_truncation(seg_factory):
    seg = seg_factory(40)
    for i in range(10):
        append(seg, 40 + i, 1, ts=1000 + i)
    assert seg.max_timestamp_so_far == 1009
    seg.truncate_to(45)
    assert seg.max_timestamp_so_far == 1004
    assert seg.offset_of_max_timestamp_so_far == 44


def test_next_offset_calculation(seg_factory):
    seg = seg_factory(40)
    assert seg.read_next_offset() == 40
    append(seg, 50, 3)
    assert seg.read_next_offset() == 53


def test_index_entries_every_interval(seg_factory):
    seg = seg_factory(0, index_interval_bytes=200)
    sizes = []
    for i in range(20):
        sizes.append(len(append(seg, i * 2, 2)))
    assert seg.offset_index.entries > 0
    # every entry points at a batch boundary and is keyed by that batch's last offset
    positions = [0]
    for s in sizes:
        positions.append(positions[-1] + s)
    for k in range(0, 40, 3):
        off, pos = seg.offset_index.lookup(k)
        assert pos in positions and off <= k


def test_find_offset_by_timestamp(seg_factory):
    seg = seg_factory(40)
    for i in range(10):
        append(seg, 40 + i * 2, 2, ts=100 + i * 10)
    assert seg.find_offset_by_timestamp(95, 40)[:2] == (100, 40)
    assert seg.find_offset_by_timestamp(135, 40)[:2] == (140, 48)
    assert seg.find_offset_by_timestamp(190, 40)[:2] == (190, 58)
    assert seg.find_offset_by_timestamp(191, 40) is None


def test_recovery_fixes_corrupt_index(seg_factory):
    seg = seg_factory(0)
    for i in range(100):
        append(seg, i, 1)
    path = seg.offset_index.path if hasattr(seg.offset_index, "path") else None
    truncated = seg.recover()
    assert truncated == 0
    for i in range(100):
        info = seg.read(i, 1, min_one_message=True)
        assert read_all(info)[0][0] == i
    del path


def test_recovery_truncates_corrupt_batch(seg_factory):
    seg = seg_factory(0)
    sizes = [len(append(seg, i, 1)) for i in range(10)]
    pos = sum(sizes[:6])
    # flip a byte inside the 7th batch (CRC-covered region)
    # (a separate fd: on Linux pwrite on the segment's O_APPEND fd would append)
    with open(seg.log.path, "r+b") as f:
        f.seek(pos + 65)
        b = f.read(1)
        f.seek(pos + 65)
        f.write(bytes([b[0] ^ 0xFF]))
    truncated = seg.recover()
    assert truncated == sum(sizes[6:])
    assert seg.read_next_offset() == 6
    assert [o for o, _ in read_all(seg.read(0, 100_000))] == list(range(6))


def test_recovery_truncates_torn_tail(seg_factory):
    seg = seg_factory(0)
    sizes = [len(append(seg, i, 1)) for i in range(5)]
    os.ftruncate(seg.log.fd, sum(sizes) - 7)
    seg.log.size = sum(sizes) - 7
    assert seg.recover() == sizes[-1] - 7
    assert seg.read_next_offset() == 4


def test_should_roll_conditions(seg_factory):
    seg = seg_factory(100)
    now = 10_000_000
    p = RollParams(max_segment_ms=1000, max_segment_bytes=10_000, max_timestamp_in_messages=now,
                   max_offset_in_messages=105, messages_size=100, now=now)
    assert not seg.should_roll(p)  # empty segment never rolls by time
    append(seg, 100, 1, ts=now)
    assert not seg.should_roll(p)
    assert seg.should_roll(p._replace(max_timestamp_in_messages=now + 1001))  # time from first batch's timestamp
    assert seg.should_roll(p._replace(messages_size=10_000))  # size
    assert seg.should_roll(p._replace(max_offset_in_messages=100 + INT32_MAX + 1))  # relative offset overflow
    assert not seg.should_roll(p._replace(max_offset_in_messages=100 + INT32_MAX))


def test_should_roll_when_index_full(seg_factory):
    seg = seg_factory(0, index_interval_bytes=1, max_index_size=16)  # 2 offset entries, 1 time entry
    p0 = RollParams(10**12, 10**9, 0, 1, 10, 0)
    i = 0
    while not seg.should_roll(p0._replace(max_offset_in_messages=i)):
        append(seg, i, 1, ts=1000 + i)
        i += 1
        assert i < 10
    assert seg.offset_index.is_full() or seg.time_index.is_full()
    p = RollParams(10**12, 10**9, 0, 10, 10, 0)
    assert seg.should_roll(p)


def test_append_rejects_offset_overflow(seg_factory):
    from fastkafka.protocol.errors import KafkaError
    seg = seg_factory(0)
    b = batch(1, base_offset=INT32_MAX + 1)
    with pytest.raises(KafkaError):
        seg.append(INT32_MAX + 1, b)
    assert seg.size == 0


def test_reopen_reads_same_bytes(tmp_path):
    seg = LogSegment.open(str(tmp_path), 0, index_interval_bytes=50)
    data = b"".join(append(seg, i * 3, 3) for i in range(20))
    seg.flush()
    seg.close()
    seg2 = LogSegment.open(str(tmp_path), 0, index_interval_bytes=50)
    seg2.sanity_check()
    assert seg2.read(0, 10**6).records.read_bytes() == data
    assert seg2.read_next_offset() == 60
    seg2.close()


def test_slice_exposes_fd_position_size(seg_factory):
    seg = seg_factory(0)
    b1 = append(seg, 0, 1)
    b2 = append(seg, 1, 1)
    info = seg.read(1, 1000)
    s = info.records
    assert s.position == len(b1) and s.size == len(b2)
    assert os.pread(s.fd, s.size, s.position) == b2
    assert struct.unpack_from(">q", s.read_bytes(), 0)[0] == 1
