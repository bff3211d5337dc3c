"""Storage test fixtures. If the native modules are not built yet, pure-Python stand-ins
(_fake_native.py) are installed so the storage logic can still be exercised; the real modules
are used whenever they import."""
from __future__ import annotations

import importlib
import sys

import pytest

try:
    importlib.import_module("fastkafka._native.record_batch")
    importlib.import_module("fastkafka._native.index")
    NATIVE = True
except ImportError:
    NATIVE = False
    import _fake_native  # noqa: E402  (tests/storage is on sys.path under pytest)

    _rb, _ix = _fake_native.modules()
    sys.modules["fastkafka._native.record_batch"] = _rb
    sys.modules["fastkafka._native.index"] = _ix


@pytest.fixture
def native() -> bool:
    return NATIVE
