"""Broker configuration: Kafka's `server.properties` keys, defaults, types and validation.

`KafkaConfig` is the typed, immutable view of one broker's static configuration, built from a
properties file (or the embedded single-node defaults). Keys are Kafka's, verbatim; values follow
Kafka's types (`ConfigDef`): an unknown key is kept (Kafka logs "unused") and passed through to
log configs, a malformed value is a `ConfigError` with a clear message naming key and value.
`check_served()` fails closed on what is valid for Kafka but not served by fastkafka (SSL/SASL
listeners, an authorizer): the broker refuses to start rather than run less secure than asked.

Topic-level log settings (`log.segment.bytes`, `log.retention.ms`, ...) are broker defaults for
`fastkafka.storage.LogConfig`; this module only carries them as raw strings in `props`.
"""
from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "BROKER_CONFIG_DEFS",
    "ConfigDef",
    "ConfigError",
    "Endpoint",
    "KafkaConfig",
    "SERVED_SECURITY_PROTOCOLS",
    "default_single_node_props",
    "load_properties",
]

_INT_MAX = 2**31 - 1
# Security protocols fastkafka serves on a listener (KafkaConfig.check_served refuses the others).
SERVED_SECURITY_PROTOCOLS = frozenset({"PLAINTEXT"})
# Kafka's ConsumerGroupMigrationPolicy values (group.consumer.migration.policy), in its order.
_MIGRATION_POLICIES = ("disabled", "upgrade", "downgrade", "bidirectional")
_LONG_MAX = 2**63 - 1


class ConfigError(ValueError):
    """A configuration value Kafka would reject (ConfigException)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ConfigDef:
    """One broker config key: Kafka's name, type and default (None = no default)."""

    name: str
    type: str  # boolean, int, long, double, string, list, password, class
    default: str | None
    read_only: bool = True  # DescribeConfigs uses cluster.dynamic_broker_config.DYNAMIC_CONFIGS
    sensitive: bool = False


def _d(name: str, type_: str, default: str | None, read_only: bool = True) -> ConfigDef:
    return ConfigDef(name, type_, default, read_only, type_ == "password")


