"""Retention (UnifiedLog.delete_old_segments, LogManager.cleanup_logs): Kafka's rules for
deleting whole segments by time, size and log start offset, and the asynchronous `.deleted`
file removal after file.delete.delay.ms."""
import os

from batches import batch, now_ms, read_values
from fastkafka.protocol.errors import Errors
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.log_manager import LogManager
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import UnifiedLog

from test_unified_log import code_of, read_all

TP = TopicPartition("topic", 0)
HOUR = 3600 * 1000
SEG = 13_000  # segment.bytes: three of the ~4070-byte batches below fill a segment


def open_log(logdir, log_start_offset=0, **cfg):
    return UnifiedLog.open(str(logdir), LogConfig(segment_bytes=SEG, **cfg), topic_partition=TP,
                           log_start_offset=log_start_offset)


def append(log, ts, n=1):
    return log.append_as_leader(batch(n, ts=ts, value=b"x" * (4000 // n)), 0, now_ms=now_ms())


def files(log, suffix):
    return sorted(f for f in os.listdir(log.dir) if f.endswith(suffix))


def fill(log, timestamps):
    for ts in timestamps:
        append(log, ts)
    log.update_high_watermark(log.log_end_offset)


def test_retention_ms_uses_each_segments_largest_timestamp(tmp_path):
    now = now_ms()
    log = open_log(tmp_path / "topic-0", retention_ms=HOUR)
    # Segments [0,3) and [3,6) are old; [6,9) has one recent record; the active one is recent.
    fill(log, [now - 5 * HOUR] * 6 + [now - 5 * HOUR, now - 5 * HOUR, now] + [now])
    assert [s.base_offset for s in log.segments] == [0, 3, 6, 9]
    assert log.delete_old_segments(now) == 2
    assert [s.base_offset for s in log.segments] == [6, 9]
    assert log.log_start_offset == 6
    assert code_of(lambda: log.read(5, 100, max_offset=log.high_watermark, min_one_message=True)) \
        == Errors.OFFSET_OUT_OF_RANGE
    assert [o for o, _ in read_values(read_all(log, 6))] == [6, 7, 8, 9]
    log.close()


def test_retention_ms_rolls_the_active_segment_when_everything_expired(tmp_path):
    now = now_ms()
    log = open_log(tmp_path / "topic-0", retention_ms=HOUR)
    fill(log, [now - 5 * HOUR] * 4)
    assert log.delete_old_segments(now) == 2
    # A log always keeps a segment: an empty active one at the log end.
    assert [s.base_offset for s in log.segments] == [4]
    assert log.log_start_offset == log.log_end_offset == 4
    assert log.delete_old_segments(now) == 0  # the empty last segment is never deleted
    assert append(log, now).first_offset == 4
    log.close()


def test_retention_never_passes_the_high_watermark(tmp_path):
    now = now_ms()
    log = open_log(tmp_path / "topic-0", retention_ms=HOUR)
    fill(log, [now - 5 * HOUR] * 7)
    log.update_high_watermark(4)  # followers have not caught up past 4
    # Only [0,3) lies wholly below the high watermark.
    assert log.delete_old_segments(now) == 1
    assert log.log_start_offset == 3 <= log.high_watermark
    log.close()


def test_retention_ms_minus_one_keeps_everything(tmp_path):
    now = now_ms()
    log = open_log(tmp_path / "topic-0", retention_ms=-1)
    fill(log, [0] * 7)
    assert log.delete_old_segments(now) == 0
    log.close()


def test_retention_bytes_deletes_oldest_segments_while_the_rest_still_exceeds_the_limit(tmp_path):
    log = open_log(tmp_path / "topic-0", retention_bytes=25_000)
    fill(log, [now_ms()] * 10)  # segments of 3, 3, 3 batches and an active one of 1
    seg_sizes = [s.size for s in log.segments]
    total = sum(seg_sizes)
    assert log.delete_old_segments(now_ms()) == 1
    # Kafka deletes a segment only if the log is still >= retention.bytes without it.
    assert total - seg_sizes[0] >= 25_000 and total - seg_sizes[0] - seg_sizes[1] < 25_000
    assert log.log_start_offset == 3
    log.close()


def test_log_start_offset_from_delete_records_deletes_segments_at_the_next_check(tmp_path):
    log = open_log(tmp_path / "topic-0")  # retention.ms 7 days: nothing expires by time
    fill(log, [now_ms()] * 10)
    assert log.maybe_increment_log_start_offset(7)
    # Reads below the new start fail at once; segments go at the next retention check.
    assert code_of(lambda: log.read(6, 100, max_offset=log.high_watermark, min_one_message=True)) \
        == Errors.OFFSET_OUT_OF_RANGE
    assert [s.base_offset for s in log.segments] == [0, 3, 6, 9]
    assert log.delete_old_segments(now_ms()) == 2  # [0,3) and [3,6); [6,9) still holds 7 and 8
    assert log.log_start_offset == 7 and log.segments[0].base_offset == 6
    assert [o for o, _ in read_values(read_all(log, 7))] == [7, 8, 9]
    log.close()


def test_compact_only_logs_delete_only_below_the_log_start_offset(tmp_path):
    now = now_ms()
    log = open_log(tmp_path / "topic-0", cleanup_policy=["compact"], retention_ms=HOUR, retention_bytes=1)
    fill(log, [now - 5 * HOUR] * 10)
    assert log.delete_old_segments(now) == 0
    log.maybe_increment_log_start_offset(4)
    assert log.delete_old_segments(now) == 1
    log.close()


def test_deleted_segments_are_renamed_then_removed_after_file_delete_delay(tmp_path):
    now = now_ms()
    log = open_log(tmp_path / "topic-0", retention_ms=HOUR, file_delete_delay_ms=60_000)
    fill(log, [now - 5 * HOUR] * 3 + [now] * 4)
    # A fetch that took a slice of segment 0 before retention ran...
    slice0 = log.read(0, 100_000, max_offset=log.high_watermark, min_one_message=True).records
    before = slice0.read_bytes()
    assert log.delete_old_segments(now) == 1
    assert files(log, ".deleted") == ["00000000000000000000.index.deleted", "00000000000000000000.log.deleted",
                                      "00000000000000000000.timeindex.deleted"]
    assert "00000000000000000000.log" not in os.listdir(log.dir)
    # ...still sends the same bytes after the rename and after the unlink (its fd stays open).
    assert slice0.read_bytes() == before
    assert log.delete_expired_files(now_ms() + 59_000) == 0
    assert log.delete_expired_files(now_ms() + 61_000) == 1
    assert files(log, ".deleted") == []
    assert slice0.read_bytes() == before
    log.close()


def test_leftover_deleted_files_are_removed_when_the_log_loads(tmp_path):
    now = now_ms()
    log = open_log(tmp_path / "topic-0", retention_ms=HOUR)
    fill(log, [now - 5 * HOUR] * 3 + [now] * 4)
    assert log.delete_old_segments(now) == 1
    log.close()  # crash before file.delete.delay.ms: the `.deleted` files stay behind
    assert files(log, ".deleted")
    log = open_log(tmp_path / "topic-0", log_start_offset=3)
    assert files(log, ".deleted") == []
    assert log.segments[0].base_offset == 3
    log.close()


def test_log_manager_cleanup_skips_compacted_logs_and_sweeps_deleted_files(tmp_path):
    now = now_ms()
    lm = LogManager([str(tmp_path / "d")], {})
    lm.startup()
    plain = lm.get_or_create_log(TopicPartition("plain", 0), b"\x01" * 16,
                                 LogConfig(segment_bytes=SEG, retention_ms=HOUR, file_delete_delay_ms=0))
    compacted = lm.get_or_create_log(TopicPartition("compacted", 0), b"\x02" * 16,
                                     LogConfig(segment_bytes=SEG, retention_ms=HOUR, file_delete_delay_ms=0,
                                               cleanup_policy=["compact", "delete"]))
    for log in (plain, compacted):
        fill(log, [now - 5 * HOUR] * 3 + [now] * 4)
    assert lm.cleanup_logs(now_ms() + 1000) == 1
    assert files(plain, ".deleted") == [] and plain.log_start_offset == 3
    # compact,delete retention is applied by the log cleaner between cleanings, as in Kafka.
    assert compacted.log_start_offset == 0
    lm.shutdown()
