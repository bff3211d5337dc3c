"""Topic `compression.type` other than `producer`: the broker recompresses (Kafka's LogValidator).

For topics created with compression.type in {producer, uncompressed, gzip, snappy, lz4, zstd} (and
zstd / gzip with their level keys), real producers send each codec (librdkafka all five,
kafka-python, aiokafka and kafkajs one codec per topic in rotation, Kafka's Java console producer
in its own test); a consumer reads every record back (keys, values, headers, timestamps, offsets)
and Kafka's own `kafka-dump-log` (DumpLogSegments from the Apache 4.4 jars, reading the segment
files of either broker) shows each stored batch carrying the topic's codec, or the producer's
with `producer`. Also: AlterConfigs / IncrementalAlterConfigs of compression.type apply to the
next produce; a rebuilt batch over max.message.bytes is refused with MESSAGE_TOO_LARGE;
idempotent retries are deduplicated and transactions committed/aborted across recompression
(producer state sees the rebuilt batch's offsets); transaction markers stay uncompressed;
LogAppendTime stamps rebuilt batches; a keyless record to a compacted topic is refused before
any rebuild; gapped inner offsets are renumbered when the batch is rebuilt; 64 MiB of records
recompressed while the responsiveness probe keeps its bounds (fastkafka rebuilds big batches on
ReplicaManager's worker threads).

Passes against fastkafka and Apache Kafka 4.4 (FASTKAFKA_TEST_TARGET=apache). Differences found
are noted where they are asserted: Apache stores an uncompressed batch with gapped inner offsets
in place (consumers then see offsets 0, 7, 2), fastkafka refuses it with INVALID_RECORD.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Consumer, KafkaError, Producer
from confluent_kafka import TopicPartition as CTP
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

import kafka_java as kj
from broker_process import BrokerProcess, free_port
from clients import aiokafka_client, confluent, kafka_python, kafkajs
from hostile_batches import batch, compress, compressed_records_stream, raw_produce, record
from interop_data import CODECS, Rec, assert_same_records, sample_records, with_expected_offsets
from loop_lag import lag_warn_broker, worst_loop_lag_ms
from responsiveness import responsiveness_probe
from withholding_proxy import WithholdingProxy

pytestmark = pytest.mark.interop

# kafka-dump-log's names for the codecs (CompressionType.name).
DUMP_NAME = {"none": "none", "uncompressed": "none", "gzip": "gzip", "snappy": "snappy", "lz4": "lz4", "zstd": "zstd"}
MESSAGE_TOO_LARGE = 10

_BATCH_RE = re.compile(r"baseOffset: (\d+) lastOffset: (\d+) count: (\d+) .*?isTransactional: (\w+) "
                       r"isControl: (\w+) .*?size: (\d+) magic: 2 compresscodec: (\w+) .*?isvalid: (\w+)")


def dump_batches(broker: BrokerProcess, topics: Sequence[str]) -> dict[str, list[dict[str, object]]]:
    """Every batch of partition 0 of each topic, as kafka-dump-log prints it (one JVM for all)."""
    files: list[tuple[str, Path]] = []
    for t in topics:
        files += [(t, f) for f in sorted(broker.partition_dir(t, 0).glob("*.log"))]
    out = kj.run_tool(kj.DUMP_LOG, "--files", ",".join(str(f) for _t, f in files)).stdout.decode()
    result: dict[str, list[dict[str, object]]] = {t: [] for t in topics}
    by_path = {str(f): t for t, f in files}
    current: str | None = None
    for line in out.splitlines():
        if line.startswith("Dumping "):
            current = by_path.get(line[len("Dumping "):].strip())
            continue
        m = _BATCH_RE.search(line)
        if m and current is not None:
            base, last, count, txn, ctrl, size, codec, valid = m.groups()
            result[current].append({"base": int(base), "last": int(last), "count": int(count),
                                    "transactional": txn == "true", "control": ctrl == "true",
                                    "size": int(size), "codec": codec, "valid": valid == "true"})
    for t in topics:
        assert result[t], f"no batch dumped for {t}:\n{out[:3000]}"
        assert all(b["valid"] for b in result[t]), result[t]
    return result


def _records(n: int, base_ts: int) -> list[Rec]:
    return sample_records(n, partitions=1, null_header_values=False, base_ts=base_ts)


# (topic config, short id). Levels: Kafka's compression.zstd.level (-131072..22) and
# compression.gzip.level (1..9, -1 the default).
TOPIC_CONFIGS = [
    ({"compression.type": "producer"}, "producer"),
    ({"compression.type": "uncompressed"}, "uncompressed"),
    ({"compression.type": "gzip"}, "gzip"),
    ({"compression.type": "snappy"}, "snappy"),
    ({"compression.type": "lz4"}, "lz4"),
    ({"compression.type": "zstd"}, "zstd"),
    ({"compression.type": "zstd", "compression.zstd.level": "12"}, "zstd-level12"),
    ({"compression.type": "gzip", "compression.gzip.level": "1"}, "gzip-level1"),
]


@pytest.mark.parametrize("case", range(len(TOPIC_CONFIGS)), ids=[i for _c, i in TOPIC_CONFIGS])
def test_every_codec_into_topic_compression_type(broker: BrokerProcess, topic_name: str, case: int) -> None:
    config, _ = TOPIC_CONFIGS[case]
    topic_codec = config["compression.type"]
    confluent.create_topic(broker.bootstrap, topic_name, 1, config)
    # (client, codec) runs in order; each run's records get the next offsets.
    other = CODECS[case % len(CODECS)]
    runs: list[tuple[str, str]] = [("confluent", c) for c in CODECS]
    runs += [("kafka-python", other), ("aiokafka", CODECS[(case + 1) % len(CODECS)]),
             ("kafkajs", CODECS[(case + 2) % len(CODECS)])]
    sent: list[Rec] = []
    ranges: list[tuple[int, int, str]] = []  # (first offset, last offset, producer codec)
    base_ts = int(time.time() * 1000) - 3_600_000
    for i, (client, codec) in enumerate(runs):
        recs = _records(12, base_ts + 1000 * i)
        if client == "confluent":
            confluent.produce(broker.bootstrap, topic_name, recs, compression=codec)
        elif client == "kafka-python":
            kafka_python.produce(broker.bootstrap, topic_name, recs, compression=codec)
        elif client == "aiokafka":
            aiokafka_client.produce(broker.bootstrap, topic_name, recs, compression=codec)
        else:
            kafkajs.produce(broker.bootstrap, topic_name, recs, compression=codec)
        ranges.append((len(sent), len(sent) + len(recs) - 1, codec))
        sent += recs
    expected = with_expected_offsets(sent)
    assert_same_records(confluent.consume_assigned(broker.bootstrap, topic_name, {0: len(sent)}), expected)
    # kafka-python decodes with its own codecs too (a second reader of the rebuilt batches).
    assert_same_records(kafka_python.consume_assigned(broker.bootstrap, topic_name, {0: len(sent)}), expected)

    batches = dump_batches(broker, [topic_name])[topic_name]
    assert sum(int(b["count"]) for b in batches) == len(sent)
    for b in batches:
        first, last, codec = next(r for r in ranges if r[0] <= int(b["base"]) <= r[1])
        assert int(b["last"]) <= last, (b, ranges)  # a batch never spans two producers
        want = DUMP_NAME[codec] if topic_codec == "producer" else DUMP_NAME[topic_codec]
        assert b["codec"] == want, (b, codec, topic_codec)


def test_java_console_producer_into_recompressing_topic(broker: BrokerProcess, topic_name: str) -> None:
    """Kafka's own producer (lz4) into a zstd topic: Kafka's consumer reads it back."""
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"compression.type": "zstd",
                                                            "compression.zstd.level": "5"})
    lines = [f"k{i}:value-{i}-" + "x" * (i % 50) for i in range(200)]
    kj.run_tool(kj.CONSOLE_PRODUCER, "--bootstrap-server", broker.bootstrap, "--topic", topic_name,
                "--compression-codec", "lz4", "--reader-property", "parse.key=true",
                "--reader-property", "key.separator=:", input=("\n".join(lines) + "\n").encode())
    out = kj.run_tool(kj.CONSOLE_CONSUMER, "--bootstrap-server", broker.bootstrap, "--topic", topic_name,
                      "--partition", "0", "--offset", "earliest", "--max-messages", str(len(lines)),
                      "--formatter-property", "print.key=true", "--formatter-property", "key.separator=:",
                      timeout=90).stdout.decode()
    assert [ln for ln in out.splitlines() if ln.strip()] == lines
    batches = dump_batches(broker, [topic_name])[topic_name]
    assert {b["codec"] for b in batches} == {"zstd"}
    assert sum(int(b["count"]) for b in batches) == len(lines)


def test_topic_levels_change_stored_size(broker: BrokerProcess, topic_name: str) -> None:
    """compression.zstd.level / compression.gzip.level are applied: the same uncompressed batches
    stored at the lowest level take more bytes than at the highest."""
    topics = {f"{topic_name}-{name}": cfg for name, cfg in [
        ("zstd1", {"compression.type": "zstd", "compression.zstd.level": "1"}),
        ("zstd19", {"compression.type": "zstd", "compression.zstd.level": "19"}),
        ("gzip1", {"compression.type": "gzip", "compression.gzip.level": "1"}),
        ("gzip9", {"compression.type": "gzip", "compression.gzip.level": "9"})]}
    words = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon", b"zeta", b"eta", b"theta"]
    recs = [Rec(0, b"key-%d" % i, b" ".join(words[(i * j) % 8] + b"%d" % (j % 13) for j in range(60)), (),
                1_700_000_000_000 + i) for i in range(400)]
    for t, cfg in topics.items():
        confluent.create_topic(broker.bootstrap, t, 1, cfg)
        confluent.produce(broker.bootstrap, t, recs, compression="none", extra={"linger.ms": 50})
    dumped = dump_batches(broker, list(topics))
    size = {t.rsplit("-", 1)[1]: sum(int(b["size"]) for b in bs) for t, bs in dumped.items()}
    for t, bs in dumped.items():
        assert {b["codec"] for b in bs} == {t.rsplit("-", 1)[1][:4]}
    assert size["zstd1"] > size["zstd19"], size
    assert size["gzip1"] > size["gzip9"], size
    for t in topics:
        assert len(confluent.consume_assigned(broker.bootstrap, t, {0: len(recs)})) == len(recs)


def _admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap})


def _wait_config(admin: AdminClient, topic: str, key: str, value: str) -> None:
    res = ConfigResource("topic", topic)
    deadline = time.monotonic() + 30
    while True:
        got = admin.describe_configs([res], request_timeout=30)[res].result()
        if got[key].value == value:
            return
        assert time.monotonic() < deadline, f"{key} still {got[key].value}"
        time.sleep(0.1)


def test_altered_compression_type_applies_to_next_produce(broker: BrokerProcess, topic_name: str) -> None:
    confluent.create_topic(broker.bootstrap, topic_name, 1)  # compression.type=producer (default)
    admin = _admin(broker.bootstrap)
    base_ts = int(time.time() * 1000) - 600_000
    steps = [("lz4", None),                                  # producer: stored as sent
             ("lz4", ("incremental", "gzip")),              # IncrementalAlterConfigs SET gzip
             ("snappy", ("legacy", "uncompressed")),        # AlterConfigs (whole set) uncompressed
             ("none", ("incremental", "zstd")),
             ("zstd", ("delete", "producer"))]              # DELETE: back to the default, producer
    sent: list[Rec] = []
    want: list[tuple[int, int, str]] = []
    for i, (codec, change) in enumerate(steps):
        if change is not None:
            how, value = change
            if how == "incremental":
                res = ConfigResource("topic", topic_name, incremental_configs=[
                    ConfigEntry("compression.type", value, incremental_operation=AlterConfigOpType.SET)])
                admin.incremental_alter_configs([res], request_timeout=30)[res].result()
            elif how == "delete":
                res = ConfigResource("topic", topic_name, incremental_configs=[
                    ConfigEntry("compression.type", None, incremental_operation=AlterConfigOpType.DELETE)])
                admin.incremental_alter_configs([res], request_timeout=30)[res].result()
            else:
                res = ConfigResource("topic", topic_name, set_config={"compression.type": value})
                admin.alter_configs([res], request_timeout=30)[res].result()
            _wait_config(admin, topic_name, "compression.type", value)
        recs = _records(20, base_ts + 1000 * i)
        confluent.produce(broker.bootstrap, topic_name, recs, compression=codec)
        topic_codec = "producer" if change is None else change[1]
        want.append((len(sent), len(sent) + len(recs) - 1, DUMP_NAME[codec] if topic_codec == "producer"
                     else DUMP_NAME[topic_codec]))
        sent += recs
    assert_same_records(confluent.consume_assigned(broker.bootstrap, topic_name, {0: len(sent)}),
                        with_expected_offsets(sent))
    for b in dump_batches(broker, [topic_name])[topic_name]:
        first, last, codec = next(r for r in want if r[0] <= int(b["base"]) <= r[1])
        assert b["codec"] == codec, (b, want)


def test_rebuilt_batch_over_max_message_bytes_is_refused(broker: BrokerProcess, topic_name: str) -> None:
    """Kafka re-checks each rebuilt batch against max.message.bytes (UnifiedLog.append: a
    RecordTooLargeException -> MESSAGE_TOO_LARGE). A zstd batch of 60 compressible 1 kB records is
    small as sent and 61 kB once stored uncompressed."""
    limit = 20_000
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"compression.type": "uncompressed",
                                                            "max.message.bytes": str(limit)})
    section = b"".join(record(i, key=b"k%d" % i, value=b"z" * 1000) for i in range(60))
    hostile = batch(4, compress(4, section), 60)
    assert len(hostile) < limit
    code, msg, errors = raw_produce(broker.bootstrap, topic_name, 0, hostile)
    assert code == MESSAGE_TOO_LARGE and errors == []
    # Kafka 4.4: ReplicaManager answers RecordTooLargeException without the exception's message
    # (hasCustomErrorMessage is false) -- fastkafka matches, the message goes to its log only.
    assert msg is None, msg

    # librdkafka sees MSG_SIZE_TOO_LARGE for the same case (a real client's batch).
    errs: list[KafkaError] = []
    p = Producer({"bootstrap.servers": broker.bootstrap, "compression.type": "zstd", "linger.ms": 50,
                  "enable.idempotence": False, "acks": "all"})
    for i in range(60):
        p.produce(topic_name, key=b"k%d" % i, value=b"z" * 1000,
                  on_delivery=lambda err, _m: errs.append(err) if err is not None else None)
    assert p.flush(60) == 0
    assert errs and all(e.code() == KafkaError.MSG_SIZE_TOO_LARGE for e in errs), errs[:3]
    # Nothing was stored; a batch under the limit after the rebuild is accepted.
    small = [Rec(0, b"k", b"v" * 100, (), 1_700_000_000_000 + i) for i in range(20)]
    confluent.produce(broker.bootstrap, topic_name, small, compression="zstd")
    assert_same_records(confluent.consume_assigned(broker.bootstrap, topic_name, {0: 20}),
                        with_expected_offsets(small))


def test_transactions_across_recompression(broker: BrokerProcess, topic_name: str) -> None:
    """A transactional lz4 producer into a zstd topic: commit, abort, commit. read_committed sees
    the committed records only, offsets count the markers, markers stay uncompressed (Kafka does
    not compress control batches written uncompressed)."""
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"compression.type": "zstd"})
    p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": f"txn-{topic_name}",
                  "compression.type": "lz4", "linger.ms": 5})
    p.init_transactions(30)
    outcomes = [True, False, True, True]
    for t, commit in enumerate(outcomes):
        p.begin_transaction()
        for i in range(25):
            p.produce(topic_name, key=b"k%d" % i, value=b"txn%d-%d" % (t, i), partition=0)
        p.flush(30)
        if commit:
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)
    committed = confluent.read_to_end(broker.bootstrap, topic_name, 1, isolation_level="read_committed")
    assert [v for _p, _o, _k, v in committed] == [b"txn%d-%d" % (t, i) for t, c in enumerate(outcomes) if c
                                                  for i in range(25)]
    # 25 records + 1 marker per transaction: offsets run across the rebuilt batches and markers.
    assert [o for _p, o, _k, _v in committed] == [26 * t + i for t, c in enumerate(outcomes) if c
                                                  for i in range(25)]
    everything = confluent.read_to_end(broker.bootstrap, topic_name, 1)
    assert len(everything) == 100
    batches = dump_batches(broker, [topic_name])[topic_name]
    data = [b for b in batches if not b["control"]]
    markers = [b for b in batches if b["control"]]
    assert {b["codec"] for b in data} == {"zstd"} and all(b["transactional"] for b in data)
    assert len(markers) == 4 and {b["codec"] for b in markers} == {"none"}
    # The producer keeps working after the transactions (its state matched the rebuilt offsets).
    p.begin_transaction()
    p.produce(topic_name, key=b"last", value=b"last", partition=0)
    p.commit_transaction(30)
    tail = confluent.read_to_end(broker.bootstrap, topic_name, 1, isolation_level="read_committed")
    assert tail[-1][1:] == (104, b"last", b"last")


_MIB = 1 << 20


@pytest.fixture(scope="module")
def lag_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """A broker whose loop monitor logs every tick later than 5 ms (fastkafka): the worst one is
    printed beside the probe's figure (the probe's wait also counts the machine's load)."""
    yield from lag_warn_broker(tmp_path_factory, "recompress-lag")



