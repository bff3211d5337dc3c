"""KafkaRaftServer: one node's broker and controller, wired together (Kafka's KafkaRaftServer,
BrokerServer and ControllerServer).

Start-up order (each step only uses what the previous ones built):
  1. check that every directory is formatted (meta.properties) and agree on the cluster id;
  2. LogManager: load and recover every partition log;
  3. KRaft: open `__cluster_metadata-0`, replay it into the MetadataLoader, become leader of the
     one-voter quorum; the QuorumController writes the bootstrap records on an empty log;
  4. ReplicaManager subscribes to metadata images, so partitions appear as the image has them;
  5. listeners are bound (an ephemeral port is known) but broker listeners not yet served;
  6. the controller registers this broker (RegisterBrokerRecord + unfence), and start-up waits
     until the published image has it unfenced;
  7. broker listeners open: the first client already gets brokers and a controller id.
Shutdown runs the other way round; SIGTERM triggers it from `__main__`.

This object is also the façade request handlers use (`broker` in `net/handlers`): it answers
from the metadata image and routes to the component that owns the state; it holds no mutable
state of its own besides the wiring.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from fastkafka.cluster.config_admin_manager import ConfigAdminManager
from fastkafka.cluster.dynamic_broker_config import DynamicBrokerConfig
from fastkafka.cluster.format import check_formatted
from fastkafka.cluster.group.consumer_group_manager import ConsumerGroupManager
from fastkafka.cluster.group.group_coordinator import GroupCoordinator
from fastkafka.cluster.metadata import MetadataDelta, MetadataImage, MetadataLoader
from fastkafka.cluster.metadata.broker_registration import Endpoint as RegisteredEndpoint
from fastkafka.cluster.metadata.config_resource import ConfigResource, ConfigResourceType
from fastkafka.cluster.metadata.features import TRANSACTION_VERSION, supported_ranges
from fastkafka.cluster.producer_id_manager import ProducerIdManager
from fastkafka.cluster.replication.replica_manager import ReplicaManager
from fastkafka.cluster.topic import GROUP_METADATA_TOPIC_NAME, TRANSACTION_STATE_TOPIC_NAME
from fastkafka.cluster.transaction.transaction_coordinator import TransactionCoordinator
from fastkafka.config import KafkaConfig
from fastkafka.fd_budget import FdBudget, raise_nofile_limit
from fastkafka.gc_policy import GcPolicy
from fastkafka.loop_monitor import LoopMonitor, lag_warn_ms
from fastkafka.net.server import SocketServer
from fastkafka.scheduler import Scheduler
from fastkafka.storage import LogManager
from fastkafka.storage.checkpoint_file import deferred_fsync
from fastkafka.storage.cleaner_thread import LogCleaner, start_log_cleaner
from fastkafka.storage.unified_log import BackgroundFlusher

if TYPE_CHECKING:
    from fastkafka.cluster.controller.quorum_controller import QuorumController
    from fastkafka.cluster.kraft.raft_client import RaftClient

log = logging.getLogger("fastkafka.server")

_SECURITY_PROTOCOL_IDS = {"PLAINTEXT": 0, "SSL": 1, "SASL_PLAINTEXT": 2, "SASL_SSL": 3}
# Test hooks (not Kafka keys; unset in production): delay the broker's registration, and open the
# broker listeners before it (the ordering before issue 13), to show why the order matters.
_TEST_REGISTRATION_DELAY_MS = "FASTKAFKA_TEST_REGISTRATION_DELAY_MS"
_TEST_SERVE_BEFORE_REGISTRATION = "FASTKAFKA_TEST_SERVE_BEFORE_REGISTRATION"


class KafkaRaftServer:
    def __init__(self, config: KafkaConfig) -> None:
        self.config = config
        self.node_id = config.node_id
        self.cluster_id = ""
        self.incarnation_id = uuid.uuid4().bytes
        self.broker_epoch = -1
        self.loader = MetadataLoader()
        # Built by `startup`; read through the properties below (BrokerServices), which raise
        # before then: request handlers only run once start-up built them.
        self._log_manager: LogManager | None = None
        self._raft: RaftClient | None = None
        self._controller: QuorumController | None = None
        self._replica_manager: ReplicaManager | None = None
        self.producer_id_manager = ProducerIdManager(self._allocate_producer_ids)
        self.socket_server: SocketServer | None = None
        self.group_coordinator = GroupCoordinator(self)
        self.consumer_group_manager = ConsumerGroupManager(self, self.config.props)
        self.transaction_coordinator = TransactionCoordinator(self, self.config.props,
                                                              self.producer_id_manager.generate_producer_id)
        self._background: list[asyncio.Task[None]] = []
        self.log_cleaner: LogCleaner | None = None
        self.scheduler: Scheduler | None = None
        # Static props plus the dynamic BROKER configs of the latest image (refreshed by the
        # metadata publisher); the ConfigAdminManager checks Alter*Configs before the controller.
        self.dynamic_config = DynamicBrokerConfig(self.node_id, config.props)
        self._config_admin: ConfigAdminManager | None = None
        self._flush_pool: ThreadPoolExecutor | None = None
        self._file_worker: ThreadPoolExecutor | None = None
        # Event-loop lag monitor (metric + WARN + stalled-stack watchdog); started with the loop.
        self.loop_monitor: LoopMonitor | None = None
        self.gc_policy: GcPolicy | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    async def startup(self) -> None:
        from fastkafka.cluster.controller.quorum_controller import QuorumController
        from fastkafka.cluster.kraft.format_storage import read_bootstrap_checkpoint
        from fastkafka.cluster.kraft.raft_client import RaftClient

        cfg = self.config
        cfg.check_served()  # embedded use too: refuse SSL/SASL listeners and an authorizer
        self.loop_monitor = LoopMonitor(asyncio.get_running_loop(), lag_warn_ms(cfg.props)).start()
        self.gc_policy = GcPolicy(asyncio.get_running_loop()).start()  # long-lived state frozen out of full collections
        self.cluster_id = check_formatted(cfg)
        soft, hard = raise_nofile_limit()  # as the JVM does for Kafka; the fd budget is the soft limit
        log.info("RLIMIT_NOFILE: soft %d, hard %d", soft, hard)
        self._log_manager = LogManager(cfg.log_dirs, cfg.props)
        self.log_manager.background_flusher = self._background_flusher()
        # New partition logs are created, and deleted ones removed, on this thread in slices.
        self._file_worker = self.log_manager.file_worker = ThreadPoolExecutor(1, thread_name_prefix="kafka-log-files")
        self.log_manager.startup()
        self._replica_manager = ReplicaManager(self.node_id, self.log_manager, cfg.props)
        # A log moved to another log dir (AlterReplicaLogDirs) replaces the partition's log.
        self.log_manager.log_replaced_listeners.append(self._on_log_replaced)
        # Transaction markers in `__consumer_offsets` complete pending TxnOffsetCommits.
        self.replica_manager.txn_marker_listeners.append(self.group_coordinator.on_txn_markers_written)
        # KIP-890: the produce path verifies (part 1) or adds (part 2, Produce v12+) a new
        # transaction's partition with the coordinator.
        self.replica_manager.transaction_verifier = self.transaction_coordinator.handle_verify_or_add_partitions

        self._raft = RaftClient(self.node_id, [v.node_id for v in cfg.voters], cfg.metadata_log_dir, self.loader,
                                voter_nodes=self._voter_nodes())
        self.raft.start()
        self._controller = QuorumController(
            self.raft, self.loader, node_id=self.node_id, num_partitions=cfg.num_partitions,
            default_replication_factor=cfg.default_replication_factor, broker_defaults=cfg.props,
            fd_budget=FdBudget(self.replica_manager.pending_log_count))
        await self.controller.bootstrap(read_bootstrap_checkpoint(cfg.metadata_log_dir))
        self._config_admin = ConfigAdminManager(self.node_id, lambda: self.image.configs, self.controller)
        self.loader.install_publishers(("ReplicaManager", self._publish_to_replica_manager),
                                       ("Features", self._publish_features))
        # Committed offsets are served from memory, loaded in the background as in Kafka: the group
        # APIs answer COORDINATOR_LOAD_IN_PROGRESS for a partition until its replay is done.
        self._background.append(self.group_coordinator.start_loading())
        # `__transaction_state` is replayed the same way (COORDINATOR_LOAD_IN_PROGRESS meanwhile).
        self.transaction_coordinator.startup()

        if cfg.is_broker:
            endpoints = [RegisteredEndpoint(e.listener_name, e.host or _default_host(), e.port,
                                            _SECURITY_PROTOCOL_IDS.get(e.security_protocol, 0))
                         for e in self._advertised()]
            self.socket_server = SocketServer(cfg, self)
            # Bound (port 0 gets its port) but not served: a client connecting before the
            # registration below would get a Metadata answer without brokers or controller id,
            # and librdkafka's admin client then waits for a controller until it times out.
            serve_early = os.environ.get(_TEST_SERVE_BEFORE_REGISTRATION) == "1"
            await self.socket_server.start(serve_broker_listeners=serve_early)
            # Port 0 in `listeners` binds an ephemeral port; advertise the one we got.
            endpoints = [RegisteredEndpoint(e.name, e.host, self._bound_port(e.name, e.port), e.security_protocol)
                         for e in endpoints]
            delay_ms = int(os.environ.get(_TEST_REGISTRATION_DELAY_MS, "0") or 0)
            if delay_ms > 0:  # test hook: a loaded machine's slow registration, made reproducible
                log.warning("%s=%d: delaying the broker registration", _TEST_REGISTRATION_DELAY_MS, delay_ms)
                await asyncio.sleep(delay_ms / 1000)
            self.broker_epoch = await self.controller.register_broker(
                self.node_id, self.incarnation_id, endpoints, self.supported_features(), cfg.broker_rack,
                [])
            await self._wait_until_unfenced([e.name for e in endpoints])
        else:
            self.socket_server = SocketServer(cfg, self)
            await self.socket_server.start()
        if not cfg.voters:  # this node is the quorum: its controller endpoints are bound now
            self.raft.set_voter_listeners(self.node_id, [(n, h, p) for n, (_, h, p, _) in self._controller_listeners()])
        self._start_log_tasks()
        self.log_manager.flush_stale_leader_epoch_checkpoints()
        # Dynamic log.cleaner.* from the metadata log apply from the start, not only on a change.
        self.log_cleaner = start_log_cleaner(self.dynamic_config.effective_props(), self.log_manager)
        if self.socket_server is not None:
            # Last: every answer from here on is complete (brokers, controller id, coordinators).
            await self.socket_server.start_serving_broker_listeners()

    async def _wait_until_unfenced(self, listener_names: list[str]) -> None:
        """Wait until the published image has this broker registered, unfenced and reachable on
        every advertised listener (so Metadata lists it and names a controller id; Kafka's
        BrokerServer waits for its unfencing before it opens its data-plane listeners)."""
        waited = 0.0
        while not all(self.is_broker_alive(self.node_id, name) for name in listener_names):
            await asyncio.sleep(0.005)
            waited += 0.005
            if waited >= 5.0:
                log.info("[BrokerServer id=%d] waiting for the broker to be unfenced", self.node_id)
                waited = 0.0

    async def shutdown(self) -> None:
        for t in self._background:
            t.cancel()
        self.transaction_coordinator.shutdown()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        if self.socket_server is not None:
            await self.socket_server.stop_accepting()
            self.socket_server.close_connections()
        if self._raft is not None:
            self._raft.close()
        if self.log_cleaner is not None:
            await self.log_cleaner.shutdown()  # aborts running cleanings, joins the threads
        if self._file_worker is not None:
            self._file_worker.shutdown(wait=True)  # creations and deletions queued finish first
        if self._replica_manager is not None:
            self._replica_manager.close()  # big compressed batches' validation workers
        if self._flush_pool is not None:
            self._flush_pool.shutdown(wait=True)  # LogManager.shutdown flushes everything anyway
        if self._log_manager is not None:
            self._log_manager.shutdown()
        if self.loop_monitor is not None:
            self.loop_monitor.stop()
        if self.gc_policy is not None:
            self.gc_policy.stop()
        log.info("[KafkaRaftServer nodeId=%d] shut down completed", self.node_id)

    def _background_flusher(self) -> BackgroundFlusher:
        """Kafka flushes a rolled segment from its scheduler thread ("flush-log"), never on the
        request path: fsync on one thread of ours (os.fsync releases the GIL), completion back
        on the event loop, which owns the logs."""
        loop = asyncio.get_running_loop()
        pool = self._flush_pool = ThreadPoolExecutor(1, thread_name_prefix="kafka-log-flush")

        def submit(work: Callable[[], None], done: Callable[[BaseException | None], None]) -> None:
            fut = loop.run_in_executor(pool, work)
            fut.add_done_callback(lambda f: None if f.cancelled() else done(f.exception()))

        return submit

    def _start_log_tasks(self) -> None:
        """Kafka's LogManager.startup scheduler tasks, with Kafka's keys and defaults. They run on
        the event loop thread, which owns every log."""
        lm = self.log_manager
        cfg = self.config
        sched = self.scheduler = Scheduler(asyncio.get_running_loop())
        delay = int(cfg.get("log.initial.task.delay.ms") or 30000)

        def ms(key: str) -> int:
            return int(cfg.get(key) or 0)

        def now() -> int:
            return time.time_ns() // 1_000_000

        sched.schedule("kafka-log-retention", lambda: lm.cleanup_logs(now()), delay,
                       ms("log.retention.check.interval.ms"))
        sched.schedule("kafka-log-flusher", lambda: lm.flush_dirty_logs(now()), delay,
                       ms("log.flush.scheduler.interval.ms"))
        sched.schedule("kafka-recovery-point-checkpoint", lm.checkpoint_recovery_offsets, delay,
                       ms("log.flush.offset.checkpoint.interval.ms"))
        sched.schedule("kafka-log-start-offset-checkpoint", lm.checkpoint_log_start_offsets, delay,
                       ms("log.flush.start.offset.checkpoint.interval.ms"))
        sched.schedule("highwatermark-checkpoint", lm.checkpoint_high_watermarks, 0,
                       ms("replica.high.watermark.checkpoint.interval.ms"))
        # Kafka schedules one delete-file task per segment at file.delete.delay.ms; a one-second
        # sweep of the `.deleted` segments that are due is equivalent at that granularity.
        sched.schedule("delete-file", lambda: lm.delete_expired_files(now()), 1000, 1000)
        # Kafka's PeriodicProducerExpirationCheck (one per log there; one sweep of all logs here).
        sched.schedule("PeriodicProducerExpirationCheck", lambda: lm.remove_expired_producers(now()),
                       ms("producer.id.expiration.check.interval.ms"), ms("producer.id.expiration.check.interval.ms"))

    def _on_log_replaced(self, tp: Any, log: Any) -> None:
        part = self._replica_manager.partition(tp) if self._replica_manager is not None else None
        if part is not None:
            part.replace_log(log)

    # -- metadata publication -----------------------------------------------------------------
    def _publish_features(self, delta: MetadataDelta, image: MetadataImage) -> None:
        """Finalized feature levels reach the components that act on them (Kafka's
        FeaturesPublisher): transaction.version decides the transaction log's record versions and
        the epoch bump of the coordinator's own aborts."""
        self.transaction_coordinator.on_transaction_version(image.features.level(TRANSACTION_VERSION))

    def _publish_to_replica_manager(self, delta: MetadataDelta, image: MetadataImage) -> None:
        # Creating or re-leading partitions writes a few small files per partition; their fsyncs
        # go to a background thread in one go (a 10,000-partition topic would otherwise stall the
        # event loop for minutes on fsyncs).
        self.replica_manager.begin_metadata_publication()
        with deferred_fsync() as paths:
            self._apply_delta_to_replica_manager(delta, image)
        self.log_manager.sync_in_background(paths)

    def _apply_delta_to_replica_manager(self, delta: MetadataDelta, image: MetadataImage) -> None:
        rm = self.replica_manager
        full = delta.image.is_empty() and not delta.changed_topics
        if self.dynamic_config.update(image.configs):
            # A dynamic broker config changed: logs without a topic override take the new broker
            # defaults (Kafka's DynamicLogConfig.reconfigure + updateLogsConfig).
            effective = self.dynamic_config.effective_props()
            rm.update_broker_defaults(effective)
            self.log_manager.reconfigure_default_log_config(effective)
            if self.log_cleaner is not None:  # log.cleaner.* are dynamic: restart its threads
                self._background.append(asyncio.get_running_loop().create_task(self.log_cleaner.reconfigure(effective)))
            full = True
        deleted = {t.name for t in delta.deleted_topics.values() if image.topics.by_name.get(t.name) is None}
        if deleted:
            rm.remove_topics(deleted)
        changed: Iterable[Any] = image.topics.by_id.values() if full else delta.changed_topics.values()
        changed_names = set()
        for topic in changed:
            changed_names.add(topic.name)
            rm.apply_topic(topic.name, topic.topic_id, topic.partitions.values(),
                           dict(image.configs.topic_config(topic.name)))
        for res in delta.changed_config_resources:
            if res.type == ConfigResourceType.TOPIC and res.name not in changed_names:
                topic = image.topics.by_name.get(res.name)
                if topic is not None:
                    rm.apply_topic(topic.name, topic.topic_id, topic.partitions.values(),
                                   dict(image.configs.topic_config(topic.name)))

    # -- façade for request handlers (net/broker_services.BrokerServices) ---------------------
    @property
    def image(self) -> MetadataImage:
        return self.loader.image

    @property
    def log_manager(self) -> LogManager:
        return _built(self._log_manager, "log manager")

    @property
    def replica_manager(self) -> ReplicaManager:
        return _built(self._replica_manager, "replica manager")

    @property
    def raft(self) -> RaftClient:
        return _built(self._raft, "KRaft client")

    @property
    def controller(self) -> QuorumController:
        return _built(self._controller, "controller")

    @property
    def config_admin(self) -> ConfigAdminManager:
        return _built(self._config_admin, "config admin manager")

    def _advertised(self) -> list[Any]:
        return self.config.advertised_listeners

    def _bound_port(self, listener: str, port: int) -> int:
        if self.socket_server is not None and port == 0:
            return self.socket_server.bound.get(listener, ("", port))[1]
        return port

    def supported_features(self) -> dict[str, tuple[int, int]]:
        return supported_ranges()

    def features(self) -> tuple[int, dict[str, tuple[int, int]], dict[str, int]]:
        """(finalized epoch, supported ranges, finalized levels) for ApiVersions v3+."""
        image = self.image
        return image.offset(), self.supported_features(), image.features.all_levels()

    def is_broker_alive(self, node_id: int, listener_name: str) -> bool:
        b = self.image.cluster.brokers.get(node_id)
        return b is not None and not b.fenced and listener_name in b.listeners

    def alive_brokers(self, listener_name: str) -> list[tuple[int, str, int, str | None]]:
        out = []
        for bid in sorted(self.image.cluster.brokers):
            b = self.image.cluster.brokers[bid]
            if b.fenced:
                continue
            node = b.node(listener_name)
            if node is not None:
                out.append(node)
        return out

    def controller_nodes(self) -> list[tuple[int, str, int, str | None]]:
        out: list[tuple[int, str, int, str | None]] = []
        for v in self.config.voters:
            out.append((v.node_id, v.host, v.port, None))
        if not out and self.config.is_controller:
            out = [node for _, node in self._controller_listeners()]
        return out

    def _controller_listeners(self) -> list[tuple[str, tuple[int, str, int, str | None]]]:
        names = self.config.controller_listener_names
        return [(e.listener_name, (self.node_id, e.host or _default_host(), self._bound_port(e.listener_name, e.port), None))
                for e in self.config.controller_endpoints() if e.listener_name in names]

    def _voter_nodes(self) -> list[Any]:
        """The KRaft voters with their directory ids and controller listeners. Static voters
        (controller.quorum.voters, kraft.version 0) have no directory id and one endpoint on the
        first controller listener (Kafka's VoterSet.fromInetSocketAddresses); otherwise this node is
        the quorum, with its metadata log directory's id (its listeners are set once bound)."""
        from fastkafka.cluster.kraft.leader_state import VoterNode
        from fastkafka.storage.meta_properties import read_meta_properties

        cfg = self.config
        if cfg.voters:
            name = cfg.controller_listener_names[0]
            return [VoterNode(v.node_id, listeners=((name, v.host, v.port),)) for v in cfg.voters]
        meta = read_meta_properties(cfg.metadata_log_dir)
        directory_id = _uuid_bytes(meta.directory_id) if meta is not None and meta.directory_id else bytes(16)
        return [VoterNode(self.node_id, directory_id)]

    def node_endpoints(self, cls: type, node_ids: Iterable[int], listener_name: str) -> list[Any]:
        out = []
        for nid in sorted(node_ids):
            b = self.image.cluster.brokers.get(nid)
            node = b.node(listener_name) if b is not None else None
            if node is not None:
                out.append(cls(node_id=node[0], host=node[1], port=node[2], rack=node[3]))
        return out

    def topic_name(self, topic_id: bytes) -> str | None:
        return self.image.topics.topic_id_to_name(topic_id)

    def partition_leader(self, topic: str, partition: int) -> tuple[int, int] | None:
        t = self.image.topics.by_name.get(topic)
        p = t.partitions.get(partition) if t is not None else None
        return None if p is None else (p.leader, p.leader_epoch)

    def topic_config_overrides(self, topic: str) -> dict[str, str] | None:
        if topic not in self.image.topics.by_name:
            return None
        return dict(self.image.configs.config(ConfigResource(ConfigResourceType.TOPIC, topic)))

    def coordinator_node(self, key: str, key_type: int, listener_name: str) -> tuple[int, str, int] | None:
        """The broker leading the key's partition of the coordinator's internal topic, or None
        while there is none (COORDINATOR_NOT_AVAILABLE): `__consumer_offsets` for groups (key
        type 0), `__transaction_state` for transactional ids (key type 1)."""
        if key_type == 0:
            topic = self.image.topics.by_name.get(GROUP_METADATA_TOPIC_NAME)
            p = topic.partitions.get(self.group_coordinator.partition_for(key)) if topic is not None else None
        else:
            topic = self.image.topics.by_name.get(TRANSACTION_STATE_TOPIC_NAME)
            p = topic.partitions.get(self.transaction_coordinator.partition_for(key)) if topic is not None else None
        if p is None or p.leader < 0:
            return None
        b = self.image.cluster.brokers.get(p.leader)
        node = b.node(listener_name) if b is not None and not b.fenced else None
        return (node[0], node[1], node[2]) if node else None

    async def auto_create_topics(self, names: list[str]) -> None:
        await self.controller.create_topics_by_name(names)

    async def _allocate_producer_ids(self) -> tuple[int, int]:
        first, size = await self.controller.allocate_producer_ids(self.node_id, self.broker_epoch)
        return int(first), int(size)

    def close_connection(self, connection_id: str) -> None:
        if self.socket_server is None:
            return
        for c in list(self.socket_server.connections):
            if c.connection_id == connection_id:
                c.close()


_T = TypeVar("_T")


def _built(component: _T | None, what: str) -> _T:
    if component is None:
        raise RuntimeError(f"the {what} is built by KafkaRaftServer.startup, which has not run yet")
    return component


def _uuid_bytes(s: str) -> bytes:
    """Kafka's Uuid.fromString: 22 chars of url-safe base64 without padding."""
    import base64

    return base64.urlsafe_b64decode(s + "==")


def _default_host() -> str:
    # Kafka advertises the canonical host name when a listener's host is empty.
    import socket

    return socket.getfqdn() or "localhost"


__all__ = ["KafkaRaftServer"]
