"""Fixtures for the interop suite: a real broker process, fresh topics, the broker's output on failure.

`broker`        session-scoped broker shared by most tests (each test uses its own uuid topics).
`fresh_broker`  a broker of its own, for tests that restart or kill it.
Both yield a `BrokerProcess` (.bootstrap, .start(), .stop(), .restart(), .kill9(), .log_dirs).
FASTKAFKA_TEST_TARGET=apache runs Apache Kafka 4.4 instead of fastkafka (see broker_process.py).
"""
from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from broker_process import BrokerProcess, test_target  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.interop)


@pytest.fixture(scope="session")
def target() -> str:
    return test_target()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("broker"))
    b.start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path / "broker")
    b.start()
    try:
        yield b
    finally:
        if b.is_alive():
            b.stop()
        else:
            b.kill9()  # forgets a process a test already killed


@pytest.fixture
def topic_name() -> str:
    return f"interop-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def fastkafka_only(target: str) -> None:
    """For the few tests that inspect fastkafka itself rather than Kafka's observable behaviour."""
    if target != "fastkafka":
        pytest.skip("inspects fastkafka internals; not applicable to Apache Kafka")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, BrokerProcess):
                alive = "alive" if value.is_alive() else "not running"
                report.sections.append((f"broker output ({name}, {value.target}, {alive})", value.log_tail()))
