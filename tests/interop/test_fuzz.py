"""Every handler answers: mutated real-client frames of every API against the real broker process.

`fuzz_frames.run_fuzz` sends FASTKAFKA_FUZZ_FRAMES frames (default 100,000; `make fuzz-long` sends
10,000,000) of `FrameMutator(FASTKAFKA_FUZZ_SEED)` over FASTKAFKA_FUZZ_CONNECTIONS pipelined
connections, under the responsiveness probe. The broker must answer each frame with a Kafka
answer or close only that connection (Kafka closes on a request it cannot parse; a handler that
raises answers UNKNOWN_SERVER_ERROR), never hang, never log a traceback or an unexpected ERROR,
and keep its RSS flat; a real client's produce+consume works afterwards.

Flat means at equal state: mutated CreateTopics and OffsetCommit frames make new topics (up to
thousands of partitions each) and groups every second, and each partition's log costs the broker
~8 KB as it does Kafka. Every CLEANUP_FRAMES frames (or a tenth of the run, if shorter) a thread
beside the fuzz deletes the topics and empty groups it finds, then samples the RSS; the first
sample after a tenth of the frames (the broker's warm-up) is compared with one taken after a last
clean-up at the end. The interval is fixed in frames so that the long run holds as much state at
its peaks as the short one: CPython keeps the memory of a peak (its 1 MiB object arenas are
returned only when wholly empty; tracemalloc showed the live Python heap back at its size while
RSS kept the peak), so with clean-ups every million frames RSS followed the biggest burst of
fuzzed topics seen so far (128 -> 248 MB over 10 M frames), which measures the fuzz's peaks, not
growth per frame. With clean-ups every 100,000: 49 MB at 100k, 126 at 1.1M, 120-126 to 4.1M,
152 at 5.1M, 157 at 10M.

Apache Kafka 4.4 runs the same frames (FASTKAFKA_TEST_TARGET=apache): hangs and undecodable
answers fail there too, but the log checks and bounds apply to fastkafka only: Apache logs a
request it cannot parse as ERROR "Closing socket for ... because of error" with the
InvalidRequestException's stack trace (SocketServer.processChannelException), which is its
documented behaviour, not a crash.
"""
from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import Iterator

import psutil
import pytest

from broker_process import BrokerProcess
from broker_process import test_target as _target
from clients import confluent
from fuzz_frames import FrameMutator, run_fuzz
from interop_data import Rec, assert_same_records, with_expected_offsets
from responsiveness import responsiveness_probe

pytestmark = pytest.mark.interop

