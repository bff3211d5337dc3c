"""LogConfig: Kafka's topic-level log configuration (org.apache.kafka.storage.internals.log.LogConfig).

Keys, defaults, ranges and broker-level synonyms are Kafka 4.x's (TopicConfig, ServerLogConfigs,
KIP-1030 defaults: message.timestamp.after.max.ms = 1 hour, segment.bytes >= 1 MiB). A value is
resolved like Kafka does: topic override, else the first broker synonym that is set, else the
default. `TOPIC_CONFIG_DEFS` is the table DescribeConfigs reports from.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import NamedTuple

from fastkafka.protocol.errors import Errors, KafkaError

LONG_MAX = 2**63 - 1
LONG_MIN = -(2**63)
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)

_HOUR_MS = 3_600_000
_MINUTE_MS = 60_000


class TopicConfigDef(NamedTuple):
    """One topic-level config key. `type` uses Kafka's ConfigDef type names ("int", "long",
    "boolean", "string", "list", "double"); `default` is Kafka's default as a string (None =
    null); `synonyms` are the broker keys consulted in order (Kafka's
    ServerTopicConfigSynonyms), each with a unit multiplier to milliseconds where the synonym is
    in hours/minutes."""

    name: str
    type: str
    default: str | None
    synonyms: tuple[tuple[str, int], ...]
    doc: str
    # Kafka's validator: the reason a parsed value is refused (ConfigException's message), or None.
    valid: Callable[[object], str | None] | None = None
    valid_doc: str = ""


def _at_least(n: int) -> Callable[[object], str | None]:
    """Kafka's ConfigDef.Range.atLeast."""
    return lambda v: None if isinstance(v, (int, float)) and v >= n else f"Value must be at least {n}"


def _between(lo: int, hi: int) -> Callable[[object], str | None]:
    """Kafka's ConfigDef.Range.between."""
    def check(v: object) -> str | None:
        assert isinstance(v, (int, float))
        if v < lo:
            return f"Value must be at least {lo}"
        if v > hi:
            return f"Value must be no more than {hi}"
        return None
    return check


def _in_list(*choices: str) -> Callable[[object], str | None]:
    """Kafka's ConfigDef.ValidString.in."""
    return lambda v: None if v in choices else "String must be one of: " + ", ".join(choices)


def _list_in(*choices: str) -> Callable[[object], str | None]:
    """Kafka's ConfigDef.ValidList.in: each element is a ValidString, and the message names the
    first bad element as the value (returned ahead of the reason, separated by NUL)."""
    def check(v: object) -> str | None:
        assert isinstance(v, tuple)
        bad = next((x for x in v if x not in choices), None)
        return None if bad is None else f"{bad}\0String must be one of: " + ", ".join(choices)
    return check


def _split_reason(shown: str, why: str) -> tuple[str, str]:
    """A validator may name the offending part of the value (see _list_in)."""
    if "\0" in why:
        part, why = why.split("\0", 1)
        return part, why
    return shown, why


def _gzip_level(v: object) -> str | None:
    """CompressionType.GZIP.levelValidator: Deflater levels 1..9 or -1 (the default level)."""
    if v == -1 or (isinstance(v, int) and 1 <= v <= 9):
        return None
    return "Value must be between 1 and 9, or equal to -1"


def _s(*names: str) -> tuple[tuple[str, int], ...]:
    return tuple((n, 1) for n in names)


_COMPRESSION = ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")

