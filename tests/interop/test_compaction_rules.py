"""The log cleaner's rules, each shown with real clients reading the result: keyless records are
rejected on compacted topics, min.compaction.lag.ms keeps young records, min.cleanable.dirty.ratio
holds a log back until enough of it is dirty, max.compaction.lag.ms forces a cleaning below the
ratio, compact,delete applies time retention to a compacted log, and aborted transactions (written by
confluent-kafka's transactional producer) are removed by the cleaner.

A rule that keeps a log uncleaned is shown against a control topic on the same broker that the
cleaner did clean meanwhile (no fixed sleeps). Marker removal after delete.retention.ms is covered by
tests/storage/test_log_cleaner.py."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from confluent_kafka import KafkaError, Producer, TopicPartition

from broker_process import BrokerProcess
from clients import confluent
from compaction_support import (MiB, check_compacted, cleaner_checkpoint, produce_confluent, read_all_confluent,
                                read_all_kafka_python, updates, wait_for)

pytestmark = pytest.mark.interop

BROKER_PROPS = {
    "log.cleaner.backoff.ms": "200",
    "log.cleaner.dedupe.buffer.size": str(8 * MiB),
    "log.initial.task.delay.ms": "0",
    "log.retention.check.interval.ms": "500",
    "log.segment.delete.delay.ms": "1000",
}
COMPACT = {"cleanup.policy": "compact", "segment.bytes": str(MiB), "min.cleanable.dirty.ratio": "0.01"}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("compaction-rules"), extra_props=BROKER_PROPS)
    b.start()
    try:
        yield b
    finally:
        b.stop()


def _watermarks(bootstrap: str, topic: str) -> tuple[int, int]:
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-watermarks"})
    try:
        low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)
        return int(low), int(high)
    finally:
        c.close()


def test_keyless_records_rejected_on_compacted_topics(broker: BrokerProcess, topic_name: str) -> None:
    from kafka import KafkaProducer
    from kafka.errors import InvalidRecordError

    confluent.create_topic(broker.bootstrap, topic_name, 1, COMPACT)
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "retries": 0})
    results: list[tuple[bytes | None, KafkaError | None]] = []
    for key, value in ((None, b"no key"), (b"k", b"keyed"), (b"k", None)):
        p.produce(topic_name, key=key, value=value, partition=0,
                  on_delivery=lambda err, msg: results.append((msg.key(), err)))
        p.flush(30)
    errors = {k: (e.code() if e else None) for k, e in results}
    assert errors == {None: KafkaError.INVALID_RECORD, b"k": None}, results
    kp = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", retries=0)
    with pytest.raises(InvalidRecordError):
        kp.send(topic_name, value=b"no key either", partition=0).get(timeout=30)
    kp.close()
    # Only the keyed record and the keyed tombstone are in the log.
    assert [(k, v) for _o, k, v in read_all_confluent(broker.bootstrap, topic_name)] == [(b"k", b"keyed"), (b"k", None)]


def test_min_compaction_lag_keeps_young_records(broker: BrokerProcess, topic_name: str) -> None:
    lagged, control = f"{topic_name}-lagged", f"{topic_name}-control"
    confluent.create_topic(broker.bootstrap, lagged, 1, {**COMPACT, "min.compaction.lag.ms": "3600000"})
    confluent.create_topic(broker.bootstrap, control, 1, COMPACT)
    data = updates(50, 60, 1000)
    produce_confluent(broker.bootstrap, lagged, data)
    acked = produce_confluent(broker.bootstrap, control, data)
    cleaned = wait_for("the control topic to be cleaned", lambda: cleaner_checkpoint(broker, control))
    check_compacted(read_all_confluent(broker.bootstrap, control), acked, cleaned)
    # The same data, younger than min.compaction.lag.ms: every record is still there.
    assert cleaner_checkpoint(broker, lagged) in (None, 0)
    assert len(read_all_kafka_python(broker.bootstrap, lagged)) == len(data)


def test_dirty_ratio_holds_back_a_log_and_max_compaction_lag_overrides_it(broker: BrokerProcess,
                                                                         topic_name: str) -> None:
    """Wave 1 (3,000 distinct keys) is cleaned everywhere (a never-cleaned log is all dirty).
    Wave 2 updates 1,500 of those keys: about a quarter of each log is dirty. Below ratio 0.9 the
    `ratio` topic waits; `forced` (same ratio, max.compaction.lag.ms=1000) and `control` (0.01)
    are cleaned again."""
    names = {"ratio": f"{topic_name}-ratio", "forced": f"{topic_name}-forced", "control": f"{topic_name}-control"}
    configs = {"ratio": {**COMPACT, "min.cleanable.dirty.ratio": "0.9"},
               "forced": {**COMPACT, "min.cleanable.dirty.ratio": "0.9", "max.compaction.lag.ms": "1000"},
               "control": COMPACT}
    for role, t in names.items():
        confluent.create_topic(broker.bootstrap, t, 1, configs[role])
    wave1 = updates(3000, 1, 1000, b"w1")
    acked = {role: produce_confluent(broker.bootstrap, t, wave1) for role, t in names.items()}
    first = {role: wait_for(f"first cleaning of {role}", lambda t=t: cleaner_checkpoint(broker, t))
             for role, t in names.items()}
    wave2 = updates(1500, 1, 1000, b"w2")
    for role, t in names.items():
        acked[role].update(produce_confluent(broker.bootstrap, t, wave2))
    for role in ("control", "forced"):
        t = names[role]
        # A cleaning that reaches into wave 2: the first one may have started while wave 1 was still
        # being produced, and then a later one cleans only the rest of wave 1 (distinct keys, no gap).
        again = wait_for(f"a cleaning of {role} past wave 1",
                         lambda t=t: (cp := cleaner_checkpoint(broker, t)) is not None and cp > len(wave1) and cp)
        records = read_all_confluent(broker.bootstrap, t)
        check_compacted(records, acked[role], again)
        assert len(records) < len(wave1) + len(wave2)
    # The ratio topic was passed over while the other two were cleaned: updated keys appear twice.
    assert cleaner_checkpoint(broker, names["ratio"]) == first["ratio"]
    records = read_all_confluent(broker.bootstrap, names["ratio"])
    assert len(records) == len(wave1) + len(wave2)
    assert sum(1 for n in Counter(k for _o, k, _v in records).values() if n == 2) == len(wave2)


def test_compact_delete_applies_time_retention_to_a_compacted_log(broker: BrokerProcess, topic_name: str) -> None:
    """Records an hour old fill the first segments; with retention.ms of ten minutes those
    segments are deleted (the log start offset moves to a segment boundary) even though they hold
    the only value of their keys, while the recent records are compacted."""
    confluent.create_topic(broker.bootstrap, topic_name, 1,
                           {**COMPACT, "cleanup.policy": "compact,delete", "retention.ms": "600000"})
    hour_ago = int(time.time() * 1000) - 3600_000
    old = produce_confluent(broker.bootstrap, topic_name, updates(2500, 1, 1000, b"old", b"old"),
                            timestamp_ms=hour_ago)
    recent = produce_confluent(broker.bootstrap, topic_name, updates(50, 60, 1000, b"new", b"new"))
    first_recent = min(o for o, _v in recent.values()) - 50 * 59  # the first record of the recent data
    low = wait_for("retention to move the log start offset",
                   lambda: (w := _watermarks(broker.bootstrap, topic_name)[0]) > 0 and w)
    assert low <= first_recent  # only segments whose every record expired are deleted
    part = broker.partition_dir(topic_name, 0)
    assert f"{low:020d}.log" in {p.name for p in part.iterdir()}
    cleaned = wait_for("the cleaner to checkpoint the topic",
                       lambda: (cp := cleaner_checkpoint(broker, topic_name)) is not None and cp > first_recent and cp)
    records = read_all_confluent(broker.bootstrap, topic_name)
    assert records[0][0] >= low
    survivors = {k for o, k, _v in records if k is not None and k.startswith(b"old")}
    assert all(old[k][0] >= low for k in survivors)
    assert len(survivors) < len(old)
    check_compacted(records, recent, cleaned)


def _read_to_end(bootstrap: str, topic: str, isolation: str) -> list[tuple[int, bytes | None, bytes | None]]:
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-txn-reader", "enable.auto.commit": False,
                  "enable.partition.eof": True, "isolation.level": isolation, "max.partition.fetch.bytes": 4 * MiB})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        out: list[tuple[int, bytes | None, bytes | None]] = []
        while True:
            m = c.poll(30)
            assert m is not None, "no end of partition"
            if m.error() is not None:
                assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                return out
            out.append((m.offset(), m.key(), m.value()))
    finally:
        c.close()


def test_cleaner_removes_aborted_transactions(broker: BrokerProcess, topic_name: str) -> None:
    """A committed and an aborted transaction (confluent-kafka's transactional producer), then enough
    plain records to roll both into cleanable segments: once cleaned, even a read_uncommitted consumer
    sees none of the aborted records (Kafka's cleaner drops aborted transactional data), the committed
    ones are all there, and read_committed reads the same as before the cleaning."""
    confluent.create_topic(broker.bootstrap, topic_name, 1, COMPACT)
    p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": f"{topic_name}-tx"})
    p.init_transactions(30)
    pad = b"x" * 1000
    for tag, commit in ((b"c", True), (b"a", False)):
        p.begin_transaction()
        for i in range(1000):
            p.produce(topic_name, key=b"%s-key-%d" % (tag, i), value=tag + b"-%d-" % i + pad, partition=0)
        p.flush(30)
        (p.commit_transaction if commit else p.abort_transaction)(30)
    before = [(k, v) for _o, k, v in _read_to_end(broker.bootstrap, topic_name, "read_committed")]
    assert len(before) == 1000 and all(v.startswith(b"c-") for _k, v in before if v)
    produce_confluent(broker.bootstrap, topic_name, updates(1500, 1, 1000, b"filler"))
    # Offsets: committed 0-999, its marker 1000, aborted 1001-2000, its marker 2001, then the filler.
    wait_for("a cleaning past both transactions",
             lambda: (cp := cleaner_checkpoint(broker, topic_name)) is not None and cp > 2001)
    uncommitted = _read_to_end(broker.bootstrap, topic_name, "read_uncommitted")
    assert not [v for _o, _k, v in uncommitted if v and v.startswith(b"a-")], "aborted records survived cleaning"
    assert sum(1 for _o, _k, v in uncommitted if v and v.startswith(b"c-")) == 1000
    after = [(k, v) for _o, k, v in _read_to_end(broker.bootstrap, topic_name, "read_committed")
             if v and v.startswith(b"c-")]
    assert after == before
