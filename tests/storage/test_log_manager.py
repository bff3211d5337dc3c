import os

import pytest

from batches import batch, now_ms, read_values
from fastkafka.protocol.errors import KafkaError
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.log_manager import CLEAN_SHUTDOWN_FILE, LogManager
from fastkafka.storage.topic_partition import TopicPartition

TID = bytes(range(16))


def test_topic_partition_dir_names():
    assert str(TopicPartition("a-b", 3)) == "a-b-3"
    assert TopicPartition.parse_dir_name("a-b-3") == TopicPartition("a-b", 3)
    assert TopicPartition.parse_dir_name("nodash") is None
    assert TopicPartition.parse_dir_name("t-x") is None


def test_create_append_shutdown_restart(tmp_path):
    d = str(tmp_path / "logs")
    lm = LogManager([d], {})
    lm.startup()
    tp = TopicPartition("orders", 0)
    log = lm.get_or_create_log(tp, TID, LogConfig())
    assert lm.get_or_create_log(tp, TID, LogConfig()) is log
    for _ in range(5):
        log.append_as_leader(batch(2), 0, now_ms=now_ms())
    log.update_high_watermark(8)
    lm.shutdown()
    assert open(os.path.join(d, "replication-offset-checkpoint")).read() == "0\n1\norders 0 8\n"
    assert os.path.exists(os.path.join(d, CLEAN_SHUTDOWN_FILE))
    assert open(os.path.join(d, "recovery-point-offset-checkpoint")).read() == "0\n1\norders 0 10\n"
    assert open(os.path.join(d, "log-start-offset-checkpoint")).read() == "0\n0\n"
    assert os.path.exists(os.path.join(d, "orders-0", "partition.metadata"))

    lm2 = LogManager([d], {})
    lm2.startup()
    assert not os.path.exists(os.path.join(d, CLEAN_SHUTDOWN_FILE))  # removed once loaded
    log2 = lm2.get_log(tp)
    assert log2 is not None and log2.log_end_offset == 10 and log2.recovery_point == 10
    assert log2.topic_id == TID and log2.high_watermark == 8
    info = log2.read(0, 10**6, max_offset=10, min_one_message=True)
    assert [o for o, _ in read_values(info.records.read_bytes())] == list(range(10))
    lm2.shutdown()


def test_unclean_restart_recovers(tmp_path):
    d = str(tmp_path / "logs")
    lm = LogManager([d], {})
    lm.startup()
    tp = TopicPartition("t", 1)
    log = lm.get_or_create_log(tp, TID, LogConfig())
    for _ in range(4):
        log.append_as_leader(batch(1), 0, now_ms=now_ms())
    path = log.active_segment.log.path
    size = log.active_segment.size
    log.flush()
    # simulate a crash: no shutdown, a torn write at the end
    log.close()
    for fd in list(lm._lock_fds.values()):
        os.close(fd)
    lm._lock_fds.clear()
    with open(path, "ab") as f:
        f.write(b"\x00" * 30)
    assert os.path.getsize(path) == size + 30
    lm2 = LogManager([d], {})
    lm2.startup()
    log2 = lm2.get_log(tp)
    assert log2.log_end_offset == 4 and log2.active_segment.size == size
    lm2.shutdown()


def test_skips_special_dirs_and_removes_delete_dirs(tmp_path):
    d = tmp_path / "logs"
    (d / "__cluster_metadata-0").mkdir(parents=True)
    (d / "x-0.0123abcd-delete").mkdir()
    (d / "y-0.0123abcd-stray").mkdir()
    (d / "not a partition").mkdir()
    lm = LogManager([str(d)], {})
    lm.startup()
    assert lm.all_logs() == []
    assert not (d / "x-0.0123abcd-delete").exists()
    assert (d / "y-0.0123abcd-stray").exists()
    meta = lm.open_log(str(d / "__cluster_metadata-0"), LogConfig())
    assert meta.log_end_offset == 0
    meta.close()
    lm.shutdown()


def test_delete_log(tmp_path):
    d = str(tmp_path / "logs")
    lm = LogManager([d], {})
    lm.startup()
    tp = TopicPartition("gone", 0)
    log = lm.get_or_create_log(tp, TID, LogConfig())
    log.append_as_leader(batch(1), 0, now_ms=now_ms())
    lm.delete_log(tp)
    assert lm.get_log(tp) is None
    assert [n for n in os.listdir(d) if n.startswith("gone")] == []
    lm.shutdown()


def test_recreated_topic_gets_fresh_log(tmp_path):
    d = str(tmp_path / "logs")
    lm = LogManager([d], {})
    lm.startup()
    tp = TopicPartition("t", 0)
    log = lm.get_or_create_log(tp, TID, LogConfig())
    log.append_as_leader(batch(1), 0, now_ms=now_ms())
    new = lm.get_or_create_log(tp, bytes(16), LogConfig())
    assert new is not log and new.log_end_offset == 0 and new.topic_id == bytes(16)
    lm.shutdown()


def test_spreads_over_log_dirs_and_locks(tmp_path):
    dirs = [str(tmp_path / "a"), str(tmp_path / "b")]
    lm = LogManager(dirs, {})
    lm.startup()
    for p in range(4):
        lm.get_or_create_log(TopicPartition("t", p), TID, LogConfig())
    counts = [len([n for n in os.listdir(x) if n.startswith("t-")]) for x in dirs]
    assert counts == [2, 2]
    with pytest.raises(KafkaError):
        LogManager(dirs, {}).startup()  # .lock held
    lm.shutdown()


def test_broker_defaults_apply(tmp_path):
    lm = LogManager([str(tmp_path)], {"log.segment.bytes": "2097152"})
    assert lm.default_config.segment_bytes == 2097152


def test_background_checkpoints_in_slices_follow_the_last_request(tmp_path, monkeypatch):
    """With a loop and a file worker, checkpoints are read and formatted on the loop in slices
    and written by the worker; a request during a pass runs one more pass, so the file ends with
    the values of the last request; shutdown writes the final file."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import fastkafka.storage.log_manager as log_manager_module
    from fastkafka.storage.checkpoint_file import OffsetCheckpointFile

    monkeypatch.setattr(log_manager_module, "CHECKPOINT_SLICE_SECONDS", 0.0)  # yield at every check
    d = str(tmp_path / "logs")
    lm = LogManager([d], {})
    lm.startup()
    lm.file_worker = ThreadPoolExecutor(1)
    tps = [TopicPartition("t", i) for i in range(300)]
    for tp in tps:
        lm.get_or_create_log(tp, TID, LogConfig())
    path = os.path.join(d, "replication-offset-checkpoint")

    async def run() -> None:
        for tp in tps:
            lm.get_log(tp).append_as_leader(batch(1), 0, now_ms=now_ms())
        lm.checkpoint_high_watermarks()
        await asyncio.sleep(0)  # the first pass is under way (it yields every 128 logs)
        for tp in tps:
            lm.get_log(tp).update_high_watermark(1)
        lm.checkpoint_high_watermarks()  # during the pass: one more pass after it
        while lm._checkpoint_tasks:
            await asyncio.sleep(0.01)

    asyncio.run(run())
    assert OffsetCheckpointFile(path).read() == {tp: 1 for tp in tps}
    lm.file_worker.shutdown(wait=True)
    lm.shutdown()
    assert OffsetCheckpointFile(path).read() == {tp: 1 for tp in tps}
