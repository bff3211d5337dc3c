"""The log cleaner on real logs (UnifiedLog + Cleaner + LogCleanerManager): Kafka's rules for
compaction, checked by reading the cleaned log back with kafka-python's record decoder."""
import asyncio
import os
import dataclasses
import struct
import time

import pytest
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from batches import now_ms
from fastkafka.storage.cleaner_config import CleanerConfig
from fastkafka.storage.cleaner_thread import CleanerThread
from fastkafka.storage.log_cleaner import Cleaner, CleaningJob, LogToClean
from fastkafka.storage.log_cleaner_manager import LogCleanerManager
from fastkafka.storage.log_config import LogConfig
from fastkafka._native.record_batch import MemoryRecordsBuilder, assign_offsets
from fastkafka.storage.offset_map import OffsetMap
from fastkafka.storage.producer_state_manager import AppendOrigin
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import UnifiedLog

TP = TopicPartition("compacted", 0)
SEG = 2000


def kv_batch(pairs, *, ts=None, compression=0, producer_id=-1, producer_epoch=-1, base_sequence=-1,
             transactional=False):
    t = now_ms() if ts is None else ts
    b = DefaultRecordBatchBuilder(magic=2, compression_type=compression, is_transactional=transactional,
                                  producer_id=producer_id, producer_epoch=producer_epoch,
                                  base_sequence=base_sequence, batch_size=1 << 30)
    for i, (k, v) in enumerate(pairs):
        b.append(i, timestamp=t, key=k, value=v, headers=[])
    return bytes(b.build())


def open_log(path, **cfg):
    cfg.setdefault("segment_bytes", SEG)
    cfg.setdefault("cleanup_policy", ("compact",) if "cleanup_policy" not in cfg else cfg["cleanup_policy"])
    return UnifiedLog.open(str(path), LogConfig(**cfg), topic_partition=TP)


def append(log, pairs, **kw):
    info = log.append_as_leader(kv_batch(pairs, **kw), 0, now_ms=now_ms())
    log.update_high_watermark(log.log_end_offset)
    return info


def read_log(log):
    """[(offset, key, value)] of every record in the log, in order, plus the batch list."""
    out = []
    batches = []
    for seg in log.segments:
        data = seg.log.read_bytes(0)
        pos = 0
        while pos + 61 <= len(data):
            size = struct.unpack_from(">i", data, pos + 8)[0] + 12
            b = DefaultRecordBatch(data[pos:pos + size])
            batches.append(b)
            assert b.validate_crc()
            for r in b:
                out.append((r.offset, r.key, r.value))
            pos += size
    return out, batches


def latest(records):
    d = {}
    for off, k, v in records:
        d[k] = (off, v)
    return d


class Harness:
    def __init__(self, tmp_path, **cleaner_cfg):
        self.dir = tmp_path
        self.logs = {}
        self.config = CleanerConfig(**{"dedupe_buffer_size": 1 << 20, "io_buffer_size": 4096, **cleaner_cfg})
        self.manager = LogCleanerManager([str(tmp_path)], lambda: {tp: (str(self.dir), l) for tp, l in self.logs.items()})

    def log(self, name="compacted-0", **cfg):
        log = open_log(self.dir / name, **cfg)
        self.logs[log.topic_partition] = log
        return log

    def clean(self, now=None):
        async def run():
            t = CleanerThread(0, self.config, self.manager)
            try:
                return await t.try_clean_filthiest_log(now), t
            finally:
                await t.shutdown()
        return asyncio.run(run())


def fill_updates(log, keys=10, rounds=20, value=b"v"):
    for r in range(rounds):
        append(log, [(b"k%d" % k, value + b"%d-%d" % (k, r)) for k in range(keys)])


