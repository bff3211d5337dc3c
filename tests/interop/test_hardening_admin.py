"""Hardening (issue 13): big admin operations must not stall, exhaust or break the broker.

Each test drives a real admin client (confluent-kafka AdminClient) while the responsiveness probe
measures the broker (worst ApiVersions wait < 100 ms, RSS < 512 MB, fastkafka only), then shows
that a real producer and consumer still work:

- CreateTopics of one topic with num_partitions=2^31-1, validate_only (kafka-python: librdkafka
  refuses more than 100,000 locally): refused before anything is allocated with POLICY_VIOLATION
  'Excessively large number of partitions per request.' (Kafka's MAX_PARTITIONS_PER_BATCH=10,000
  partitions per CreateTopics; Kafka 4.4 answers the same);
- CreateTopics with 100,000 partitions (real): refused the same way; then a real 9,999-partition
  create (9,999 PartitionRecords + 1 TopicRecord = the 10,000-record MAX_RECORDS_PER_USER_OP) with
  the probe on, and a record produced to its last partition;
- DeleteTopics of 100 topics x 4 partitions, each partition holding data; fastkafka removes the
  renamed dirs at once (off the event loop), Apache 4.4 renames them `-delete` and removes them
  after file.delete.delay.ms (60 s), so for Apache only the live dirs must be gone;
- the log cleaner beside 9,999 partitions: with `log.cleaner.backoff.ms=50` a cleaner pass (which
  looks at every log for a compacted one to clean) runs 20 times a second for 5 s while the probe
  measures, and a compacted topic written meanwhile is still served;
- the fd budget (fastkafka only): a broker started with RLIMIT_NOFILE 1024 refuses a topic that
  would need more descriptors than it has with POLICY_VIOLATION naming RLIMIT_NOFILE, keeps
  serving, and restarts cleanly; restarted with too few descriptors for its logs, it exits
  with a CRITICAL line naming RLIMIT_NOFILE / ulimit -n. Apache 4.4 has no such check: it creates the topic and fails on
  the file descriptors later (its JVM raises the soft limit to the hard one, which prlimit pins).
"""
from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from broker_process import BrokerProcess
from responsiveness import responsiveness_probe

pytestmark = pytest.mark.interop

EXCESSIVE_PARTITIONS = "Excessively large number of partitions per request."


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path)
    b.start()
    try:
        yield b
    finally:
        b.stop(timeout=120)


def _admin(b: BrokerProcess) -> AdminClient:
    return AdminClient({"bootstrap.servers": b.bootstrap})


def _create(admin: AdminClient, topics: list[NewTopic], timeout: float = 120, validate_only: bool = False) -> dict[str, KafkaException | None]:
    futs = admin.create_topics(topics, operation_timeout=timeout, request_timeout=timeout, validate_only=validate_only)
    out: dict[str, KafkaException | None] = {}
    for name, f in futs.items():
        try:
            f.result(timeout + 30)
            out[name] = None
        except KafkaException as e:
            out[name] = e
    return out


def _assert_policy_violation(e: KafkaException | None, *needles: str) -> None:
    assert e is not None, "expected a refusal"
    err = e.args[0]
    assert err.code() == KafkaError.POLICY_VIOLATION, err
    for n in needles:
        assert n in err.str(), err.str()


def _produce_consume(b: BrokerProcess) -> None:
    """A real client still works: a fresh topic, 10 records acked, all 10 read back."""
    topic = f"after-{uuid.uuid4().hex[:8]}"
    assert _create(_admin(b), [NewTopic(topic, 1, 1)])[topic] is None
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all"})
    acked: list[int] = []
    for i in range(10):
        p.produce(topic, value=b"v%d" % i, on_delivery=lambda err, msg: acked.append(0 if err is None else 1))
    assert p.flush(60) == 0 and acked == [0] * 10, acked
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": topic, "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    got: list[bytes] = []
    try:
        for _ in range(300):
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                got.append(m.value())
            if len(got) == 10:
                break
    finally:
        c.close()
    assert got == [b"v%d" % i for i in range(10)]


