"""meta.properties: the identity of a log directory (org.apache.kafka.metadata.properties.MetaProperties).

A Java properties file, written by `kafka-storage format`:
    #
    #<date>
    node.id=1
    directory.id=<Uuid>
    version=1
    cluster.id=<cluster id>
Version 1 is the KRaft format (node.id; version 0 with broker.id was ZooKeeper mode).
"""
from __future__ import annotations

import dataclasses
import os
import time

from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.checkpoint_file import atomic_write

META_PROPERTIES_FILE_NAME = "meta.properties"


@dataclasses.dataclass(frozen=True, slots=True)
class MetaProperties:
    """Invariant: version 1 has node.id and cluster.id; directory.id is a Kafka Uuid string
    (absent in files written before KIP-858)."""

    version: int
    cluster_id: str | None
    node_id: int | None
    directory_id: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def to_properties(self) -> dict[str, str]:
        props = dict(self.extra)
        if self.node_id is not None:
            props["node.id"] = str(self.node_id)
        if self.directory_id is not None:
            props["directory.id"] = self.directory_id
        props["version"] = str(self.version)
        if self.cluster_id is not None:
            props["cluster.id"] = self.cluster_id
        return props


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=").replace(":", "\\:")


def write_meta_properties(dir_path: str, meta: MetaProperties) -> None:
    """Write `<dir>/meta.properties` atomically (Kafka's PropertiesUtils.writePropertiesFile)."""
    stamp = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    lines = ["#", f"#{stamp}"] + [f"{_escape(k)}={_escape(v)}" for k, v in meta.to_properties().items()]
    atomic_write(os.path.join(dir_path, META_PROPERTIES_FILE_NAME), ("\n".join(lines) + "\n").encode())


def parse_properties(text: str) -> dict[str, str]:
    """A subset of java.util.Properties.load: comments (# !), key=value or key:value,
    backslash escapes; enough for files Kafka writes."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        key_chars: list[str] = []
        i = 0
        while i < len(line):
            c = line[i]
            if c == "\\" and i + 1 < len(line):
                key_chars.append({"n": "\n", "t": "\t"}.get(line[i + 1], line[i + 1]))
                i += 2
                continue
            if c in "=:" or c.isspace():
                break
            key_chars.append(c)
            i += 1
        rest = line[i:].lstrip()
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip()
        value = rest.replace("\\=", "=").replace("\\:", ":").replace("\\n", "\n").replace("\\\\", "\\")
        out["".join(key_chars)] = value
    return out


def read_meta_properties(dir_path: str) -> MetaProperties | None:
    """`<dir>/meta.properties`, or None if the directory is not formatted."""
    path = os.path.join(dir_path, META_PROPERTIES_FILE_NAME)
    try:
        with open(path, encoding="utf-8") as f:
            props = parse_properties(f.read())
    except FileNotFoundError:
        return None
    try:
        version = int(props.get("version", "0"))
        node = props.get("node.id", props.get("broker.id"))
        node_id = int(node) if node is not None else None
    except ValueError as e:
        raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Invalid meta.properties in {dir_path}: {e}") from e
    if version == 1 and (node_id is None or "cluster.id" not in props):
        raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"meta.properties version 1 in {dir_path} needs node.id and cluster.id")
    known = {"version", "node.id", "broker.id", "cluster.id", "directory.id"}
    return MetaProperties(version=version, cluster_id=props.get("cluster.id"), node_id=node_id,
                          directory_id=props.get("directory.id"),
                          extra=tuple(sorted((k, v) for k, v in props.items() if k not in known)))