def test_latest_value_per_key_offsets_kept_active_untouched(tmp_path):
    h = Harness(tmp_path)
    log = h.log(min_cleanable_dirty_ratio=0.01)
    fill_updates(log)
    before, _ = read_log(log)
    active_before = log.active_segment.log.read_bytes(0)
    active_base = log.active_segment.base_offset
    cleaned, t = h.clean()
    assert cleaned and t.cleanings == 1
    after, _ = read_log(log)
    # The active segment is byte-for-byte the same.
    assert log.active_segment.base_offset == active_base
    assert log.active_segment.log.read_bytes(0) == active_before
    # Every record kept has its original offset; offsets strictly increase with gaps.
    orig = {off: (k, v) for off, k, v in before}
    offs = [o for o, _, _ in after]
    assert offs == sorted(set(offs)) and len(after) < len(before)
    for off, k, v in after:
        assert orig[off] == (k, v)
    # Below the active segment exactly the latest value per key remains; the latest overall is intact.
    below = [r for r in after if r[0] < active_base]
    keys_below = [k for _, k, _ in below]
    assert len(keys_below) == len(set(keys_below))
    assert latest(after) == latest(before)
    # The log end offset and next offsets do not change.
    assert log.log_end_offset == before[-1][0] + 1
    # Checkpoint written in Kafka's format.
    cp = open(os.path.join(tmp_path, "cleaner-offset-checkpoint")).read().splitlines()
    assert cp[0] == "0" and cp[1] == "1" and cp[2] == f"compacted 0 {active_base}"



def reconfigure(log, **kw):
    log.config = dataclasses.replace(log.config, **kw)


def test_dirty_ratio_against_min_cleanable_dirty_ratio(tmp_path):
    h = Harness(tmp_path)
    log = h.log(min_cleanable_dirty_ratio=0.01)
    fill_updates(log)
    assert h.clean()[0]
    fill_updates(log, rounds=15, value=b"w")
    offsets = h.manager.cleanable_offsets(log, h.manager.all_cleaner_checkpoints().get(TP), now_ms())
    ltc = LogToClean(TP, log, offsets.first_dirty_offset, offsets.first_uncleanable_dirty_offset)
    ratio = ltc.cleanable_ratio
    assert 0 < ratio < 1 and ltc.clean_bytes > 0 and ltc.cleanable_bytes > 0
    reconfigure(log, min_cleanable_dirty_ratio=min(ratio + 0.01, 1.0))
    assert not h.clean()[0]
    reconfigure(log, min_cleanable_dirty_ratio=ratio - 0.01)
    assert h.clean()[0]


def test_min_compaction_lag_keeps_young_segments_dirty(tmp_path):
    h = Harness(tmp_path)
    log = h.log(min_cleanable_dirty_ratio=0.01, min_compaction_lag_ms=3600_000)
    fill_updates(log)  # timestamps: now
    assert not h.clean()[0]
    before, _ = read_log(log)
    assert len(before) == 200
    # The same log with old records: cleaned.
    h2 = Harness(tmp_path / "b")
    os.makedirs(tmp_path / "b")
    log2 = h2.log(min_cleanable_dirty_ratio=0.01, min_compaction_lag_ms=3600_000)
    for r in range(20):
        append(log2, [(b"k%d" % k, b"v%d" % r) for k in range(10)], ts=now_ms() - 2 * 3600_000)
    assert h2.clean()[0]
    assert len(read_log(log2)[0]) < 200


def test_max_compaction_lag_forces_cleaning_below_the_dirty_ratio(tmp_path):
    h = Harness(tmp_path)
    log = h.log(min_cleanable_dirty_ratio=1.0)  # ratio never exceeds 1.0
    for r in range(20):
        append(log, [(b"k%d" % k, b"v%d" % r) for k in range(10)], ts=now_ms() - 3600_000)
    assert not h.clean()[0]
    reconfigure(log, max_compaction_lag_ms=60_000)
    assert h.clean()[0]
    assert len(read_log(log)[0]) < 200


