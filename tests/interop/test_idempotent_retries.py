"""Idempotence: producers whose Produce responses are withheld retry, and the log holds no duplicate.

The broker advertises a proxy (withholding_proxy.py) that drops some Produce responses and closes the
connection: the batch was appended, the producer does not know it and resends it with the same producer
id, epoch and sequence; the broker answers the retry from its producer state (the batch's original
offsets) instead of appending it again. Producers: librdkafka (enable.idempotence) and Kafka's Java
kafka-verifiable-producer (acks=all, with the producer's default retries and idempotence). Every record is then read back once,
in order per partition. Passes against Apache Kafka 4.4 too (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

import kafka_java as kj
from broker_process import BrokerProcess, free_port
from clients import confluent
from withholding_proxy import WithholdingProxy

pytestmark = pytest.mark.interop

N = 20_000


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[BrokerProcess, WithholdingProxy]]:
    proxy_port = free_port()
    b = BrokerProcess(tmp_path / "broker", extra_props={"advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy_port}"})
    # Withhold every 5th of the first 60 Produce responses: each costs the producer a reconnect and a retry.
    proxy = WithholdingProxy(b.port, should_withhold=lambda n: n % 5 == 2 and n <= 60)
    proxy.start(proxy_port)
    b.start()
    try:
        yield b, proxy
    finally:
        b.stop()
        proxy.stop()


def _read_all(bootstrap: str, topic: str, partitions: int) -> list[tuple[int, int, bytes]]:
    return [(p, o, v or b"") for p, o, _k, v in confluent.read_to_end(bootstrap, topic, partitions)]


def _assert_each_once(records: list[tuple[int, int, bytes]]) -> None:
    counts = Counter(v for _p, _o, v in records)
    duplicates = {v: n for v, n in counts.items() if n > 1}
    assert not duplicates, f"{len(duplicates)} values written more than once, e.g. {list(duplicates.items())[:5]}"
    assert set(counts) == {b"%d" % i for i in range(N)}, f"{N - len(counts)} missing"
    for p in {p for p, _o, _v in records}:
        values = [int(v) for q, _o, v in sorted(records) if q == p]
        assert values == sorted(values), f"partition {p} out of order"


def test_librdkafka_idempotent_producer_retries_without_duplicates(proxied: tuple[BrokerProcess, WithholdingProxy],
                                                                  topic_name: str) -> None:
    b, proxy = proxied
    bootstrap = f"127.0.0.1:{proxy.port}"
    confluent.create_topic(bootstrap, topic_name, 3)
    errors: list[str] = []
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                  "batch.num.messages": 200, "request.timeout.ms": 5000})

    def report(err: object, _msg: object) -> None:
        if err is not None:
            errors.append(str(err))

    for i in range(N):
        p.produce(topic_name, value=b"%d" % i, partition=i % 3, on_delivery=report)
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(120) == 0
    assert not errors, errors[:5]
    assert proxy.withheld > 0, "no response was withheld: the test proved nothing"
    records = _read_all(bootstrap, topic_name, 3)
    _assert_each_once(records)
    print(f"\n{N} records, {proxy.withheld} Produce responses withheld, {len(records)} in the log")


def test_java_idempotent_producer_retries_without_duplicates(proxied: tuple[BrokerProcess, WithholdingProxy],
                                                            topic_name: str, tmp_path: Path) -> None:
    b, proxy = proxied
    bootstrap = f"127.0.0.1:{proxy.port}"
    confluent.create_topic(bootstrap, topic_name, 1)
    # VerifiableProducer sets retries=0 unless told otherwise: give it the Java producer's defaults back.
    config = tmp_path / "producer.properties"
    config.write_text("enable.idempotence=true\nretries=2147483647\n")
    out = kj.run_tool(kj.VERIFIABLE_PRODUCER, "--bootstrap-server", bootstrap, "--topic", topic_name,
                      "--max-messages", str(N), "--acks", "-1", "--producer.config", str(config),
                      timeout=180).stdout.decode()
    events = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    assert not [e for e in events if e.get("name") == "producer_send_error"]
    assert len([e for e in events if e.get("name") == "producer_send_success"]) == N
    assert proxy.withheld > 0, "no response was withheld: the test proved nothing"
    records = _read_all(bootstrap, topic_name, 1)
    _assert_each_once(records)
    assert [o for _p, o, _v in records] == list(range(N))  # no gap, no duplicate offset either
    print(f"\n{N} records, {proxy.withheld} Produce responses withheld, {len(records)} in the log")
