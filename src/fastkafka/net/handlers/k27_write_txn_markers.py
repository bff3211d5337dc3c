"""WriteTxnMarkers (key 27), v1-2 (Kafka 4.x removed v0; v2 carries the marker's transaction
version, KIP-1228): the transaction coordinator's request to a partition leader to write
COMMIT/ABORT control batches (KafkaApis.handleWriteTxnMarkersRequest).

Each marker becomes one EndTransactionMarker control batch per listed partition, appended through
`ReplicaManager.write_txn_markers` (origin COORDINATOR, acks=all). The response, as Kafka builds it
from a map keyed by producer id, has one entry per producer id (markers of the same producer id
merge) with one error code per partition. No authorizer: Kafka's CLUSTER_ACTION check is moot.
"""
from __future__ import annotations

from typing import Any

from fastkafka.cluster.replication.txn_markers import TxnMarkerEntry
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import WriteTxnMarkersRequest, WriteTxnMarkersResponse

_Marker = WriteTxnMarkersResponse.WritableTxnMarkerResult
_Topic = WriteTxnMarkersResponse.WritableTxnMarkerTopicResult
_Part = WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult


@handler(27, 1, 2)
async def handle_write_txn_markers(broker: BrokerServices, ctx: RequestContext,
                                   req: WriteTxnMarkersRequest) -> WriteTxnMarkersResponse:
    entries = [
        TxnMarkerEntry(producer_id=m.producer_id, producer_epoch=m.producer_epoch,
                       coordinator_epoch=m.coordinator_epoch, committed=m.transaction_result,
                       partitions=tuple((t.name, p) for t in m.topics for p in t.partition_indexes))
        for m in req.markers
    ]
    results = await broker.replica_manager.write_txn_markers(entries) if entries else []
    by_producer: dict[int, dict[tuple[str, int], int]] = {}
    for entry, errors in zip(entries, results):
        by_producer.setdefault(entry.producer_id, {}).update(errors)
    markers = []
    for producer_id, errors in by_producer.items():
        topics: dict[str, list[Any]] = {}
        for (topic, index), code in errors.items():
            topics.setdefault(topic, []).append(_Part(partition_index=index, error_code=code))
        markers.append(_Marker(producer_id=producer_id,
                               topics=[_Topic(name=name, partitions=parts) for name, parts in topics.items()]))
    return WriteTxnMarkersResponse(markers=markers)