def test_tombstones_get_a_delete_horizon_then_go_after_delete_retention_ms(tmp_path):
    h = Harness(tmp_path)
    log = h.log(min_cleanable_dirty_ratio=0.01, delete_retention_ms=60_000)
    fill_updates(log, keys=5, rounds=5)
    append(log, [(b"k0", None), (b"k1", None)])  # tombstones
    fill_updates(log, keys=1, rounds=40, value=b"x")  # k0 rewritten after its tombstone... 
    append(log, [(b"k2", None)])
    fill_updates(log, keys=1, rounds=1, value=b"y")
    for i in range(30):
        append(log, [(b"other%d" % i, b"o")])
    now = now_ms()
    assert h.clean(now)[0]
    recs, batches = read_log(log)
    active_base = log.active_segment.base_offset
    kept = latest([r for r in recs if r[0] < active_base])
    assert kept[b"k2"][1] is None and kept[b"k1"][1] is None  # tombstones kept until the horizon
    horizon_batches = [b for b in batches if b.attributes & 0x40]
    assert horizon_batches
    for b in horizon_batches:  # deleteHorizonMs = cleaning time + delete.retention.ms, as the base timestamp
        assert b.first_timestamp == now + 60_000
    # Before the horizon a second cleaning keeps them; after it, they are removed.
    for i in range(30):
        append(log, [(b"more%d" % i, b"m")])
    assert h.clean(now + 30_000)[0]
    kept = latest([r for r in read_log(log)[0] if r[0] < log.active_segment.base_offset])
    assert kept[b"k2"][1] is None
    for i in range(30):
        append(log, [(b"again%d" % i, b"a")])
    assert h.clean(now + 61_000)[0]
    recs, _ = read_log(log)
    keys = {k for o, k, v in recs if o < log.active_segment.base_offset}
    assert b"k1" not in keys and b"k2" not in keys
    assert b"k0" in keys  # rewritten after its tombstone: the later value stays


def test_compact_delete_applies_retention(tmp_path):
    h = Harness(tmp_path)
    log = h.log(cleanup_policy=("compact", "delete"), retention_ms=3600_000, min_cleanable_dirty_ratio=1.0)
    for r in range(20):
        append(log, [(b"k%d" % k, b"v%d" % r) for k in range(10)], ts=now_ms() - 2 * 3600_000)
    log.roll()
    append(log, [(b"new", b"n")])
    assert not h.clean()[0]  # not cleaned (ratio), but retention.ms applied by the cleaner
    assert log.log_start_offset == 200
    assert [k for _, k, _ in read_log(log)[0]] == [b"new"]
    # cleanup.policy=compact alone: no time retention.
    log2 = h.log("compacted-1", min_cleanable_dirty_ratio=1.0, retention_ms=3600_000)
    for r in range(20):
        append(log2, [(b"k%d" % k, b"v%d" % r) for k in range(10)], ts=now_ms() - 2 * 3600_000)
    h.clean()
    assert log2.log_start_offset == 0


@pytest.mark.parametrize("codec", [1, 2, 3, 4], ids=["gzip", "snappy", "lz4", "zstd"])
def test_compressed_batches_are_recompressed_with_their_codec(tmp_path, codec):
    h = Harness(tmp_path)
    log = h.log(min_cleanable_dirty_ratio=0.01)
    for r in range(20):
        append(log, [(b"k%d" % k, b"value-%d-%d" % (k, r) * 20) for k in range(10)], compression=codec)
    before, before_batches = read_log(log)
    assert all(b.compression_type == codec for b in before_batches)
    assert h.clean()[0]
    after, batches = read_log(log)
    assert len(after) < len(before) and latest(after) == latest(before)
    # Rebuilt batches keep the codec; only a retained-empty batch (no records) has none.
    assert all(b.compression_type == codec or b.record_count == 0 for b in batches)
    orig = {o: (k, v) for o, k, v in before}
    assert all(orig[o] == (k, v) for o, k, v in after)


def marker(pid, epoch, commit, ts):
    b = MemoryRecordsBuilder(0, ts, pid, epoch, -1, True, True)
    b.append(struct.pack(">hh", 0, 1 if commit else 0), struct.pack(">hi", 0, 0))
    return b.build()


