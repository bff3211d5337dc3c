"""ListOffsets (key 2) v11's EARLIEST_PENDING_UPLOAD timestamp (-6, KIP-1023) over a stand-in
partition, without a network: with no tiered storage it answers timestamp -1, offset -1, leader
epoch -1, as Kafka's UnifiedLog.fetchEarliestPendingUploadOffset with remote storage disabled,
after the leader epoch check (a fenced epoch still wins). Encoded and decoded at v11. A request of
thousands of partitions is answered in slices and encoded on a worker (issue 13): same answer."""
from __future__ import annotations

import asyncio
import concurrent.futures
from types import SimpleNamespace
from typing import Any

from fastkafka._native.wire import Writer
from fastkafka.net.encoded_response import OFF_LOOP_PARTITIONS, EncodedBody
from fastkafka.net.handlers.k02_list_offsets import handle_list_offsets
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import ListOffsetsRequest, ListOffsetsResponse


def _broker() -> Any:
    def fetch_offset_by_timestamp(ts: int) -> tuple[int, int, int] | None:
        if ts == -2:
            return (-1, 5, 0)
        raise KafkaError(Errors.INVALID_REQUEST, f"Invalid timestamp {ts}")  # as the log for other negatives

    def check_leader_epoch(epoch: int) -> None:
        if epoch > 3:
            raise KafkaError(Errors.UNKNOWN_LEADER_EPOCH)

    log = SimpleNamespace(log_end_offset=20, last_stable_offset=10, high_watermark=15,
                          fetch_offset_by_timestamp=fetch_offset_by_timestamp)
    part = SimpleNamespace(log=log, leader_epoch=3, check_leader_epoch=check_leader_epoch)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    return SimpleNamespace(replica_manager=SimpleNamespace(
        leader_partition=lambda tp: part,
        run_off_loop=lambda fn: asyncio.get_running_loop().run_in_executor(pool, fn)))


def _list(v: int, timestamps: list[tuple[int, int]]) -> list[Any]:
    ctx = RequestContext(api_key=2, api_version=v, correlation_id=1, client_id="cli", listener_name="PLAINTEXT",
                         security_protocol="PLAINTEXT", client_address="10.0.0.7:5555", connection_id="c")
    req = ListOffsetsRequest(replica_id=-1, isolation_level=0, topics=[ListOffsetsRequest.ListOffsetsTopic(
        name="t", partitions=[ListOffsetsRequest.ListOffsetsPartition(
            partition_index=i, current_leader_epoch=epoch, timestamp=ts) for i, (ts, epoch) in enumerate(timestamps)])])
    answer = asyncio.run(handle_list_offsets(_broker(), ctx, req))
    assert isinstance(answer, EncodedBody) == (len(timestamps) > OFF_LOOP_PARTITIONS)
    w = Writer()
    answer.encode(w, v)
    resp = ListOffsetsResponse.from_bytes(w.getvalue(), v)
    return [(p.error_code, p.timestamp, p.offset, p.leader_epoch) for p in resp.topics[0].partitions]


def test_earliest_pending_upload_without_tiered_storage() -> None:
    assert _list(11, [(-6, -1), (-6, 3), (-6, 9), (-2, -1), (-1, -1)]) == [
        (0, -1, -1, -1), (0, -1, -1, -1), (Errors.UNKNOWN_LEADER_EPOCH, -1, -1, -1), (0, -1, 5, 0), (0, -1, 15, 3)]


def test_thousands_of_partitions_encoded_off_the_loop_answer_the_same() -> None:
    n = OFF_LOOP_PARTITIONS * 4 + 3
    assert _list(11, [(-1, -1)] * n) == [(0, -1, 15, 3)] * n
    assert _list(11, [(-2, -1), (-6, 9)] * (n // 2)) == [(0, -1, 5, 0), (Errors.UNKNOWN_LEADER_EPOCH, -1, -1, -1)] * (n // 2)
