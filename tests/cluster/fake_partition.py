"""A stand-in for a `Partition` this node leads whose writes are committed at once (one replica:
the high watermark is the log end), for coordinator tests that need no log."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any


def committed_leader(**fields: Any) -> SimpleNamespace:
    """`is_leader`, an empty `log`, and `await_replication` answering "committed already" (None)."""
    return SimpleNamespace(**{"is_leader": True, "log": SimpleNamespace(log_end_offset=0),
                              "await_replication": lambda offset: None, **fields})