@pytest.mark.parametrize("sent,topic_codec", [
    ("zstd", "gzip"), ("lz4", "zstd"),
    # Stored uncompressed, the rebuilt batch is 64 MiB: rebuilt and stamped on the workers
    # (UnifiedLog.prevalidate), written by the log writer thread (UnifiedLog's background
    # append), as a 64 MiB uncompressed produce is.
    ("lz4", "uncompressed"),
])
def test_64mib_batch_recompressed_off_the_loop(lag_broker: BrokerProcess, topic_name: str, sent: str,
                                               topic_codec: str) -> None:
    """A batch of 64 MiB of records (64 keyed records of 1 MiB, compressible: the request is a few
    hundred kB, so this measures the rebuild, not the frame; big frames are net/'s subject) into
    a topic forcing another codec, max.message.bytes raised (the uncompressed rebuild stores
    64 MiB): every other client is still answered within the probe's bounds (fastkafka rebuilds
    on ReplicaManager's worker threads), then a produce+consume works."""
    broker = lag_broker
    n = 64
    parts = (record(i, key=b"key-%d" % i, value=(b"%08d" % i) * (_MIB // 8)) for i in range(n))
    big = batch(CODECS.index(sent), compressed_records_stream(CODECS.index(sent), parts), n)
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"compression.type": topic_codec,
                                                            "max.message.bytes": str(128 * _MIB)})
    log_start = broker.log_path.stat().st_size
    with responsiveness_probe(broker) as probe:
        answer = raw_produce(broker.bootstrap, topic_name, 0, big)
    assert answer == (0, None, [])
    if broker.target == "fastkafka":
        lag = worst_loop_lag_ms(broker.log_path, log_start)
        print(f"[fastkafka] 64 MiB {sent} -> {topic_codec}: loop monitor worst lag {lag} ms (0: none above 5 ms)")
    probe.assert_responsive()
    after = _records(10, int(time.time() * 1000))
    confluent.produce(broker.bootstrap, topic_name, after, compression="snappy", extra={"linger.ms": 100})
    assert_same_records(confluent.consume_assigned(broker.bootstrap, topic_name, {0: 10}, start_offset=n),
                        with_expected_offsets(after, start=n))
    batches = dump_batches(broker, [topic_name])[topic_name]
    assert [(b["base"], b["count"], b["codec"]) for b in batches] == [(0, n, DUMP_NAME[topic_codec]),
                                                                      (n, 10, DUMP_NAME[topic_codec])]


N_IDEMPOTENT = 5000


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[BrokerProcess, WithholdingProxy]]:
    proxy_port = free_port()
    b = BrokerProcess(tmp_path / "broker", extra_props={"advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy_port}"})
    proxy = WithholdingProxy(b.port, should_withhold=lambda n: n % 5 == 2 and n <= 40)
    proxy.start(proxy_port)
    b.start()
    try:
        yield b, proxy
    finally:
        b.stop()
        proxy.stop()


