"""One client connection: Kafka framing, header parsing, dispatch, responses in request order.

Framing: every request is an int32 size followed by that many bytes (request header + body).
A size below the smallest header or above `socket.request.max.bytes` closes the connection
(Kafka's InvalidReceiveException); so do an unknown API key, an unsupported version of any API
but ApiVersions, and a body that does not decode (InvalidRequestException), logged at INFO without a stack trace. A handler that raises is
answered with the API's error response (`error_response`: UNKNOWN_SERVER_ERROR, or the
KafkaError's code) as Kafka's KafkaApis.handleError does: one WARN line, the stack at DEBUG,
the connection stays open. ApiVersions at an
unknown version is answered in the v0 layout with UNSUPPORTED_VERSION and the supported ranges
(KIP-511) so the client can retry at a version we know.

Ordering invariant: responses leave in the order requests arrived, whatever order handlers finish
in. Handlers start in arrival order (a handler's synchronous prefix — e.g. the log append of a
Produce — runs before the next request is dispatched), so per-connection request order is also
the order of side effects, which idempotent producers with several in-flight requests rely on.
An `ordered` handler (Produce) that has to await (a compressed batch validated off the loop)
holds the connection's later frames back until it is done, so the invariant survives the await;
one that returns a `Staged` holds them only until its side effects are applied (Produce: the
appends), not while its response waits (the log writer thread writing a big batch).

Memory: a frame of `LARGE_FRAME` bytes or more is received into its own buffer from the broker's
`MemoryPool` (queued.max.request.bytes); while the pool cannot give it one, the connection stops
reading (its other requests keep being answered); smaller frames never wait. The buffer is an
anonymous mmap, unmapped (and its reservation returned) when the last reference to it goes.

Reading: the connection is a BufferedProtocol. While a large frame is being received the transport
reads straight into its pooled buffer: one copy, kernel to buffer, each read bounded by what the
socket holds. (As a plain Protocol, a 64 MB frame came in 256 KB `bytes` objects copied twice more,
up to 32 reads per loop iteration: 34-92 ms of loop CPU in one iteration, measured by
test_hardening_wide_produce; now <= 3 ms.) Other reads go into a fixed scratch buffer whose bytes
are parsed as before.

Decoding: a frame of `OFF_LOOP_DECODE_BYTES` or more is decoded on a worker thread as one job
(the generated codec is pure Python, ~0.6-2 µs per Produce partition: 10,000 partitions fit in
an 870 KB frame); the connection's later frames wait for it, as for an ordered handler, so
handlers still start in arrival order.

Flow control: reading pauses while `_MAX_IN_FLIGHT` requests await responses or the output
buffer is above its high-water mark, so a slow reader cannot make the broker buffer without bound.

Output: on a plaintext TCP connection responses go through a `SocketSender`, which sends the
record bytes of Fetch responses with sendfile straight from the segment files (zero copy);
`fastkafka.network.sendfile.enable=false` (or a transport without a socket) writes through the
transport instead, reading those bytes in first.

Concurrency contract: all methods run on the event loop thread; `_decode_request` (a module
function, given the frame and nothing of the connection) also runs on a worker thread.
"""
from __future__ import annotations

import asyncio
import collections
import inspect
import itertools
import logging
import struct
from typing import TYPE_CHECKING, Any

from fastkafka._native.wire import DecodeError, FileRegion, Reader, Writer
from fastkafka.net.error_response import error_response
from fastkafka.net.log_throttle import ThrottledLogger
from fastkafka.net.memory_pool import LARGE_FRAME
from fastkafka.net.registry import Handler, Staged
from fastkafka.net.request_context import RequestContext
from fastkafka.net.socket_sender import SocketSender
from fastkafka.protocol import api
from fastkafka.protocol.errors import Errors, KafkaError

if TYPE_CHECKING:
    from fastkafka.net.server import SocketServer

log = logging.getLogger(__name__)
# Why a connection was closed: one line each, at most 20 per 10 s (a flood of bad frames must not
# fill the disk); the next line let through says how many were left out.
_close_log = ThrottledLogger(log)

