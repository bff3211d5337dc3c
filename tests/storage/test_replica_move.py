"""AlterReplicaLogDirs in the LogManager: a partition's log copied to another log dir in rounds
(off the event loop) while it keeps taking appends, then swapped in; the moved log has the same
batches, offsets, epochs and producer state, and the old directory is gone. Errors and the
no-op / re-target cases as Kafka's ReplicaManager.alterReplicaLogDirs."""
import asyncio
import os

import pytest

from batches import batch, now_ms, read_values
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage import replica_move
from fastkafka.storage.log_config import LogConfig
from fastkafka.storage.log_manager import LogManager
from fastkafka.storage.topic_partition import TopicPartition

TID = bytes(range(16))
TP = TopicPartition("moving", 0)


def _all(log):
    out = []
    off = log.log_start_offset
    while off < log.log_end_offset:
        data = log.read(off, 1 << 20, max_offset=log.log_end_offset, min_one_message=True)
        vals = read_values(data.records.read_bytes())
        out += vals
        off = vals[-1][0] + 1
    return out


def _manager(tmp_path):
    dirs = [str(tmp_path / "a"), str(tmp_path / "b")]
    lm = LogManager(dirs, {"fastkafka.io.uring.enable": "false"})
    lm.startup()
    return lm, dirs


def test_move_while_appending(tmp_path, monkeypatch):
    # Small rounds, so the copy takes several and appends land in between.
    monkeypatch.setattr(replica_move, "ROUND_BYTES", 4096)
    monkeypatch.setattr(replica_move, "FINAL_BYTES", 1024)
    replaced = []

    async def main():
        lm, dirs = _manager(tmp_path)
        lm.log_replaced_listeners.append(lambda tp, log: replaced.append((tp, log)))
        log = lm.get_or_create_log(TP, TID, LogConfig(segment_bytes=2048))
        for i in range(60):
            log.append_as_leader(batch(3, value=b"x" * 50), i // 20, now_ms=now_ms())
        log.update_high_watermark(log.log_end_offset)
        expected = _all(log)
        src = lm.log_dir_of(TP)
        dest = next(d for d in dirs if d != src)
        assert log.num_segments > 3
        lm.alter_replica_log_dir(TP, dest)
        lm.alter_replica_log_dir(TP, dest)  # already moving there: nothing more
        [(tp, d, size, lag)] = lm.future_logs()
        assert (tp, d) == (TP, dest) and lag == log.log_end_offset and size == 0
        futures = [n for n in os.listdir(dest) if n.endswith("-future")]
        assert len(futures) == 1 and futures[0].startswith("moving-0.")
        while lm.future_logs():
            _, _, _, lag = lm.future_logs()[0]
            assert 0 <= lag <= log.log_end_offset  # a partial lag is seen only if a round is slow
            info = log.append_as_leader(batch(1, value=b"y" * 50), 3, now_ms=now_ms())
            expected.append((info.first_offset, b"y" * 50 + b"0"))
            await asyncio.sleep(0.01)
        new = lm.get_log(TP)
        assert new is not log and log.closed and replaced == [(TP, new)]
        assert lm.log_dir_of(TP) == dest and new.dir == os.path.join(dest, "moving-0")
        assert os.listdir(dest).count("moving-0") == 1 and not any(n.endswith("-future") for n in os.listdir(dest))
        assert (new.log_end_offset, new.log_start_offset, new.topic_id) == (log.log_end_offset, 0, TID)
        assert new.high_watermark == log.high_watermark
        assert [s.base_offset for s in new.segments] == [s.base_offset for s in log.segments]
        assert new.leader_epoch_cache.latest_epoch == 3
        assert new.end_offset_for_epoch(1) == log.end_offset_for_epoch(1)
        # Same batches at the same offsets, read through the new log's indexes.
        assert _all(new) == expected and len(expected) == new.log_end_offset
        # Still appendable, and the old directory goes (off the loop when there is a flusher).
        new.append_as_leader(batch(1), 3, now_ms=now_ms())
        assert not any(n.startswith("moving-0") for n in os.listdir(src))
        lm.shutdown()
        # A restart finds it in its new dir.
        lm2 = LogManager(dirs, {"fastkafka.io.uring.enable": "false"})
        lm2.startup()
        assert lm2.log_dir_of(TP) == dest and lm2.get_log(TP).log_end_offset == new.log_end_offset
        lm2.shutdown()

    asyncio.run(main())


def test_errors_and_no_ops(tmp_path):
    async def main():
        lm, dirs = _manager(tmp_path)
        log = lm.get_or_create_log(TP, TID, LogConfig())
        here = lm.log_dir_of(TP)
        other = next(d for d in dirs if d != here)
        with pytest.raises(KafkaError) as e:
            lm.alter_replica_log_dir(TP, "/nonexistent")
        assert e.value.error == Errors.LOG_DIR_NOT_FOUND and e.value.message == "Log dir /nonexistent is not found in the config."
        with pytest.raises(KafkaError) as e:
            lm.alter_replica_log_dir(TP, other + "/")  # not exactly a configured dir
        assert e.value.error == Errors.LOG_DIR_NOT_FOUND
        with pytest.raises(KafkaError) as e:
            lm.alter_replica_log_dir(TopicPartition("other", 0), other)
        assert e.value.error == Errors.REPLICA_NOT_AVAILABLE
        with pytest.raises(KafkaError) as e:
            lm.alter_replica_log_dir(TopicPartition("x" * 250, 0), other)
        assert e.value.error == Errors.INVALID_TOPIC_EXCEPTION
        lm.alter_replica_log_dir(TP, here)  # already there
        assert lm.future_logs() == []
        # Moving, then asked back to where it is: the move is abandoned.
        lm.alter_replica_log_dir(TP, other)
        assert [f[1] for f in lm.future_logs()] == [other]
        lm.alter_replica_log_dir(TP, here)
        assert lm.future_logs() == [] and lm.get_log(TP) is log
        await asyncio.sleep(0.05)
        assert not any(n.endswith("-future") for n in os.listdir(other))
        # Deleting the partition abandons its move too.
        lm.alter_replica_log_dir(TP, other)
        lm.delete_log(TP)
        assert lm.future_logs() == []
        await asyncio.sleep(0.05)
        assert not any(n.startswith("moving-0") for n in os.listdir(other))
        lm.shutdown()

    asyncio.run(main())