def test_idempotent_retries_deduplicated_across_recompression(proxied: tuple[BrokerProcess, WithholdingProxy],
                                                              topic_name: str) -> None:
    """Produce responses withheld: librdkafka resends the lz4 batches (same producer id, epoch,
    sequence) to a gzip topic; the broker recognises them from its producer state, which holds
    the rebuilt batches' offsets, and answers with the original offsets."""
    b, proxy = proxied
    bootstrap = f"127.0.0.1:{proxy.port}"
    confluent.create_topic(bootstrap, topic_name, 1, {"compression.type": "gzip"})
    errors: list[str] = []
    offsets: dict[bytes, int] = {}
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                  "compression.type": "lz4", "batch.num.messages": 100, "request.timeout.ms": 5000})

    def report(err: object, msg: object) -> None:
        if err is not None:
            errors.append(str(err))
        else:
            offsets[msg.value()] = msg.offset()  # type: ignore[attr-defined]

    for i in range(N_IDEMPOTENT):
        p.produce(topic_name, value=b"%d" % i, partition=0, on_delivery=report)
        if i % 500 == 0:
            p.poll(0)
    assert p.flush(120) == 0
    assert not errors, errors[:5]
    assert proxy.withheld > 0, "no response was withheld: the test proved nothing"
    got = confluent.read_to_end(bootstrap, topic_name, 1)
    assert [v for _p, _o, _k, v in got] == [b"%d" % i for i in range(N_IDEMPOTENT)]
    assert [o for _p, o, _k, _v in got] == list(range(N_IDEMPOTENT))
    # The acknowledged offsets (retries answered from producer state) are where the records are.
    assert all(offsets[v] == o for _p, o, _k, v in got)
    assert {b_["codec"] for b_ in dump_batches(b, [topic_name])[topic_name]} == {"gzip"}