def test_aborted_transactions_removed_markers_and_active_producer_batches_kept(tmp_path):
    h = Harness(tmp_path)
    log = h.log(min_cleanable_dirty_ratio=0.01)
    ts = now_ms()
    # Transaction 1 (pid 7) commits, transaction 2 (pid 8) aborts; later plain updates of the keys.
    append(log, [(b"t1", b"committed")], producer_id=7, producer_epoch=0, base_sequence=0, transactional=True)
    append(log, [(b"t2", b"aborted")], producer_id=8, producer_epoch=0, base_sequence=0, transactional=True)
    # The markers as the transaction coordinator writes them (WriteTxnMarkers, origin
    # COORDINATOR); the log is reopened to clean what a load rebuilds.
    from fastkafka.storage.producer_state_manager import AppendOrigin
    for m in (marker(7, 0, True, ts), marker(8, 0, False, ts)):
        log.append_as_leader(m, 0, now_ms=ts, origin=AppendOrigin.COORDINATOR)
    log.close()
    log = h.logs[TP] = UnifiedLog.open(log.dir, log.config, topic_partition=TP)
    log.update_high_watermark(log.log_end_offset)
    assert log.producer_state_manager.first_unstable_offset is None
    # An idempotent producer whose last batch holds only superseded keys.
    append(log, [(b"k0", b"idem")], producer_id=9, producer_epoch=0, base_sequence=0)
    fill_updates(log, keys=10, rounds=20)
    assert h.clean()[0]
    recs, batches = read_log(log)
    values = {v for _, _, v in recs}
    assert b"committed" in values and b"aborted" not in values
    controls = [b for b in batches if b.is_control_batch]
    assert len(controls) == 2
    # The idempotent producer's last batch survives as an empty batch (producer state).
    pid9 = [b for b in batches if b.producer_id == 9]
    assert len(pid9) == 1 and list(pid9[0]) == []
    # Producer state reloads the same after a restart.
    log.close()
    re = UnifiedLog.open(log.dir, log.config, topic_partition=TP)
    assert re.producer_state_manager.last_entry(9).last_seq == 0
    re.close()


def _cleaned_but_not_swapped(tmp_path):
    log = open_log(tmp_path / "c-0", min_cleanable_dirty_ratio=0.01)
    fill_updates(log)
    before, _ = read_log(log)
    offsets_ = LogCleanerManager([str(tmp_path)], lambda: {}).cleanable_offsets(log, None, now_ms())
    ltc = LogToClean(TP, log, offsets_.first_dirty_offset, offsets_.first_uncleanable_dirty_offset)
    cleaner = Cleaner(0, OffsetMap(1 << 20), 4096, 1 << 20, 0.9)
    result = cleaner.clean(CleaningJob.snapshot(ltc), now_ms())
    assert result.groups
    return log, before, result


def _reopen(log):
    return UnifiedLog.open(log.dir, log.config, topic_partition=TP, had_clean_shutdown=False)


def _check_compacted(log, before):
    after, _ = read_log(log)
    assert latest(after) == latest(before) and len(after) < len(before)
    orig = {o: (k, v) for o, k, v in before}
    assert all(orig[o] == (k, v) for o, k, v in after)
    assert not [f for f in os.listdir(log.dir) if f.endswith((".cleaned", ".swap"))]


def test_crash_with_cleaned_files_keeps_the_old_segments(tmp_path):
    log, before, result = _cleaned_but_not_swapped(tmp_path)
    assert [f for f in os.listdir(log.dir) if f.endswith(".cleaned")]
    re = _reopen(log)
    assert read_log(re)[0] == before
    assert not [f for f in os.listdir(log.dir) if f.endswith((".cleaned", ".swap"))]


def test_crash_after_rename_to_swap_completes_the_swap(tmp_path):
    log, before, result = _cleaned_but_not_swapped(tmp_path)
    for new, _old in result.groups:
        new.change_file_suffixes(".cleaned", ".swap")
    _check_compacted(_reopen(log), before)


def test_crash_after_old_segments_deleted_completes_the_swap(tmp_path):
    log, before, result = _cleaned_but_not_swapped(tmp_path)
    for new, old in result.groups:
        new.change_file_suffixes(".cleaned", ".swap")
        for seg in old:
            seg.change_file_suffixes("", ".deleted")
    _check_compacted(_reopen(log), before)


def test_crash_after_swap_with_deleted_leftovers(tmp_path):
    log, before, result = _cleaned_but_not_swapped(tmp_path)
    assert result.swap_into(log)
    assert [f for f in os.listdir(log.dir) if f.endswith(".deleted")]
    _check_compacted(_reopen(log), before)
    assert not [f for f in os.listdir(log.dir) if f.endswith(".deleted")]


