"""A TCP proxy in front of the broker that withholds Produce responses, for the idempotence tests.

The broker advertises the proxy's address (advertised.listeners), so every client connection goes through
it. The proxy forwards bytes both ways unchanged, reading the Kafka frames (4-byte size prefix) only to
learn each request's API key and correlation id. When `should_withhold(n)` says so for the n-th Produce
response, the proxy drops that response and closes both sides of the connection: the broker has appended
the batch, but the producer never hears of it and must retry, on a new connection, with the same
producer id, epoch and sequence. Nothing of the Kafka protocol is interpreted beyond the request header.
"""
from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Callable

PRODUCE = 0


class WithholdingProxy:
    def __init__(self, upstream_port: int, should_withhold: Callable[[int], bool]) -> None:
        self.upstream_port = upstream_port
        self.should_withhold = should_withhold
        self.port = 0
        self.produce_responses = 0
        self.withheld = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, port: int) -> None:
        self.port = port
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("proxy did not start")

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            broker_r, broker_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.close()
            return
        api_keys: dict[int, int] = {}  # correlation id -> api key, of the requests in flight

        async def requests() -> None:
            while True:
                size = struct.unpack(">i", await client_r.readexactly(4))[0]
                body = await client_r.readexactly(size)
                api_key, _version, correlation_id = struct.unpack(">hhi", body[:8])
                api_keys[correlation_id] = api_key
                broker_w.write(struct.pack(">i", size) + body)
                await broker_w.drain()

        async def responses() -> None:
            while True:
                size = struct.unpack(">i", await broker_r.readexactly(4))[0]
                body = await broker_r.readexactly(size)
                correlation_id = struct.unpack(">i", body[:4])[0]
                if api_keys.pop(correlation_id, None) == PRODUCE:
                    self.produce_responses += 1
                    if self.should_withhold(self.produce_responses):
                        self.withheld += 1
                        return  # the batch is in the log; the producer never learns it
                client_w.write(struct.pack(">i", size) + body)
                await client_w.drain()

        tasks = [asyncio.ensure_future(requests()), asyncio.ensure_future(responses())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            for w in (client_w, broker_w):
                w.close()
