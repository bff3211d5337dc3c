"""protocol.api, protocol.messages and protocol.records_schema: the registries others code against."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fastkafka.protocol import api, messages, records_schema

SPEC = Path(__file__).resolve().parents[3] / "shared" / "kafka-protocol"


def test_names_and_classes_by_api_key() -> None:
    assert api.API_NAMES[0] == "Produce" and api.API_NAMES[1] == "Fetch" and api.API_NAMES[18] == "ApiVersions"
    assert api.API_NAMES[68] == "ConsumerGroupHeartbeat"
    for key, name in api.API_NAMES.items():
        req, resp = api.REQUESTS[key], api.RESPONSES[key]
        assert req.__name__ == f"{name}Request" and resp.__name__ == f"{name}Response"
        assert req.API_KEY == key == resp.API_KEY  # type: ignore[attr-defined]
        assert getattr(messages, req.__name__) is req and getattr(messages, resp.__name__) is resp
    assert set(api.REQUESTS) == set(api.RESPONSES) == set(api.API_NAMES)
    assert 999 not in api.REQUESTS
    with pytest.raises(KeyError):
        api.REQUESTS[999]
    with pytest.raises(AttributeError):
        messages.NoSuchRequest  # noqa: B018


@pytest.mark.parametrize("key,version,request_header,response_header", [
    (0, 8, 1, 0), (0, 9, 2, 1), (0, 11, 2, 1),  # Produce: flexible from 9
    (1, 11, 1, 0), (1, 12, 2, 1),  # Fetch: flexible from 12
    (3, 8, 1, 0), (3, 9, 2, 1),  # Metadata
    (18, 2, 1, 0), (18, 3, 2, 0), (18, 4, 2, 0),  # ApiVersions: response header always v0 (KIP-511)
])
def test_header_versions(key: int, version: int, request_header: int, response_header: int) -> None:
    assert api.request_header_version(key, version) == request_header
    assert api.response_header_version(key, version) == response_header


def test_header_versions_follow_each_request_spec() -> None:
    if not (SPEC / "messages").is_dir():
        pytest.skip(f"spec folder {SPEC} is not beside the checkout")
    for path in sorted((SPEC / "messages").glob("*Request.json")):
        text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("//"))
        spec = json.loads(text)
        if spec["validVersions"] == "none":  # removed APIs (the ZooKeeper-era ones) are not decoded
            continue
        key, flex = spec["apiKey"], spec["flexibleVersions"]
        m = re.fullmatch(r"(\d+)\+", flex)
        lo, hi = (int(x) for x in re.fullmatch(r"(\d+)(?:-(\d+))?", spec["validVersions"]).groups(default="-1"))
        for v in range(lo, max(lo, hi) + 1):
            flexible = m is not None and v >= int(m.group(1))
            expect = 0 if (key, v) == (7, 0) else 2 if flexible else 1
            assert api.request_header_version(key, v) == expect, (spec["name"], v)
            assert api.response_header_version(key, v) == (0 if key == 18 else int(flexible)), (spec["name"], v)


def test_record_tables() -> None:
    meta = records_schema.METADATA_RECORDS
    assert meta[2].__name__ == "TopicRecord" and meta[3].__name__ == "PartitionRecord"
    assert all(cls.API_KEY == k for k, cls in meta.items())  # type: ignore[attr-defined]
    assert "OffsetCommitKey" in records_schema.GROUP_RECORDS
    assert "TransactionLogValue" in records_schema.TXN_RECORDS
    assert "QuorumStateData" in records_schema.RAFT_RECORDS
    assert "ShareSnapshotValue" in records_schema.SHARE_RECORDS
    with pytest.raises(AttributeError):
        records_schema.NOPE  # noqa: B018


def test_coordinator_record_types() -> None:
    group = records_schema.GROUP_RECORD_TYPES
    assert [c.__name__ for c in group[0]] == ["LegacyOffsetCommitKey", "LegacyOffsetCommitValue"]
    assert [c.__name__ for c in group[1]] == ["OffsetCommitKey", "OffsetCommitValue"]
    assert [c.__name__ for c in group[2]] == ["GroupMetadataKey", "GroupMetadataValue"]
    assert group[3][0].__name__ == "ConsumerGroupMetadataKey"
    assert group[16][0].__name__ == "ConsumerGroupRegularExpressionKey"
    assert 9 not in group  # ShareGroupPartitionMetadata: retired in Kafka 4.1
    assert [c.__name__ for c in records_schema.TXN_RECORD_TYPES[0]] == ["TransactionLogKey", "TransactionLogValue"]
    assert records_schema.SHARE_RECORD_TYPES[1][0].__name__ == "ShareUpdateKey"
