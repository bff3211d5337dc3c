"""Tail verification at open (issue 13 item 5): the active segment's tail, from its last offset
index entry, is CRC-checked on every open, even after a clean shutdown, and a torn, corrupt or
extended tail is cut (and logged) before anything is appended behind it. `LogSegment.recover`
(unclean shutdown) and `LogSegment.verify_tail` share the batch walk, so both cut at the same
byte for the same damage."""
import logging
import os
import shutil
import struct

import pytest

from batches import batch, now_ms, read_values
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.log_segment import LogSegment
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import UnifiedLog

TP = TopicPartition("tails", 3)


@pytest.fixture
def logdir(tmp_path):
    return str(tmp_path / "tails-3")


def open_log(logdir, config=None, **kw):
    return UnifiedLog.open(logdir, config or LogConfig(index_interval_bytes=256), topic_partition=TP, **kw)


def append(log, n=1, **kw):
    return log.append_as_leader(batch(n, **kw), 0, now_ms=now_ms())


def read_all(log):
    out = b""
    start = log.log_start_offset
    while start < log.log_end_offset:
        info = log.read(start, 10**9, max_offset=log.log_end_offset, min_one_message=True)
        if info.records is None or info.records.size == 0:
            break
        data = info.records.read_bytes()
        out += data
        start = read_values(data)[-1][0] + 1
    return out


def offsets(log):
    return [o for o, _ in read_values(read_all(log))]


def filled_log(logdir, batches=40, per_batch=3):
    """A cleanly closed log with several index entries in its only (active) segment; returns
    (path of the .log, size, batch sizes)."""
    log = open_log(logdir)
    sizes = []
    for _ in range(batches):
        before = log.active_segment.size
        append(log, per_batch)
        sizes.append(log.active_segment.size - before)
    path, size = log.active_segment.log.path, log.active_segment.size
    assert log.active_segment.offset_index.entries > 3
    log.close()
    return path, size, sizes


def cut(path, n):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - n)


def extend(path, data):
    with open(path, "ab") as f:
        f.write(data)


def flip(path, position):
    with open(path, "r+b") as f:
        f.seek(position)
        b = f.read(1)
        f.seek(position)
        f.write(bytes([b[0] ^ 0xFF]))


# ----------------------------------------------------------------------------- the rows
@pytest.mark.parametrize("damage", ["cut37", "append500"])
def test_damaged_tail_after_clean_stop_is_cut_and_later_appends_survive(logdir, damage, caplog):
    path, size, sizes = filled_log(logdir)
    if damage == "cut37":
        cut(path, 37)
        expected_leo, expected_size, cut_bytes = 39 * 3, size - sizes[-1], sizes[-1] - 37
    else:
        extend(path, os.urandom(500))
        expected_leo, expected_size, cut_bytes = 40 * 3, size, 500
    with caplog.at_level(logging.WARNING, logger="fastkafka.storage.unified_log"):
        log = open_log(logdir)  # had_clean_shutdown=True: Kafka would trust the file
    assert log.log_end_offset == expected_leo
    assert os.path.getsize(path) == expected_size
    warn = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warn) == 1 and "tails-3" in warn[0] and f"at byte offset {expected_size}" in warn[0] \
        and f"{cut_bytes} bytes truncated" in warn[0] and f"ends at offset {expected_leo}" in warn[0]
    for _ in range(100):
        append(log, 1)
    assert offsets(log) == list(range(expected_leo + 100))
    leo = log.log_end_offset
    log.segments[-1].log.close()  # a kill -9: no flush, no checkpoint, no clean marker
    log = open_log(logdir, had_clean_shutdown=False, recovery_point=0)
    assert log.log_end_offset == leo
    assert offsets(log) == list(range(leo))
    log.close()


def test_sound_tail_is_left_alone(logdir, caplog):
    path, size, _ = filled_log(logdir)
    with open(path, "rb") as f:
        before = f.read()
    seg = LogSegment.open(os.path.dirname(path), 0, index_interval_bytes=256)
    entries = seg.offset_index.entries
    check = seg.verify_tail()
    assert check.truncated_bytes == 0 and check.valid_size == size and check.next_offset == 120
    assert seg.offset_index.entries == entries
    seg.close()
    with caplog.at_level(logging.WARNING):
        log = open_log(logdir)
    assert log.log_end_offset == 120 and not [r for r in caplog.records if r.levelno >= logging.WARNING]
    log.close()
    with open(path, "rb") as f:
        assert f.read() == before


def test_empty_segment(logdir):
    log = open_log(logdir)
    log.close()
    seg = LogSegment.open(logdir, 0)
    assert seg.verify_tail() == (0, 0, 0)
    seg.close()


