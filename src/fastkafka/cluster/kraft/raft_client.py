"""RaftClient: the KRaft quorum for `__cluster_metadata` (Kafka's raft.KafkaRaftClient), one voter.

Start-up: recover the log, replay it into the MetadataLoader (everything on disk is committed:
with one voter an entry is committed once it is fsynced, and nothing else is ever written), then,
as the only voter, become leader of epoch max(quorum-state epoch, last log epoch) + 1: persist
that in `quorum-state` first, then append a LEADER_CHANGE control batch, like Kafka.

Appends: the leader assigns offsets and its epoch, writes the batch, fsyncs (off the event loop),
moves the high watermark to the flushed end and hands the committed batch to the loader before
`append` returns. A batch is the atomic unit: the loader publishes it whole or not at all.

The leader's view of every replica (end offsets, fetch times) is a LeaderState, which computes
the high watermark as Kafka's does (a majority of voters) and answers DescribeQuorum.

Multi-voter quorums (Vote/BeginQuorumEpoch/Fetch between controllers) are not implemented: start
raises for them rather than pretending to be a quorum. Nothing else here assumes one node.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

from fastkafka.cluster.kraft import control_records as cr
from fastkafka.cluster.kraft.batch_codec import BatchCodec, NativeBatchCodec
from fastkafka.cluster.kraft.kafka_metadata_log import KafkaMetadataLog
from fastkafka.cluster.kraft.leader_state import LeaderState, ReplicaState, VoterNode
from fastkafka.cluster.kraft.quorum_state import ElectionState, FileQuorumState
from fastkafka.cluster.metadata.api_message_and_version import ApiMessageAndVersion
from fastkafka.cluster.metadata.metadata_loader import CommittedBatch, MetadataLoader
from fastkafka.protocol.errors import Errors, KafkaError

log = logging.getLogger(__name__)


class RecordSerde(Protocol):
    def serialize(self, record: Any, version: int) -> bytes: ...
    def deserialize(self, value: bytes | bytearray | memoryview) -> ApiMessageAndVersion: ...


class _DefaultSerde:
    def serialize(self, record: Any, version: int) -> bytes:
        from fastkafka.cluster.metadata import metadata_record_serde
        return metadata_record_serde.serialize(record, version)

    def deserialize(self, value: bytes | bytearray | memoryview) -> ApiMessageAndVersion:
        from fastkafka.cluster.metadata import metadata_record_serde
        return metadata_record_serde.deserialize(value)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class QuorumInfo:
    """What DescribeQuorum reports for `__cluster_metadata-0` (KafkaRaftClient.handleDescribeQuorumRequest)."""

    leader_id: int
    leader_epoch: int
    high_watermark: int
    voters: list[ReplicaState]
    observers: list[ReplicaState]


# Appends of at least this many records are encoded and applied to the image off the loop.
BIG_BATCH_RECORDS = 1000


class RaftClient:
    """Owner of the metadata log and quorum-state. Event-loop thread; `append` calls must not
    overlap (the QuorumController serializes them), `_append_lock` enforces it anyway."""

    def __init__(self, node_id: int, voters: Sequence[int], metadata_log_dir: str, loader: MetadataLoader,
                 *, codec: BatchCodec | None = None, serde: RecordSerde | None = None,
                 voter_nodes: Sequence[VoterNode] | None = None) -> None:
        self.node_id = node_id
        # controller.quorum.voters ids; empty with controller.quorum.bootstrap.servers, which for
        # now means this controller is the whole quorum.
        self.voters = tuple(voters) if voters else (node_id,)
        # The voters' directory ids and listeners, where known (DescribeQuorum reports them).
        known = {v.node_id: v for v in voter_nodes or ()}
        self.voter_nodes = tuple(known.get(v, VoterNode(v)) for v in self.voters)
        self.leader_state: LeaderState | None = None
        self.metadata_log_dir = metadata_log_dir
        self.loader = loader
        self.codec: BatchCodec = codec or NativeBatchCodec()
        self.serde: RecordSerde = serde or _DefaultSerde()
        self.log: KafkaMetadataLog | None = None
        self.quorum_state: FileQuorumState | None = None
        self.epoch = -1
        self.leader_id = -1
        self.high_watermark = 0
        self._append_lock = asyncio.Lock()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        if self.voters != (self.node_id,):
            raise KafkaError(Errors.UNSUPPORTED_VERSION,
                             f"Quorum voters {list(self.voters)}: only a single-voter quorum made of this node "
                             f"({self.node_id}) is supported so far")
        self.log = KafkaMetadataLog.open(self.metadata_log_dir, self.codec)
        self.quorum_state = FileQuorumState(self.log.dir_path)
        state = self.quorum_state.read()
        self._replay()
        self.high_watermark = self.log.log_end_offset
        prior = max(state.epoch if state else 0, self.log.last_epoch, 0)
        self._become_leader(prior + 1)

    def _replay(self) -> None:
        assert self.log is not None
        for h, batch in self.log.read_batches():
            if h.is_control:
                self.loader.handle_control_batch(h.last_offset, h.partition_leader_epoch)
                continue
            msgs = [self.serde.deserialize(value).message for _key, value in self.codec.records(batch)
                    if value is not None]
            self.loader.handle_commit([CommittedBatch(msgs, h.last_offset, h.partition_leader_epoch, h.max_timestamp)])

    def _become_leader(self, epoch: int) -> None:
        assert self.log is not None and self.quorum_state is not None
        # quorum-state first: after a crash we must never reuse this epoch.
        self.quorum_state.write(ElectionState(epoch=epoch, leader_id=self.node_id, voted_id=self.node_id,
                                              voters=self.voters))
        self.epoch, self.leader_id = epoch, self.node_id
        base = self.log.log_end_offset
        self.leader_state = LeaderState(self.node_id, epoch, base, self.voter_nodes)
        value = cr.leader_change_value(self.node_id, self.voters, [self.node_id])
        batch = self.codec.build(base, epoch, now_ms(), [(cr.control_key(cr.LEADER_CHANGE), value)], is_control=True)
        self.log.append(batch, base, epoch)
        self._flushed_to(self.log.flush())
        self.loader.handle_control_batch(base, epoch)
        log.info("Node %d is the leader of the metadata quorum in epoch %d (log end offset %d)",
                 self.node_id, epoch, self.log.log_end_offset)

    def _flushed_to(self, end_offset: int) -> None:
        """The leader's log is durable up to `end_offset`: its replica state moves and, with the
        voters' agreement (this node alone today), the high watermark."""
        assert self.leader_state is not None
        self.leader_state.update_local_state(end_offset)
        self.high_watermark = max(self.high_watermark, self.leader_state.high_watermark)

    def set_voter_listeners(self, node_id: int, listeners: Sequence[tuple[str, str, int]]) -> None:
        """A voter's controller endpoints once known (this node's ephemeral ports are bound after
        the quorum starts)."""
        self.voter_nodes = tuple(dataclasses.replace(v, listeners=tuple(listeners)) if v.node_id == node_id else v
                                 for v in self.voter_nodes)
        if self.leader_state is not None and node_id in self.leader_state.voter_states:
            self.leader_state.voter_states[node_id].listeners = tuple(listeners)

    def describe_quorum(self, now: int | None = None) -> QuorumInfo:
        """The leader's view of the quorum; NOT_LEADER_OR_FOLLOWER on any other node."""
        if not self.is_leader() or self.leader_state is None:
            raise KafkaError(Errors.NOT_LEADER_OR_FOLLOWER)
        ls = self.leader_state
        return QuorumInfo(leader_id=self.node_id, leader_epoch=ls.epoch, high_watermark=ls.high_watermark,
                          voters=ls.voters(), observers=ls.observers(now_ms() if now is None else now))

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None

    # -- MetadataLogWriter ----------------------------------------------------------------------
    def is_leader(self) -> bool:
        return self.leader_id == self.node_id and self.log is not None

    def next_offset(self) -> int:
        if self.log is None:
            raise KafkaError(Errors.NOT_CONTROLLER, "The metadata log is not open")
        return self.log.log_end_offset

    async def append(self, records: Sequence[ApiMessageAndVersion]) -> int:
        """Atomically append `records` as one batch; returns its last offset once it is durable
        (committed) and applied to the metadata image. Shielded: once started, an append always
        completes (commit and image update) even if the caller is cancelled, so the log and the
        image never disagree."""
        return await asyncio.shield(self._append(records))

    async def _append(self, records: Sequence[ApiMessageAndVersion]) -> int:
        async with self._append_lock:
            if not self.is_leader():
                raise KafkaError(Errors.NOT_CONTROLLER, "This node is not the active controller")
            assert self.log is not None
            if not records:
                return self.log.log_end_offset - 1
            base = self.log.log_end_offset
            ts = now_ms()
            epoch = self.epoch
            loop = asyncio.get_running_loop()

            def encode() -> Any:
                values = [(None, self.serde.serialize(r.message, r.version)) for r in records]
                return self.codec.build(base, epoch, ts, values)

            # A big operation (10,000 PartitionRecords: ~75 ms of encoding) is encoded on a
            # thread, where the interpreter's switch interval lets the loop run meanwhile; the
            # batch is a pure function of the records, and _append_lock keeps appends in order.
            big = len(records) >= BIG_BATCH_RECORDS
            batch = await loop.run_in_executor(None, encode) if big else encode()
            last = base + len(records) - 1
            self.log.append(batch, last, self.epoch)
            try:
                await asyncio.get_running_loop().run_in_executor(None, self.log.flush)
            except OSError as e:
                # Durability cannot be promised any more; Kafka's controller fails fast here too.
                self.leader_id = -1
                raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Could not fsync the metadata log: {e}") from e
            self._flushed_to(last + 1)
            committed = CommittedBatch([r.message for r in records], last, epoch, ts)
            if big:  # the new image is built off the loop too (from the immutable current one)
                prepared = await loop.run_in_executor(None, self.loader.prepare, committed)
                self.loader.publish_prepared(committed, prepared)
            else:
                self.loader.handle_commit([committed])
            return last
