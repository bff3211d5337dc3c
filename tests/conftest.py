"""Suite-wide pytest options. Only the interop switch lives here; interop fixtures are in tests/interop/conftest.py.

    pytest --broker-target=apache   run tests/interop against Apache Kafka 4.1 instead of fastkafka
                                    (same as FASTKAFKA_TEST_TARGET=apache)
    pytest -m "not interop"         skip the real-client suite (it starts broker processes)
"""
from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--broker-target", choices=("fastkafka", "apache"), default=None,
                     help="broker the interop tests start: fastkafka (default) or Apache Kafka 4.1")


def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("--broker-target")
    if target:
        os.environ["FASTKAFKA_TEST_TARGET"] = target
