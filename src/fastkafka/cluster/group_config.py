"""Dynamic group configs: ConfigResource type GROUP (32), Kafka 4.4's GroupConfig (KIP-848/932/1071).

A group's configs are ConfigRecords of resource type 32 in the metadata log, written by the
controller after `validate` (Kafka's ControllerConfigurationValidator -> GroupConfig.validate) and
read back from the metadata image by DescribeConfigs and by the group coordinator.

Kafka's rules, from the 4.4.0 jars (GroupConfig, ControllerConfigurationValidator, ConfigHelper):
- validate sees the group's whole config after the change (existing keys merged with the
  altered ones). In order: every name must be a group config ("Unknown group config name: x"),
  streams.rack.aware.assignment.tags must not repeat a tag, every value must parse as its
  ConfigDef type and pass its validator (ConfigDef.parse, in definition order), then the values
  given must lie within the broker's bounds (group.consumer.min/max.session.timeout.ms and the
  like; "x must be in the range a to b inclusive."), a session timeout must exceed its heartbeat
  interval (either side falling back to the broker's value), streams.assignor.name must be one of
  group.streams.assignors, and the DLQ topic must not start with "__". Every failure is
  INVALID_CONFIG with Kafka's message; an empty group name is INVALID_REQUEST ("Default group
  resources are not allowed.").
- The broker's bounds are its static config (none of the group.* keys is dynamic in Kafka).
- The coordinator reads a group's value at each use (GroupConfigManager.groupConfig) clamped to
  the broker's current bounds (GroupConfig.evaluate: a value stored under older, wider bounds is
  capped, never refused).
- DescribeConfigs lists every non-internal key (internal ones only when the group sets them) for
  any group id, existing or not: the group's value (source GROUP_CONFIG, 8) else the broker's
  value of the key's broker synonym, with the synonyms [group value], then the broker key from
  the static config and Kafka's default (a key without a broker synonym lists its own default).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from fastkafka.protocol.errors import Errors, KafkaError


@dataclasses.dataclass(frozen=True, slots=True)
class GroupConfigKey:
    name: str
    type: str             # ConfigDef.Type, lower case
    default: str | None   # ConfigDef.convertToString of the default
    at_least: int | None  # ConfigDef.Range.atLeast, the only numeric validator GroupConfig uses
    broker_synonym: str | None
    internal: bool
    doc: str


# GroupConfig.CONFIG_DEF of Kafka 4.4.0, in definition order (ConfigDef.parse checks in this order).
GROUP_CONFIG_KEYS: tuple[GroupConfigKey, ...] = (
    GroupConfigKey('consumer.session.timeout.ms', 'int', '45000', 1, 'group.consumer.session.timeout.ms', False,
                   'The timeout to detect client failures when using the consumer group protocol.'),
    GroupConfigKey('consumer.heartbeat.interval.ms', 'int', '5000', 1, 'group.consumer.heartbeat.interval.ms', False,
                   'The heartbeat interval given to the members of a consumer group.'),
    GroupConfigKey('consumer.assignment.interval.ms', 'int', '1000', 0, 'group.consumer.assignment.interval.ms', False,
                   'The interval between assignment updates for a consumer group.'),
    GroupConfigKey('consumer.assignor.offload.enable', 'boolean', 'true', None, 'group.consumer.assignor.offload.enable', True,
                   'Whether to offload consumer group assignment to a group coordinator background thread.'),
    GroupConfigKey('share.session.timeout.ms', 'int', '45000', 1, 'group.share.session.timeout.ms', False,
                   'The timeout to detect client failures when using the share group protocol.'),
    GroupConfigKey('share.heartbeat.interval.ms', 'int', '5000', 1, 'group.share.heartbeat.interval.ms', False,
                   'The heartbeat interval given to the members of a share group.'),
    GroupConfigKey('share.record.lock.duration.ms', 'int', '30000', 1000, 'group.share.record.lock.duration.ms', False,
                   'The record acquisition lock duration in milliseconds for share groups.'),
    GroupConfigKey('share.delivery.count.limit', 'int', '5', 2, 'group.share.delivery.count.limit', False,
                   'The maximum number of delivery attempts for a record delivered to a share group.'),
    GroupConfigKey('share.partition.max.record.locks', 'int', '2000', 100, 'group.share.partition.max.record.locks', False,
                   'Share-group record lock limit per share-partition.'),
    GroupConfigKey('share.auto.offset.reset', 'string', 'latest', None, None, False,
                   'The strategy to initialize the share-partition start offset. <ul><li>earliest: automatically reset the offset to the earliest offset</li><li>latest: automatically reset the offset to the latest offset</li><li>by_duration:&lt;duration&gt;: automatically reset the offset to a configured duration from the current timestamp. &lt;duration&gt; must be specified in ISO8601 format (PnDTnHnMn.nS). Negative duration is not allowed.</li><li>anything else: throw exception to the share consumer.</li></ul>'),
    GroupConfigKey('share.isolation.level', 'string', 'read_uncommitted', None, None, False,
                   'Controls how to read records written transactionally. If set to "read_committed", the share group will only deliver transactional records which have been committed. If set to "read_uncommitted", the share group will return all messages, even transactional messages which have been aborted. Non-transactional records will be returned unconditionally in either mode.'),
    GroupConfigKey('share.renew.acknowledge.enable', 'boolean', 'true', None, None, False,
                   'Whether the renew acknowledge type is enabled for the share group.'),
    GroupConfigKey('share.assignment.interval.ms', 'int', '1000', 0, 'group.share.assignment.interval.ms', False,
                   'The interval between assignment updates for a share group.'),
    GroupConfigKey('share.assignor.offload.enable', 'boolean', 'true', None, 'group.share.assignor.offload.enable', True,
                   'Whether to offload share group assignment to a group coordinator background thread.'),
    GroupConfigKey('streams.session.timeout.ms', 'int', '45000', 1, 'group.streams.session.timeout.ms', False,
                   'The timeout to detect client failures when using the streams group protocol.'),
    GroupConfigKey('streams.heartbeat.interval.ms', 'int', '5000', 1, 'group.streams.heartbeat.interval.ms', False,
                   'The heartbeat interval given to the members.'),
    GroupConfigKey('streams.num.standby.replicas', 'int', '0', 0, 'group.streams.num.standby.replicas', False,
                   'The number of standby replicas for each task.'),
    GroupConfigKey('streams.initial.rebalance.delay.ms', 'int', '3000', 0, 'group.streams.initial.rebalance.delay.ms', False,
                   'The amount of time the group coordinator will wait for more streams clients to join a new group before performing the first rebalance. A longer delay means potentially fewer rebalances.'),
    GroupConfigKey('streams.assignment.interval.ms', 'int', '1000', 0, 'group.streams.assignment.interval.ms', False,
                   'The interval between assignment updates for a streams group.'),
    GroupConfigKey('streams.assignor.offload.enable', 'boolean', 'true', None, 'group.streams.assignor.offload.enable', True,
                   'Whether to offload streams group assignment to a group coordinator background thread.'),
    GroupConfigKey('streams.task.offset.interval.ms', 'int', '60000', 1, 'group.streams.task.offset.interval.ms', True,
                   'The interval in which the warmup task changelog offsets on a client are updated on the broker. The offsets are sent with the next heartbeat after this time has passed.'),
    GroupConfigKey('streams.num.warmup.replicas', 'int', '2', 0, 'group.streams.num.warmup.replicas', True,
                   'The maximum number of warmup task replicas.'),
    GroupConfigKey('streams.rack.aware.assignment.tags', 'list', '', None, 'group.streams.rack.aware.assignment.tags', False,
                   'List of client tag keys used to distribute standby replicas across Kafka Streams instances. When configured, and the used broker-side assignor supports it, it will make a best-effort to distribute standby tasks over each client tag dimension.'),
    GroupConfigKey('streams.acceptable.recovery.lag', 'long', '10000', 0, 'group.streams.acceptable.recovery.lag', True,
                   'The maximum acceptable lag (number of offsets to catch up) for a client to be considered caught-up enough to receive an active task assignment.'),
    GroupConfigKey('streams.assignor.name', 'string', None, None, 'group.streams.assignors', False,
                   "The task assignor to use for this streams group, selected by short name from the assignors registered via the broker configuration group.streams.assignors. When unset, the group defaults to the first assignor configured in the broker's group.streams.assignors setting. Changing the assignor does not trigger a rebalance for the group; the new assignor takes effect on the next rebalance."),
    GroupConfigKey('errors.deadletterqueue.topic.name', 'string', '', None, None, False,
                   'The name of the topic to be used as the dead-letter queue (DLQ) topic for this share group. If blank (the default), the group does not have a DLQ topic.'),
    GroupConfigKey('errors.deadletterqueue.copy.record.enable', 'boolean', 'false', None, None, False,
                   'When writing onto the dead-letter queue topic, whether to copy the original record onto the DLQ topic, or just write a record containing the context information headers.'),
)
GROUP_CONFIGS: dict[str, GroupConfigKey] = {k.name: k for k in GROUP_CONFIG_KEYS}

# Kafka 4.4's defaults of the broker keys GroupConfig reads (GroupCoordinatorConfig / ShareGroupConfig).
BROKER_GROUP_DEFAULTS: dict[str, str] = {
    'group.consumer.assignment.interval.ms': '1000',
    'group.consumer.assignor.offload.enable': 'true',
    'group.consumer.heartbeat.interval.ms': '5000',
    'group.consumer.max.assignment.interval.ms': '15000',
    'group.consumer.max.heartbeat.interval.ms': '15000',
    'group.consumer.max.session.timeout.ms': '60000',
    'group.consumer.min.assignment.interval.ms': '0',
    'group.consumer.min.heartbeat.interval.ms': '5000',
    'group.consumer.min.session.timeout.ms': '45000',
    'group.consumer.session.timeout.ms': '45000',
    'group.share.assignment.interval.ms': '1000',
    'group.share.assignor.offload.enable': 'true',
    'group.share.delivery.count.limit': '5',
    'group.share.heartbeat.interval.ms': '5000',
    'group.share.max.assignment.interval.ms': '15000',
    'group.share.max.delivery.count.limit': '10',
    'group.share.max.heartbeat.interval.ms': '15000',
    'group.share.max.partition.max.record.locks': '4000',
    'group.share.max.record.lock.duration.ms': '60000',
    'group.share.max.session.timeout.ms': '60000',
    'group.share.min.assignment.interval.ms': '0',
    'group.share.min.delivery.count.limit': '2',
    'group.share.min.heartbeat.interval.ms': '5000',
    'group.share.min.partition.max.record.locks': '100',
    'group.share.min.record.lock.duration.ms': '15000',
    'group.share.min.session.timeout.ms': '45000',
    'group.share.partition.max.record.locks': '2000',
    'group.share.record.lock.duration.ms': '30000',
    'group.share.session.timeout.ms': '45000',
    'group.streams.acceptable.recovery.lag': '10000',
    'group.streams.assignment.interval.ms': '1000',
    'group.streams.assignor.offload.enable': 'true',
    'group.streams.assignors': 'sticky',
    'group.streams.heartbeat.interval.ms': '5000',
    'group.streams.initial.rebalance.delay.ms': '3000',
    'group.streams.max.assignment.interval.ms': '15000',
    'group.streams.max.heartbeat.interval.ms': '15000',
    'group.streams.max.session.timeout.ms': '60000',
    'group.streams.max.standby.replicas': '2',
    'group.streams.max.warmup.replicas': '20',
    'group.streams.min.assignment.interval.ms': '0',
    'group.streams.min.heartbeat.interval.ms': '5000',
    'group.streams.min.session.timeout.ms': '45000',
    'group.streams.min.task.offset.interval.ms': '15000',
    'group.streams.num.standby.replicas': '0',
    'group.streams.num.warmup.replicas': '2',
    'group.streams.rack.aware.assignment.tags': '',
    'group.streams.session.timeout.ms': '45000',
    'group.streams.task.offset.interval.ms': '60000',
}

_INT_RE = re.compile(r"[+-]?[0-9]+")
_DURATION_RE = re.compile(r"-?P(?:[0-9]+D)?(?:T(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:[.,][0-9]{0,9})?S)?)?",
                          re.IGNORECASE)
_ISOLATION_LEVELS = ("read_committed", "read_uncommitted")


def _invalid(name: str, raw: str, why: str) -> KafkaError:
    # ConfigException(name, value, message): the controller answers INVALID_CONFIG with its text.
    return KafkaError(Errors.INVALID_CONFIG, f"Invalid value {raw} for configuration {name}: {why}")


def _valid_auto_offset_reset(value: str) -> bool:
    """ShareGroupAutoOffsetResetStrategy.fromString: earliest, latest or by_duration:<ISO-8601>, not negative."""
    v = value.lower()
    if v in ("earliest", "latest"):
        return True
    if not v.startswith("by_duration:"):
        return False
    d = value[len("by_duration:"):]
    return bool(_DURATION_RE.fullmatch(d)) and not d.startswith("-") and d.upper() not in ("P", "PT")


def parse_value(key: GroupConfigKey, raw: str) -> Any:
    """ConfigDef.parseType then the key's validator; raises INVALID_CONFIG with Kafka's message."""
    trimmed = raw.strip()
    value: Any
    if key.type in ("int", "long"):
        bits = 31 if key.type == "int" else 63
        if not _INT_RE.fullmatch(trimmed) or not -(1 << bits) <= int(trimmed) < (1 << bits):
            raise _invalid(key.name, raw, f"Not a number of type {key.type.upper()}")
        value = int(trimmed)
        if key.at_least is not None and value < key.at_least:
            raise _invalid(key.name, raw, f"Value must be at least {key.at_least}")
    elif key.type == "boolean":
        if trimmed.lower() not in ("true", "false"):
            raise _invalid(key.name, raw, "Expected value to be either true or false")
        value = trimmed.lower() == "true"
    elif key.type == "list":
        value = [] if trimmed == "" else re.split(r"\s*,\s*", trimmed)
    else:
        value = trimmed
        if key.name == "share.auto.offset.reset" and not _valid_auto_offset_reset(value):
            raise _invalid(key.name, raw, f"Invalid value `{value}` for configuration {key.name}. The value must be "
                           "either 'earliest', 'latest' or of the format 'by_duration:<PnDTnHnMn.nS>'.")
        if key.name == "share.isolation.level" and value not in _ISOLATION_LEVELS:
            raise _invalid(key.name, raw, "String must be one of: " + ", ".join(_ISOLATION_LEVELS))
    return value


def to_string(value: Any, type_: str) -> str | None:
    """ConfigDef.convertToString."""
    if value is None:
        return None
    if type_ == "boolean":
        return "true" if value else "false"
    if type_ == "list":
        return ",".join(value)
    return str(value)


def broker_value(broker_props: Mapping[str, str], name: str) -> str:
    raw = broker_props.get(name)
    return raw.strip() if raw is not None else BROKER_GROUP_DEFAULTS[name]


def _broker_int(broker_props: Mapping[str, str], name: str) -> int:
    return int(broker_value(broker_props, name))


def _streams_assignor_names(broker_props: Mapping[str, str]) -> list[str]:
    return [n for n in re.split(r"\s*,\s*", broker_value(broker_props, "group.streams.assignors")) if n]


# GroupConfig.validateValues: (key, broker min key, broker max key), either bound may be absent.
_BOUNDS: tuple[tuple[str, str | None, str | None], ...] = (
    ("consumer.heartbeat.interval.ms", "group.consumer.min.heartbeat.interval.ms", "group.consumer.max.heartbeat.interval.ms"),
    ("consumer.session.timeout.ms", "group.consumer.min.session.timeout.ms", "group.consumer.max.session.timeout.ms"),
    ("consumer.assignment.interval.ms", "group.consumer.min.assignment.interval.ms", "group.consumer.max.assignment.interval.ms"),
    ("share.heartbeat.interval.ms", "group.share.min.heartbeat.interval.ms", "group.share.max.heartbeat.interval.ms"),
    ("share.session.timeout.ms", "group.share.min.session.timeout.ms", "group.share.max.session.timeout.ms"),
    ("share.record.lock.duration.ms", "group.share.min.record.lock.duration.ms", "group.share.max.record.lock.duration.ms"),
    ("share.delivery.count.limit", "group.share.min.delivery.count.limit", "group.share.max.delivery.count.limit"),
    ("share.partition.max.record.locks", "group.share.min.partition.max.record.locks",
     "group.share.max.partition.max.record.locks"),
    ("share.assignment.interval.ms", "group.share.min.assignment.interval.ms", "group.share.max.assignment.interval.ms"),
    ("streams.heartbeat.interval.ms", "group.streams.min.heartbeat.interval.ms", "group.streams.max.heartbeat.interval.ms"),
    ("streams.session.timeout.ms", "group.streams.min.session.timeout.ms", "group.streams.max.session.timeout.ms"),
    ("streams.num.standby.replicas", None, "group.streams.max.standby.replicas"),
    ("streams.assignment.interval.ms", "group.streams.min.assignment.interval.ms", "group.streams.max.assignment.interval.ms"),
    ("streams.task.offset.interval.ms", "group.streams.min.task.offset.interval.ms", None),
    ("streams.num.warmup.replicas", None, "group.streams.max.warmup.replicas"),
)
_SESSION_HEARTBEAT = tuple((f"{p}.session.timeout.ms", f"{p}.heartbeat.interval.ms") for p in ("consumer", "share", "streams"))


def validate(props: Mapping[str, str], broker_props: Mapping[str, str]) -> None:
    """GroupConfig.validate of a group's whole (merged) config; raises KafkaError."""
    for name in props:
        if name not in GROUP_CONFIGS:
            raise KafkaError(Errors.INVALID_CONFIG, f"Unknown group config name: {name}")
    tags = props.get("streams.rack.aware.assignment.tags")
    if tags is not None:
        items = [] if tags.strip() == "" else re.split(r"\s*,\s*", tags.strip())
        if len(set(items)) != len(items):
            raise KafkaError(Errors.INVALID_CONFIG, "streams.rack.aware.assignment.tags must not contain duplicate tag keys.")
    parsed = {k.name: parse_value(k, props[k.name]) for k in GROUP_CONFIG_KEYS if k.name in props}
    for name, lo_key, hi_key in _BOUNDS:
        if name not in parsed:
            continue
        v = parsed[name]
        lo = _broker_int(broker_props, lo_key) if lo_key else None
        hi = _broker_int(broker_props, hi_key) if hi_key else None
        if lo is not None and hi is not None:
            if not lo <= v <= hi:
                raise KafkaError(Errors.INVALID_CONFIG, f"{name} must be in the range {lo} to {hi} inclusive.")
        elif hi is not None and v > hi:
            raise KafkaError(Errors.INVALID_CONFIG, f"{name} must be less than or equal to {hi}")
        elif lo is not None and v < lo:
            raise KafkaError(Errors.INVALID_CONFIG, f"{name} must be greater than or equal to {lo}")
    if "streams.assignor.name" in parsed:
        names = _streams_assignor_names(broker_props)
        if parsed["streams.assignor.name"] not in names:
            raise KafkaError(Errors.INVALID_CONFIG, f"streams.assignor.name '{parsed['streams.assignor.name']}' is not a "
                             f"registered task assignor. Registered assignors are: [{', '.join(names)}].")
    for session, heartbeat in _SESSION_HEARTBEAT:
        if session in parsed or heartbeat in parsed:
            s = parsed.get(session, _broker_int(broker_props, "group." + session))
            h = parsed.get(heartbeat, _broker_int(broker_props, "group." + heartbeat))
            if s <= h:
                raise KafkaError(Errors.INVALID_CONFIG, f"{session} must be greater than {heartbeat}")
    dlq = parsed.get("errors.deadletterqueue.topic.name")
    if dlq and dlq.startswith("__"):
        raise KafkaError(Errors.INVALID_CONFIG, "errors.deadletterqueue.topic.name: DLQ topic name must not start with '__'")


