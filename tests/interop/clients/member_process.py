"""One consumer-group member as a process (so a test can kill -9 it): confluent-kafka subscribed
to a topic, printing JSON lines to stdout: {"ev": "assign"|"revoke"|"lost", "parts": [...], "t": ...}
from its rebalance callbacks and {"ev": "rec", "p": partition, "o": offset, "v": value} per record.
SIGTERM closes the consumer (it commits and leaves the group). Extra librdkafka properties come as
key=value arguments, e.g. group.protocol=consumer.

    python member_process.py BOOTSTRAP TOPIC GROUP [key=value ...]
"""
from __future__ import annotations

import json
import signal
import sys
import time

from confluent_kafka import Consumer


def main() -> None:
    bootstrap, topic, group = sys.argv[1:4]
    conf: dict[str, object] = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                               "enable.auto.commit": True, "auto.commit.interval.ms": 500}
    for kv in sys.argv[4:]:
        k, v = kv.split("=", 1)
        conf[k] = v
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)

    def emit(ev: dict[str, object]) -> None:
        sys.stdout.write(json.dumps(ev) + "\n")
        sys.stdout.flush()

    def cb(kind: str):  # type: ignore[no-untyped-def]
        def f(_c, parts) -> None:  # type: ignore[no-untyped-def]
            emit({"ev": kind, "parts": sorted(p.partition for p in parts), "t": time.time()})
        return f

    c = Consumer(conf)
    c.subscribe([topic], on_assign=cb("assign"), on_revoke=cb("revoke"), on_lost=cb("lost"))
    emit({"ev": "started", "t": time.time()})
    while not stop:
        for m in c.consume(num_messages=500, timeout=0.2):
            if m.error() is None:
                emit({"ev": "rec", "p": m.partition(), "o": m.offset(), "v": m.value().decode()})
    c.close()
    emit({"ev": "closed", "t": time.time()})


if __name__ == "__main__":
    main()
