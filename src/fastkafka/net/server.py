"""Listeners: binds every endpoint of `listeners` and creates a KafkaConnection per client.

Broker listeners serve the client API set; controller listeners (`controller.listener.names`)
serve the controller API set, as in Kafka's split between KafkaApis and ControllerApis.
Invariant: a broker listener accepts connections only once the node is ready to answer them
completely (`start(serve_broker_listeners=False)` binds, `start_serving_broker_listeners` opens).
"""
from __future__ import annotations

import asyncio
import logging
import socket

from fastkafka.config import Endpoint, KafkaConfig
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.connection import SCRATCH_BYTES, KafkaConnection
from fastkafka.net.memory_pool import MemoryPool
from fastkafka.net.registry import BROKER, CONTROLLER, REGISTRY

log = logging.getLogger(__name__)


SENDFILE_ENABLE_CONFIG = "fastkafka.network.sendfile.enable"


class SocketServer:
    """Owns the listening sockets and the set of open connections."""

    def __init__(self, config: KafkaConfig, broker: BrokerServices) -> None:
        import fastkafka.net.handlers  # noqa: F401  (registers every handler module)

        self.config = config
        self.broker = broker
        self._servers: list[asyncio.Server] = []
        self.connections: set[KafkaConnection] = set()
        self.bound: dict[str, tuple[str, int]] = {}
        # Broker listeners bound but not yet listening (see `start`).
        self._held: list[tuple[str, asyncio.Server]] = []
        # fastkafka's own key (not Kafka's): send Fetch record bytes with sendfile (zero copy).
        self.sendfile_enabled = (config.get(SENDFILE_ENABLE_CONFIG) or "true").strip().lower() == "true"
        # queued.max.request.bytes: the budget for large request bodies of every connection.
        self.memory_pool = MemoryPool(config.queued_max_request_bytes)
        # The read buffer every connection's transport reads small frames into (see KafkaConnection).
        self.read_scratch = memoryview(bytearray(SCRATCH_BYTES))

    async def start(self, serve_broker_listeners: bool = True) -> None:
        """Bind every listener. Controller listeners are served at once; broker listeners only
        when `serve_broker_listeners`, else they stay bound but not listening (a client's
        connect is refused and retried) until `start_serving_broker_listeners`: the broker
        opens them once it is registered and unfenced, so its first Metadata answer already
        lists itself and a controller id."""
        loop = asyncio.get_running_loop()
        for ep in self.config.listeners:
            kind = CONTROLLER if ep.listener_name in self.config.controller_listener_names else BROKER
            if kind == BROKER and not self.config.is_broker:
                continue
            if kind == CONTROLLER and not self.config.is_controller:
                continue
            handlers = REGISTRY.for_listener(kind)
            server = await loop.create_server(
                lambda ep=ep, handlers=handlers: KafkaConnection(
                    self, ep.listener_name, ep.security_protocol, handlers),
                host=ep.host or None,
                port=ep.port,
                reuse_address=True,
                backlog=1024,
                start_serving=kind == CONTROLLER or serve_broker_listeners,
            )
            for s in server.sockets:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._servers.append(server)
            addr = server.sockets[0].getsockname()
            self.bound[ep.listener_name] = (addr[0], addr[1])
            if server.is_serving():
                log.info("listening on %s://%s:%d", ep.listener_name, addr[0], addr[1])
            else:
                self._held.append((ep.listener_name, server))
                log.info("bound %s://%s:%d (served once the broker is registered and unfenced)",
                         ep.listener_name, addr[0], addr[1])

    async def start_serving_broker_listeners(self) -> None:
        """Listen on (and accept from) the broker listeners bound by `start`."""
        held, self._held = self._held, []
        for name, server in held:
            await server.start_serving()
            addr = server.sockets[0].getsockname()
            log.info("listening on %s://%s:%d", name, addr[0], addr[1])

    def connection_opened(self, conn: KafkaConnection) -> None:
        self.connections.add(conn)

    def connection_closed(self, conn: KafkaConnection) -> None:
        self.connections.discard(conn)

    async def stop_accepting(self) -> None:
        # Not wait_closed(): on 3.12+ it waits for every client to hang up; we close them ourselves.
        for s in self._servers:
            s.close()

    def close_connections(self) -> None:
        for c in list(self.connections):
            c.close()

    def endpoint_for(self, ep: Endpoint) -> tuple[str, int]:
        return self.bound.get(ep.listener_name, (ep.host, ep.port))