def effective_int(props: Mapping[str, str], name: str, broker_props: Mapping[str, str], fallback: int) -> int:
    """The value the coordinator uses (GroupConfigManager after GroupConfig.evaluate): the group's
    value clamped to the broker's bounds, else `fallback` (the broker's own setting)."""
    raw = props.get(name)
    if raw is None:
        return fallback
    try:
        value = int(raw.strip())
    except ValueError:  # validated before it was written; a bad record falls back as Kafka's parse would fail
        return fallback
    for bound_name, lo_key, hi_key in _BOUNDS:
        if bound_name == name:
            if lo_key is not None:
                value = max(value, _broker_int(broker_props, lo_key))
            if hi_key is not None:
                value = min(value, _broker_int(broker_props, hi_key))
    return value


def broker_synonym_value(broker_props: Mapping[str, str], key: GroupConfigKey) -> str | None:
    """The value KafkaConfig.extractGroupConfigMap gives the key (its broker synonym's value, in
    the key's type); streams.assignor.name takes the first of group.streams.assignors."""
    if key.broker_synonym is None:
        return key.default
    if key.name == "streams.assignor.name":
        names = _streams_assignor_names(broker_props)
        return names[0] if names else None
    raw = broker_props.get(key.broker_synonym)
    if raw is None:
        return BROKER_GROUP_DEFAULTS.get(key.broker_synonym, key.default)
    try:
        return to_string(parse_value(key, raw), key.type)
    except KafkaError:
        return raw