# Kafka 4.1 broker config keys served by this broker, with Kafka's defaults. Topic-level
# synonyms (log.*, message.max.bytes, ...) are included because DescribeConfigs(BROKER) lists them.
BROKER_CONFIG_DEFS: dict[str, ConfigDef] = {
    d.name: d
    for d in [
        _d("node.id", "int", "-1"),
        _d("broker.id", "int", "-1"),
        _d("process.roles", "list", ""),
        _d("listeners", "list", "PLAINTEXT://:9092"),
        _d("advertised.listeners", "list", None),
        _d("listener.security.protocol.map", "string",
           "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"),
        _d("inter.broker.listener.name", "string", None),
        _d("controller.listener.names", "list", None),
        _d("controller.quorum.voters", "list", ""),
        _d("controller.quorum.bootstrap.servers", "list", ""),
        _d("broker.rack", "string", None),
        _d("log.dirs", "list", None),
        _d("log.dir", "list", "/tmp/kafka-logs"),
        _d("metadata.log.dir", "string", None),
        _d("num.partitions", "int", "1", False),
        _d("default.replication.factor", "int", "1"),
        _d("auto.create.topics.enable", "boolean", "true"),
        _d("delete.topic.enable", "boolean", "true"),
        _d("message.max.bytes", "int", "1048588", False),
        _d("socket.request.max.bytes", "int", "104857600"),
        _d("socket.send.buffer.bytes", "int", "102400"),
        _d("socket.receive.buffer.bytes", "int", "102400"),
        _d("queued.max.requests", "int", "500"),
        _d("queued.max.request.bytes", "long", "-1"),
        _d("max.request.partition.size.limit", "int", "2000"),
        _d("num.network.threads", "int", "3", False),
        _d("num.io.threads", "int", "8", False),
        _d("num.recovery.threads.per.data.dir", "int", "2", False),
        # Dynamic in Kafka (thread pools, connection quotas, remote log manager): stored and
        # described; fastkafka has no such pools, so they change nothing at runtime.
        _d("num.replica.fetchers", "int", "1", False),
        _d("background.threads", "int", "10", False),
        _d("max.connections", "int", str(_INT_MAX), False),
        _d("max.connections.per.ip", "int", str(_INT_MAX), False),
        _d("max.connections.per.ip.overrides", "string", "", False),
        _d("max.connection.creation.rate", "int", str(_INT_MAX), False),
        _d("transaction.partition.verification.enable", "boolean", "true", False),
        _d("remote.log.index.file.cache.total.size.bytes", "long", "1073741824", False),
        _d("remote.fetch.max.wait.ms", "int", "500", False),
        _d("remote.log.manager.copy.max.bytes.per.second", "long", str(_LONG_MAX), False),
        _d("remote.log.manager.fetch.max.bytes.per.second", "long", str(_LONG_MAX), False),
        _d("remote.list.offsets.request.timeout.ms", "long", "30000", False),
        _d("log.segment.bytes", "int", "1073741824", False),
        _d("log.roll.ms", "long", None, False),
        _d("log.roll.hours", "int", "168"),
        _d("log.roll.jitter.ms", "long", None, False),
        _d("log.roll.jitter.hours", "int", "0"),
        _d("log.index.size.max.bytes", "int", "10485760", False),
        _d("log.index.interval.bytes", "int", "4096", False),
        _d("log.retention.ms", "long", None, False),
        _d("log.retention.minutes", "int", None),
        _d("log.retention.hours", "int", "168"),
        _d("log.retention.bytes", "long", "-1", False),
        _d("log.retention.check.interval.ms", "long", "300000"),
        _d("log.cleanup.policy", "list", "delete", False),
        _d("log.flush.interval.messages", "long", str(_LONG_MAX), False),
        _d("log.flush.interval.ms", "long", None, False),
        _d("log.flush.scheduler.interval.ms", "long", str(_LONG_MAX)),
        _d("log.flush.offset.checkpoint.interval.ms", "int", "60000"),
        _d("log.flush.start.offset.checkpoint.interval.ms", "int", "60000"),
        _d("log.message.timestamp.type", "string", "CreateTime", False),
        _d("log.message.timestamp.before.max.ms", "long", str(_LONG_MAX), False),
        _d("log.message.timestamp.after.max.ms", "long", "3600000", False),
        _d("log.preallocate", "boolean", "false", False),
        _d("log.segment.delete.delay.ms", "long", "60000", False),
        _d("log.dir.failure.timeout.ms", "long", "30000"),
        _d("log.local.retention.ms", "long", "-2", False),
        _d("log.local.retention.bytes", "long", "-2", False),
        # Kafka's CleanerConfig keys (log.cleaner.enable is the only static one).
        _d("log.cleaner.enable", "boolean", "true"),
        _d("log.cleaner.threads", "int", "1", False),
        _d("log.cleaner.io.max.bytes.per.second", "double", "1.7976931348623157E308", False),
        _d("log.cleaner.dedupe.buffer.size", "long", "134217728", False),
        _d("log.cleaner.io.buffer.size", "int", "524288", False),
        _d("log.cleaner.io.buffer.load.factor", "double", "0.9", False),
        _d("log.cleaner.backoff.ms", "long", "15000", False),
        _d("log.cleaner.min.cleanable.ratio", "double", "0.5", False),
        _d("log.cleaner.delete.retention.ms", "long", "86400000", False),
        _d("log.cleaner.min.compaction.lag.ms", "long", "0", False),
        _d("log.cleaner.max.compaction.lag.ms", "long", str(_LONG_MAX), False),
        # Kafka's internal LogConfig key: delay before the first retention/flush/checkpoint run.
        _d("log.initial.task.delay.ms", "long", "30000"),
        _d("replica.high.watermark.checkpoint.interval.ms", "long", "5000"),
        _d("compression.type", "string", "producer", False),
        _d("compression.gzip.level", "int", "-1", False),
        _d("compression.lz4.level", "int", "9", False),
        _d("compression.zstd.level", "int", "3", False),
        _d("min.insync.replicas", "int", "1", False),
        _d("unclean.leader.election.enable", "boolean", "false", False),
        _d("offsets.topic.num.partitions", "int", "50"),
        _d("offsets.topic.replication.factor", "short", "3"),
        _d("offsets.retention.minutes", "int", "10080"),
        _d("offsets.retention.check.interval.ms", "long", "600000"),
        _d("offsets.topic.segment.bytes", "int", "104857600"),
        _d("offsets.topic.compression.codec", "int", "0"),
        _d("offsets.load.buffer.size", "int", "5242880"),
        _d("offsets.commit.timeout.ms", "int", "5000"),
        _d("offset.metadata.max.bytes", "int", "4096"),
        _d("transaction.state.log.num.partitions", "int", "50"),
        _d("transaction.state.log.replication.factor", "short", "3"),
        _d("transaction.state.log.min.isr", "int", "2"),
        _d("transaction.max.timeout.ms", "int", "900000"),
        _d("transactional.id.expiration.ms", "int", "604800000"),
        _d("transaction.state.log.segment.bytes", "int", "104857600"),
        _d("transaction.state.log.load.buffer.size", "int", "5242880"),
        _d("transaction.abort.timed.out.transaction.cleanup.interval.ms", "int", "10000"),
        _d("transaction.remove.expired.transaction.cleanup.interval.ms", "int", "3600000"),
        _d("producer.id.expiration.ms", "int", "86400000", False),
        _d("producer.id.expiration.check.interval.ms", "int", "600000"),
        _d("group.initial.rebalance.delay.ms", "int", "3000"),
        _d("group.min.session.timeout.ms", "int", "6000"),
        _d("group.max.session.timeout.ms", "int", "1800000"),
        _d("group.max.size", "int", str(_INT_MAX)),
        # The consumer group protocol (KIP-848).
        _d("group.coordinator.rebalance.protocols", "list", "classic,consumer"),
        _d("group.consumer.session.timeout.ms", "int", "45000"),
        _d("group.consumer.min.session.timeout.ms", "int", "45000"),
        _d("group.consumer.max.session.timeout.ms", "int", "60000"),
        _d("group.consumer.heartbeat.interval.ms", "int", "5000"),
        _d("group.consumer.min.heartbeat.interval.ms", "int", "5000"),
        _d("group.consumer.max.heartbeat.interval.ms", "int", "15000"),
        _d("group.consumer.max.size", "int", str(_INT_MAX)),
        _d("group.consumer.assignors", "list", "uniform,range"),
        _d("group.consumer.migration.policy", "string", "bidirectional"),
        _d("group.consumer.regex.refresh.interval.ms", "int", "600000"),
        _d("replica.lag.time.max.ms", "long", "30000"),
        _d("replica.fetch.max.bytes", "int", "1048576"),
        _d("fetch.max.bytes", "int", "57671680"),
        _d("connections.max.idle.ms", "long", "600000"),
        _d("metadata.max.idle.interval.ms", "int", "500"),
        _d("metadata.log.segment.bytes", "int", "1073741824"),
        _d("cluster.id", "string", None),
    ]
}