TOPIC_CONFIG_DEFS: dict[str, TopicConfigDef] = {d.name: d for d in (
    TopicConfigDef("cleanup.policy", "list", "delete", _s("log.cleanup.policy"),
                   'A string that is either "delete" or "compact" or both.',
                   _list_in("compact", "delete"), "[compact, delete]"),
    TopicConfigDef("compression.type", "string", "producer", _s("compression.type"),
                   "Final compression type for a given topic.", _in_list(*_COMPRESSION),
                   "[" + ", ".join(_COMPRESSION) + "]"),
    TopicConfigDef("compression.gzip.level", "int", "-1", _s("compression.gzip.level"),
                   "The compression level to use if compression.type is set to gzip.",
                   _gzip_level, "[1,...,9] or -1"),
    TopicConfigDef("compression.lz4.level", "int", "9", _s("compression.lz4.level"),
                   "The compression level to use if compression.type is set to lz4.",
                   _between(1, 17), "[1,...,17]"),
    TopicConfigDef("compression.zstd.level", "int", "3", _s("compression.zstd.level"),
                   "The compression level to use if compression.type is set to zstd.",
                   _between(-131072, 22), "[-131072,...,22]"),
    TopicConfigDef("delete.retention.ms", "long", "86400000", _s("log.cleaner.delete.retention.ms"),
                   "The amount of time to retain tombstone markers for log compacted topics.",
                   _at_least(0), "[0,...]"),
    TopicConfigDef("file.delete.delay.ms", "long", "60000", _s("log.segment.delete.delay.ms"),
                   "The time to wait before deleting a file from the filesystem.", _at_least(0), "[0,...]"),
    TopicConfigDef("flush.messages", "long", str(LONG_MAX), _s("log.flush.interval.messages"),
                   "Number of messages accumulated on a log partition before messages are flushed to disk.",
                   _at_least(1), "[1,...]"),
    TopicConfigDef("flush.ms", "long", str(LONG_MAX), _s("log.flush.interval.ms", "log.flush.scheduler.interval.ms"),
                   "Maximum time in ms a message stays in memory before it is flushed to disk.",
                   _at_least(0), "[0,...]"),
    TopicConfigDef("follower.replication.throttled.replicas", "list", "", (),
                   "A list of replicas for which log replication should be throttled on the follower side."),
    TopicConfigDef("index.interval.bytes", "int", "4096", _s("log.index.interval.bytes"),
                   "How frequently Kafka adds an index entry to its offset index.", _at_least(0), "[0,...]"),
    TopicConfigDef("leader.replication.throttled.replicas", "list", "", (),
                   "A list of replicas for which log replication should be throttled on the leader side."),
    TopicConfigDef("local.retention.bytes", "long", "-2", _s("log.local.retention.bytes"),
                   "The maximum size of local log segments that can grow for a partition before it deletes "
                   "the old segments.", _at_least(-2), "[-2,...]"),
    TopicConfigDef("local.retention.ms", "long", "-2", _s("log.local.retention.ms"),
                   "The number of milliseconds to keep the local log segment before it gets deleted.",
                   _at_least(-2), "[-2,...]"),
    TopicConfigDef("max.compaction.lag.ms", "long", str(LONG_MAX), _s("log.cleaner.max.compaction.lag.ms"),
                   "The maximum time a message will remain ineligible for compaction in the log.",
                   _at_least(1), "[1,...]"),
    TopicConfigDef("max.message.bytes", "int", "1048588", _s("message.max.bytes"),
                   "The largest record batch size allowed by Kafka (after compression if compression is enabled).",
                   _at_least(0), "[0,...]"),
    TopicConfigDef("message.timestamp.after.max.ms", "long", "3600000",
                   _s("log.message.timestamp.after.max.ms"),
                   "The maximum allowed timestamp difference between the message timestamp and the broker's "
                   "timestamp (message timestamp later than the broker's).", _at_least(0), "[0,...]"),
    TopicConfigDef("message.timestamp.before.max.ms", "long", str(LONG_MAX),
                   _s("log.message.timestamp.before.max.ms"),
                   "The maximum allowed timestamp difference between the broker's timestamp and the message "
                   "timestamp (message timestamp earlier than the broker's).", _at_least(0), "[0,...]"),
    TopicConfigDef("message.timestamp.type", "string", "CreateTime", _s("log.message.timestamp.type"),
                   "Define whether the timestamp in the message is message create time or log append time.",
                   _in_list("CreateTime", "LogAppendTime"), "[CreateTime, LogAppendTime]"),
    TopicConfigDef("min.cleanable.dirty.ratio", "double", "0.5", _s("log.cleaner.min.cleanable.ratio"),
                   "How frequently the log compactor will attempt to clean the log.", _between(0, 1), "[0,...,1]"),
    TopicConfigDef("min.compaction.lag.ms", "long", "0", _s("log.cleaner.min.compaction.lag.ms"),
                   "The minimum time a message will remain uncompacted in the log.", _at_least(0), "[0,...]"),
    TopicConfigDef("min.insync.replicas", "int", "1", _s("min.insync.replicas"),
                   "The minimum number of replicas that must acknowledge a write for acks=all.",
                   _at_least(1), "[1,...]"),
    TopicConfigDef("preallocate", "boolean", "false", _s("log.preallocate"),
                   "True if we should preallocate the file on disk when creating a new log segment."),
    TopicConfigDef("remote.log.copy.disable", "boolean", "false", (),
                   "Determines whether tiered data for a topic should become read only."),
    TopicConfigDef("remote.log.delete.on.disable", "boolean", "false", (),
                   "Determines whether tiered data for a topic should be deleted after tiered storage is disabled."),
    TopicConfigDef("remote.storage.enable", "boolean", "false", (),
                   "To enable tiered storage for a topic, set this configuration as true."),
    TopicConfigDef("retention.bytes", "long", "-1", _s("log.retention.bytes"),
                   "The maximum size a partition can grow to before old log segments are discarded.",
                   None),
    TopicConfigDef("retention.ms", "long", "604800000",
                   (("log.retention.ms", 1), ("log.retention.minutes", _MINUTE_MS), ("log.retention.hours", _HOUR_MS)),
                   "The maximum time a log is retained before old log segments are discarded.",
                   _at_least(-1), "[-1,...]"),
    TopicConfigDef("segment.bytes", "int", "1073741824", _s("log.segment.bytes"),
                   "The segment file size for the log.", _at_least(1024 * 1024), "[1048576,...]"),
    TopicConfigDef("segment.index.bytes", "int", "10485760", _s("log.index.size.max.bytes"),
                   "The size of the index that maps offsets to file positions.", _at_least(4), "[4,...]"),
    TopicConfigDef("segment.jitter.ms", "long", "0",
                   (("log.roll.jitter.ms", 1), ("log.roll.jitter.hours", _HOUR_MS)),
                   "The maximum random jitter subtracted from the scheduled segment roll time.",
                   _at_least(0), "[0,...]"),
    TopicConfigDef("segment.ms", "long", "604800000",
                   (("log.roll.ms", 1), ("log.roll.hours", _HOUR_MS)),
                   "The period of time after which Kafka will force the log to roll.", _at_least(1), "[1,...]"),
    TopicConfigDef("unclean.leader.election.enable", "boolean", "false", _s("unclean.leader.election.enable"),
                   "Indicates whether to enable replicas not in the ISR set to be elected as leader."),
)}

