"""Codec behaviour pinned to exact bytes and to Kafka's generated-code rules: tagged fields,
unknown tags, per-field flexibleVersions, ignorable fields, nulls, and malformed input."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastkafka._native.wire import DecodeError, Reader, Writer
from fastkafka.protocol.messages import (ApiVersionsResponse, FetchRequest, MetadataRequest,
                                         ProduceRequest, RequestHeader, ResponseHeader,
                                         TxnOffsetCommitRequest)

from .test_roundtrip import CASES
from .values import build

AV = ApiVersionsResponse


def test_tagged_fields_written_only_when_not_default() -> None:
    resp = AV(api_keys=[AV.ApiVersion(api_key=18, min_version=0, max_version=4)],
              supported_features=[AV.SupportedFeatureKey(name="x", min_version=0, max_version=1)])
    data = resp.to_bytes(3)
    assert data == bytes.fromhex("0000" "02" "0012" "0000" "0004" "00" "00000000"
                                 "01" "00" "08" "02" "0278" "0000" "0001" "00")
    assert AV.from_bytes(data, 3) == resp
    # No tag buffer entries at all when every tagged field has its default.
    assert AV().to_bytes(3) == bytes.fromhex("0000" "01" "00000000" "00")
    # Tags are written in ascending order.
    both = AV(finalized_features_epoch=5, zk_migration_ready=True).to_bytes(3)
    assert both.endswith(bytes.fromhex("02" "01" "08" "0000000000000005" "03" "01" "01"))


def test_non_flexible_versions_have_no_tag_buffer() -> None:
    assert AV(throttle_time_ms=1).to_bytes(1) == bytes.fromhex("0000" "00000000" "00000001")
    assert AV().to_bytes(0) == bytes.fromhex("0000" "00000000")


def test_unknown_tagged_fields_are_kept_and_written_back() -> None:
    data = AV().to_bytes(3)[:-1] + bytes.fromhex("02" "01" "08" "0000000000000009" "07" "02" "abcd")
    back = AV.from_bytes(data, 3)
    assert back.finalized_features_epoch == 9
    assert back._unknown_tagged_fields == {7: b"\xab\xcd"}
    assert back.to_bytes(3) == data


def test_request_header_client_id_is_never_compact() -> None:
    h = RequestHeader(request_api_key=3, request_api_version=12, correlation_id=7, client_id="ab")
    assert h.to_bytes(2) == bytes.fromhex("0003" "000c" "00000007" "0002" "6162" "00")
    assert h.to_bytes(1) == bytes.fromhex("0003" "000c" "00000007" "0002" "6162")
    assert RequestHeader(client_id=None).to_bytes(1)[-2:] == b"\xff\xff"
    assert RequestHeader.from_bytes(h.to_bytes(2), 2) == h
    assert ResponseHeader(correlation_id=7).to_bytes(1) == bytes.fromhex("00000007" "00")
    assert ResponseHeader(correlation_id=7).to_bytes(0) == bytes.fromhex("00000007")


def test_non_ignorable_field_refuses_a_version_without_it() -> None:
    # UnsupportedVersionException in Kafka's generated write().
    with pytest.raises(ValueError, match="GroupInstanceId"):
        TxnOffsetCommitRequest(group_instance_id="i").to_bytes(2)
    TxnOffsetCommitRequest(group_instance_id=None).to_bytes(2)  # default: nothing is lost
    with pytest.raises(ValueError, match="AllowAutoTopicCreation"):
        MetadataRequest(topics=None, allow_auto_topic_creation=False).to_bytes(3)
    # A tagged, non-ignorable field: FetchRequest.ReplicaState exists from v15.
    state = FetchRequest.ReplicaState(replica_id=1, replica_epoch=2)
    with pytest.raises(ValueError, match="ReplicaState"):
        FetchRequest(replica_state=state).to_bytes(14)
    assert FetchRequest.from_bytes(FetchRequest(replica_state=state).to_bytes(15), 15).replica_state == state


def test_ignorable_field_is_dropped_silently() -> None:
    T = TxnOffsetCommitRequest
    req = T(topics=[T.TxnOffsetCommitRequestTopic(name="t", topic_id=bytes(range(16)))])
    back = T.from_bytes(req.to_bytes(5), 5)  # TopicId exists from v6, Name until v5: both ignorable
    assert back.topics[0].name == "t" and back.topics[0].topic_id == bytes(16)


def test_null_where_the_version_forbids_it() -> None:
    with pytest.raises(ValueError):
        ProduceRequest(topic_data=[ProduceRequest.TopicProduceData(name=None)]).to_bytes(9)
    # topic_data array of length 1 whose name is a compact null string
    data = bytes.fromhex("00" "0001" "00000000" "02" "00" "01" "00" "00")
    with pytest.raises(DecodeError, match="Name"):
        ProduceRequest.from_bytes(data, 9)
    # MetadataRequest.Topics is nullable from v1 only.
    assert MetadataRequest.from_bytes(MetadataRequest(topics=None).to_bytes(1), 1).topics is None
    with pytest.raises(ValueError):
        MetadataRequest(topics=None).to_bytes(0)
    with pytest.raises(DecodeError):
        MetadataRequest.from_bytes(b"\xff\xff\xff\xff", 0)


def test_records_decode_as_views_of_the_input() -> None:
    req = ProduceRequest(acks=-1, timeout_ms=1, topic_data=[ProduceRequest.TopicProduceData(
        name="t", partition_data=[ProduceRequest.PartitionProduceData(index=0, records=b"batch")])])
    buf = bytearray(req.to_bytes(9))
    back = ProduceRequest.from_bytes(buf, 9)
    recs = back.topic_data[0].partition_data[0].records
    assert isinstance(recs, memoryview) and bytes(recs) == b"batch"
    assert recs.obj is buf  # a slice of the request buffer, not a copy


def test_encode_appends_to_a_shared_writer() -> None:
    w = Writer()
    ResponseHeader(correlation_id=3).encode(w, 1)
    AV().encode(w, 3)
    r = Reader(w.getvalue())
    assert ResponseHeader.decode(r, 1).correlation_id == 3
    assert AV.decode(r, 3) == AV() and r.remaining() == 0


@settings(max_examples=300, deadline=None)
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**16), pos=st.floats(0, 1), byte=st.integers(0, 255),
       cut=st.floats(0, 1))
def test_corrupted_input_only_ever_raises_decode_error(case: tuple[type, int], seed: int, pos: float, byte: int,
                                                       cut: float) -> None:
    """Decoders see attacker-controlled bytes: the only failure allowed is DecodeError."""
    cls, version = case
    data = bytearray(build(cls, cls, version, random.Random(seed)).to_bytes(version))
    if data:
        data[int(pos * (len(data) - 1))] = byte
    data = data[: len(data) - int(cut * cut * len(data) / 4)]
    try:
        cls.from_bytes(bytes(data), version)
    except DecodeError:
        pass


@settings(max_examples=200, deadline=None)
@given(case=st.sampled_from(CASES), data=st.binary(max_size=64))
def test_random_bytes_only_ever_raise_decode_error(case: tuple[type, int], data: bytes) -> None:
    cls, version = case
    try:
        cls.from_bytes(data, version)
    except DecodeError:
        pass
