"""Cluster test fixtures.

The generated protocol classes may not be in the tree yet: cluster_stubs installs stand-ins only
when the real modules do not import. The native modules may not be built yet either: the storage
package needs them at import, so modules that import storage (the controller) are imported
inside tests, after the session fixture below has installed the storage tests' pure-Python
stand-ins (tests/storage/_fake_native.py) — the same ones tests/storage's conftest installs,
so running both directories together gives one consistent set."""
import importlib
import importlib.util
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import cluster_stubs  # noqa: E402

cluster_stubs.install()


@pytest.fixture(scope="session", autouse=True)
def _native_fallback() -> None:
    try:
        importlib.import_module("fastkafka._native.record_batch")
        importlib.import_module("fastkafka._native.index")
    except ImportError:
        path = os.path.join(os.path.dirname(__file__), "..", "storage", "_fake_native.py")
        spec = importlib.util.spec_from_file_location("_storage_fake_native", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        rb, ix = mod.modules()
        sys.modules["fastkafka._native.record_batch"] = rb
        sys.modules["fastkafka._native.index"] = ix