# Apache answers ~100 malformed frames/s on 2 cores (each close is logged with its stack trace),
# so against it the default is 10,000 frames; FASTKAFKA_FUZZ_FRAMES sets both.
FRAMES = int(os.environ.get("FASTKAFKA_FUZZ_FRAMES", "100000" if _target() == "fastkafka" else "10000"))
SEED = int(os.environ.get("FASTKAFKA_FUZZ_SEED", "1"))
CONNECTIONS = int(os.environ.get("FASTKAFKA_FUZZ_CONNECTIONS", "16"))
CLEANUP_FRAMES = min(100_000, max(1, FRAMES // 10))

# ERROR lines fastkafka writes on purpose, as Kafka does, for a fuzzed but valid request:
# ReplicaManager.readFromLog logs a negative partition_max_bytes at ERROR (one line, no stack)
# and answers UNKNOWN_SERVER_ERROR for that partition.
EXPECTED_ERRORS = (re.compile(r"ERROR Error processing fetch with max size -\d+ on partition "),)


@pytest.fixture(scope="module")
def fuzzed_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """A broker of this module's own: the fuzz deletes topics and groups it finds."""
    b = BrokerProcess(tmp_path_factory.mktemp("fuzzed"))
    b.start()
    try:
        yield b
    finally:
        if b.is_alive():
            b.stop()


def _rss(b: BrokerProcess) -> int:
    assert b.proc is not None
    return int(psutil.Process(b.proc.pid).memory_info().rss)


def _drop_fuzz_state(b: BrokerProcess) -> None:
    """Delete every non-internal topic and every empty group (what the fuzz created)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    names = [t for t in admin.list_topics(timeout=60).topics if not t.startswith("__")]
    for i in range(0, len(names), 200):
        for fut in admin.delete_topics(names[i:i + 200], operation_timeout=60).values():
            try:
                fut.result(120)
            except Exception:  # deleted by the fuzz meanwhile
                pass
    try:
        groups = [g.group_id for g in admin.list_consumer_groups(request_timeout=60).result(120).valid]
    except Exception:
        groups = []
    for i in range(0, len(groups), 200):
        for fut in admin.delete_consumer_groups(groups[i:i + 200], request_timeout=60).values():
            try:
                fut.result(120)
            except Exception:  # NON_EMPTY_GROUP: a fuzzed member; it expires with its session
                pass


def _unexpected_log_lines(b: BrokerProcess) -> list[str]:
    bad = []
    with open(b.log_path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace")
            if "Traceback" in line or " CRITICAL " in line:
                bad.append(line.rstrip())
            elif " ERROR " in line and not any(p.search(line) for p in EXPECTED_ERRORS):
                bad.append(line.rstrip())
    return bad


@pytest.mark.timeout(max(300, FRAMES // 400))  # the long run: ~3,500 frames/s here
def test_mutated_frames_of_every_api_are_answered_or_closed(fuzzed_broker: BrokerProcess, topic_name: str) -> None:
    b = fuzzed_broker
    mutator = FrameMutator(SEED)
    assert len(mutator.apis) >= 45, "the corpus covers every API the broker serves"
    rss: dict[str, int] = {}
    next_cleanup = [CLEANUP_FRAMES]
    samples: list[tuple[int, int]] = []  # (frames done, RSS after the clean-up)
    cleaner: list[threading.Thread] = []

    def clean_then_sample(done: int) -> None:
        _drop_fuzz_state(b)
        time.sleep(1.0)  # the files go on the broker's file worker
        if done >= FRAMES // 10:
            rss.setdefault("early", _rss(b))
        samples.append((done, _rss(b)))

    def progress(done: int) -> None:
        if done >= next_cleanup[0] and not (cleaner and cleaner[-1].is_alive()):
            next_cleanup[0] = done + CLEANUP_FRAMES
            cleaner.append(threading.Thread(target=clean_then_sample, args=(done,), daemon=True))
            cleaner[-1].start()
        if done % 1_000_000 < 10_000:
            print(f"  {done} frames, broker RSS {_rss(b) / 2**20:.0f} MB", flush=True)

    with responsiveness_probe(b, interval=0.05) as probe:
        res = asyncio.run(run_fuzz("127.0.0.1", b.port, FRAMES, seed=SEED, connections=CONNECTIONS,
                                   progress=progress, progress_every=10_000, mutator=mutator))
        for t in cleaner:
            t.join()
        time.sleep(0.5)
        assert b.is_alive(), f"the broker died:\n{b.log_tail()}"
        _drop_fuzz_state(b)
        time.sleep(1.0)
    rss["end"] = _rss(b)
    print(f"[{b.target}] fuzz seed {SEED}: {res.summary()}")
    print(f"[{b.target}] broker RSS after the first clean-up: {rss.get('early', 0) / 2**20:.0f} MB, "
          f"after the last: {rss['end'] / 2**20:.0f} MB ({len(cleaner) + 1} clean-ups)")
    if len(samples) > 10:
        step = len(samples) // 10
        print(f"[{b.target}] RSS after clean-ups: " + ", ".join(
            f"{d // 1000}k: {r / 2**20:.0f} MB" for d, r in samples[::step]))
    for h in res.hangs[:50]:
        print(f"[{b.target}] hang: {h}")
    assert res.frames == FRAMES
    assert not res.bad_answers, res.bad_answers[:10]
    if b.target == "fastkafka":
        # Apache 4.4 leaves some mutated frames unanswered and the connection open (seen:
        # AddPartitionsToTxn v4, the broker-to-broker batched version, with no transactions);
        # the hangs are printed above for the record, they are not fastkafka's to fix.
        assert not res.hangs, res.hangs[:10]
        bad = _unexpected_log_lines(b)
        assert not bad, "\n".join(bad[:40])
        # Flat at equal state: allocator noise, not growth per frame.
        assert rss["end"] < 512 * 2**20
        assert rss["end"] < rss.get("early", rss["end"]) * 1.5 + 64 * 2**20, rss
    probe.assert_responsive()

    # A real client still works.
    confluent.create_topic(b.bootstrap, topic_name, 1)
    recs = [Rec(partition=0, key=f"k{i}".encode(), value=f"after fuzz {i}".encode(), headers=(),
                timestamp=1_700_000_000_000 + i) for i in range(50)]
    confluent.produce(b.bootstrap, topic_name, recs)
    got = confluent.consume_assigned(b.bootstrap, topic_name, {0: len(recs)})
    assert_same_records(got, with_expected_offsets(recs))


# -- what the fuzzer found, as plain regressions ------------------------------------------------------

def test_topic_deleted_and_recreated_at_once_serves_records(fuzzed_broker: BrokerProcess, topic_name: str) -> None:
    """Found by the fuzz target (replayed DeleteTopics/CreateTopics of one name): a topic
    re-created while its old partition dirs were still being removed off the loop met the old
    files: the metadata publisher failed with INCONSISTENT_TOPIC_ID (a traceback) and the
    partition was never served; for `__consumer_offsets` the broker lost its new log's files."""
    from confluent_kafka.admin import AdminClient, NewTopic

    b = fuzzed_broker
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    for round_ in range(8):
        admin.create_topics([NewTopic(topic_name, 2, 1)], operation_timeout=30)[topic_name].result(60)
        recs = [Rec(partition=p, key=b"k", value=f"round {round_}".encode(), headers=(),
                    timestamp=1_700_000_000_000 + round_) for p in (0, 1)]
        confluent.produce(b.bootstrap, topic_name, recs)
        got = confluent.consume_assigned(b.bootstrap, topic_name, {0: 1, 1: 1})
        assert_same_records(got, with_expected_offsets(recs))
        admin.delete_topics([topic_name], operation_timeout=30)[topic_name].result(60)
        deadline = time.monotonic() + 30
        while topic_name in admin.list_topics(timeout=10).topics and time.monotonic() < deadline:
            time.sleep(0.05)
    if b.target == "fastkafka":
        bad = _unexpected_log_lines(b)
        assert not bad, "\n".join(bad[:20])


def test_longest_topic_name_is_deleted_from_disk(fuzzed_broker: BrokerProcess) -> None:
    """Found by the fuzz target: a 249-character topic's partition dir could not be renamed to
    `<dir>.<uuid>-delete` (256+ bytes: ENAMETOOLONG), so DeleteTopics left it on disk with an
    ERROR. Kafka shortens the topic part of the name (LocalLog.logDeleteDirName)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    b = fuzzed_broker
    name = "y" * 249
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(name, 1, 1)], operation_timeout=30)[name].result(60)
    confluent.produce(b.bootstrap, name, [Rec(partition=0, key=None, value=b"v", headers=(),
                                               timestamp=1_700_000_000_000)])
    admin.delete_topics([name], operation_timeout=30)[name].result(60)
    live = os.path.join(b.log_dirs[0], f"{name}-0")
    deadline = time.monotonic() + 30
    while os.path.exists(live) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(live), "the deleted partition's dir is still in place"
