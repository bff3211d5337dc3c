"""The handler registry: one entry per API key, built by the `handler` decorator in each
`net/handlers/kNN_*.py` module. ApiVersions is answered from this registry, so the broker can
never advertise an API or version it does not handle (franz-go kfake's convention).

A handler is `fn(broker, ctx, request) -> response | None | Awaitable[response | None] | Staged`.
Returning None means "send no response" (Produce with acks=0).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from fastkafka.protocol import api

HandlerFn = Callable[[Any, Any, Any], Any | Awaitable[Any]]

BROKER = "broker"
CONTROLLER = "controller"


@dataclasses.dataclass(frozen=True, slots=True)
class Staged:
    """An ordered handler's answer whose side effects are done before its response is: the
    connection holds its later frames only until `applied` is done (None: already), and sends
    `response` when it completes, in request order as always. Produce: the appends are made
    (offsets assigned, in order), the acknowledgement waits for the log writer thread."""

    response: Awaitable[Any]
    applied: Awaitable[Any] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Handler:
    api_key: int
    name: str
    min_version: int  # lowest version advertised in ApiVersions
    max_version: int
    # Lowest version actually served; Kafka advertises Produce from 0 but rejects v0-2
    # (KAFKA-18659: librdkafka's feature detection needs min 0 in ApiVersions).
    min_accepted: int
    listeners: frozenset[str]
    fn: HandlerFn
    request_type: type
    response_type: type
    # An ordered handler that returns an awaitable holds back the connection's next requests until
    # it is done (Produce: a batch validated off the loop must still append before the next
    # request's batches, or an idempotent producer's in-flight requests would land out of order).
    ordered: bool = False


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[int, Handler] = {}

    def register(
        self,
        api_key: int,
        min_version: int,
        max_version: int,
        *,
        min_accepted: int | None = None,
        listeners: tuple[str, ...] = (BROKER,),
        ordered: bool = False,
        request_type: Any = None,
    ) -> Callable[[HandlerFn], HandlerFn]:
        """`request_type`: what decodes the request instead of the generated class (e.g.
        net/sliced_decoding.py's `sliced_request`, for requests naming thousands of topics)."""
        def deco(fn: HandlerFn) -> HandlerFn:
            if api_key in self._handlers:
                raise RuntimeError(f"API key {api_key} registered twice")
            req, resp = api.REQUESTS[api_key], api.RESPONSES[api_key]
            lo, hi = req.VALID_VERSIONS
            accepted = min_version if min_accepted is None else min_accepted
            # Versions below the spec's range may be advertised (never decoded) when Kafka does so
            # for feature detection: Produce 0-2 (its JSON says 3+, its ApiVersions says 0).
            if not (min_version <= accepted and lo <= accepted <= max_version <= hi):
                raise RuntimeError(
                    f"{api.API_NAMES[api_key]} {accepted}-{max_version} outside the spec's {lo}-{hi}"
                )
            self._handlers[api_key] = Handler(
                api_key, api.API_NAMES[api_key], min_version, max_version, accepted,
                frozenset(listeners), fn, req if request_type is None else request_type, resp, ordered,
            )
            return fn

        return deco

    def get(self, api_key: int) -> Handler | None:
        return self._handlers.get(api_key)

    def for_listener(self, listener_kind: str) -> dict[int, Handler]:
        return {k: h for k, h in sorted(self._handlers.items()) if listener_kind in h.listeners}


REGISTRY = HandlerRegistry()
handler = REGISTRY.register
