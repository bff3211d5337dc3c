"""Per-request facts the handlers need: who sent it, on which listener, with which header."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class RequestContext:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    listener_name: str
    security_protocol: str
    client_address: str
    connection_id: str
    # KafkaPrincipal arrives with SASL/SSL; until then every client is User:ANONYMOUS like Kafka.
    principal: str = "User:ANONYMOUS"
    # Size of the request frame in bytes (Kafka's request.size metric; quota accounting later).
    size: int = 0
