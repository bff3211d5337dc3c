"""`fastkafka format`: what `kafka-storage format` writes (Kafka's tools.StorageTool /
metadata.storage.Formatter).

Every log dir (and the metadata log dir) gets `meta.properties` (version=1, node.id, cluster.id,
a fresh directory.id). The metadata log dir also gets `bootstrap.checkpoint`: a snapshot-format
file (SnapshotHeader control batch, one batch of bootstrap records, SnapshotFooter control
batch) holding FeatureLevelRecord(metadata.version) and any other finalized features. The
controller writes those records as the first batch of an empty metadata log.
"""
from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import Mapping, Sequence

from fastkafka.cluster.kraft import control_records as cr
from fastkafka.cluster.kraft.batch_codec import BatchCodec, NativeBatchCodec
from fastkafka.cluster.kraft.raft_client import RecordSerde, _DefaultSerde
from fastkafka.cluster.metadata.api_message_and_version import ApiMessageAndVersion
from fastkafka.cluster.metadata.metadata_version import LATEST_PRODUCTION
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.checkpoint_file import atomic_write
from fastkafka.storage.meta_properties import MetaProperties, read_meta_properties, write_meta_properties

BOOTSTRAP_CHECKPOINT = "bootstrap.checkpoint"


def random_uuid_string() -> str:
    """Kafka's Uuid.randomUuid().toString(): 22 chars of url-safe base64, never starting with '-'."""
    while True:
        s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not s.startswith("-"):
            return s


def format_storage(log_dirs: Sequence[str], cluster_id: str, node_id: int, *,
                   metadata_log_dir: str | None = None, metadata_version: int = LATEST_PRODUCTION,
                   features: Mapping[str, int] | None = None, ignore_formatted: bool = False,
                   codec: BatchCodec | None = None, serde: RecordSerde | None = None) -> list[str]:
    """Format the directories; returns those newly formatted. A directory that is already
    formatted is an error unless `ignore_formatted` (then it is left alone, as Kafka's
    --ignore-formatted does); a different cluster id is always an error."""
    from fastkafka.cluster.controller.quorum_controller import default_bootstrap_records
    mdir = metadata_log_dir or log_dirs[0]
    dirs = list(dict.fromkeys([*log_dirs, mdir]))
    pending = []
    for d in dirs:
        meta = read_meta_properties(d) if os.path.isdir(d) else None
        if meta is not None:
            if meta.cluster_id != cluster_id:
                raise KafkaError(Errors.INCONSISTENT_CLUSTER_ID,
                                 f"{d} is formatted for cluster {meta.cluster_id}, not {cluster_id}")
            if not ignore_formatted:
                raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Log directory {d} is already formatted. "
                                 "Use --ignore-formatted to ignore this directory and format the others.")
            continue
        pending.append(d)
    for d in pending:
        os.makedirs(d, exist_ok=True)
        if d == mdir:
            records = default_bootstrap_records(metadata_version, features)
            write_bootstrap_checkpoint(d, records, codec=codec, serde=serde)
        write_meta_properties(d, MetaProperties(version=1, cluster_id=cluster_id, node_id=node_id,
                                                directory_id=random_uuid_string()))
    return pending


def write_bootstrap_checkpoint(dir_path: str, records: Sequence[ApiMessageAndVersion], *,
                               codec: BatchCodec | None = None, serde: RecordSerde | None = None) -> None:
    codec = codec or NativeBatchCodec()
    serde = serde or _DefaultSerde()
    ts = time.time_ns() // 1_000_000
    header = codec.build(0, 0, ts, [(cr.control_key(cr.SNAPSHOT_HEADER), cr.snapshot_header_value(ts))], True)
    body = codec.build(1, 0, ts, [(None, serde.serialize(r.message, r.version)) for r in records])
    footer = codec.build(1 + len(records), 0, ts, [(cr.control_key(cr.SNAPSHOT_FOOTER), cr.snapshot_footer_value())], True)
    atomic_write(os.path.join(dir_path, BOOTSTRAP_CHECKPOINT), header + body + footer)


def read_bootstrap_checkpoint(dir_path: str, *, codec: BatchCodec | None = None,
                              serde: RecordSerde | None = None) -> list[ApiMessageAndVersion] | None:
    """The bootstrap records, or None if there is no bootstrap.checkpoint."""
    codec = codec or NativeBatchCodec()
    serde = serde or _DefaultSerde()
    path = os.path.join(dir_path, BOOTSTRAP_CHECKPOINT)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    headers, end, err = codec.scan(data)
    if err or end != len(data):
        raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Corrupt {path} (error {err} at byte {end})")
    out = []
    for h in headers:
        if h.is_control:
            continue
        for _key, value in codec.records(data[h.position: h.position + h.size]):
            if value is not None:
                out.append(serde.deserialize(value))
    return out
