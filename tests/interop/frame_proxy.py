"""A TCP proxy in front of the broker, on its own thread, that sees each Kafka frame going by: the
one pump loop of withholding_proxy.py (the idempotence tests drop Produce responses) and of
tools/capture_fuzz_corpus.py (records real clients' request frames).

The broker advertises the proxy's address (advertised.listeners), so every client connection goes
through it. Invariants:
- bytes are forwarded unchanged both ways; frames are only read (4-byte size prefix) to learn each
  request's API key and correlation id, nothing of the Kafka protocol is interpreted beyond the
  request header;
- a subclass sees every request frame (`on_request`, header + body without the size prefix) before
  it is forwarded, and decides for every response frame whether it is forwarded (`forward_response`);
  a response it does not forward closes both sides of that connection (as a broker failing after
  its append would);
- one asyncio loop on one daemon thread owns every connection; a subclass's hooks run on it.
"""
from __future__ import annotations

import asyncio
import struct
import threading


class FrameProxy:
    def __init__(self, upstream_port: int, port: int = 0) -> None:
        self.upstream_port = upstream_port
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    # -- hooks (run on the proxy's thread) -------------------------------------------------------
    def on_request(self, frame: bytes) -> None:
        """A request frame (header + body, no size prefix), before it is forwarded."""

    def forward_response(self, api_key: int | None, frame: bytes) -> bool:
        """Whether to forward this response frame (`api_key`: its request's, None if unknown).
        False drops it and closes the connection both ways."""
        return True

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, port: int | None = None) -> None:
        if port is not None:
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
                if len(body) >= 8:
                    api_key, _version, correlation_id = struct.unpack(">hhi", body[:8])
                    api_keys[correlation_id] = api_key
                self.on_request(body)
                broker_w.write(struct.pack(">i", size) + body)
                await broker_w.drain()

        async def responses() -> None:
            while True:
                size = struct.unpack(">i", await broker_r.readexactly(4))[0]
                body = await broker_r.readexactly(size)
                correlation_id = struct.unpack(">i", body[:4])[0]
                if not self.forward_response(api_keys.pop(correlation_id, None), body):
                    return
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
