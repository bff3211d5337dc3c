"""MetadataRecordSerde: the framing of a metadata record inside a record value
(Kafka's metadata.MetadataRecordSerde / server.common.serialization.AbstractApiMessageSerde).

    unsigned varint  frame version (1; Kafka writes 1 and rejects others)
    unsigned varint  apiKey   (the record type: the "apiKey" of metadata/*.json)
    unsigned varint  version  (the record's schema version)
    record body      the message at that version (flexible: ends with its tagged fields)
"""
from __future__ import annotations

from typing import Any

from fastkafka.cluster.metadata.api_message_and_version import ApiMessageAndVersion

DEFAULT_FRAME_VERSION = 1


class MetadataParseError(ValueError):
    """A record value that is not a well-formed framed metadata record."""


def _record_types() -> dict[int, type]:
    # Imported lazily: the generated codec is a sibling package built by the protocol generator.
    from fastkafka.protocol.records_schema import METADATA_RECORDS
    return METADATA_RECORDS


def serialize(record: Any, version: int) -> bytes:
    from fastkafka._native.wire import Writer
    w = Writer()
    w.uvarint(DEFAULT_FRAME_VERSION)
    w.uvarint(record.API_KEY)
    w.uvarint(version)
    record.encode(w, version)
    return w.getvalue()


def deserialize(value: bytes | bytearray | memoryview) -> ApiMessageAndVersion:
    from fastkafka._native.wire import DecodeError, Reader
    try:
        r = Reader(value)
        frame_version = r.uvarint()
        if frame_version != DEFAULT_FRAME_VERSION:
            raise MetadataParseError(f"Could not deserialize metadata record due to unknown frame version "
                                     f"{frame_version} (Only frame version {DEFAULT_FRAME_VERSION} is supported)")
        api_key = r.uvarint()
        version = r.uvarint()
        cls = _record_types().get(api_key)
        if cls is None:
            raise MetadataParseError(f"Unknown metadata record type {api_key}")
        msg = cls.decode(r, version)  # type: ignore[attr-defined]
        if r.remaining():
            raise MetadataParseError(f"Found {r.remaining()} byte(s) of garbage after {cls.__name__}")
        return ApiMessageAndVersion(msg, version)
    except DecodeError as e:
        raise MetadataParseError(f"Truncated or malformed metadata record: {e}") from e
