"""A TCP proxy in front of the broker that withholds Produce responses, for the idempotence tests.

The broker advertises the proxy's address (advertised.listeners), so every client connection goes
through it (frame_proxy.FrameProxy: bytes forwarded unchanged both ways, frames read only for the
request header). When `should_withhold(n)` says so for the n-th Produce response, the proxy drops
that response and closes both sides of the connection: the broker has appended the batch, but the
producer never hears of it and must retry, on a new connection, with the same producer id, epoch and
sequence. The counters are only touched on the proxy's thread.
"""
from __future__ import annotations

from collections.abc import Callable

from frame_proxy import FrameProxy

PRODUCE = 0


class WithholdingProxy(FrameProxy):
    def __init__(self, upstream_port: int, should_withhold: Callable[[int], bool]) -> None:
        super().__init__(upstream_port)
        self.should_withhold = should_withhold
        self.produce_responses = 0
        self.withheld = 0

    def forward_response(self, api_key: int | None, frame: bytes) -> bool:
        if api_key != PRODUCE:
            return True
        self.produce_responses += 1
        if self.should_withhold(self.produce_responses):
            self.withheld += 1
            return False  # the batch is in the log; the producer never learns it
        return True
