"""A Fetch that names a replica id is a follower's (issue 14): both targets answer it as Kafka 4.4.

On a single node no other broker is a replica of anything, so a follower fetch from replica 7 is
refused per partition (Kafka's Partition.followerReplicaOrThrow: NOT_LEADER_OR_FOLLOWER, no
records), in the classic (v11) and flexible (v12) layouts of the replica_id field (v15+ moves it
to ReplicaState, read by the same handler line), and a consumer's fetch of the same partition on
the same connection is served. The leader side of a real follower
(reading past the high watermark, diverging epochs, the follower's position moving the high
watermark) is covered in tests/cluster/test_partition_replication.py until several nodes run.
"""
from __future__ import annotations

import socket
import struct
import uuid

import pytest

from fastkafka._native.wire import Reader
from fastkafka.protocol.messages import FetchRequest, FetchResponse

from broker_process import BrokerProcess
from clients import confluent
from interop_data import Rec
from raw_frames import frame, header, read_frame

NOT_LEADER_OR_FOLLOWER = 6


def _fetch(s: socket.socket, topic: str, version: int, replica_id: int, corr: int) -> FetchResponse.PartitionData:
    T, P = FetchRequest.FetchTopic, FetchRequest.FetchPartition
    part = P(partition=0, fetch_offset=0, partition_max_bytes=1 << 20)
    req = FetchRequest(max_wait_ms=0, min_bytes=1, max_bytes=1 << 20, isolation_level=0,
                       session_id=0, session_epoch=-1, topics=[T(topic=topic, partitions=[part])])
    if version >= 15:
        req.replica_state = FetchRequest.ReplicaState(replica_id=replica_id, replica_epoch=-1)
    else:
        req.replica_id = replica_id
    if version >= 13:
        raise AssertionError("topic ids are not used here")
    hdr = header(1, version, corr) + (b"\x00" if version >= 12 else b"")  # flexible header: tagged fields
    s.sendall(frame(hdr + req.to_bytes(version)))
    raw = read_frame(s)
    assert struct.unpack(">i", raw[:4])[0] == corr
    body = raw[5:] if version >= 12 else raw[4:]  # the flexible response header's tagged fields
    resp = FetchResponse.decode(Reader(body), version)
    assert resp.error_code == 0, resp
    return resp.responses[0].partitions[0]


@pytest.mark.parametrize("version", [11, 12])
def test_fetch_from_a_replica_that_is_not_a_follower(broker: BrokerProcess, version: int) -> None:
    topic = f"follower-fetch-{uuid.uuid4().hex[:8]}"
    confluent.create_topic(broker.bootstrap, topic, 1)
    confluent.produce(broker.bootstrap, topic, [Rec(0, b"k", b"v", (), 1_700_000_000_000)])
    with socket.create_connection(("127.0.0.1", broker.port), timeout=30) as s:
        follower = _fetch(s, topic, version, replica_id=7, corr=1)
        print(f"[{broker.target}] v{version} follower fetch from replica 7: error {follower.error_code}, "
              f"high watermark {follower.high_watermark}")
        assert (follower.error_code, follower.high_watermark) == (NOT_LEADER_OR_FOLLOWER, -1)
        assert follower.records is None or len(follower.records) == 0
        consumer = _fetch(s, topic, version, replica_id=-1, corr=2)
        assert consumer.error_code == 0 and consumer.records is not None and len(consumer.records) > 0
