"""ListOffsets (key 2), v1-11. Special timestamps: -1 latest (high watermark, or last stable
offset for read_committed), -2 earliest, -3 max timestamp (v7+), -4 earliest local (v8+),
-5 latest tiered (v9+), -6 earliest pending upload (v11+, KIP-1023). A search by timestamp never
returns an offset at or beyond what the isolation level may read.

There is no tiered storage, so -5 and -6 answer as Kafka's UnifiedLog does when remote storage
is disabled: timestamp -1, offset -1, leader epoch -1 (after the leader and epoch checks). As in
Kafka the broker does not gate a special timestamp by version (the client picks a version that
has it).

Deliberate gaps: v0 (removed in Kafka 4.0).
"""
from __future__ import annotations

import asyncio
from typing import Any

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.encoded_response import OFF_LOOP_PARTITIONS, EncodedBody, encode_off_loop
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import KafkaError
from fastkafka.protocol.messages import ListOffsetsRequest, ListOffsetsResponse
from fastkafka.storage import TopicPartition

_Topic = ListOffsetsResponse.ListOffsetsTopicResponse
_Part = ListOffsetsResponse.ListOffsetsPartitionResponse

LATEST, EARLIEST = -1, -2
EARLIEST_PENDING_UPLOAD = -6  # KIP-1023


# Partitions looked up per loop callback: a ListOffsets of a 10,000-partition topic (a consumer's
# first poll of it) is answered in slices, the loop serving others between them. A lookup costs
# ~90 us on the 2-core CI machine (leader check, epoch cache, index search): 256 held the loop
# ~23 ms per slice, 64 holds it ~6 ms.
LOOKUP_SLICE = 64


@handler(2, 1, 11)
async def handle_list_offsets(broker: BrokerServices, ctx: RequestContext, req: ListOffsetsRequest) -> ListOffsetsResponse | EncodedBody:
    rm = broker.replica_manager
    isolation = req.isolation_level if ctx.api_version >= 2 else 0
    topics = []
    count = 0
    for t in req.topics:
        parts = []
        for p in t.partitions:
            count += 1
            if count % LOOKUP_SLICE == 0:
                await asyncio.sleep(0)
            out = _Part(partition_index=p.partition_index, error_code=0, timestamp=-1, offset=-1, leader_epoch=-1)
            try:
                part = rm.leader_partition(TopicPartition(t.name, p.partition_index))
                part.check_leader_epoch(p.current_leader_epoch)
                plog = part.log
                if req.replica_id >= 0:
                    fetchable = plog.log_end_offset
                elif isolation == 1:
                    fetchable = plog.last_stable_offset
                else:
                    fetchable = plog.high_watermark
                if p.timestamp == EARLIEST_PENDING_UPLOAD:
                    pass  # fetchEarliestPendingUploadOffset without remote storage: (-1, -1, -1)
                elif p.timestamp == LATEST:
                    out.offset = fetchable
                    out.leader_epoch = part.leader_epoch  # Kafka's Partition.fetchOffsetForTimestamp
                else:
                    found = plog.fetch_offset_by_timestamp(p.timestamp)
                    if found is not None and (found[1] < fetchable or p.timestamp == EARLIEST):
                        out.timestamp, out.offset, out.leader_epoch = found
            except KafkaError as e:
                out.error_code = e.code
            parts.append(out)
        topics.append(_Topic(name=t.name, partitions=parts))
    resp = ListOffsetsResponse(throttle_time_ms=0, topics=topics)
    if count > OFF_LOOP_PARTITIONS:
        return await encode_off_loop(rm.run_off_loop, lambda: resp, ctx.api_version)
    return resp