# Range checks Kafka applies to the broker-level synonyms themselves (their own ConfigDefs in
# LogConfig.SERVER_CONFIG_DEF / KafkaConfig), where they differ from the topic key's.
_BROKER_SYNONYM_VALID: dict[str, Callable[[object], str | None]] = {
    "log.roll.hours": _at_least(1),
    "log.roll.jitter.hours": _at_least(0),
    "log.segment.bytes": _at_least(1024 * 1024),
    "log.index.size.max.bytes": _at_least(4),
    "log.flush.interval.messages": _at_least(1),
    "log.retention.check.interval.ms": _at_least(1),
    "log.flush.offset.checkpoint.interval.ms": _at_least(0),
    "log.flush.start.offset.checkpoint.interval.ms": _at_least(0),
    "num.recovery.threads.per.data.dir": _at_least(1),
    "log.dir.failure.timeout.ms": _at_least(1),
    "log.cleaner.threads": _at_least(0),
    "log.cleaner.io.buffer.size": _at_least(0),
    "log.cleaner.backoff.ms": _at_least(0),
    "num.partitions": _at_least(1),
}


def _invalid(name: str, raw: str, why: str) -> KafkaError:
    return KafkaError(Errors.INVALID_CONFIG, f"Invalid value {raw} for configuration {name}: {why}")


def parse_value(d: TopicConfigDef, raw: str, key: str | None = None) -> object:
    """Parse `raw` per the def's type; raise KafkaError(INVALID_CONFIG) on a type error."""
    name = key or d.name
    s = raw.strip()
    t = d.type
    if t in ("int", "long"):
        try:
            v = int(s)
        except ValueError:
            raise _invalid(name, raw, f"Not a number of type {t.upper()}") from None
        lo, hi = (INT_MIN, INT_MAX) if t == "int" else (LONG_MIN, LONG_MAX)
        if not lo <= v <= hi:
            raise _invalid(name, raw, f"Not a number of type {t.upper()}")
        return v
    if t == "double":
        try:
            return float(s)
        except ValueError:
            raise _invalid(name, raw, "Not a number of type DOUBLE") from None
    if t == "boolean":
        low = s.lower()
        if low not in ("true", "false"):
            raise _invalid(name, raw, "Expected value to be either true or false")
        return low == "true"
    if t == "list":
        return tuple(x.strip() for x in s.split(",") if x.strip())
    return s


