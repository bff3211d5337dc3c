"""`fastkafka format`: what `kafka-storage format` does.

Writes `meta.properties` (version 1, cluster.id, node.id, a fresh directory.id) into every log
directory and the metadata log directory, and `bootstrap.checkpoint` (metadata.version and the
other finalized features: cluster/metadata/features.py) into the latter (cluster/kraft/format_storage.py does the writing). A directory that is already formatted is an error
unless `ignore_formatted`; one formatted for another cluster or node is always an error (Kafka
refuses to mix them). The first controller start copies the bootstrap records into the
empty metadata log.
"""
from __future__ import annotations

import base64
import os

from fastkafka.config import KafkaConfig
from fastkafka.protocol.errors import KafkaError
from fastkafka.storage.meta_properties import MetaProperties, read_meta_properties


class StorageFormatError(Exception):
    """A directory cannot be formatted or started as configured (Kafka's FormatterException)."""


def random_uuid() -> str:
    from fastkafka.cluster.kraft.format_storage import random_uuid_string

    return random_uuid_string()


def _dirs(config: KafkaConfig) -> list[str]:
    dirs = list(config.log_dirs)
    if config.metadata_log_dir not in dirs:
        dirs.append(config.metadata_log_dir)
    return dirs


def _read(d: str) -> MetaProperties | None:
    try:
        return read_meta_properties(d)
    except (KafkaError, OSError, ValueError) as e:
        raise StorageFormatError(f"Unable to read {d}/meta.properties: {e}") from e


def is_formatted(config: KafkaConfig) -> bool:
    return all(os.path.isdir(d) and _read(d) is not None for d in _dirs(config))


def format_storage(config: KafkaConfig, cluster_id: str, *, ignore_formatted: bool = False,
                   features: list[str] | None = None) -> None:
    """`features`: `kafka-storage format --feature name=level` values, over Kafka's defaults at the
    formatted metadata.version (transaction.version=2, group.version=1)."""
    from fastkafka.cluster.kraft.format_storage import format_storage as kraft_format
    from fastkafka.cluster.metadata.features import parse_feature_args
    from fastkafka.cluster.metadata.metadata_version import LATEST_PRODUCTION

    try:
        levels = parse_feature_args(features or [], LATEST_PRODUCTION)
    except ValueError as e:
        raise StorageFormatError(str(e)) from e

    try:
        raw = base64.urlsafe_b64decode(cluster_id + "=" * (-len(cluster_id) % 4))
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != 16:
        raise StorageFormatError(f"Cluster ID string {cluster_id} does not appear to be a valid UUID: "
                                 "Input string with prefix must be 22 characters (base64 of 16 bytes)")
    for d in _dirs(config):
        existing = _read(d) if os.path.isdir(d) else None
        if existing is not None and existing.node_id != config.node_id:
            raise StorageFormatError(
                f"Log directory {d} is already formatted for node {existing.node_id}; refusing to "
                f"reformat it for node {config.node_id}")
    try:
        kraft_format(config.log_dirs, cluster_id, config.node_id, metadata_log_dir=config.metadata_log_dir,
                     features=levels, ignore_formatted=ignore_formatted)
    except KafkaError as e:
        raise StorageFormatError(e.message) from e


def check_formatted(config: KafkaConfig) -> str:
    """The cluster id all directories agree on; StorageFormatError (with Kafka's hint) otherwise."""
    cluster_ids = set()
    for d in _dirs(config):
        meta = _read(d) if os.path.isdir(d) else None
        if meta is None:
            raise StorageFormatError(f"No meta.properties found in {d} (have you run `fastkafka format` "
                                     "to format the directory?)")
        if meta.node_id != config.node_id:
            raise StorageFormatError(f"Stored node id {meta.node_id} in {d} doesn't match the configured "
                                     f"node.id {config.node_id}")
        cluster_ids.add(meta.cluster_id)
    if len(cluster_ids) != 1:
        raise StorageFormatError(f"Log directories belong to different clusters: {sorted(map(str, cluster_ids))}")
    return str(cluster_ids.pop())


def storage_info(config: KafkaConfig) -> str:
    lines = []
    for d in _dirs(config):
        meta = _read(d) if os.path.isdir(d) else None
        lines.append(f"{d}: " + ("not formatted" if meta is None else
                                 f"cluster.id={meta.cluster_id} node.id={meta.node_id} directory.id={meta.directory_id}"))
    return "\n".join(lines)
