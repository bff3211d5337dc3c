"""Producer state across `kill -9`: an idempotent librdkafka producer (`enable.idempotence=true`)
and the Java `kafka-verifiable-producer` (idempotent, Maven Central's kafka-tools 4.4) write into
a topic of small segments (1 MiB: a roll, with its producer-state snapshot, every second or so) while
the broker is killed with SIGKILL and restarted three times. The broker must recover each
producer's epoch and sequences from its `.snapshot` files and the log after them: the producers
retry through every outage without an OutOfOrderSequence or UnknownProducerId reaching the
application, and the topic holds every acknowledged value exactly once, at contiguous offsets.
Afterwards the `.snapshot` files are there, named by segment base offsets, and Kafka's own
`kafka-dump-log` (DumpLogSegments) reads them: CRC valid, every producer with sequences that
agree with the log.

Also: `producer.id.expiration.ms` (changed at runtime, a dynamic broker config) removes an idle
idempotent producer from the partition's state, as `kafka-transactions describe-producers` shows."""
from __future__ import annotations

import collections
import json
import random
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

import kafka_java as kj
from broker_process import BrokerProcess
from clients import confluent

pytestmark = pytest.mark.interop

TRANSACTIONS_COMMAND = "org.apache.kafka.tools.TransactionsCommand"
PARTITIONS = 2
SEGMENT_BYTES = 1024 * 1024  # Kafka 4.x's minimum
KILLS = 3


