"""A broker whose loop monitor logs every tick later than 5 ms (fastkafka only: Apache has no
event loop), and the worst such lag read back from its log. The hardening tests print it beside
the responsiveness probe's figure: the probe's wait also counts the machine's load, the monitor's
lag is what the loop itself was busy with."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker_process import BrokerProcess
from broker_process import test_target

LAG_RE = re.compile(rb"Event loop lag (\d+) ms")


def lag_warn_broker(tmp_path_factory: pytest.TempPathFactory, name: str, stop_timeout: float = 60.0) -> Iterator[BrokerProcess]:
    """For a module fixture: `yield from lag_warn_broker(tmp_path_factory, "name")`."""
    props = {"fastkafka.event.loop.lag.warn.ms": "5"} if test_target() == "fastkafka" else {}
    b = BrokerProcess(tmp_path_factory.mktemp(name), extra_props=props)
    b.start()
    try:
        yield b
    finally:
        b.stop(timeout=stop_timeout)


def worst_loop_lag_ms(log_path: Path, since: int) -> int:
    """The loop monitor's worst late tick logged after byte `since` of the broker log (0: none
    above the 5 ms threshold)."""
    with open(log_path, "rb") as f:
        f.seek(since)
        return max((int(m.group(1)) for m in LAG_RE.finditer(f.read())), default=0)