def test_swap_at_or_above_a_cleaned_file_is_an_incomplete_group(tmp_path):
    log, before, result = _cleaned_but_not_swapped(tmp_path)
    new, _old = result.groups[0]
    new.change_file_suffixes(".cleaned", ".swap")
    # A .cleaned file at a lower offset: the .swap is from an unfinished operation and goes.
    open(os.path.join(log.dir, "%020d.log.cleaned" % (new.base_offset - 1 if new.base_offset else 0)), "wb").close()
    re = _reopen(log)
    assert read_log(re)[0] == before


def test_swap_is_dropped_when_segments_changed_meanwhile(tmp_path):
    log, before, result = _cleaned_but_not_swapped(tmp_path)
    log.truncate_to(10)
    assert not result.swap_into(log)
    assert not [f for f in os.listdir(log.dir) if f.endswith((".cleaned", ".swap"))]
    assert [o for o, _, _ in read_log(log)[0]] == list(range(10))


def test_offset_map_full_cleans_in_several_rounds(tmp_path):
    h = Harness(tmp_path, dedupe_buffer_size=24 * 60)  # 60 slots, 54 keys per cleaning
    log = h.log(min_cleanable_dirty_ratio=0.01)
    for r in range(3):
        for k in range(0, 100, 10):
            append(log, [(b"k%d" % (k + i), b"v%d" % r) for i in range(10)])
    before, _ = read_log(log)
    rounds = 0
    while h.clean()[0] and rounds < 20:
        rounds += 1
    assert rounds >= 2
    after, _ = read_log(log)
    assert latest(after) == latest(before)
    below = [k for o, k, _ in after if o < log.active_segment.base_offset]
    assert len(below) == len(set(below))


def test_offset_map_basics():
    m = OffsetMap(24 * 100)
    assert m.slots == 100 and m.get(b"a") == -1
    m.put(b"a", 5)
    m.put(b"", 6)  # an empty key is a key
    m.put(b"a", 9)
    assert m.get(b"a") == 9 and m.get(b"") == 6 and m.size == 2 and m.latest_offset == 9
    m.clear()
    assert m.size == 0 and m.get(b"a") == -1 and m.latest_offset == -1


def _raw_append(h, log, batch_bytes):
    """Write a marker as the transaction coordinator does (origin COORDINATOR), then reopen."""
    from fastkafka.storage.producer_state_manager import AppendOrigin
    log.append_as_leader(batch_bytes, 0, now_ms=now_ms(), origin=AppendOrigin.COORDINATOR)
    log.close()
    log = h.logs[TP] = UnifiedLog.open(log.dir, log.config, topic_partition=TP)
    log.update_high_watermark(log.log_end_offset)
    return log


def test_commit_marker_of_an_emptied_transaction_goes_after_its_delete_horizon(tmp_path):
    h = Harness(tmp_path)
    log = h.log(min_cleanable_dirty_ratio=0.01, delete_retention_ms=60_000)
    ts = now_ms()
    append(log, [(b"t1", b"txn1")], producer_id=7, producer_epoch=0, base_sequence=0, transactional=True)
    log = _raw_append(h, log, marker(7, 0, True, ts))
    append(log, [(b"t9", b"txn2")], producer_id=7, producer_epoch=0, base_sequence=1, transactional=True)
    log = _raw_append(h, log, marker(7, 0, True, ts))
    append(log, [(b"t1", b"plain")])  # supersedes the first transaction's only record
    fill_updates(log, rounds=20)

    def markers():
        return [b for b in read_log(log)[1] if b.is_control_batch]

    def dirty_again(tag):
        for i in range(30):
            append(log, [(b"%s%d" % (tag, i), b"x")])

    now = now_ms()
    assert h.clean(now)[0]
    assert len(markers()) == 2  # the first transaction's batch was read in this pass
    assert [v for _o, k, v in read_log(log)[0] if k == b"t1"] == [b"plain"]
    dirty_again(b"a")
    assert h.clean(now + 1000)[0]
    ms = markers()
    assert len(ms) == 2 and ms[0].attributes & 0x40 and ms[0].first_timestamp == now + 1000 + 60_000
    assert not ms[1].attributes & 0x40  # its transaction still has data
    dirty_again(b"b")
    assert h.clean(now + 1000 + 60_001)[0]
    ms = markers()
    assert len(ms) == 1 and not ms[0].attributes & 0x40
    assert b"txn2" in {v for _o, _k, v in read_log(log)[0]}