@dataclasses.dataclass(frozen=True, slots=True)
class Endpoint:
    """One entry of `listeners`/`advertised.listeners`: NAME://host:port."""

    listener_name: str
    host: str
    port: int
    security_protocol: str

    @property
    def is_bound_to_all(self) -> bool:
        return self.host in ("", "0.0.0.0", "::")


_LISTENER_RE = re.compile(r"^([A-Za-z0-9_\-]+)://(\[[0-9a-fA-F:.]+\]|[^:/\s]*):(-?\d+)$")


def parse_listeners(value: str, protocol_map: Mapping[str, str], key: str) -> list[Endpoint]:
    out: list[Endpoint] = []
    seen: set[str] = set()
    for item in filter(None, (s.strip() for s in value.split(","))):
        m = _LISTENER_RE.match(item)
        if not m:
            raise ConfigError(f"Invalid value {item!r} for configuration {key}: expected NAME://host:port")
        name, host, port_s = m.group(1).upper(), m.group(2).strip("[]"), m.group(3)
        port = int(port_s)
        if not 0 <= port <= 65535:
            raise ConfigError(f"Invalid port {port} in {key}")
        if name in seen:
            raise ConfigError(f"Each listener must have a different name, {name} appears twice in {key}")
        seen.add(name)
        proto = protocol_map.get(name, name if name in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL") else "")
        if not proto:
            raise ConfigError(f"No security protocol defined for listener {name} (listener.security.protocol.map)")
        out.append(Endpoint(name, host, port, proto))
    return out


def _parse_bool(key: str, v: str) -> bool:
    s = v.strip().lower()
    if s not in ("true", "false"):
        raise ConfigError(f"Invalid value {v} for configuration {key}: Expected value to be either true or false")
    return s == "true"


def _parse_int(key: str, v: str, lo: int = -(2**31), hi: int = _INT_MAX) -> int:
    try:
        n = int(v.strip())
    except ValueError:
        raise ConfigError(f"Invalid value {v} for configuration {key}: Not a number of type INT") from None
    if not lo <= n <= hi:
        raise ConfigError(f"Invalid value {v} for configuration {key}: Value must be in [{lo}, {hi}]")
    return n


def load_properties(path: str | os.PathLike[str]) -> dict[str, str]:
    """Parse a Java .properties file (the subset Kafka configs use: `k=v`, `k:v`, `#`/`!` comments,
    backslash line continuation, escapes)."""
    props: dict[str, str] = {}
    text = Path(path).read_text(encoding="utf-8")
    logical: list[str] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.lstrip() if not buf else raw.lstrip()
        if not buf and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            buf += line[:-1]
            continue
        logical.append(buf + line)
        buf = ""
    if buf:
        logical.append(buf)
    for line in logical:
        m = re.match(r"^((?:\\.|[^=:\s])*)\s*[=:\s]\s*(.*)$", line)
        if m:
            key, value = m.group(1), m.group(2)
        else:
            key, value = line, ""
        props[_unescape(key)] = _unescape(value.rstrip())
    return props


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(n, n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def default_data_dir() -> str:
    """Embedded default data dir for `fastkafka` with no arguments (XDG data home)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "fastkafka", "kraft-combined-logs")


def default_single_node_props(data_dir: str | None = None) -> dict[str, str]:
    """The single-node broker+controller that `fastkafka` runs with no arguments: what Kafka's
    config/server.properties sets up, on 127.0.0.1:9092."""
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": "1@127.0.0.1:9093",
        "listeners": "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
        "advertised.listeners": "PLAINTEXT://127.0.0.1:9092",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": data_dir or default_data_dir(),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
    }


@dataclasses.dataclass(frozen=True, slots=True)
class Voter:
    node_id: int
    host: str
    port: int


class KafkaConfig:
    """Typed view of a broker's static configuration. Immutable after construction."""

    __slots__ = (
        "props", "node_id", "process_roles", "listeners", "advertised_listeners",
        "controller_listener_names", "inter_broker_listener_name", "voters", "bootstrap_servers",
        "log_dirs", "metadata_log_dir", "num_partitions", "default_replication_factor",
        "auto_create_topics_enable", "message_max_bytes", "socket_request_max_bytes",
        "broker_rack", "queued_max_requests", "fetch_max_bytes", "offsets_topic_num_partitions",
        "transaction_max_timeout_ms", "delete_topic_enable", "connections_max_idle_ms",
        "queued_max_request_bytes",
    )

    def __init__(self, props: Mapping[str, str]) -> None:
        self.props: dict[str, str] = {k: str(v) for k, v in props.items()}
        p = self.props

        def get(key: str) -> str | None:
            v = p.get(key)
            if v is None:
                d = BROKER_CONFIG_DEFS.get(key)
                return d.default if d else None
            return v

        def get_int(key: str, lo: int = -(2**31), hi: int = _INT_MAX) -> int:
            v = get(key)
            if v is None:
                raise ConfigError(f"Missing required configuration {key!r} which has no default value.")
            return _parse_int(key, v, lo, hi)

        roles = [r.strip() for r in (get("process.roles") or "").split(",") if r.strip()]
        for r in roles:
            if r not in ("broker", "controller"):
                raise ConfigError(f"Unknown process role '{r}' (must be a comma-separated list of broker, controller)")
        if not roles:
            raise ConfigError("process.roles must be set: ZooKeeper mode is not supported (Kafka 4.x is KRaft-only)")
        self.process_roles: frozenset[str] = frozenset(roles)

        node_id = get_int("node.id")
        if node_id < 0:
            node_id = get_int("broker.id")
        if node_id < 0:
            raise ConfigError("Missing required configuration `node.id` which has no default value.")
        self.node_id = node_id

        protocol_map: dict[str, str] = {}
        for item in filter(None, (s.strip() for s in (get("listener.security.protocol.map") or "").split(","))):
            name, _, proto = item.partition(":")
            if not proto:
                raise ConfigError(f"Invalid listener.security.protocol.map entry {item!r}")
            protocol_map[name.strip().upper()] = proto.strip().upper()
        self.listeners = parse_listeners(get("listeners") or "", protocol_map, "listeners")
        adv = p.get("advertised.listeners")
        self.advertised_listeners = (
            parse_listeners(adv, protocol_map, "advertised.listeners") if adv else list(self.listeners)
        )
        self.controller_listener_names = [
            s.strip().upper() for s in (get("controller.listener.names") or "").split(",") if s.strip()
        ]
        if "controller" in self.process_roles and not self.controller_listener_names:
            raise ConfigError("controller.listener.names must contain at least one value when running in KRaft mode")
        for name in self.controller_listener_names:
            if "controller" in self.process_roles and name not in {e.listener_name for e in self.listeners}:
                raise ConfigError(f"controller.listener.names must contain a listener in listeners; {name} is not")
        # Advertised endpoints never include controller listeners (Kafka rule).
        self.advertised_listeners = [
            e for e in self.advertised_listeners if e.listener_name not in self.controller_listener_names
        ]
        broker_listeners = [e for e in self.listeners if e.listener_name not in self.controller_listener_names]
        if "broker" in self.process_roles and not broker_listeners:
            raise ConfigError("A broker needs at least one listener that is not a controller listener")
        ibl = get("inter.broker.listener.name")
        self.inter_broker_listener_name = (ibl or (broker_listeners[0].listener_name if broker_listeners else "")).upper()

        self.voters: list[Voter] = []
        for item in filter(None, (s.strip() for s in (get("controller.quorum.voters") or "").split(","))):
            m = re.match(r"^(\d+)@(\[[^\]]+\]|[^:]+):(\d+)$", item)
            if not m:
                raise ConfigError(f"Invalid controller.quorum.voters entry {item!r}: expected id@host:port")
            self.voters.append(Voter(int(m.group(1)), m.group(2).strip("[]"), int(m.group(3))))
        self.bootstrap_servers = [
            s.strip() for s in (get("controller.quorum.bootstrap.servers") or "").split(",") if s.strip()
        ]
        if not self.voters and not self.bootstrap_servers:
            raise ConfigError(
                "Either controller.quorum.voters or controller.quorum.bootstrap.servers must be set"
            )

        dirs = p.get("log.dirs") or get("log.dir") or ""
        self.log_dirs = [os.path.abspath(os.path.expanduser(d.strip())) for d in dirs.split(",") if d.strip()]
        if not self.log_dirs:
            raise ConfigError("log.dirs must contain at least one directory")
        mld = p.get("metadata.log.dir")
        self.metadata_log_dir = os.path.abspath(os.path.expanduser(mld)) if mld else self.log_dirs[0]

        self.num_partitions = get_int("num.partitions", 1)
        self.default_replication_factor = get_int("default.replication.factor", 1, 32767)
        self.auto_create_topics_enable = _parse_bool("auto.create.topics.enable", get("auto.create.topics.enable") or "true")
        self.delete_topic_enable = _parse_bool("delete.topic.enable", get("delete.topic.enable") or "true")
        self.message_max_bytes = get_int("message.max.bytes", 0)
        self.socket_request_max_bytes = get_int("socket.request.max.bytes", 1)
        self.queued_max_requests = get_int("queued.max.requests", 1)
        # Kafka's default -1 means no memory pool; ours is never unbounded: -1 (or 0) budgets one
        # maximum request (socket.request.max.bytes). A set value below that is refused, as Kafka does.
        qmrb = _parse_int("queued.max.request.bytes", get("queued.max.request.bytes") or "-1", -(2**63), 2**63 - 1)
        if 0 < qmrb < self.socket_request_max_bytes:
            raise ConfigError("queued.max.request.bytes must be larger or equal to socket.request.max.bytes")
        self.queued_max_request_bytes = qmrb if qmrb > 0 else self.socket_request_max_bytes
        self.fetch_max_bytes = get_int("fetch.max.bytes", 1024)
        self.offsets_topic_num_partitions = get_int("offsets.topic.num.partitions", 1)
        self.transaction_max_timeout_ms = get_int("transaction.max.timeout.ms", 1)
        # Kafka's GroupCoordinatorConfig requirements on the consumer group protocol's timings.
        hb, hb_min, hb_max = (get_int(f"group.consumer.{k}heartbeat.interval.ms", 1) for k in ("", "min.", "max."))
        st, st_min, st_max = (get_int(f"group.consumer.{k}session.timeout.ms", 1) for k in ("", "min.", "max."))
        for ok, message in (
                (hb_max >= hb_min, "group.consumer.max.heartbeat.interval.ms must be greater than or equal to "
                                   "group.consumer.min.heartbeat.interval.ms"),
                (hb >= hb_min, "group.consumer.heartbeat.interval.ms must be greater than or equal to "
                               "group.consumer.min.heartbeat.interval.ms"),
                (hb <= hb_max, "group.consumer.heartbeat.interval.ms must be less than or equal to "
                               "group.consumer.max.heartbeat.interval.ms"),
                (st_max >= st_min, "group.consumer.max.session.timeout.ms must be greater than or equal to "
                                   "group.consumer.min.session.timeout.ms"),
                (st >= st_min, "group.consumer.session.timeout.ms must be greater than or equal to "
                               "group.consumer.min.session.timeout.ms"),
                (st <= st_max, "group.consumer.session.timeout.ms must be less than or equal to "
                               "group.consumer.max.session.timeout.ms"),
                (hb < st, "group.consumer.heartbeat.interval.ms must be less than group.consumer.session.timeout.ms")):
            if not ok:
                raise ConfigError(message)
        # Kafka's GroupCoordinatorConfig validators for the group coordinator's offsets/group keys.
        for key in ("offsets.retention.minutes", "offsets.topic.segment.bytes", "offsets.load.buffer.size",
                    "offsets.commit.timeout.ms", "group.max.size", "group.consumer.max.size"):
            get_int(key, 1)
        get_int("offsets.topic.replication.factor", 1, 32767)
        get_int("max.request.partition.size.limit", 1)  # ServerConfigs: atLeast(1)
        # Kafka's TransactionLogConfig / TransactionStateManagerConfig validators (atLeast(1)).
        for key in ("transaction.state.log.num.partitions", "transaction.state.log.segment.bytes",
                    "transaction.state.log.load.buffer.size", "transaction.state.log.min.isr",
                    "transactional.id.expiration.ms", "transaction.abort.timed.out.transaction.cleanup.interval.ms",
                    "transaction.remove.expired.transaction.cleanup.interval.ms"):
            get_int(key, 1)
        get_int("transaction.state.log.replication.factor", 1, 32767)
        _parse_int("offsets.retention.check.interval.ms", get("offsets.retention.check.interval.ms") or "",
                   1, _LONG_MAX)
        policy = get("group.consumer.migration.policy") or ""
        if policy.strip().lower() not in _MIGRATION_POLICIES:
            raise ConfigError(f"Invalid value {policy} for configuration group.consumer.migration.policy: "
                              f"String must be one of (case insensitive): {', '.join(_MIGRATION_POLICIES)}")
        cmi = get("connections.max.idle.ms") or "600000"
        self.connections_max_idle_ms = _parse_int("connections.max.idle.ms", cmi, -1, _LONG_MAX)
        self.broker_rack = p.get("broker.rack")
        for key, d in BROKER_CONFIG_DEFS.items():
            if key in p and d.type == "boolean":
                _parse_bool(key, p[key])
            elif key in p and d.type in ("int", "short"):
                _parse_int(key, p[key])
            elif key in p and d.type == "long":
                _parse_int(key, p[key], -(2**63), _LONG_MAX)

    @property
    def is_controller(self) -> bool:
        return "controller" in self.process_roles

    @property
    def is_broker(self) -> bool:
        return "broker" in self.process_roles

    def broker_endpoints(self) -> list[Endpoint]:
        """Listeners this node binds for client traffic."""
        return [e for e in self.listeners if e.listener_name not in self.controller_listener_names]

    def controller_endpoints(self) -> list[Endpoint]:
        return [e for e in self.listeners if e.listener_name in self.controller_listener_names]

    def check_served(self) -> None:
        """Fail closed: raise ConfigError if the configuration asks for security fastkafka does
        not serve yet. A listener mapped to SSL or SASL_* (listener.security.protocol.map)
        would otherwise be bound as plaintext, and an `authorizer.class.name` would be ignored,
        allowing every operation; either is refused at start-up, naming the key to change."""
        for key, endpoints in (("listeners", self.listeners), ("advertised.listeners", self.advertised_listeners)):
            for e in endpoints:
                if e.security_protocol not in SERVED_SECURITY_PROTOCOLS:
                    raise ConfigError(
                        f"Listener {e.listener_name} in {key} uses security protocol {e.security_protocol} "
                        f"(listener.security.protocol.map), which fastkafka does not serve yet; refusing to "
                        f"start rather than accept unencrypted, unauthenticated connections on it. Map "
                        f"{e.listener_name} to PLAINTEXT in listener.security.protocol.map or remove it "
                        f"from {key}.")
        authorizer = (self.get("authorizer.class.name") or "").strip()
        if authorizer:
            raise ConfigError(
                f"authorizer.class.name={authorizer} is not provided by fastkafka (it has no authorizer "
                f"yet); refusing to start rather than allow every operation. Leave authorizer.class.name "
                f"empty.")

    def get(self, key: str) -> str | None:
        """The effective string value of a key (set value, else Kafka's default)."""
        if key in self.props:
            return self.props[key]
        d = BROKER_CONFIG_DEFS.get(key)
        return d.default if d else None