# LogConfig.from_props results by topic overrides: (the broker defaults they were resolved with,
# the config). Bounded; a few hundred distinct override sets at most in practice.
_FROM_PROPS_MEMO: dict[frozenset[tuple[str, str]], tuple[dict[str, str], "LogConfig"]] = {}
_FROM_PROPS_MEMO_ENTRIES = 256


@dataclasses.dataclass(frozen=True, slots=True)
class LogConfig:
    """Resolved topic-level log config. Immutable value: a config change builds a new LogConfig
    and hands it to `UnifiedLog.update_config` (Kafka swaps the whole LogConfig too).

    Invariants: every field passed the range check of its key; `segment_ms >= 1`;
    `segment_bytes >= 1 MiB`; `cleanup_policy` is a subset of {delete, compact}.
    """

    segment_bytes: int = 1073741824
    segment_ms: int = 604800000
    segment_jitter_ms: int = 0
    segment_index_bytes: int = 10485760
    index_interval_bytes: int = 4096
    max_message_bytes: int = 1048588
    message_timestamp_type: str = "CreateTime"
    message_timestamp_before_max_ms: int = LONG_MAX
    message_timestamp_after_max_ms: int = 3600000
    cleanup_policy: tuple[str, ...] = ("delete",)
    retention_ms: int = 604800000
    retention_bytes: int = -1
    local_retention_ms: int = -2
    local_retention_bytes: int = -2
    flush_messages: int = LONG_MAX
    flush_ms: int = LONG_MAX
    min_insync_replicas: int = 1
    compression_type: str = "producer"
    compression_gzip_level: int = -1
    compression_lz4_level: int = 9
    compression_zstd_level: int = 3
    preallocate: bool = False
    file_delete_delay_ms: int = 60000
    delete_retention_ms: int = 86400000
    min_compaction_lag_ms: int = 0
    max_compaction_lag_ms: int = LONG_MAX
    min_cleanable_dirty_ratio: float = 0.5
    unclean_leader_election_enable: bool = False
    remote_storage_enable: bool = False
    remote_log_copy_disable: bool = False
    remote_log_delete_on_disable: bool = False
    leader_replication_throttled_replicas: tuple[str, ...] = ()
    follower_replication_throttled_replicas: tuple[str, ...] = ()
    # The topic-level keys that were explicitly overridden (DescribeConfigs source TOPIC_CONFIG).
    overridden: frozenset[str] = frozenset()

    @property
    def compact(self) -> bool:
        return "compact" in self.cleanup_policy

    @property
    def delete(self) -> bool:
        return "delete" in self.cleanup_policy

    @property
    def log_append_time(self) -> bool:
        """message.timestamp.type = LogAppendTime: the broker stamps MaxTimestamp."""
        return self.message_timestamp_type == "LogAppendTime"

    @staticmethod
    def field_name(key: str) -> str:
        return key.replace(".", "_")

    @classmethod
    def from_props(cls, broker_defaults: Mapping[str, str], overrides: Mapping[str, str]) -> "LogConfig":
        """Topic overrides on top of broker-level synonyms on top of Kafka's defaults.

        Unknown override keys raise INVALID_CONFIG (Kafka's LogConfig.validateNames); values are
        type- and range-checked. Broker values that are unset (missing or empty) fall through.
        Memoized (a pure function of its two mappings, and a LogConfig is immutable): a metadata
        publication of 1,000 new topics resolved the same config 1,000 times on the event loop
        (~0.25 ms each). A hit compares the broker defaults with the copy kept (a C-level dict
        comparison), so a changed default is never answered from the memo."""
        key = frozenset(overrides.items())
        hit = _FROM_PROPS_MEMO.get(key)
        if hit is not None and hit[0] == broker_defaults:
            return hit[1]
        config = cls._from_props(broker_defaults, overrides)
        if len(_FROM_PROPS_MEMO) >= _FROM_PROPS_MEMO_ENTRIES:
            _FROM_PROPS_MEMO.clear()  # one atomic call: the controller's worker thread calls this too
        _FROM_PROPS_MEMO[key] = (dict(broker_defaults), config)
        return config

    @classmethod
    def _from_props(cls, broker_defaults: Mapping[str, str], overrides: Mapping[str, str]) -> "LogConfig":
        for key in overrides:
            if key not in TOPIC_CONFIG_DEFS:
                raise KafkaError(Errors.INVALID_CONFIG, f"Unknown topic config name: {key}")
        values: dict[str, object] = {}
        for key, d in TOPIC_CONFIG_DEFS.items():
            raw = overrides.get(key)
            value: object
            if raw is not None:
                value = parse_value(d, raw)
                source_key = key
            else:
                value = None
                source_key = key
                for syn, mult in d.synonyms:
                    braw = broker_defaults.get(syn)
                    if braw is None or braw.strip() == "":
                        continue
                    v = parse_value(d if mult == 1 else d._replace(type="long"), braw, syn)
                    check = _BROKER_SYNONYM_VALID.get(syn)
                    why = check(v) if check is not None else None
                    if why is not None:
                        raise _invalid(syn, *_split_reason(braw, why))
                    if mult != 1 and isinstance(v, int):
                        v = min(v * mult, LONG_MAX) if v >= 0 else v
                    value = v
                    source_key = syn
                    break
                if value is None:
                    if d.default is None:
                        continue
                    value = parse_value(d, d.default)
            why = d.valid(value) if d.valid is not None else None
            if why is not None:
                shown = raw if raw is not None else _render(value)
                raise _invalid(source_key, *_split_reason(shown, why))
            values[cls.field_name(key)] = value
        if values.get("retention_ms") is not None and int(values["retention_ms"]) < -1:  # type: ignore[call-overload]
            raise _invalid("retention.ms", str(values["retention_ms"]), "Value must be at least -1")
        values["overridden"] = frozenset(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def validate(cls, broker_defaults: Mapping[str, str], overrides: Mapping[str, str]) -> "LogConfig":
        """A topic's configs as the controller checks them on CreateTopics and Alter*Configs
        (Kafka's LogConfig.validate): names, types and ranges (from_props), then the checks
        across keys (validateValues and the remote-storage rules; tiered storage is never
        enabled here, remote.log.storage.system.enable=false)."""
        config = cls.from_props(broker_defaults, overrides)
        if config.min_compaction_lag_ms > config.max_compaction_lag_ms:
            raise KafkaError(Errors.INVALID_CONFIG,
                             f"conflict topic config setting min.compaction.lag.ms ({config.min_compaction_lag_ms}) "
                             f"> max.compaction.lag.ms ({config.max_compaction_lag_ms})")
        if config.remote_storage_enable:
            raise KafkaError(Errors.INVALID_CONFIG, "Tiered Storage functionality is disabled in the broker. "
                                                    "Topic cannot be configured with remote log storage.")
        return config

    def value_of(self, key: str) -> str:
        """The effective value of a topic key, as Kafka's DescribeConfigs renders it."""
        return _render(getattr(self, self.field_name(key)))


def _render(v: object) -> str:
    """ConfigDef.convertToString: booleans lower-case, lists comma-joined, doubles as Java prints them."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return ",".join(v)
    return str(v)


def broker_value_error(key: str, raw: str) -> str | None:
    """Why Kafka's broker ConfigDef refuses `raw` for broker key `key` (type, then range), as
    ConfigException's message; None if it is acceptable or the key is not one this module knows.
    A broker key that is the primary synonym of a topic key takes the topic key's validator."""
    from fastkafka.config import BROKER_CONFIG_DEFS

    bdef = BROKER_CONFIG_DEFS.get(key)
    topic_def = next((d for d in TOPIC_CONFIG_DEFS.values() if d.synonyms and d.synonyms[0][0] == key), None)
    if bdef is None and topic_def is None:
        return None
    type_ = bdef.type if bdef is not None else topic_def.type  # type: ignore[union-attr]
    if type_ == "short":
        type_ = "int"
    if type_ not in ("int", "long", "double", "boolean", "list"):
        type_ = "string"
    probe = TopicConfigDef(key, type_, None, (), "")
    try:
        v = parse_value(probe, raw, key)
    except KafkaError as e:
        return e.message
    check = _BROKER_SYNONYM_VALID.get(key)
    if check is None and topic_def is not None:
        check = topic_def.valid
    why = check(v) if check is not None else None
    if why is None:
        return None
    shown, why = _split_reason(raw, why)
    return f"Invalid value {shown} for configuration {key}: {why}"
