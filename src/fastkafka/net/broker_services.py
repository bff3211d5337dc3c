"""What a request handler may use of the node: `BrokerServices`, the typed interface every
`net/handlers/kNN_*.py` handler (and the helpers they call: `cluster/group/group_admin.py`,
`cluster/config_describer.py`) receives as `broker`, and that `SocketServer` and the components
built with the broker (GroupCoordinator, ConsumerGroupManager, TransactionCoordinator and its state
manager and marker channel) are constructed with.

Invariants:
- The members are read-only (properties): a handler reads the node's components and calls them;
  it never replaces one. Each piece of mutable state keeps its one owner (the component).
- Each member is typed with the real component class, so a handler's calls are checked against
  the component's signatures (`make typecheck`).
- `KafkaRaftServer` (server.py) satisfies the Protocol structurally, no subclassing, no cast:
  `_kafka_raft_server_is_broker_services` below is checked by mypy in `make typecheck`. Its
  components built at start-up (log manager, replica manager, KRaft client, controller, config
  admin) are non-optional here: handlers only run once start-up built them (the listeners open
  last), and the server's properties raise if one is read before.
- Unit tests pass their own fakes (duck-typed, never checked at run time: a Protocol is not a
  runtime check here).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from fastkafka.cluster.config_admin_manager import ConfigAdminManager
    from fastkafka.cluster.controller.quorum_controller import QuorumController
    from fastkafka.cluster.dynamic_broker_config import DynamicBrokerConfig
    from fastkafka.cluster.group.consumer_group_manager import ConsumerGroupManager
    from fastkafka.cluster.group.group_coordinator import GroupCoordinator
    from fastkafka.cluster.kraft.raft_client import RaftClient
    from fastkafka.cluster.metadata import MetadataImage
    from fastkafka.cluster.producer_id_manager import ProducerIdManager
    from fastkafka.cluster.replication.replica_manager import ReplicaManager
    from fastkafka.cluster.transaction.transaction_coordinator import TransactionCoordinator
    from fastkafka.config import KafkaConfig
    from fastkafka.server import KafkaRaftServer
    from fastkafka.storage import LogManager

# (node id, host, port, rack) of a broker or controller endpoint on one listener.
NodeTuple = tuple[int, str, int, "str | None"]


class BrokerServices(Protocol):
    """The node as request handlers see it: its configuration, the current metadata image, the
    components that own the state, and a few lookups answered from the image."""

    # -- identity and configuration -----------------------------------------------------------
    @property
    def config(self) -> KafkaConfig: ...
    @property
    def node_id(self) -> int: ...
    @property
    def cluster_id(self) -> str: ...
    @property
    def dynamic_config(self) -> DynamicBrokerConfig: ...

    # -- the metadata image (the published one; replaced, never mutated) ----------------------
    @property
    def image(self) -> MetadataImage: ...

    # -- components, each the owner of its state ----------------------------------------------
    @property
    def log_manager(self) -> LogManager: ...
    @property
    def replica_manager(self) -> ReplicaManager: ...
    @property
    def raft(self) -> RaftClient: ...
    @property
    def controller(self) -> QuorumController: ...
    @property
    def config_admin(self) -> ConfigAdminManager: ...
    @property
    def group_coordinator(self) -> GroupCoordinator: ...
    @property
    def consumer_group_manager(self) -> ConsumerGroupManager: ...
    @property
    def transaction_coordinator(self) -> TransactionCoordinator: ...
    @property
    def producer_id_manager(self) -> ProducerIdManager: ...

    # -- lookups answered from the image ------------------------------------------------------
    def features(self) -> tuple[int, dict[str, tuple[int, int]], dict[str, int]]: ...
    def alive_brokers(self, listener_name: str) -> list[NodeTuple]: ...
    def controller_nodes(self) -> list[NodeTuple]: ...
    def node_endpoints(self, cls: type, node_ids: Iterable[int], listener_name: str) -> list[Any]: ...
    def topic_name(self, topic_id: bytes) -> str | None: ...
    def partition_leader(self, topic: str, partition: int) -> tuple[int, int] | None: ...
    def topic_config_overrides(self, topic: str) -> dict[str, str] | None: ...
    def coordinator_node(self, key: str, key_type: int, listener_name: str) -> tuple[int, str, int] | None: ...

    # -- actions ------------------------------------------------------------------------------
    async def auto_create_topics(self, names: list[str]) -> None: ...
    def close_connection(self, connection_id: str) -> None: ...


if TYPE_CHECKING:
    def _kafka_raft_server_is_broker_services(server: KafkaRaftServer) -> BrokerServices:
        """Static proof (mypy, `make typecheck`) that the real node satisfies the Protocol: no
        cast, so a member missing or typed differently on KafkaRaftServer fails the check."""
        return server


__all__ = ["BrokerServices", "NodeTuple"]