GAPPED_CASES = [  # (sent codec, topic compression.type)
    (1, "zstd"), (4, "gzip"), (0, "zstd"), (1, "uncompressed"), (1, "gzip"), (1, "producer"), (0, "producer"),
    (0, "uncompressed")]


@pytest.mark.parametrize("codec,topic_codec", GAPPED_CASES)
def test_gapped_inner_offsets(broker: BrokerProcess, topic_name: str, codec: int, topic_codec: str) -> None:
    """Inner offset deltas 0, 7, 2 (old clients' bug). Kafka's LogValidator: a batch rebuilt for
    the topic's codec gets new consecutive offsets; a compressed one kept in its codec is
    UNKNOWN_SERVER_ERROR (Kafka fails building records from the key-less in-place iterator)."""
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"compression.type": topic_codec})
    section = b"".join(record(i, key=b"k%d" % i, value=b"v%d" % i, offset_delta=[0, 7, 2][i]) for i in range(3))
    gapped = batch(codec, compress(codec, section) if codec else section, 3)
    # Until Apache's metadata cache has the new partition it may answer NOT_LEADER_OR_FOLLOWER or
    # UNKNOWN_TOPIC_OR_PARTITION.
    for _ in range(50):
        answer = raw_produce(broker.bootstrap, topic_name, 0, gapped)
        if answer[0] not in (3, 6):
            break
        time.sleep(0.2)
    rebuilt = topic_codec != "producer" and DUMP_NAME[topic_codec] != DUMP_NAME[CODECS[codec]]
    if rebuilt:
        assert answer == (0, None, [])
        got = confluent.read_to_end(broker.bootstrap, topic_name, 1)
        assert [(o, k, v) for _p, o, k, v in got] == [(i, b"k%d" % i, b"v%d" % i) for i in range(3)]
        assert [(b["base"], b["last"], b["codec"]) for b in dump_batches(broker, [topic_name])[topic_name]] == \
            [(0, 2, DUMP_NAME[topic_codec])]
    elif codec:
        assert answer == (-1, None, [])
    elif broker.target == "apache":
        # Apache 4.4 stores an uncompressed batch with gapped deltas in place: consumers then see
        # offsets 0, 7, 2. fastkafka refuses it (INVALID_RECORD) rather than store offsets that
        # go backwards (a deliberate difference).
        assert answer == (0, None, [])
        got = confluent.read_to_end(broker.bootstrap, topic_name, 1)
        assert [o for _p, o, _k, _v in got] == [0, 7, 2]
    else:
        assert answer[0] == 87 and "offset delta" in (answer[1] or "")


