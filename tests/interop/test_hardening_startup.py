"""Start-up hardening (issue 13 items 5-7), with the real broker process and real clients:

- A damaged active segment after a clean stop (37 bytes cut from its end, or 500 random bytes
  appended): the tail is CRC-checked at start-up and cut, with a WARN naming the partition; 100
  records acknowledged afterwards are read back by a confluent-kafka consumer, and still are after
  a kill -9 and the crash recovery that follows.
- Ready before listening: a confluent-kafka AdminClient `create_topics` issued the moment the broker
  answers (what the interop fixtures wait for) succeeds, even when the broker's registration is
  slow (FASTKAFKA_TEST_REGISTRATION_DELAY_MS stands in for a loaded machine). With the old order
  (FASTKAFKA_TEST_SERVE_BEFORE_REGISTRATION=1) the same call fails exactly as in `make test` on a
  fresh clone: "Failed while waiting for controller: Local: Timed out".
- Fail closed: an SSL or SASL listener, or an authorizer, stops start-up with exit code 1 and a
  message naming the key.

Against Apache Kafka 4.4 (FASTKAFKA_TEST_TARGET=apache): the readiness test passes as is; the
other tests are skipped where Apache's behaviour is what the issue changes (see each skip).
`make stress-startup` runs the two readiness tests that failed on a fresh clone many times with a
CPU hog beside them (tools/stress_startup.py).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from broker_process import BrokerProcess, running_broker
from clients import confluent
from interop_data import Rec
from responsiveness import responsiveness_probe

pytestmark = pytest.mark.interop

STRESS_ENV = "FASTKAFKA_STRESS_CPU_HOG"  # set by tools/stress_startup.py while its CPU hog runs


def _records(n: int, tag: str) -> list[Rec]:
    return [Rec(partition=0, key=f"{tag}-{i}".encode(), value=f"value-{tag}-{i}".encode() * 4,
                headers=(), timestamp=0) for i in range(n)]


def _active_segment(broker: BrokerProcess, topic: str) -> Path:
    return max(broker.partition_dir(topic, 0).glob("*.log"))


def _values(broker: BrokerProcess, topic: str) -> list[tuple[int, bytes | None]]:
    return [(offset, value) for _, offset, _, value in confluent.read_to_end(broker.bootstrap, topic, 1)]


# ----------------------------------------------------------------------------- item 5: tails
@pytest.mark.parametrize("damage", ["cut37", "append500"])
def test_damaged_active_segment_after_clean_stop(fresh_broker: BrokerProcess, target: str, topic_name: str,
                                                 damage: str) -> None:
    if target == "apache":
        # Apache Kafka 4.4 trusts a clean shutdown (no recovery after one): the damaged bytes stay
        # and the next appends land behind them. Run against Apache 4.4 (37 bytes cut): the 100
        # records were acknowledged, then the confluent-kafka consumer reading past the torn
        # batch aborted the whole test process inside librdkafka ("Fatal Python error: Aborted").
        # That is the behaviour this issue changes, so there is nothing to compare.
        pytest.skip("Apache Kafka 4.4 trusts a clean shutdown (no recovery, no CRC check of the active segment's "
                    "tail): the damaged bytes stay, and a librdkafka consumer reading past them aborts the test process")
    broker = fresh_broker
    confluent.create_topic(broker.bootstrap, topic_name, 1)
    before: list[tuple[int, int]] = []
    for round_ in range(5):  # separate flushes: several batches in the segment
        before += confluent.produce(broker.bootstrap, topic_name, _records(10, f"before{round_}"))
    assert [o for _, o in before] == list(range(50))
    assert broker.stop() == 0  # a clean stop: the clean-shutdown marker is written

    segment = _active_segment(broker, topic_name)
    if damage == "cut37":
        with open(segment, "r+b") as f:
            f.truncate(os.path.getsize(segment) - 37)
    else:
        with open(segment, "ab") as f:
            f.write(os.urandom(500))

    broker.start()
    log = broker.log_tail(200_000)
    warnings = [line for line in log.splitlines() if "torn or corrupt tail" in line]
    assert len(warnings) == 1 and f"partition={topic_name}-0" in warnings[0] and "bytes truncated" in warnings[0], \
        warnings
    survivors = _values(broker, topic_name)
    kept = len(survivors)
    assert [o for o, _ in survivors] == list(range(kept))
    assert kept == 50 if damage == "append500" else 40 <= kept < 50  # cut37 tears the last batch
    with responsiveness_probe(broker) as probe:
        acked = confluent.produce(broker.bootstrap, topic_name, _records(100, "after"))
        assert [o for _, o in acked] == list(range(kept, kept + 100))
        after = _values(broker, topic_name)
    probe.assert_responsive()
    want = survivors + [(kept + i, r.value) for i, r in enumerate(_records(100, "after"))]
    assert after == want

    broker.kill9()  # the crash recovery re-reads the segment: the 100 acknowledged records stay
    broker.start()
    assert _values(broker, topic_name) == want


# ----------------------------------------------------------------------------- item 6: readiness
def _create_at_once_and_use(broker: BrokerProcess, topic: str) -> None:
    with responsiveness_probe(broker) as probe:
        confluent.create_topic(broker.bootstrap, topic, 2)  # the call that timed out on a fresh clone
        acked = confluent.produce(broker.bootstrap, topic, _records(20, "ready"))
        assert len(acked) == 20
        assert len(confluent.read_to_end(broker.bootstrap, topic, 2)) == 20
    if os.environ.get(STRESS_ENV):
        # Beside a busy-loop process per core (tools/stress_startup.py) the probe's 100 ms bound
        # measures the hog, not the broker: report the figures, assert only that it was answered.
        print(f"[{broker.target}] {probe.summary()}")
        assert probe.waits and not probe.errors, probe.summary()
    else:
        probe.assert_responsive()


def test_create_topics_right_after_start(tmp_path: Path, topic_name: str) -> None:
    """The fixtures' notion of started (an ApiVersions answer), then at once an admin client:
    repeated on fresh brokers, each start racing its registration."""
    for i in range(3):
        with running_broker(tmp_path / f"broker{i}") as broker:
            _create_at_once_and_use(broker, f"{topic_name}-{i}")


def test_create_topics_right_after_a_slow_registration(tmp_path: Path, topic_name: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded machine made reproducible: the broker registers 3 s after binding its listener
    (FASTKAFKA_TEST_REGISTRATION_DELAY_MS; ignored by Apache). The listener refuses connections
    until the broker is registered and unfenced, so the first Metadata answer is complete."""
    monkeypatch.setenv("FASTKAFKA_TEST_REGISTRATION_DELAY_MS", "3000")
    with running_broker(tmp_path / "broker") as broker:
        _create_at_once_and_use(broker, topic_name)


