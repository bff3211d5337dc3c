"""KafkaMetadataLog: the `__cluster_metadata-0` partition directory (Kafka's raft.KafkaMetadataLog).

On disk in Kafka's log format: `<metadata.log.dir>/__cluster_metadata-0/00000000000000000000.log`
holds RecordBatch v2 batches whose offsets and PartitionLeaderEpoch the Raft leader assigned;
data batches carry framed metadata records (MetadataRecordSerde), control batches carry
LeaderChange records. Alongside: `quorum-state` (FileQuorumState) and, later, snapshots
(`<offset>-<epoch>.checkpoint`).

Today one segment and no offset index: the metadata log is small and is replayed in full at
start-up; Kafka rebuilds missing indexes when it opens such a directory. Segment rolling and
snapshots are the next step (snapshots bound the replay, then old segments are deleted).

Invariants: batches are contiguous in offset; `flushed_offset` (exclusive) <= `log_end_offset`;
after `open` the file ends at a batch boundary (a torn or corrupt tail is truncated away, which
is safe because nothing past the last fsync was ever committed).
Concurrency: single writer, the RaftClient; call only from the event loop (flush may run in an
executor while no append is in flight).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from fastkafka.cluster.kraft.batch_codec import BatchCodec
from fastkafka.cluster.topic import METADATA_TOPIC_NAME
from fastkafka.storage.checkpoint_file import fsync_dir

log = logging.getLogger(__name__)

METADATA_PARTITION_DIR = f"{METADATA_TOPIC_NAME}-0"


class KafkaMetadataLog:
    def __init__(self, dir_path: str, codec: BatchCodec) -> None:
        self.dir_path = dir_path
        self.codec = codec
        self.segment_path = os.path.join(dir_path, f"{0:020d}.log")
        self._fd = -1
        self._size = 0
        self.log_end_offset = 0
        self.last_epoch = -1
        self.flushed_offset = 0
        self.truncated_bytes = 0

    @classmethod
    def open(cls, metadata_log_dir: str, codec: BatchCodec) -> "KafkaMetadataLog":
        """Open (creating if needed) and recover: scan every batch, truncate at the first torn or
        corrupt one, fsync the result."""
        dir_path = os.path.join(metadata_log_dir, METADATA_PARTITION_DIR)
        created = not os.path.isdir(dir_path)
        os.makedirs(dir_path, exist_ok=True)
        if created:
            fsync_dir(metadata_log_dir)
        self = cls(dir_path, codec)
        self._fd = os.open(self.segment_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        data = self._read_all()
        headers, valid_end, err = codec.scan(data)
        expected = 0
        for i, h in enumerate(headers):
            if h.base_offset != expected:  # a gap or overlap is corruption too
                valid_end = h.position
                headers = headers[:i]
                break
            expected = h.last_offset + 1
        if valid_end < len(data):
            self.truncated_bytes = len(data) - valid_end
            log.warning("Truncating %d byte(s) of torn/corrupt data (error %d) at position %d of %s",
                        self.truncated_bytes, err, valid_end, self.segment_path)
            os.ftruncate(self._fd, valid_end)
            os.fsync(self._fd)
        self._size = valid_end
        if headers:
            self.log_end_offset = headers[-1].last_offset + 1
            self.last_epoch = headers[-1].partition_leader_epoch
        self.flushed_offset = self.log_end_offset
        return self

    def _read_all(self) -> bytes:
        size = os.fstat(self._fd).st_size
        return os.pread(self._fd, size, 0) if size else b""

    def read_batches(self) -> Iterator[tuple[Any, bytes]]:
        """(header, batch bytes) for every batch, in offset order."""
        data = self._read_all()[: self._size]
        headers, _, _ = self.codec.scan(data)
        for h in headers:
            yield h, data[h.position: h.position + h.size]

    def append(self, batch: bytes, last_offset: int, epoch: int) -> None:
        """Append one batch whose offsets start at log_end_offset (assigned by the Raft leader)."""
        view = memoryview(batch)
        pos = self._size
        while view:
            n = os.pwrite(self._fd, view, pos)
            view = view[n:]
            pos += n
        self._size = pos
        self.log_end_offset = last_offset + 1
        self.last_epoch = epoch

    def flush(self) -> int:
        """fsync; returns the offset (exclusive) now durable."""
        end = self.log_end_offset
        os.fsync(self._fd)
        self.flushed_offset = end
        return end

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
