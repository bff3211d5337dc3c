"""AlterReplicaLogDirs (key 34), v1-2 (Kafka 4.x removed v0): move replicas of this broker to
another of its log dirs, as Kafka's ReplicaManager.alterReplicaLogDirs. The LogManager owns the
move: a future log `<topic>-<partition>.<uuid>-future` is created in the destination, filled
from the current log off the event loop, then swapped in and the old directory deleted (see
storage/replica_move.py). The response does not wait for the copy; DescribeLogDirs shows the
future replica (is_future_key=true, with its offset lag) until the swap.

Per partition (the last destination wins when a partition is named twice): LOG_DIR_NOT_FOUND
when the path is not exactly one of `log.dirs`; KAFKA_STORAGE_ERROR when that dir cannot be used;
UNKNOWN_TOPIC_OR_PARTITION when the partition is not in the metadata, REPLICA_NOT_AVAILABLE when
it is but this broker holds no replica of it; NONE otherwise, including when the replica is
already in (or moving to) that dir. A new destination abandons a move in progress elsewhere.
There is no authorizer, so CLUSTER_AUTHORIZATION_FAILED never happens.
"""
from __future__ import annotations

from typing import Any

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import AlterReplicaLogDirsRequest, AlterReplicaLogDirsResponse
from fastkafka.storage import TopicPartition

_TopicResult = AlterReplicaLogDirsResponse.AlterReplicaLogDirTopicResult
_PartitionResult = AlterReplicaLogDirsResponse.AlterReplicaLogDirPartitionResult


@handler(34, 1, 2)
def handle_alter_replica_log_dirs(broker: BrokerServices, ctx: RequestContext,
                                  req: AlterReplicaLogDirsRequest) -> AlterReplicaLogDirsResponse:
    destinations: dict[TopicPartition, str] = {}
    for d in req.dirs:
        for t in d.topics:
            for p in t.partitions:
                destinations[TopicPartition(t.name, p)] = d.path
    by_topic: dict[str, list[Any]] = {}
    for tp, path in destinations.items():
        by_topic.setdefault(tp.topic, []).append(
            _PartitionResult(partition_index=tp.partition, error_code=_alter(broker, tp, path)))
    return AlterReplicaLogDirsResponse(
        throttle_time_ms=0, results=[_TopicResult(topic_name=name, partitions=parts) for name, parts in by_topic.items()])


def _alter(broker: BrokerServices, tp: TopicPartition, path: str) -> int:
    try:
        broker.log_manager.alter_replica_log_dir(tp, path)
    except KafkaError as e:
        if e.error == Errors.REPLICA_NOT_AVAILABLE and broker.partition_leader(tp.topic, tp.partition) is None:
            # Kafka's getPartitionOrException: unknown to the metadata, not just not hosted here.
            return int(Errors.UNKNOWN_TOPIC_OR_PARTITION)
        return e.code
    return 0