def test_create_topics_max_int_partitions_validate_only(broker: BrokerProcess) -> None:
    # librdkafka refuses num_partitions > 100,000 locally; kafka-python sends what it is given.
    from kafka.admin import KafkaAdminClient
    from kafka.admin import NewTopic as KpNewTopic
    from kafka.errors import PolicyViolationError

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=30000)
    try:
        with responsiveness_probe(broker) as probe:
            with pytest.raises(PolicyViolationError) as ei:
                admin.create_topics([KpNewTopic("huge", 2**31 - 1, 1)], validate_only=True)
    finally:
        admin.close()
    assert EXCESSIVE_PARTITIONS in str(ei.value), ei.value
    probe.assert_responsive()
    _produce_consume(broker)


def test_create_topic_named_like_the_metadata_log_is_refused(broker: BrokerProcess) -> None:
    """Found by the fuzz target: a CreateTopics of `__cluster_metadata` was accepted, and its
    partition 0 would be the KRaft log's own directory. Kafka 4.4's ControllerApis refuses it
    with INVALID_REQUEST; a name one letter away is an ordinary topic."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    fut = admin.create_topics([NewTopic("__cluster_metadata", 2, 1)], operation_timeout=30)["__cluster_metadata"]
    with pytest.raises(KafkaException) as ei:
        fut.result(60)
    err = ei.value.args[0]
    assert err.code() == KafkaError.INVALID_REQUEST, err
    assert err.str() == "Creation of internal topic __cluster_metadata is prohibited.", err
    name = f"__cluster_Metadata-{uuid.uuid4().hex[:6]}"
    admin.create_topics([NewTopic(name, 1, 1)], operation_timeout=30)[name].result(60)
    _produce_consume(broker)


def test_create_topics_100k_refused_then_9999_created(broker: BrokerProcess) -> None:
    admin = _admin(broker)
    with responsiveness_probe(broker) as probe:
        res = _create(admin, [NewTopic("p100k", 100_000, 1)], timeout=60)
        _assert_policy_violation(res["p100k"], EXCESSIVE_PARTITIONS)
        # The largest topic one operation may make: 1 TopicRecord + 9,999 PartitionRecords.
        res = _create(admin, [NewTopic("p9999", 9_999, 1)], timeout=180)
        assert res["p9999"] is None, res
        # Apache's broker learns of a new topic from its metadata log asynchronously (UNKNOWN_TOPIC
        # right after the create); fastkafka answers CreateTopics after publishing it.
        deadline = time.monotonic() + 120
        while len(admin.list_topics("p9999", timeout=60).topics["p9999"].partitions) < 9_999:
            assert time.monotonic() < deadline, "the 9,999 partitions never appeared in Metadata"
            time.sleep(0.5)
        # Measured while the broker makes the 9,999 logs: every partition is served once its log
        # exists (NOT_LEADER_OR_FOLLOWER, retried by the client, before): a record to the last one.
        p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "message.timeout.ms": 120000})
        errs: list[object] = []
        p.produce("p9999", value=b"x", partition=9_998, on_delivery=lambda err, msg: errs.append(err))
        assert p.flush(150) == 0 and errs == [None], errs
        data = Path(broker.log_dirs[0])
        deadline = time.monotonic() + 120
        while sum(1 for d in data.iterdir() if d.name.startswith("p9999-")) < 9_999 and time.monotonic() < deadline:
            time.sleep(0.2)
    probe.assert_responsive()
    _produce_consume(broker)


def test_delete_100_topics_with_data(broker: BrokerProcess) -> None:
    admin = _admin(broker)
    names = [f"del-{i:03d}" for i in range(100)]
    res = _create(admin, [NewTopic(n, 4, 1) for n in names])
    assert all(v is None for v in res.values()), res
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 20})
    payload = b"d" * 1000
    for n in names:
        for part in range(4):
            for _ in range(50):
                p.produce(n, value=payload, partition=part)
        p.poll(0)
    assert p.flush(120) == 0
    with responsiveness_probe(broker) as probe:
        futs = admin.delete_topics(names, operation_timeout=120, request_timeout=120)
        for f in futs.values():
            f.result(150)
        # Give the broker the time to remove the logs while the probe measures.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not _left(broker):
                break
            time.sleep(0.2)
    probe.assert_responsive()
    assert not _left(broker)
    _produce_consume(broker)


def test_log_cleaner_passes_beside_9999_partitions(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path, extra_props={"log.cleaner.backoff.ms": "50"})
    b.start()
    try:
        admin = _admin(b)
        assert _create(admin, [NewTopic("p9999", 9_999, 1)], timeout=180)["p9999"] is None
        res = _create(admin, [NewTopic("cmp", 1, 1, config={"cleanup.policy": "compact"})])
        assert res["cmp"] is None, res
        data = Path(b.log_dirs[0])
        deadline = time.monotonic() + 120
        while sum(1 for d in data.iterdir() if d.name.startswith("p9999-")) < 9_999 and time.monotonic() < deadline:
            time.sleep(0.2)
        p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5})
        # `cmp`'s log is made on the file worker behind p9999's 9,999 (Kafka's publisher makes
        # them in order too); beside a disk hog that took minutes after the last p9999 dir
        # appeared. One delivered record says the partition is served.
        p.produce("cmp", key=b"k", value=b"first")
        assert p.flush(240) == 0
        with responsiveness_probe(b) as probe:
            end = time.monotonic() + 5
            i = 0
            while time.monotonic() < end:  # cleaner passes meanwhile, keyed records to the compacted topic
                p.produce("cmp", key=b"k%d" % (i % 10), value=b"v%d" % i)
                p.poll(0)
                i += 1
                time.sleep(0.01)
            assert p.flush(60) == 0
        probe.assert_responsive()
        _produce_consume(b)
    finally:
        b.stop(timeout=120)


def _left(b: BrokerProcess) -> list[str]:
    """Dirs of the deleted topics still there (Apache: `-delete` dirs wait file.delete.delay.ms)."""
    return [d.name for d in Path(b.log_dirs[0]).iterdir() if d.name.startswith("del-")
            and not (b.target == "apache" and d.name.endswith("-delete"))]


class _LowFdBroker(BrokerProcess):
    """The broker process runs under `prlimit --nofile=N:N` (soft = hard, so raising the soft limit
    at start-up cannot help and the fd budget is what N allows)."""

    nofile = 1024

    def _start_command(self) -> list[str]:
        return ["prlimit", f"--nofile={self.nofile}:{self.nofile}", "--"] + super()._start_command()


def test_fd_budget_refuses_topic_creation_cleanly(tmp_path: Path, target: str) -> None:
    if target == "apache":
        pytest.skip("Apache 4.4 has no fd budget check: it creates the partitions and its log "
                    "manager then fails with 'Too many open files' (the broker goes offline for the dir)")
    b = _LowFdBroker(tmp_path)
    b.start()
    try:
        admin = _admin(b)
        with responsiveness_probe(b) as probe:
            res = _create(admin, [NewTopic("too-many", 2_000, 1)], timeout=60)
            _assert_policy_violation(res["too-many"], "RLIMIT_NOFILE", "ulimit -n")
            # What fits is created.
            res = _create(admin, [NewTopic("fits", 200, 1)], timeout=60)
            assert res["fits"] is None, res
        probe.assert_responsive()
        _produce_consume(b)
        b.stop()
        # Too few descriptors for the logs already there: start-up stops with one CRITICAL line
        # naming the limit to raise, not a traceback.
        b.nofile = 128
        with pytest.raises(RuntimeError, match="exited"):
            b.start()
        tail = b.log_tail()
        assert "CRITICAL" in tail and "RLIMIT_NOFILE" in tail and "ulimit -n" in tail, tail
        b.nofile = 1024
        b.start()
        md = _admin(b).list_topics("fits", timeout=60)
        assert len(md.topics["fits"].partitions) == 200
        _produce_consume(b)
    finally:
        if b.is_alive():
            b.stop()
        else:
            b.kill9()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q", "-s"]))