# ----------------------------------------------------------------------------- kinds of damage
def test_cut_reaching_the_last_index_entry_drops_that_entry(logdir):
    path, size, sizes = filled_log(logdir)
    seg = LogSegment.open(os.path.dirname(path), 0, index_interval_bytes=256)
    key, position = seg.offset_index.last_entry()
    seg.close()
    cut(path, size - position - 5)  # the indexed batch itself is torn
    log = open_log(logdir)
    active = log.active_segment
    assert active.size == position
    assert active.offset_index.entries == 0 or active.offset_index.last_entry()[0] < key
    active.sanity_check()
    assert offsets(log) == list(range(log.log_end_offset))
    assert log.log_end_offset == key - 2  # the batch at the entry held 3 records ending at `key`
    append(log, 5)
    assert offsets(log) == list(range(log.log_end_offset))
    log.close()


def test_index_running_past_the_log_is_trimmed(logdir):
    path, size, sizes = filled_log(logdir)
    cut(path, size - sizes[0] - sizes[1])  # keep two batches: every index entry is past the end
    log = open_log(logdir)
    assert log.log_end_offset == 6 and log.active_segment.size == sizes[0] + sizes[1]
    assert log.active_segment.offset_index.entries == 0
    assert offsets(log) == list(range(6))
    log.close()


def test_flipped_byte_in_the_last_batch(logdir):
    path, size, sizes = filled_log(logdir)
    flip(path, size - 3)  # inside the records: the CRC no longer matches
    log = open_log(logdir)
    assert log.log_end_offset == 117 and log.active_segment.size == size - sizes[-1]
    log.close()


def test_base_offset_outside_the_crc_out_of_order(logdir):
    path, size, sizes = filled_log(logdir)
    with open(path, "r+b") as f:  # BaseOffset is not covered by the CRC: make it go backwards
        f.seek(size - sizes[-1])
        f.write(struct.pack(">q", 5))
    log = open_log(logdir)
    assert log.log_end_offset == 117 and offsets(log) == list(range(117))
    log.close()


def test_valid_batch_appended_while_stopped_is_kept(logdir):
    """A sound batch that follows the log is data (e.g. written by a copy tool), not damage."""
    path, size, _ = filled_log(logdir)
    extend(path, batch(2, base_offset=120))
    log = open_log(logdir)
    assert log.log_end_offset == 122 and offsets(log) == list(range(122))
    log.close()


def test_time_index_final_entry_inside_the_cut_is_dropped(logdir):
    log = open_log(logdir)
    base_ts = now_ms() - 100_000
    for i in range(40):
        log.append_as_leader(batch(1, ts=base_ts + i), 0, now_ms=now_ms())
    path = log.active_segment.log.path
    last_size = len(batch(1, ts=base_ts))
    log.close()  # writes the time index's final entry (base_ts + 39, offset 39)
    cut(path, last_size // 2)
    log = open_log(logdir)
    seg = log.active_segment
    assert log.log_end_offset == 39
    assert (seg.max_timestamp_so_far, seg.offset_of_max_timestamp_so_far) == (base_ts + 38, 38)
    assert seg.time_index.last_entry()[1] < 39
    log.close()


# ----------------------------------------------------------------------------- one walk, two callers
@pytest.mark.parametrize("damage", ["cut1", "cut37", "cut_all_but_header", "append500", "append_zeros", "flip"])
def test_recover_and_verify_tail_cut_at_the_same_byte(tmp_path, damage):
    clean_dir = str(tmp_path / "a" / "tails-3")
    path, size, sizes = filled_log(clean_dir)
    if damage.startswith("cut"):
        cut(path, {"cut1": 1, "cut37": 37, "cut_all_but_header": sizes[-1] - 12}[damage])
    elif damage == "append500":
        extend(path, os.urandom(500))
    elif damage == "append_zeros":
        extend(path, bytes(4096))  # a preallocated or zero-filled tail
    else:
        flip(path, size - 3)  # inside the last batch's records
    unclean_dir = str(tmp_path / "b" / "tails-3")
    shutil.copytree(clean_dir, unclean_dir)
    a = open_log(clean_dir)
    b = open_log(unclean_dir, had_clean_shutdown=False, recovery_point=0)
    assert a.log_end_offset == b.log_end_offset
    assert a.active_segment.size == b.active_segment.size
    assert offsets(a) == offsets(b) == list(range(a.log_end_offset))
    a.close()
    b.close()


def test_only_the_active_segment_is_checked(logdir):
    """Inactive segments are trusted after a clean shutdown (they were flushed at roll); the
    check costs one tail read per partition, not a walk of the log."""
    cfg = LogConfig(segment_bytes=4096, index_interval_bytes=256)
    log = open_log(logdir, cfg)
    for _ in range(60):
        append(log, 3, value=b"x" * 100)
    assert log.num_segments > 3
    first = log.segments[0].log.path
    first_size = log.segments[0].size
    leo = log.log_end_offset
    log.close()
    flip(first, first_size - 3)
    log = open_log(logdir, cfg)
    assert log.log_end_offset == leo and os.path.getsize(first) == first_size
    log.close()
