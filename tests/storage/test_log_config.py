import pytest

from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.log_config import LONG_MAX, TOPIC_CONFIG_DEFS, LogConfig


def test_defaults_are_kafkas():
    c = LogConfig.from_props({}, {})
    assert c.segment_bytes == 1073741824
    assert c.segment_ms == 604800000
    assert c.segment_index_bytes == 10485760
    assert c.index_interval_bytes == 4096
    assert c.max_message_bytes == 1048588
    assert c.message_timestamp_type == "CreateTime"
    assert c.message_timestamp_before_max_ms == LONG_MAX
    assert c.message_timestamp_after_max_ms == 3600000
    assert c.cleanup_policy == ("delete",)
    assert c.retention_ms == 604800000 and c.retention_bytes == -1
    assert c.flush_messages == LONG_MAX and c.flush_ms == LONG_MAX
    assert c.min_insync_replicas == 1
    assert c.compression_type == "producer"
    assert c.preallocate is False
    assert c.file_delete_delay_ms == 60000
    assert c.unclean_leader_election_enable is False
    assert c == LogConfig()


def test_broker_synonyms_and_units():
    c = LogConfig.from_props({"log.roll.hours": "2", "log.retention.minutes": "3", "log.retention.hours": "5",
                              "message.max.bytes": "2000", "log.segment.bytes": "2097152",
                              "log.index.size.max.bytes": "4096", "log.flush.interval.messages": "10"}, {})
    assert c.segment_ms == 2 * 3600000
    assert c.retention_ms == 3 * 60000  # minutes wins over hours
    assert c.max_message_bytes == 2000
    assert c.segment_bytes == 2097152
    assert c.segment_index_bytes == 4096
    assert c.flush_messages == 10
    c2 = LogConfig.from_props({"log.roll.hours": "2", "log.roll.ms": "1234", "log.retention.ms": "-1"}, {})
    assert c2.segment_ms == 1234
    assert c2.retention_ms == -1


def test_topic_overrides_win():
    c = LogConfig.from_props({"log.segment.bytes": "2097152"},
                             {"segment.bytes": "3145728", "cleanup.policy": "compact,delete",
                              "message.timestamp.type": "LogAppendTime", "min.insync.replicas": "2"})
    assert c.segment_bytes == 3145728
    assert c.compact and c.delete
    assert c.log_append_time
    assert c.min_insync_replicas == 2
    assert c.overridden == frozenset({"segment.bytes", "cleanup.policy", "message.timestamp.type", "min.insync.replicas"})
    assert c.value_of("cleanup.policy") == "compact,delete"
    assert c.value_of("preallocate") == "false"


@pytest.mark.parametrize("overrides", [
    {"segment.bytes": "abc"},
    {"segment.bytes": "1000"},  # below 1 MiB (KIP-1030)
    {"segment.ms": "0"},
    {"cleanup.policy": "remove"},
    {"message.timestamp.type": "Whenever"},
    {"min.insync.replicas": "0"},
    {"preallocate": "yes"},
    {"no.such.config": "1"},
    {"retention.ms": "-2"},
    {"compression.type": "brotli"},
    {"max.message.bytes": "99999999999"},
    {"min.cleanable.dirty.ratio": "1.5"},
])
def test_invalid_values_raise_invalid_config(overrides):
    with pytest.raises(KafkaError) as ei:
        LogConfig.from_props({}, overrides)
    assert ei.value.error == Errors.INVALID_CONFIG


def test_invalid_broker_synonym_raises():
    with pytest.raises(KafkaError) as ei:
        LogConfig.from_props({"log.roll.hours": "0"}, {})
    assert ei.value.code == Errors.INVALID_CONFIG


def test_config_defs_cover_every_field():
    import dataclasses
    fields = {f.name for f in dataclasses.fields(LogConfig)} - {"overridden"}
    assert {k.replace(".", "_") for k in TOPIC_CONFIG_DEFS} == fields
    d = TOPIC_CONFIG_DEFS["segment.ms"]
    assert d.type == "long" and d.default == "604800000"
    assert [s for s, _ in d.synonyms] == ["log.roll.ms", "log.roll.hours"]
    assert [s for s, _ in TOPIC_CONFIG_DEFS["retention.ms"].synonyms] == [
        "log.retention.ms", "log.retention.minutes", "log.retention.hours"]
    assert TOPIC_CONFIG_DEFS["max.message.bytes"].synonyms[0][0] == "message.max.bytes"


@pytest.mark.parametrize("overrides,message", [
    ({"segment.bytes": "abc"}, "Invalid value abc for configuration segment.bytes: Not a number of type INT"),
    ({"segment.bytes": "1000"}, "Invalid value 1000 for configuration segment.bytes: Value must be at least 1048576"),
    ({"min.cleanable.dirty.ratio": "1.5"},
     "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"),
    ({"compression.type": "brotli"},
     "Invalid value brotli for configuration compression.type: String must be one of: "
     "uncompressed, zstd, lz4, snappy, gzip, producer"),
    ({"preallocate": "yes"}, "Invalid value yes for configuration preallocate: Expected value to be either true or false"),
    ({"no.such.config": "1"}, "Unknown topic config name: no.such.config"),
])
def test_invalid_values_carry_kafkas_messages(overrides, message):
    """ConfigException messages as Kafka's ConfigDef validators word them."""
    with pytest.raises(KafkaError) as ei:
        LogConfig.from_props({}, overrides)
    assert ei.value.message == message


def test_broker_value_error():
    from fastkafka.storage.log_config import broker_value_error
    assert broker_value_error("log.retention.ms", "abc") == \
        "Invalid value abc for configuration log.retention.ms: Not a number of type LONG"
    assert broker_value_error("log.segment.bytes", "10") == \
        "Invalid value 10 for configuration log.segment.bytes: Value must be at least 1048576"
    assert broker_value_error("log.cleanup.policy", "compact,nope") == \
        "Invalid value nope for configuration log.cleanup.policy: String must be one of: compact, delete"
    assert broker_value_error("log.cleaner.threads", "-1") == \
        "Invalid value -1 for configuration log.cleaner.threads: Value must be at least 0"
    assert broker_value_error("log.cleaner.io.buffer.load.factor", "0.5") is None
    assert broker_value_error("log.retention.ms", "-1") is None
    assert broker_value_error("some.custom.key", "anything") is None


def test_dynamic_broker_defaults_resolve_through_synonyms():
    c = LogConfig.from_props({"log.retention.hours": "1", "log.segment.bytes": "2097152"}, {"segment.bytes": "1048576"})
    assert c.retention_ms == 3_600_000 and c.segment_bytes == 1048576
    assert c.overridden == frozenset({"segment.bytes"})


def test_validate_checks_across_keys():
    """LogConfig.validate: Kafka's validateValues and the tiered-storage rule (never enabled here)."""
    with pytest.raises(KafkaError) as ei:
        LogConfig.validate({}, {"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"})
    assert (ei.value.code, ei.value.message) == (
        Errors.INVALID_CONFIG, "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)")
    with pytest.raises(KafkaError) as ei:
        LogConfig.validate({}, {"remote.storage.enable": "true"})
    assert ei.value.message == ("Tiered Storage functionality is disabled in the broker. "
                                "Topic cannot be configured with remote log storage.")
    assert LogConfig.validate({}, {"min.compaction.lag.ms": "5"}).min_compaction_lag_ms == 5
