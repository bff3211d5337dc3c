"""DescribeLogDirs (key 35), v1-5 (Kafka 4.x removed v0): per
log dir of this broker (`log.dirs`, absolute paths), the partitions it holds with their size on
disk, as Kafka's ReplicaManager.describeLogDirs.

Invariants (Kafka's): every configured log dir is listed, even with no partitions; a dir's topics
list only the requested partitions it holds (`topics` null = every partition on the broker), and
a topic with none of them is left out; `partition_size` is the sum of the log's segment sizes;
`offset_lag` is max(high watermark - log end offset, 0) (0 for a leader) and `is_future_key` is
false, except for a replica being moved to another dir by AlterReplicaLogDirs: its future log is
listed under the destination dir with is_future_key=true, the bytes copied so far and, as offset
lag, the current log end offset minus the future log's; v4 adds the volume's total and usable
bytes (statvfs, as Java's FileStore.getTotalSpace/getUsableSpace). A dir that cannot be read answers KAFKA_STORAGE_ERROR.
There is no authorizer, so the top-level error (v3+) is always NONE.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import DescribeLogDirsRequest, DescribeLogDirsResponse
from fastkafka.storage import TopicPartition

log = logging.getLogger(__name__)

_Result = DescribeLogDirsResponse.DescribeLogDirsResult
_Topic = DescribeLogDirsResponse.DescribeLogDirsTopic
_Partition = DescribeLogDirsResponse.DescribeLogDirsPartition
LONG_MAX = 2**63 - 1


def _space(path: str) -> tuple[int, int]:
    st = os.statvfs(path)
    total = st.f_blocks * st.f_frsize
    usable = st.f_bavail * st.f_frsize
    # Kafka caps negative (overflowed) sizes at Long.MAX_VALUE (JDK-8162520).
    return (total if 0 <= total <= LONG_MAX else LONG_MAX, usable if 0 <= usable <= LONG_MAX else LONG_MAX)


@handler(35, 1, 5)
def handle_describe_log_dirs(broker: BrokerServices, ctx: RequestContext, req: DescribeLogDirsRequest) -> DescribeLogDirsResponse:
    lm = broker.log_manager
    wanted: set[TopicPartition] | None = None
    if req.topics is not None:
        wanted = {TopicPartition(t.topic, p) for t in req.topics for p in t.partitions}
    by_dir: dict[str, dict[str, list[Any]]] = {d: {} for d in lm.log_dirs}
    for ulog in lm.all_logs():
        tp = ulog.topic_partition
        d = lm.log_dir_of(tp)
        if d is None or (wanted is not None and tp not in wanted):
            continue
        lag = max(ulog.high_watermark - ulog.log_end_offset, 0)
        by_dir.setdefault(d, {}).setdefault(tp.topic, []).append(
            _Partition(partition_index=tp.partition, partition_size=ulog.size, offset_lag=lag, is_future_key=False))
    # A replica being moved by AlterReplicaLogDirs: its future log in the destination dir, with
    # the bytes copied so far and how far it is behind the current log (Kafka's getLogEndOffsetLag).
    for tp, d, size, lag in lm.future_logs():
        if wanted is None or tp in wanted:
            by_dir.setdefault(d, {}).setdefault(tp.topic, []).append(
                _Partition(partition_index=tp.partition, partition_size=size, offset_lag=lag, is_future_key=True))
    results = []
    for d in sorted(set(lm.log_dirs)):
        try:
            total, usable = _space(d)
        except OSError as e:
            log.warning("Unable to describe replica dirs for %s: %s", d, e)
            results.append(_Result(error_code=Errors.KAFKA_STORAGE_ERROR, log_dir=d, topics=[]))
            continue
        topics = [_Topic(name=name, partitions=sorted(parts, key=lambda p: p.partition_index))
                  for name, parts in sorted(by_dir.get(d, {}).items())]
        results.append(_Result(error_code=0, log_dir=d, topics=topics, total_bytes=total, usable_bytes=usable))
    return DescribeLogDirsResponse(throttle_time_ms=0, error_code=0, results=results)