class _IdempotentLibrdkafka(threading.Thread):
    """Writes `rd-<n>` until stopped; records delivered values, delivery errors and client errors."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.producer = Producer({
            "bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5,
            "message.timeout.ms": 60000, "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 200,
            "error_cb": self._error,
        })
        self.topic = topic
        self.acked: set[bytes] = set()
        self.failed: list[str] = []
        self.client_errors: list[KafkaError] = []
        self.stopping = threading.Event()

    def _error(self, err: KafkaError) -> None:
        self.client_errors.append(err)

    def _delivered(self, err, msg) -> None:  # type: ignore[no-untyped-def]
        if err is None:
            self.acked.add(msg.value())
        else:
            self.failed.append(str(err))

    def run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            try:
                self.producer.produce(self.topic, value=b"rd-%d" % n + b"x" * 200, key=b"%d" % (n % 31),
                                      on_delivery=self._delivered)
                n += 1
                if n % 100 == 0:
                    self.producer.poll(0)
                if n % 2000 == 0:
                    time.sleep(0.01)  # a steady load, not a flood: the test is about state, not speed
            except BufferError:
                self.producer.poll(0.05)
        self.producer.flush(90)


class _VerifiableProducer:
    """kafka-verifiable-producer; its JSON events say what was acknowledged. The tool's retries=0
    turns the Java producer's default idempotence off; --producer.config turns it back on."""

    def __init__(self, bootstrap: str, topic: str, workdir: Path) -> None:
        config = workdir / "verifiable-producer.properties"
        config.write_text("enable.idempotence=true\nretries=2147483647\n")
        self.proc = subprocess.Popen(
            kj.java_command(kj.VERIFIABLE_PRODUCER, "--bootstrap-server", bootstrap, "--topic", topic,
                            "--acks", "-1", "--max-messages", "-1", "--throughput", "3000",
                            "--value-prefix", "7", "--producer.config", str(config)),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.acked: set[bytes] = set()
        self.errors: list[dict[str, object]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if not line.startswith("{"):
                continue
            ev = json.loads(line)
            if ev.get("name") == "producer_send_success":
                self.acked.add(str(ev["value"]).encode())
            elif ev.get("name") == "producer_send_error":
                self.errors.append(ev)

    def stop(self) -> None:
        self.proc.terminate()  # its shutdown hook closes the producer: in-flight sends complete
        self.proc.wait(90)
        self._reader.join(30)


def _read_everything(bootstrap: str, topic: str) -> dict[int, list[tuple[int, bytes]]]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused"})
    try:
        highs = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in range(PARTITIONS)}
    finally:
        c.close()
    out: dict[int, list[tuple[int, bytes]]] = collections.defaultdict(list)
    for r in confluent.consume_assigned(bootstrap, topic, highs, timeout=120):
        out[r.partition].append((r.offset, r.value or b""))
    for p, high in highs.items():
        assert [o for o, _ in sorted(out[p])] == list(range(high)), f"partition {p}: offsets not contiguous"
    return out


_FATAL_CODES = {KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER, KafkaError.UNKNOWN_PRODUCER_ID,
                KafkaError.INVALID_PRODUCER_EPOCH, KafkaError.DUPLICATE_SEQUENCE_NUMBER}


def test_idempotent_producers_survive_repeated_kill9_with_snapshots(tmp_path: Path) -> None:
    rnd = random.Random(5)
    b = BrokerProcess(tmp_path / "broker")
    b.start()
    rd: _IdempotentLibrdkafka | None = None
    java: _VerifiableProducer | None = None
    try:
        topic = "producer-state"
        confluent.create_topic(b.bootstrap, topic, PARTITIONS, {"segment.bytes": str(SEGMENT_BYTES)})
        rd = _IdempotentLibrdkafka(b.bootstrap, topic)
        rd.start()
        java = _VerifiableProducer(b.bootstrap, topic, tmp_path)
        time.sleep(4.0)
        for _ in range(KILLS):
            time.sleep(rnd.uniform(1.0, 3.0))
            b.kill9()
            b.start()
        time.sleep(3.0)  # the producers reconnect and retry their in-flight batches
        rd.stopping.set()
        rd.join(120)
        java.stop()

        # Nothing failed for good; no sequence or producer-id error reached the application.
        assert not rd.failed, rd.failed[:5]
        bad = [e for e in rd.client_errors if e.fatal() or e.code() in _FATAL_CODES]
        assert not bad, [str(e) for e in bad[:5]]
        assert not [e for e in java.errors if "producer has been closed" not in str(e.get("message"))], \
            [{k: e.get(k) for k in ("exception", "message", "value")} for e in java.errors[:5]]
        acked = rd.acked | java.acked
        assert len(rd.acked) > 1000 and len(java.acked) > 1000, (len(rd.acked), len(java.acked))

        read = _read_everything(b.bootstrap, topic)
        values = [v for recs in read.values() for _, v in recs]
        counts = collections.Counter(values)
        duplicates = [v for v, n in counts.items() if n > 1]
        assert not duplicates, f"{len(duplicates)} values appear twice, e.g. {duplicates[:5]}"
        missing = acked - counts.keys()
        assert not missing, f"{len(missing)} acknowledged values missing, e.g. {sorted(missing)[:5]}"

        # Snapshots: written on roll, named by segment base offsets, read by Kafka's DumpLogSegments.
        b.stop()
        pdir = b.partition_dir(topic, 0)
        segment_bases = {int(p.name[:20]) for p in pdir.glob("*.log")}
        snapshots = sorted(pdir.glob("*.snapshot"))
        assert len(segment_bases) > 3, sorted(segment_bases)
        assert len(snapshots) >= 2, sorted(p.name for p in pdir.iterdir())
        log_end = max(o for o, _ in read[0]) + 1
        # One at every roll (each segment's base offset but the first), plus, as in Kafka, those
        # taken at the log end after each load and at the clean shutdown.
        snapshot_offsets = {int(p.name[:20]) for p in snapshots}
        assert segment_bases - {0} <= snapshot_offsets, (sorted(snapshot_offsets), sorted(segment_bases))
        assert max(snapshot_offsets) == log_end
        dump = kj.run_tool(kj.DUMP_LOG, "--files", *(str(p) for p in snapshots[-2:]))
        out, err = dump.stdout.decode(), dump.stderr.decode()
        assert "corrupt" not in (out + err).lower() and "CRC" not in err, err[-2000:]
        entries = re.findall(r"producerId: (\d+) producerEpoch: (\d+) coordinatorEpoch: (-?\d+) "
                             r"currentTxnFirstOffset: (\S+) lastTimestamp: (\d+) firstSequence: (\d+) "
                             r"lastSequence: (\d+) lastOffset: (\d+) offsetDelta: (\d+)", out)
        assert entries, out[-3000:]
        # Two producers wrote partition 0: the last snapshot (at the log end, clean shutdown) has both.
        last = [e for e in entries if int(e[7]) < log_end]
        assert len({e[0] for e in last}) == 2, out[-3000:]
        for _pid, _epoch, coord, txn, _ts, first_seq, last_seq, last_off, delta in entries:
            assert txn == "OptionalLong.empty" and coord == "-1"
            assert int(last_seq) - int(first_seq) == int(delta) and int(last_off) < log_end
    finally:
        if rd is not None:
            rd.stopping.set()
        if java is not None and java.proc.poll() is None:
            java.proc.kill()
        if b.is_alive():
            b.stop()


def _describe_producers(bootstrap: str, topic: str) -> list[list[str]]:
    out = kj.run_tool(TRANSACTIONS_COMMAND, "--bootstrap-server", bootstrap, "describe-producers",
                      "--topic", topic, "--partition", "0").stdout.decode()
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert lines and lines[0][:2] == ["ProducerId", "ProducerEpoch"], out
    return lines[1:]


def test_idle_producer_expires_after_dynamic_producer_id_expiration_ms(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path / "broker", extra_props={"producer.id.expiration.check.interval.ms": "500"})
    b.start()
    try:
        topic = "expiring-producers"
        confluent.create_topic(b.bootstrap, topic, 1)
        p = Producer({"bootstrap.servers": b.bootstrap, "enable.idempotence": True, "acks": "all"})
        for i in range(10):
            p.produce(topic, value=b"v%d" % i, partition=0)
        assert p.flush(30) == 0
        rows = _describe_producers(b.bootstrap, topic)
        assert len(rows) == 1, rows
        producer_id, epoch, coordinator_epoch, last_sequence = rows[0][:4]
        assert int(producer_id) >= 0 and (epoch, coordinator_epoch, last_sequence) == ("0", "-1", "9"), rows
        assert rows[0][-1] == "None", rows  # no open transaction

        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        res = ConfigResource("broker", "1", incremental_configs=[
            ConfigEntry("producer.id.expiration.ms", "1000", incremental_operation=AlterConfigOpType.SET)])
        admin.incremental_alter_configs([res], request_timeout=30)[res].result()
        deadline = time.monotonic() + 30
        while _describe_producers(b.bootstrap, topic):
            assert time.monotonic() < deadline, "the idle producer never expired"
            time.sleep(1.0)
        p.flush(5)
    finally:
        b.stop()