def test_serving_before_registration_is_what_timed_out(tmp_path: Path, target: str, topic_name: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the fix matters: with the listener served before the registration (the old order), the
    same admin call gets a Metadata answer without brokers or controller id, and librdkafka waits
    for a controller until its timeout, although the broker registers 3 s later."""
    if target == "apache":
        pytest.skip("FASTKAFKA_TEST_SERVE_BEFORE_REGISTRATION is a fastkafka-only hook (the start-up order before "
                    "issue 13); Apache 4.4's BrokerServer opens its data-plane listeners only after unfencing, with no switch")
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    monkeypatch.setenv("FASTKAFKA_TEST_REGISTRATION_DELAY_MS", "3000")
    monkeypatch.setenv("FASTKAFKA_TEST_SERVE_BEFORE_REGISTRATION", "1")
    with running_broker(tmp_path / "broker") as broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        futures = admin.create_topics([NewTopic(topic_name, num_partitions=1, replication_factor=1)],
                                      operation_timeout=6, request_timeout=6)
        with pytest.raises(KafkaException, match="Failed while waiting for controller"):
            futures[topic_name].result(timeout=60)
        # The broker itself is fine once registered: the next client gets its answer.
        _create_at_once_and_use(broker, topic_name + "-later")


# ----------------------------------------------------------------------------- item 7: fail closed
_UNSERVED = {
    "ssl-listener": ({"listeners": "PLAINTEXT://127.0.0.1:{port},SSL://127.0.0.1:{port2},CONTROLLER://127.0.0.1:{cport}",
                      "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL"},
                     "Listener SSL in listeners uses security protocol SSL (listener.security.protocol.map)"),
    "sasl-listener": ({"listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:SASL_PLAINTEXT"},
                      "Listener PLAINTEXT in listeners uses security protocol SASL_PLAINTEXT"),
    "authorizer": ({"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer"},
                   "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer is not provided"),
}


@pytest.mark.parametrize("case", sorted(_UNSERVED))
def test_unserved_security_stops_start_up(tmp_path: Path, target: str, case: str) -> None:
    if target == "apache":
        # Apache Kafka serves SSL, SASL and the StandardAuthorizer (given keystores, JAAS configs):
        # refusing them is fastkafka's own answer until issue 16 brings security.
        pytest.skip("Apache Kafka 4.4 serves SSL/SASL listeners and the StandardAuthorizer, so it starts; fastkafka "
                    "refuses them until security is built (SKIPPED_FEATURES.md, Broker-wide: Security)")
    from broker_process import free_port

    overrides, message = _UNSERVED[case]
    broker = BrokerProcess(tmp_path / "broker")
    props = dict(broker.props)
    for key, value in overrides.items():
        props[key] = value.format(port=broker.port, port2=free_port(), cport=broker.controller_port)
    broker.props_path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    out = subprocess.run([sys.executable, "-m", "fastkafka", "start", str(broker.props_path)],
                         capture_output=True, text=True, timeout=60, env=broker._env())
    assert out.returncode == 1, out.stdout + out.stderr
    assert message in out.stderr and out.stderr.startswith("fastkafka: "), out.stderr
    assert "Traceback" not in out.stderr
