"""A rolled segment is fsynced off the event loop (Kafka's flush-log job): the recovery point moves
only when that fsync is done, and not at all if the log was truncated meanwhile."""
from batches import batch, now_ms
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import UnifiedLog


def _log(tmp_path):  # type: ignore[no-untyped-def]
    log = UnifiedLog.open(str(tmp_path / "t-0"), LogConfig(segment_bytes=13_000), topic_partition=TopicPartition("t", 0))
    jobs = []
    log.background_flusher = lambda work, done: jobs.append((work, done))
    return log, jobs


def _append(log, n=1):  # type: ignore[no-untyped-def]
    for _ in range(n):
        log.append_as_leader(batch(1, value=b"x" * 4000), 0, now_ms=now_ms())


def test_roll_flushes_in_the_background_then_moves_the_recovery_point(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log, jobs = _log(tmp_path)
    _append(log, 4)  # the 4th batch rolls a new segment at offset 3
    assert [s.base_offset for s in log.segments] == [0, 3]
    assert log.recovery_point == 0 and len(jobs) == 1
    work, done = jobs.pop()
    work()
    done(None)
    assert log.recovery_point == 3
    log.close()


def test_a_failed_or_overtaken_background_flush_moves_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log, jobs = _log(tmp_path)
    _append(log, 4)
    work, done = jobs.pop()
    done(OSError("EIO"))
    assert log.recovery_point == 0
    _append(log, 3)  # another roll at 6
    work, done = jobs.pop()
    log.truncate_to(2)
    work()
    done(None)
    assert log.recovery_point == 0  # truncated meanwhile: the flushed range no longer exists as was
    log.close()