def test_log_append_time_on_recompressed_batches(broker: BrokerProcess, topic_name: str) -> None:
    """message.timestamp.type=LogAppendTime on a zstd topic: the rebuilt batches carry the
    broker's append time and consumers see it as a LogAppendTime timestamp."""
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"compression.type": "zstd",
                                                            "message.timestamp.type": "LogAppendTime"})
    before = int(time.time() * 1000)
    recs = _records(30, 1_600_000_000_000)
    confluent.produce(broker.bootstrap, topic_name, recs, compression="gzip")
    after = int(time.time() * 1000)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused", "enable.auto.commit": False})
    try:
        c.assign([CTP(topic_name, 0, 0)])
        got = []
        deadline = time.monotonic() + 30
        while len(got) < 30 and time.monotonic() < deadline:
            got += [m for m in c.consume(100, 0.5) if m.error() is None]
    finally:
        c.close()
    assert [(m.key(), m.value()) for m in got] == [(r.key, r.value) for r in recs]
    assert all(m.timestamp()[0] == TIMESTAMP_LOG_APPEND_TIME and before <= m.timestamp()[1] <= after for m in got)
    assert {b["codec"] for b in dump_batches(broker, [topic_name])[topic_name]} == {"zstd"}


def test_keyless_record_refused_before_recompression_on_compacted_topic(broker: BrokerProcess,
                                                                        topic_name: str) -> None:
    """Validation comes first (Kafka's LogValidator walks the records it rebuilds): a keyless
    record in an lz4 batch to a compacted zstd topic is INVALID_RECORD with its RecordError."""
    confluent.create_topic(broker.bootstrap, topic_name, 1, {"compression.type": "zstd", "cleanup.policy": "compact"})
    section = b"".join(record(i, key=None if i == 2 else b"k%d" % i, value=b"v" * 50) for i in range(4))
    for _ in range(50):
        code, msg, errors = raw_produce(broker.bootstrap, topic_name, 0, batch(3, compress(3, section), 4))
        if code not in (3, 6):
            break
        time.sleep(0.2)
    assert code == 87 and msg and [i for i, _m in errors] == [2]
