"""ApiMessageAndVersion: a metadata record with the version it is (to be) serialized at
(Kafka's server.common.ApiMessageAndVersion)."""
from __future__ import annotations

from typing import Any, NamedTuple


class ApiMessageAndVersion(NamedTuple):
    message: Any
    version: int
