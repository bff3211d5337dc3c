"""Capture the request frames real Kafka clients send, as the seed corpus of the fuzz target.

    .venv/bin/python tools/capture_fuzz_corpus.py [--out tests/interop/fuzz_corpus/frames.jsonl]

Starts the real fastkafka broker (tests/interop/broker_process.BrokerProcess) with
`advertised.listeners` pointing at a recording TCP proxy, so every connection of every client goes
through the proxy; the proxy forwards bytes unchanged both ways and records each request frame
(without its 4-byte size prefix). Clients driven: confluent-kafka (AdminClient, plain / idempotent /
transactional producers, classic and KIP-848 consumer groups with commits), kafka-python (producer,
group consumer, KafkaAdminClient) and kafkajs (idempotent producer, group consumer).

Every (api_key, version) the broker serves that no client sent is filled by encoding a request with
the generated codec (`fastkafka.protocol._generated`): the captured request of the same API at the
nearest version, decoded and re-encoded at the missing version, or a default-constructed one when
that cannot be expressed at the missing version. Each corpus entry says where it came from.

Invariants of the output (one JSON object per line, sorted by api_key, version):
- `frame` is base64 of the request header + body exactly as sent (or as the codec encoded it);
- at most `--variants` distinct frames per (api_key, version), none larger than `--max-frame`
  bytes, so the committed file stays small (< 1 MB);
- every version in [min_accepted, max_version] of every API the broker listener serves is present.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import struct
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests" / "interop"))

from broker_process import BrokerProcess, free_port  # noqa: E402
from frame_proxy import FrameProxy  # noqa: E402


class RecordingProxy(FrameProxy):
    """The shared frame proxy (tests/interop/frame_proxy.py), recording request frames per
    (api_key, api_version). `frames`/`seen` are written on the proxy's thread and read by the main
    thread after `stop`; the lock covers reads made while it runs."""

    def __init__(self, upstream_port: int, port: int, variants: int, max_frame: int) -> None:
        super().__init__(upstream_port, port)
        self.variants = variants
        self.max_frame = max_frame
        self.frames: dict[tuple[int, int], list[tuple[str, bytes]]] = {}
        self.seen: dict[tuple[int, int], int] = {}
        self.source = "?"  # which client is being driven (set by the main thread)
        self._lock = threading.Lock()

    def on_request(self, frame: bytes) -> None:
        if len(frame) < 8:
            return
        key, version = struct.unpack(">hh", frame[:4])
        with self._lock:
            self.seen[(key, version)] = self.seen.get((key, version), 0) + 1
            if len(frame) > self.max_frame:
                return
            got = self.frames.setdefault((key, version), [])
            # Variants: distinct bodies; the correlation id (bytes 4-8) alone does not make one.
            body = frame[:4] + frame[8:]
            if len(got) < self.variants and all(f[:4] + f[8:] != body for _, f in got):
                # Prefer variants of different sizes (different shapes) over near-duplicates.
                if not got or all(abs(len(f) - len(frame)) > 4 for _, f in got) or len(got) < 1:
                    got.append((self.source, frame))


# -- client workloads ------------------------------------------------------------------------------

def _step(name: str, fn: Callable[[], object], log: list[str]) -> None:
    t0 = time.monotonic()
    try:
        fn()
        log.append(f"ok    {name} ({time.monotonic() - t0:.1f}s)")
    except Exception as e:  # a client's refusal still leaves its request frames captured
        log.append(f"error {name}: {type(e).__name__}: {str(e)[:160]}")


def drive_confluent(bootstrap: str, proxy: RecordingProxy, log: list[str]) -> None:
    from confluent_kafka import (Consumer, ConsumerGroupTopicPartitions, ElectionType, IsolationLevel, Producer,
                                 TopicCollection, TopicPartition)
    from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType,
                                       AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                       NewPartitions, NewTopic, OffsetSpec, ResourcePatternType, ResourceType)

    proxy.source = "confluent-kafka"
    topic, topic2 = f"fz-{uuid.uuid4().hex[:8]}", f"fz-{uuid.uuid4().hex[:8]}"
    group = f"fzg-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})

    def wait(fs: object) -> None:
        if isinstance(fs, dict):
            for f in fs.values():
                f.result(timeout=30)
        else:
            fs.result(timeout=30)  # type: ignore[attr-defined]

    _step("create_topics", lambda: wait(admin.create_topics(
        [NewTopic(topic, 3, 1, config={"cleanup.policy": "delete", "retention.ms": "600000"}),
         NewTopic(topic2, 1, 1)], operation_timeout=30)), log)
    _step("create_topics validate_only", lambda: wait(admin.create_topics(
        [NewTopic(f"fz-v-{uuid.uuid4().hex[:6]}", 2, 1)], validate_only=True)), log)

    def produce(conf: dict[str, object], n: int = 20) -> None:
        p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **conf})
        for i in range(n):
            p.produce(topic, key=f"k{i}".encode(), value=f"value-{i}".encode() * 3, partition=i % 3,
                      headers=[("h", b"v")])
        assert p.flush(30) == 0

    _step("producer acks=1", lambda: produce({"acks": "1", "enable.idempotence": False}), log)
    _step("producer idempotent gzip", lambda: produce({"enable.idempotence": True, "compression.type": "gzip"}), log)
    _step("producer acks=0 lz4", lambda: produce({"acks": "0", "enable.idempotence": False,
                                                 "compression.type": "lz4"}), log)

    def consume(conf: dict[str, object], n: int) -> Consumer:
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                      "enable.auto.commit": False, **conf})
        c.subscribe([topic])
        got = 0
        deadline = time.monotonic() + 30
        while got < n and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                got += 1
                if got % 10 == 0:
                    c.commit(message=m, asynchronous=False)
        try:
            c.commit(asynchronous=False)
        except Exception:  # _NO_OFFSET: everything read was committed in the loop already
            pass
        c.committed([TopicPartition(topic, p) for p in range(3)], timeout=10)
        return c

    consumer_holder: list[Consumer] = []
    _step("classic group consume+commit", lambda: consumer_holder.append(consume({"session.timeout.ms": 6000}, 40)), log)

    def transactional() -> None:
        p = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"fztx-{uuid.uuid4().hex[:6]}"})
        p.init_transactions(30)
        p.begin_transaction()
        for i in range(5):
            p.produce(topic, key=b"t", value=f"tx-{i}".encode(), partition=i % 3)
        if consumer_holder:
            c = consumer_holder[0]
            p.send_offsets_to_transaction([TopicPartition(topic, 0, 1)], c.consumer_group_metadata(), 30)
        p.commit_transaction(30)
        p.begin_transaction()
        p.produce(topic2, value=b"aborted")
        p.abort_transaction(30)

    _step("transactional producer", transactional, log)
    if consumer_holder:
        _step("classic consumer close (LeaveGroup)", consumer_holder[0].close, log)
    _step("read_committed consumer", lambda: consume({"isolation.level": "read_committed",
                                                     "group.id": group + "-rc"}, 10).close(), log)
    _step("KIP-848 consumer", lambda: consume({"group.protocol": "consumer", "group.id": group + "-848"}, 10).close(),
          log)

    cfg = ConfigResource(ResourceType.TOPIC, topic)
    _step("describe_configs topic+broker", lambda: wait(admin.describe_configs(
        [cfg, ConfigResource(ResourceType.BROKER, "1")])), log)
    _step("alter_configs", lambda: wait(admin.alter_configs(
        [ConfigResource(ResourceType.TOPIC, topic, set_config={"retention.ms": "700000"})])), log)
    _step("incremental_alter_configs", lambda: wait(admin.incremental_alter_configs([ConfigResource(
        ResourceType.TOPIC, topic, incremental_configs=[
            ConfigEntry("retention.ms", "800000", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("segment.ms", None, incremental_operation=AlterConfigOpType.DELETE)])])), log)
    _step("create_partitions", lambda: wait(admin.create_partitions([NewPartitions(topic2, 3)])), log)
    _step("list_groups", lambda: admin.list_consumer_groups().result(30), log)
    _step("describe_groups", lambda: wait(admin.describe_consumer_groups([group, group + "-848"])), log)
    _step("list_consumer_group_offsets", lambda: wait(admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group)])), log)
    _step("alter_consumer_group_offsets", lambda: wait(admin.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 1, 2)])])), log)
    _step("list_offsets", lambda: wait(admin.list_offsets(
        {TopicPartition(topic, 0): OffsetSpec.earliest(), TopicPartition(topic, 1): OffsetSpec.latest(),
         TopicPartition(topic, 2): OffsetSpec.max_timestamp()}, isolation_level=IsolationLevel.READ_COMMITTED)), log)
    _step("delete_records", lambda: wait(admin.delete_records([TopicPartition(topic, 0, 2)])), log)
    _step("describe_cluster", lambda: admin.describe_cluster(include_authorized_operations=True).result(30), log)
    _step("describe_topics", lambda: wait(admin.describe_topics(TopicCollection([topic, topic2]),
                                                                include_authorized_operations=True)), log)
    _step("list_topics", lambda: admin.list_topics(timeout=30), log)
    _step("describe_acls", lambda: admin.describe_acls(AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
        AclPermissionType.ANY)).result(30), log)
    _step("create_acls", lambda: wait(admin.create_acls([AclBinding(
        ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, "User:fz", "*", AclOperation.READ,
        AclPermissionType.ALLOW)])), log)
    _step("delete_acls", lambda: wait(admin.delete_acls([AclBindingFilter(
        ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, None, None, AclOperation.ANY,
        AclPermissionType.ANY)])), log)
    for name in ("list_transactions", "describe_transactions", "describe_producers"):
        if hasattr(admin, name):
            log.append(f"note  confluent AdminClient has {name} (not driven)")
    _step("elect_leaders", lambda: admin.elect_leaders(
        ElectionType.PREFERRED, [TopicPartition(topic, 0)]).result(30), log)
    _step("delete_consumer_groups", lambda: wait(admin.delete_consumer_groups([group + "-rc"])), log)
    _step("delete_topics", lambda: wait(admin.delete_topics([topic2], operation_timeout=30)), log)


def drive_kafka_python(bootstrap: str, proxy: RecordingProxy, log: list[str]) -> None:
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

    proxy.source = "kafka-python"
    topic = f"fzp-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    _step("kp create_topics", lambda: admin.create_topics([NewTopic(topic, 2, 1)]), log)

    def produce() -> None:
        p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type="gzip")
        for i in range(20):
            p.send(topic, key=f"k{i}".encode(), value=b"kafka-python" * 2, partition=i % 2)
        p.flush(30)
        p.close()

    _step("kp producer", produce, log)

    def consume() -> None:
        c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"fzkp-{uuid.uuid4().hex[:6]}",
                          auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=10000)
        n = 0
        for _ in c:
            n += 1
            if n >= 20:
                break
        c.commit()
        c.close()

    _step("kp group consumer", consume, log)
    _step("kp describe_configs", lambda: admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)]),
          log)
    _step("kp create_partitions", lambda: admin.create_partitions({topic: NewPartitions(3)}), log)
    for name in ("list_groups", "list_consumer_groups", "describe_log_dirs", "describe_cluster",
                 "list_partition_reassignments", "describe_quorum", "list_transactions"):
        fn = getattr(admin, name, None)
        if fn is not None:
            _step(f"kp {name}", fn, log)
    fn = getattr(admin, "describe_topic_partitions", None)
    if fn is not None:
        _step("kp describe_topic_partitions", lambda: fn([topic]), log)
    _step("kp delete_topics", lambda: admin.delete_topics([topic]), log)
    admin.close()


def drive_kafkajs(bootstrap: str, proxy: RecordingProxy, log: list[str]) -> None:
    from clients import kafkajs
    from interop_data import Rec

    proxy.source = "kafkajs"
    topic = f"fzj-{uuid.uuid4().hex[:8]}"
    recs = [Rec(partition=i % 2, key=f"k{i}".encode(), value=b"kafkajs", headers=(("h", b"1"),),
                timestamp=1_700_000_000_000 + i) for i in range(10)]
    _step("kafkajs produce (createTopics)", lambda: kafkajs.produce(bootstrap, topic, recs, create_partitions=2), log)
    _step("kafkajs consume_group", lambda: kafkajs.consume_group(bootstrap, topic, f"fzj-{uuid.uuid4().hex[:6]}", 10),
          log)


# -- gap filling with the generated codec ----------------------------------------------------------

def served_versions() -> dict[int, tuple[int, int]]:
    import importlib
    import pkgutil

    import fastkafka.net.handlers as handlers
    from fastkafka.net.registry import BROKER, REGISTRY

    for m in pkgutil.iter_modules(handlers.__path__):
        importlib.import_module(f"fastkafka.net.handlers.{m.name}")
    return {k: (h.min_accepted, h.max_version) for k, h in REGISTRY.for_listener(BROKER).items()}


def request_header(api_key: int, version: int, correlation_id: int, client_id: bytes) -> bytes:
    from fastkafka.protocol import api

    h = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    if api.request_header_version(api_key, version) >= 2:
        h += b"\x00"  # no tagged fields
    return h


def split_header(frame: bytes) -> tuple[int, int, int]:
    """(api_key, version, offset of the body) of a captured frame."""
    from fastkafka._native.wire import Reader
    from fastkafka.protocol import api

    key, version, _corr, cid_len = struct.unpack(">hhih", frame[:10])
    pos = 10 + max(cid_len, 0)
    if api.request_header_version(key, version) >= 2:
        r = Reader(frame, pos)
        for _ in range(r.tagged_field_count()):
            r.uvarint()
            r.raw(r.uvarint())
        pos = r.pos
    return key, version, pos


def fill_gaps(frames: dict[tuple[int, int], list[tuple[str, bytes]]], log: list[str]) -> None:
    from fastkafka._native.wire import Reader, Writer
    from fastkafka.protocol import api

    for key, (lo, hi) in sorted(served_versions().items()):
        captured = sorted(v for (k, v) in frames if k == key and frames[(k, v)])
        for version in range(lo, hi + 1):
            if (key, version) in frames and frames[(key, version)]:
                continue
            cls = api.REQUESTS[key]
            body: bytes | None = None
            how = "codec default"
            for src_version in sorted(captured, key=lambda v: abs(v - version)):
                _, _, pos = split_header(frames[(key, src_version)][0][1])
                try:
                    req = cls.decode(Reader(frames[(key, src_version)][0][1], pos), src_version)
                    w = Writer()
                    req.encode(w, version)
                    body = w.getvalue()
                    how = f"codec re-encode of captured v{src_version}"
                    break
                except Exception:
                    continue
            if body is None:
                w = Writer()
                cls().encode(w, version)
                body = w.getvalue()
            frames[(key, version)] = [(how, request_header(key, version, 1, b"fuzz-corpus") + body)]
            log.append(f"gap   {api.API_NAMES[key]} ({key}) v{version}: {how}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "tests/interop/fuzz_corpus/frames.jsonl"))
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument("--max-frame", type=int, default=8192)
    ap.add_argument("--no-kafkajs", action="store_true")
    args = ap.parse_args()

    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fuzz-capture-") as tmp:
        proxy_port = free_port()
        broker = BrokerProcess(Path(tmp), target="fastkafka",
                               extra_props={"advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy_port}"})
        broker.start()
        proxy = RecordingProxy(broker.port, proxy_port, args.variants, args.max_frame)
        proxy.start()
        bootstrap = f"127.0.0.1:{proxy_port}"
        try:
            drive_confluent(bootstrap, proxy, log)
            drive_kafka_python(bootstrap, proxy, log)
            if not args.no_kafkajs:
                drive_kafkajs(bootstrap, proxy, log)
        finally:
            proxy.stop()
            broker.stop()
    frames = proxy.frames
    captured_keys = {k for k in frames}
    from fastkafka.protocol import api

    fill_gaps(frames, log)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as f:
        for (key, version) in sorted(frames):
            for source, frame in frames[(key, version)]:
                f.write(json.dumps({"api_key": key, "api_version": version, "api": api.API_NAMES.get(key, "?"),
                                    "source": source, "frame": base64.b64encode(frame).decode()}) + "\n")
    for line in log:
        print(line)
    served = served_versions()
    print(f"captured from clients: {len(captured_keys)} (api_key, version) pairs; "
          f"written: {sum(len(v) for v in frames.values())} frames, {os.path.getsize(out)} bytes -> {out}")
    not_served = sorted(k for k in captured_keys if k[0] not in served or not served[k[0]][0] <= k[1] <= served[k[0]][1])
    if not_served:
        print(f"clients also sent versions the broker does not serve: {not_served}")


if __name__ == "__main__":
    main()