_MAX_IN_FLIGHT = 100
_API_VERSIONS = 18
_PACK_I32 = struct.Struct(">i").pack
_UNPACK_HEADER = struct.Struct(">hhih").unpack_from  # api_key, api_version, correlation_id, client_id len
_conn_ids = itertools.count(1)
# Frames from this size on are decoded on a worker thread: a frame this small holds at most ~3,000
# Produce partitions (~2 ms to decode on the loop); the hop costs a big frame only its latency.
OFF_LOOP_DECODE_BYTES = 256 << 10
# The transport reads frames other than large ones into this much scratch space per read; one
# scratch buffer serves every connection (SocketServer.read_scratch).
SCRATCH_BYTES = 256 << 10


class _Pending:
    """A response slot in the per-connection queue, filled when the handler finishes."""

    __slots__ = ("correlation_id", "api_key", "api_version", "done", "payload", "close_after")

    def __init__(self, correlation_id: int, api_key: int, api_version: int) -> None:
        self.correlation_id = correlation_id
        self.api_key = api_key
        self.api_version = api_version
        self.done = False
        self.payload: list[bytes | FileRegion] | None = None  # None with done=True: no response (acks=0)
        self.close_after = False


class KafkaConnection(asyncio.BufferedProtocol):
    def __init__(self, server: SocketServer, listener_name: str, security_protocol: str,
                 handlers: dict[int, Handler]) -> None:
        self._server = server
        self._listener_name = listener_name
        self._security_protocol = security_protocol
        self._handlers = handlers
        self._max_request_size = server.config.socket_request_max_bytes
        self._buf = bytearray()
        self._pending: collections.deque[_Pending] = collections.deque()
        self._transport: asyncio.Transport | None = None
        self._sender: SocketSender | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()
        # Frames that arrived while an ordered handler's task runs; dispatched when it completes.
        self._barrier: asyncio.Future[Any] | None = None
        self._deferred: collections.deque[Any] = collections.deque()
        # A large frame being received: its pooled buffer and how many bytes are in it.
        self._large: Any = None
        self._large_fill = 0
        # The size a large frame waits for in the memory pool (0: not waiting).
        self._waiting_memory = 0
        # A buffer the pool allocated for the waiting frame, taken by the next parse.
        self._granted: Any = None
        # Shared by every connection of the server: uvloop calls get_buffer and buffer_updated
        # back to back on the loop thread, and data_received copies out whatever it keeps. One
        # 256 KiB buffer per connection was 2.5 GB for 10,000 connections, and under connection
        # churn (1M fuzzed frames) ~350 MB of closed connections' buffers awaiting the collector.
        self._scratch = server.read_scratch
        self.connection_id = ""
        self.client_address = ""

    # -- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport's methods without subclassing it.
        self._transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        self.client_address = f"{peer[0]}:{peer[1]}" if peer else "?"
        local = f"{sock[0]}:{sock[1]}" if sock else "?"
        self.connection_id = f"{local}-{self.client_address}-{next(_conn_ids)}"
        if self._server.sendfile_enabled and self._security_protocol in ("PLAINTEXT", "SASL_PLAINTEXT"):
            s = transport.get_extra_info("socket")
            if s is not None and s.fileno() >= 0:
                self._sender = SocketSender(asyncio.get_running_loop(), s.fileno(), on_pause=self.pause_writing,
                                            on_resume=self.resume_writing, on_error=self._on_send_error)
        self._server.connection_opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        # Requests already dispatched run to completion and their responses are dropped, as in
        # Kafka: cancelling one could interrupt a state change half-way (a metadata write
        # appended but not yet applied). Delayed fetches end at their max_wait_ms.
        self._closed = True
        self._pending.clear()
        self._deferred.clear()
        self._large = self._granted = None  # unmapped once no handler holds a view of them
        self._buf = bytearray()
        if self._waiting_memory:
            self._waiting_memory = 0
            self._server.memory_pool.cancel(self._memory_available)
        if self._sender is not None:
            self._sender.close()
        self._server.connection_closed(self)

    def pause_writing(self) -> None:
        self._writing_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._update_reading()

    def get_buffer(self, sizehint: int) -> memoryview:
        large = self._large
        if large is not None:
            # Straight into the large frame's pooled buffer; never past its end, so the frames
            # pipelined behind it stay in the socket for the next reads.
            return memoryview(large)[self._large_fill:]
        return self._scratch

    def buffer_updated(self, nbytes: int) -> None:
        large = self._large
        if large is not None:
            self._large_fill += nbytes
            if self._large_fill < len(large):
                return
            self._large = None
            self._dispatch(large)
            self._update_reading()
            return
        self.data_received(self._scratch[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        large = self._large
        if large is not None:
            # The body of a large frame goes straight into its pooled buffer.
            take = min(len(data), len(large) - self._large_fill)
            large[self._large_fill:self._large_fill + take] = data[:take]
            self._large_fill += take
            if self._large_fill < len(large):
                return
            self._large = None
            self._dispatch(large)
            data = data[take:]
            if not data:
                self._update_reading()
                return
        buf = self._buf
        buf += data
        pos = 0
        n = len(buf)
        try:
            while n - pos >= 4 and not self._closed:
                size = int.from_bytes(buf[pos:pos + 4], "big", signed=True)
                if size < 10 or size > self._max_request_size:
                    _close_log.warning("closing %s: invalid request size %d (socket.request.max.bytes=%d)",
                                self.connection_id, size, self._max_request_size)
                    self.close()
                    return
                end = pos + 4 + size
                if size >= LARGE_FRAME:
                    if self._large_frame(buf, pos, size):
                        pos = n  # everything buffered is now in the frame's own buffer
                    break
                if end > n:
                    break
                frame = bytes(buf[pos + 4:end])
                pos = end
                self._dispatch(frame)
        finally:
            if pos:
                del buf[:pos]
        self._update_reading()

    def _large_frame(self, buf: bytearray, pos: int, size: int) -> bool:
        """Move the large frame starting at `pos` into a pooled buffer; False if the pool cannot
        give one yet (reading stops until it can)."""
        frame, self._granted = self._granted, None
        if frame is None or len(frame) != size:
            if self._waiting_memory:
                return False
            frame = self._server.memory_pool.try_allocate(size)
            if frame is None:
                self._waiting_memory = size
                self._server.memory_pool.wait_for(size, self._memory_available)
                return False
        have = min(len(buf) - pos - 4, size)
        frame[0:have] = buf[pos + 4:pos + 4 + have]
        rest = bytes(buf[pos + 4 + have:])
        if have == size:
            self._dispatch(frame)
        else:
            self._large = frame
            self._large_fill = have
        buf.clear()
        if rest:
            # Frames pipelined after a complete large one: parsed on the next pass.
            self._buf = bytearray(rest)
            asyncio.get_running_loop().call_soon(self._reparse)
        return True

    def _memory_available(self, frame: Any) -> None:
        # May run inside the finalizer of another connection's buffer: only schedule the work.
        self._waiting_memory = 0
        self._granted = frame
        if not self._closed:
            asyncio.get_running_loop().call_soon(self._reparse)

    def _reparse(self) -> None:
        if not self._closed:
            self.data_received(b"")

    def _dispatch(self, frame: Any) -> None:
        if self._barrier is not None:
            self._deferred.append(frame)
        else:
            self._handle_frame(frame)

    # -- request handling -------------------------------------------------------------------
    def _handle_frame(self, frame: Any) -> None:  # bytes, or a pooled mmap for a large frame
        api_key, api_version, correlation_id, client_id_len = _UNPACK_HEADER(frame, 0)
        h = self._handlers.get(api_key)
        if h is None:
            _close_log.info("closing %s: unknown or unserved API key %d", self.connection_id, api_key)
            self.close()
            return
        if not (h.min_accepted <= api_version <= h.max_version):
            if api_key == _API_VERSIONS:
                self._reply_unsupported_api_versions(correlation_id)
                return
            if h.min_version <= api_version < h.min_accepted:
                self._reply_error_for_unaccepted(h, api_version, correlation_id)
                return
            _close_log.info("closing %s: unsupported %s version %d", self.connection_id, h.name, api_version)
            self.close()
            return
        if len(frame) >= OFF_LOOP_DECODE_BYTES:
            self._decode_off_loop(h, frame, api_version, correlation_id, client_id_len)
            return
        try:
            client_id, request = _decode_request(h, frame, api_key, api_version, client_id_len)
        except (DecodeError, UnicodeDecodeError, ValueError) as e:
            _close_log.info("closing %s: malformed %s v%d request: %s", self.connection_id, h.name, api_version, e)
            self.close()
            return
        self._run_handler(h, frame, api_version, correlation_id, client_id, request)

    def _decode_off_loop(self, h: Handler, frame: Any, api_version: int, correlation_id: int,
                         client_id_len: int) -> None:
        """Decode a big frame on a worker thread (one job, its result handed back); the
        connection's later frames wait behind the barrier until its handler has started."""
        def decode() -> tuple[str | None, Any]:
            return _decode_request(h, frame, h.api_key, api_version, client_id_len)
        decoded = self._server.broker.replica_manager.run_off_loop(decode)
        self._barrier = decoded

        def done(f: asyncio.Future[Any]) -> None:
            if self._barrier is f:
                self._barrier = None  # the handler may set its own
            if self._closed or f.cancelled():
                return
            e = f.exception()
            if isinstance(e, (DecodeError, UnicodeDecodeError, ValueError)):
                log.info("closing %s: malformed %s v%d request: %s", self.connection_id, h.name, api_version, e)
                self.close()
                return
            if e is not None:
                log.warning("closing %s: %s v%d request failed to decode: %s: %s", self.connection_id, h.name,
                            api_version, type(e).__name__, e)
                self.close()
                return
            client_id, request = f.result()
            self._run_handler(h, frame, api_version, correlation_id, client_id, request)
            self._release_barrier(f)  # the frames that waited for this one, unless the handler holds them
        decoded.add_done_callback(done)

    def _run_handler(self, h: Handler, frame: Any, api_version: int, correlation_id: int,
                     client_id: str | None, request: Any) -> None:
        api_key = h.api_key
        ctx = RequestContext(api_key, api_version, correlation_id, client_id, self._listener_name,
                             self._security_protocol, self.client_address, self.connection_id,
                             size=len(frame) + 4)
        slot = _Pending(correlation_id, api_key, api_version)
        self._pending.append(slot)
        try:
            result = h.fn(self._server.broker, ctx, request)
        except Exception as e:
            self._complete(slot, h, self._handler_failed(h, slot, request, e))
            return
        applied: Any = True  # True: hold later frames until the whole task is done
        if isinstance(result, Staged):
            applied, result = result.applied, result.response
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(lambda t, s=slot, hh=h, rq=request: self._on_task_done(t, s, hh, rq))
            if h.ordered and applied is not None:
                self._barrier = task
                task.add_done_callback(self._release_barrier)
                if applied is not True:
                    # Released as soon as the side effects are applied (or the task ends first).
                    asyncio.ensure_future(applied).add_done_callback(
                        lambda _f, t=task: self._release_barrier(t))
        else:
            self._complete(slot, h, result)

    def _release_barrier(self, task: asyncio.Future[Any]) -> None:
        if self._barrier is task:
            self._barrier = None
        deferred = self._deferred
        while deferred and self._barrier is None and not self._closed:
            self._handle_frame(deferred.popleft())
        if self._closed:
            deferred.clear()
        self._update_reading()

    def _on_task_done(self, task: asyncio.Task[Any], slot: _Pending, h: Handler, request: Any) -> None:
        self._tasks.discard(task)
        if self._closed or task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._complete(slot, h, self._handler_failed(h, slot, request, exc))
            return
        self._complete(slot, h, task.result())

    def _handler_failed(self, h: Handler, slot: _Pending, request: Any, e: BaseException) -> Any:
        """Kafka's KafkaApis.handleError: a handler's exception is answered with the API's error
        response (the KafkaError's code, else UNKNOWN_SERVER_ERROR); the connection stays open.
        One WARN line; the stack at DEBUG (logger fastkafka.net.connection)."""
        code = e.code if isinstance(e, KafkaError) else int(Errors.UNKNOWN_SERVER_ERROR)
        log.warning("%s v%d handler failed on %s: %s: %s; answering %s", h.name, slot.api_version,
                    self.connection_id, type(e).__name__, e, Errors(code).name)
        log.debug("%s handler failure on %s", h.name, self.connection_id, exc_info=e)
        if h.api_key == 0 and getattr(request, "acks", 1) == 0:
            slot.close_after = True  # Produce acks=0 sends no response: Kafka closes the connection
            return None
        return error_response(h.api_key, slot.api_version, request, code)

    def _complete(self, slot: _Pending, h: Handler, response: Any) -> None:
        if self._closed:
            return
        slot.done = True
        if response is not None:
            try:
                slot.payload = self._encode_response(slot, response)
            except Exception as e:  # a handler built a response its schema refuses
                log.warning("%s v%d response to %s does not encode: %s: %s; answering UNKNOWN_SERVER_ERROR",
                            h.name, slot.api_version, self.connection_id, type(e).__name__, e)
                log.debug("%s response encoding failure", h.name, exc_info=e)
                try:
                    slot.payload = self._encode_response(
                        slot, error_response(h.api_key, slot.api_version, None, int(Errors.UNKNOWN_SERVER_ERROR)))
                except Exception:
                    slot.payload = None
                    slot.close_after = True
        self._flush()

    def _encode_response(self, slot: _Pending, response: Any) -> list[bytes | FileRegion]:
        """Size prefix, response header and body in one buffer; file regions (Fetch records)
        stay spliced out as separate pieces for sendfile."""
        w = Writer(256)
        w.int32(0)
        w.int32(slot.correlation_id)
        if api.response_header_version(slot.api_key, slot.api_version) >= 1:
            w.uvarint(0)  # empty tagged fields
        response.encode(w, slot.api_version)
        w.set_int32(0, len(w) - 4 + w.spliced_size)
        return w.parts()

    def _flush(self) -> None:
        pending = self._pending
        while pending and pending[0].done:
            slot = pending.popleft()
            if slot.payload is not None and not self._closed:
                self._send(slot.payload)
            if slot.close_after:
                self.close()
                return
        self._update_reading()

    def _send(self, parts: list[bytes | FileRegion]) -> None:
        if self._sender is not None:
            self._sender.write(parts)
            return
        t = self._transport
        if t is None:
            return
        try:
            t.writelines([p if isinstance(p, bytes) else p.read_bytes() for p in parts])
        except OSError as e:
            self._on_send_error(e)

    def _on_send_error(self, e: OSError) -> None:
        _close_log.info("closing %s: send failed: %s", self.connection_id, e)
        self.close()

    def _reply_unsupported_api_versions(self, correlation_id: int) -> None:
        """KIP-511: answer an ApiVersions we can't parse in the v0 layout with error 35 and our
        ranges, so the client picks a version we support and retries."""
        slot = _Pending(correlation_id, _API_VERSIONS, 0)
        self._pending.append(slot)
        from fastkafka.net.handlers.k18_api_versions import api_versions_response

        resp = api_versions_response(self._server.broker, self._handlers, Errors.UNSUPPORTED_VERSION)
        slot.done = True
        slot.payload = self._encode_response(slot, resp)
        self._flush()

    def _reply_error_for_unaccepted(self, h: Handler, api_version: int, correlation_id: int) -> None:
        """Advertised-but-rejected versions (Produce v0-2): Kafka closes with UNSUPPORTED_VERSION;
        clients never send them once they negotiate, so a close is the observable behaviour."""
        _close_log.info("closing %s: %s v%d is advertised for feature detection only",
                 self.connection_id, h.name, api_version)
        self.close()

    def _update_reading(self) -> None:
        t = self._transport
        if t is None or self._closed:
            return
        should_pause = (self._writing_paused or self._waiting_memory > 0
                        or len(self._pending) + len(self._deferred) >= _MAX_IN_FLIGHT)
        if should_pause and not self._reading_paused:
            t.pause_reading()
            self._reading_paused = True
        elif not should_pause and self._reading_paused:
            t.resume_reading()
            self._reading_paused = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._sender is not None:
                self._sender.close()
            if self._transport is not None:
                self._transport.close()


def _decode_request(h: Handler, frame: Any, api_key: int, api_version: int,
                    client_id_len: int) -> tuple[str | None, Any]:
    """(client id, request body) of a frame whose fixed header was read (any thread)."""
    reader = Reader(frame, 10)
    if client_id_len >= 0:
        client_id: str | None = frame[10:10 + client_id_len].decode("utf-8")
        reader.pos = 10 + client_id_len
        if reader.pos > len(frame):
            raise DecodeError("truncated client id")
    else:
        client_id = None
    if api.request_header_version(api_key, api_version) >= 2:
        _skip_tagged_fields(reader)
    request_type: Any = h.request_type
    return client_id, request_type.decode(reader, api_version)


def _skip_tagged_fields(r: Reader) -> None:
    n = r.tagged_field_count()
    for _ in range(n):
        r.uvarint()
        size = r.uvarint()
        r.raw(size)
