"""Collection and tagged-section bounds of the protocol Reader: Kafka 4.4's MessageUtil limits
(MAX_ARRAY_LENGTH 1,000,000, MAX_TAGGED_FIELD_COUNT 10,000) and the bytes left, checked before
anything is allocated, with Kafka's messages."""
from __future__ import annotations

import pytest

from fastkafka._native.wire import DecodeError, Reader
from fastkafka.protocol.messages import MetadataRequest


def test_array_over_one_million_elements_is_refused_even_with_the_bytes_there() -> None:
    n = 1_000_001
    r = Reader(n.to_bytes(4, "big") + bytes(n))
    with pytest.raises(DecodeError, match="exceeds the maximum allowed size of 1000000"):
        r.array_length()
    assert Reader((1_000_000).to_bytes(4, "big") + bytes(1_000_000)).array_length() == 1_000_000


def test_compact_array_longer_than_the_input_is_refused() -> None:
    with pytest.raises(DecodeError, match="but there are only 2 bytes remaining"):
        Reader(bytes([101, 0, 0])).compact_array_length()  # 100 elements, 2 bytes


def test_tagged_field_count_bounds() -> None:
    many = bytes([0x91, 0x4E])  # uvarint 10001
    with pytest.raises(DecodeError, match="exceeds the maximum allowed count of 10000"):
        Reader(many + bytes(30_000)).tagged_field_count()
    with pytest.raises(DecodeError, match="tagged fields, but there are only 1 bytes remaining"):
        Reader(bytes([5, 0])).tagged_field_count()
    with pytest.raises(DecodeError, match="Invalid negative number of tagged fields"):
        Reader(bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])).tagged_field_count()


def test_a_request_with_a_huge_tagged_section_is_refused_by_the_generated_decoder() -> None:
    # MetadataRequest v9 (flexible): topics = null (compact 0), allow_auto_topic_creation,
    # include_cluster/topic_authorized_operations, then a tagged section claiming 20,000 fields.
    body = bytes([0, 1, 0, 0]) + bytes([0xA0, 0x9C, 0x01]) + bytes(40_000)
    with pytest.raises(DecodeError, match="maximum allowed count of 10000"):
        MetadataRequest.from_bytes(body, 9)