def test_throttler_sleeps_off_excess_rate():
    from fastkafka.storage.log_cleaner import Throttler
    t = Throttler(1000.0, check_interval_ms=1)
    start = time.monotonic()
    time.sleep(0.002)
    t.maybe_throttle(100)  # 100 bytes at 1000 B/s: about 0.1 s in total
    assert time.monotonic() - start >= 0.09


def test_reconfigure_restarts_threads_with_the_new_config(tmp_path):
    from fastkafka.storage.cleaner_thread import LogCleaner

    async def run():
        lc = LogCleaner(CleanerConfig(dedupe_buffer_size=1 << 20, backoff_ms=50), [str(tmp_path)], lambda: {})
        lc.startup()
        assert len(lc.threads) == 1
        await lc.reconfigure({"log.cleaner.threads": "2", "log.cleaner.dedupe.buffer.size": str(1 << 20)})
        assert len(lc.threads) == 2 and lc.threads[0].cleaner.offset_map.slots == (1 << 19) // 24
        await lc.shutdown()
    asyncio.run(run())


def test_manager_states_abort_pause_resume(tmp_path):
    h = Harness(tmp_path)
    log = h.log(min_cleanable_dirty_ratio=0.01)
    fill_updates(log)
    m = h.manager
    ltc = m.grab_filthiest_compacted_log(now_ms())
    assert ltc is not None and m.in_progress[TP].name == "LogCleaningInProgress"
    assert m.grab_filthiest_compacted_log(now_ms()) is None  # never handed out twice
    m.abort_and_pause_cleaning(TP)
    assert m.is_aborted(TP)
    m.done_cleaning(TP, str(tmp_path), ltc.first_uncleanable_offset)
    assert m.in_progress[TP].name == "LogCleaningPaused" and m.all_cleaner_checkpoints() == {}
    m.abort_and_pause_cleaning(TP)
    assert m.in_progress[TP].paused_count == 2
    assert m.grab_filthiest_compacted_log(now_ms()) is None and m.deletable_logs() == []
    m.resume_cleaning([TP])
    m.resume_cleaning([TP])
    assert TP not in m.in_progress
    assert m.grab_filthiest_compacted_log(now_ms()) is not None
    m.done_cleaning(TP, str(tmp_path), 42)
    assert m.all_cleaner_checkpoints() == {TP: 42}


def test_invalid_checkpoint_resets_to_log_start(tmp_path):
    h = Harness(tmp_path)
    log = h.log(min_cleanable_dirty_ratio=0.01)
    fill_updates(log)
    m = h.manager
    assert m.cleanable_offsets(log, 10**9, now_ms()).first_dirty_offset == 0  # past the log end
    o = m.cleanable_offsets(log, 10**9, now_ms())
    assert o.force_update_checkpoint
    log.maybe_increment_log_start_offset(50)
    o = m.cleanable_offsets(log, 10, now_ms())  # below the log start
    assert o.first_dirty_offset == 50 and o.force_update_checkpoint
    # The first uncleanable offset never passes the high watermark nor the active segment.
    log.update_high_watermark(60)
    o = m.cleanable_offsets(log, 50, now_ms())
    assert o.first_uncleanable_dirty_offset == 60
    log.update_high_watermark(log.log_end_offset)
    o = m.cleanable_offsets(log, 50, now_ms())
    assert o.first_uncleanable_dirty_offset == log.active_segment.base_offset
    # A corrupt checkpoint file reads as empty (clean from the log start), as Kafka logs and goes on.
    with open(tmp_path / "cleaner-offset-checkpoint", "w") as f:
        f.write("garbage\n")
    assert m.all_cleaner_checkpoints() == {}
