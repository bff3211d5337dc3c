"""QuorumController: validates admin operations and writes them as KRaft metadata records
(Kafka's controller.QuorumController with ReplicationControlManager, ConfigurationControlManager,
ClusterControlManager, FeatureControlManager and ProducerIdControlManager folded in).

Every mutation runs under one asyncio lock, reads the current image, validates, and appends all
its records as one atomic batch; `append` returns only once the batch is committed (durable) and
applied to the image, so the next operation sees it and the caller's response reflects it.
"""
from __future__ import annotations

import asyncio
import functools
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from fastkafka.cluster import group_config
from fastkafka.cluster.config_describer import describe_topic
from fastkafka.cluster.dynamic_broker_config import DynamicBrokerConfig
from fastkafka.cluster.controller.partition_change_builder import (
    Election, PartitionReassignmentReplicas, build_partition_change, is_reassignment_in_progress)
from fastkafka.cluster.controller.replica_placer import place
from fastkafka.cluster.metadata.api_message_and_version import ApiMessageAndVersion
from fastkafka.cluster.metadata.broker_registration import Endpoint
from fastkafka.cluster.metadata.config_resource import ConfigResource, ConfigResourceType
from fastkafka.cluster.metadata.metadata_image import MetadataImage
from fastkafka.cluster.metadata.topic_image import sorted_topic_names
from fastkafka.cluster.metadata.metadata_version import (
    FEATURE_NAME, LATEST_PRODUCTION, MINIMUM_VERSION, partition_record_version, register_broker_record_version)
from fastkafka.cluster.topic import METADATA_TOPIC_NAME, topic_name_error
from fastkafka.protocol._generated import metadata_records as mr
from fastkafka.protocol.errors import MESSAGES, Errors, KafkaError
from fastkafka.protocol.messages import (
    AlterConfigsRequest, AlterConfigsResponse, AlterPartitionReassignmentsRequest,
    AlterPartitionReassignmentsResponse, CreatePartitionsRequest, CreatePartitionsResponse,
    CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse,
    ElectLeadersRequest, ElectLeadersResponse, IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse, ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse)
from fastkafka.config import BROKER_CONFIG_DEFS
from fastkafka.fd_budget import FdBudget
from fastkafka.storage.log_config import TOPIC_CONFIG_DEFS, LogConfig

ZERO_UUID = bytes(16)
# Kafka's Uuid.METADATA_TOPIC_ID (0, 1): reserved, never a user topic's id.
METADATA_TOPIC_ID = bytes(15) + b"\x01"
# DirectoryId.UNASSIGNED: the replica's log directory is not yet known to the controller.
UNASSIGNED_DIRECTORY = ZERO_UUID
PRODUCER_ID_BLOCK_SIZE = 1000
# Kafka's QuorumController.MAX_RECORDS_PER_USER_OP: the records one CreateTopics/CreatePartitions
# may write (a BoundedList there); more fails the whole request with POLICY_VIOLATION, checked
# before the records are built so a huge partition count costs nothing.
MAX_RECORDS_PER_USER_OP = 10000
EXCESSIVE_BATCH_MESSAGE = "Unable to perform excessively large batch operation."
# Kafka's ReplicationControlManager.MAX_PARTITIONS_PER_BATCH (validateTotalNumberOfPartitions): a
# CreateTopics asking for more partitions than this, all topics together, fails whole.
MAX_PARTITIONS_PER_BATCH = 10000
# Topics/partition increases at least this big are planned on a thread (see _off_loop_if_big).
BIG_OPERATION_PARTITIONS = 1000
# One slice of a CreateTopics (or ListPartitionReassignments) request's per-topic work on the loop.
_CREATE_SLICE_SECONDS = 0.003
_T = TypeVar("_T")
EXCESSIVE_PARTITIONS_MESSAGE = "Excessively large number of partitions per request."


class _ExcessivelyLargeBatch(Exception):
    """The operation would write more than MAX_RECORDS_PER_USER_OP records."""
LONG_MAX = 2**63 - 1

# IncrementalAlterConfigs operations (Kafka's AlterConfigOp.OpType).
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


class MetadataLogWriter(Protocol):
    """What the controller needs from the Raft layer (RaftClient implements it)."""

    def next_offset(self) -> int:
        """The offset the next appended record will get (the leader's log end offset)."""

    async def append(self, records: Sequence[ApiMessageAndVersion]) -> int:
        """Append atomically as one batch; return the last offset once committed and applied."""


class ImageSource(Protocol):
    @property
    def image(self) -> MetadataImage: ...


def random_topic_id(rng: random.Random | None = None) -> bytes:
    """Kafka's Uuid.randomUuid: never the zero/reserved ids, never a base64 form starting with '-'."""
    while True:
        b = uuid.UUID(int=rng.getrandbits(128)).bytes if rng is not None else uuid.uuid4().bytes
        if b not in (ZERO_UUID, METADATA_TOPIC_ID) and (b[0] >> 2) != 62:  # '-' is base64url index 62
            return b


def _colliding(name: str) -> str:
    """Kafka's Topic.unifyCollisionChars: '.' and '_' collide in metric names."""
    return name.replace(".", "_")


# The latest topics image's names by their unified form (names with '.' or '_' only), built once
# per image: keyed by identity (the image is immutable and kept in the entry).
_collisions: tuple[Any, dict[str, str]] = (None, {})


def _collision_index(topics: Any) -> dict[str, str]:
    global _collisions
    if _collisions[0] is not topics:
        _collisions = (topics, {_colliding(n): n for n in topics.by_name if "." in n or "_" in n})
    return _collisions[1]


class QuorumController:
    """Single owner of metadata writes on this node. Concurrency: event-loop thread; operations
    are serialized by `_lock` (Kafka's single controller event queue)."""

    def __init__(self, writer: MetadataLogWriter, images: ImageSource, *, node_id: int,
                 num_partitions: int = 1, default_replication_factor: int = 1,
                 broker_defaults: Mapping[str, str] | None = None, rng: random.Random | None = None,
                 fd_budget: FdBudget | None = None) -> None:
        self._writer = writer
        # This node's file-descriptor budget: new replicas placed here that would not fit are
        # refused (POLICY_VIOLATION) before any record is written. None: no check (unit tests).
        self._fd_budget = fd_budget
        self._images = images
        self.node_id = node_id
        self.num_partitions = num_partitions
        self.default_replication_factor = default_replication_factor
        self._broker_defaults = dict(broker_defaults or {})
        self._rng = rng or random.Random()
        self._lock = asyncio.Lock()

    @property
    def image(self) -> MetadataImage:
        return self._images.image

    def _mv(self) -> int:
        return self.image.features.metadata_version or LATEST_PRODUCTION

    async def _commit(self, records: list[ApiMessageAndVersion]) -> None:
        if records:
            await self._writer.append(records)

    # -- bootstrap ----------------------------------------------------------------------------
    async def bootstrap(self, records: Sequence[ApiMessageAndVersion] | None = None) -> bool:
        """On a freshly formatted (empty) metadata log, write the bootstrap records (from
        bootstrap.checkpoint, else metadata.version = LATEST_PRODUCTION) as the first batch, as
        Kafka's controller does on first activation. Returns whether anything was written."""
        async with self._lock:
            if self.image.features.metadata_version:
                return False
            if not records:
                records = default_bootstrap_records()
            await self._commit(list(records))
            return True

    # -- topics -------------------------------------------------------------------------------
    async def create_topics(self, request: CreateTopicsRequest, version: int) -> CreateTopicsResponse:
        async with self._lock:
            results: list[Any] = []
            records: list[ApiMessageAndVersion] = []
            counts: dict[str, int] = {}
            for t in request.topics:
                counts[t.name] = counts.get(t.name, 0) + 1
            if self._total_partitions(request) > MAX_PARTITIONS_PER_BATCH:
                return CreateTopicsResponse(throttle_time_ms=0, topics=[
                    self._topic_error(x.name, Errors.POLICY_VIOLATION, EXCESSIVE_PARTITIONS_MESSAGE, version)
                    for x in request.topics])
            image = self.image
            pending_names: set[str] = set()
            planned_here = 0  # new replicas on this node so far (the fd budget)
            planned = 0  # records of the request so far, validate_only included (as Kafka's BoundedList)
            slice_end = time.perf_counter() + _CREATE_SLICE_SECONDS
            for t in request.topics:
                if time.perf_counter() >= slice_end:
                    # 1,000 small topics are ~60 ms of checks and records: the loop serves others
                    # between slices (the lock keeps other controller operations out; `image` is
                    # the one snapshot this request validates against).
                    await asyncio.sleep(0)
                    slice_end = time.perf_counter() + _CREATE_SLICE_SECONDS
                if counts[t.name] > 1:
                    results.append(self._topic_error(t.name, Errors.INVALID_REQUEST, "Duplicate topic name.", version))
                    continue
                try:
                    res, recs = await self._off_loop_if_big(
                        max(t.num_partitions, len(t.assignments or ())), self._create_topic, image, t, version,
                        pending_names, MAX_RECORDS_PER_USER_OP - planned)
                except KafkaError as e:
                    results.append(self._topic_error(t.name, e.code, e.message, version))
                    continue
                except _ExcessivelyLargeBatch:
                    return CreateTopicsResponse(throttle_time_ms=0, topics=[
                        self._topic_error(x.name, Errors.POLICY_VIOLATION, EXCESSIVE_BATCH_MESSAGE, version)
                        for x in request.topics])
                refusal = self._fd_refusal(recs, planned_here)
                if refusal is not None:
                    results.append(self._topic_error(t.name, Errors.POLICY_VIOLATION, refusal, version))
                    continue
                planned_here += self._replicas_here(recs)
                planned += len(recs)
                pending_names.add(t.name)
                results.append(res)
                if not request.validate_only:
                    records.extend(recs)
            await self._commit(records)
            return CreateTopicsResponse(throttle_time_ms=0, topics=results)

    async def _off_loop_if_big(self, partitions: int, fn: Callable[..., _T], *args: Any) -> _T:
        """Building thousands of PartitionRecords (~100 ms for 10,000) runs on a thread, where
        the interpreter's switch interval lets the event loop serve clients meanwhile. Safe: it
        reads immutable images and this controller's state under self._lock, and returns the
        records without writing them."""
        if partitions < BIG_OPERATION_PARTITIONS:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))

    def _total_partitions(self, request: CreateTopicsRequest) -> int:
        """Kafka's validateTotalNumberOfPartitions count: -1 is the default count, non-positive
        counts add nothing (they fail on their own), manual assignments count their entries."""
        total = 0
        for t in request.topics:
            if t.assignments:
                total += len(t.assignments)
            elif t.num_partitions == -1:
                total += self.num_partitions
            elif t.num_partitions > 0:
                total += t.num_partitions
        return total

    def _replicas_here(self, recs: list[ApiMessageAndVersion]) -> int:
        n = 0
        for r in recs:
            if isinstance(r.message, mr.PartitionRecord) and self.node_id in r.message.replicas:
                n += 1
        return n

    def _fd_refusal(self, recs: list[ApiMessageAndVersion], planned_here: int) -> str | None:
        if self._fd_budget is None:
            return None
        n = self._replicas_here(recs)
        return self._fd_budget.refusal(planned_here + n, self.node_id) if n else None

    def _topic_error(self, name: str, code: int, message: str | None, version: int) -> Any:
        return CreateTopicsResponse.CreatableTopicResult(
            name=name, topic_id=ZERO_UUID, error_code=int(code), error_message=message,
            topic_config_error_code=0, num_partitions=-1, replication_factor=-1,
            configs=None if version >= 5 else [])

    def _create_topic(self, image: MetadataImage, t: Any, version: int, pending_names: set[str],
                      room: int = MAX_RECORDS_PER_USER_OP) -> tuple[Any, list[ApiMessageAndVersion]]:
        name = t.name
        if name == METADATA_TOPIC_NAME:
            # Kafka's ControllerApis.createTopics: its partition 0 would be the KRaft log's own
            # directory in the first log dir (a fuzzed CreateTopics made it here).
            raise KafkaError(Errors.INVALID_REQUEST,
                             f"Creation of internal topic {METADATA_TOPIC_NAME} is prohibited.")
        err = topic_name_error(name)
        if err is not None:
            raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION, err)
        if name in image.topics.by_name or name in pending_names:
            raise KafkaError(Errors.TOPIC_ALREADY_EXISTS, f"Topic '{name}' already exists.")
        unified = _colliding(name)
        # A name without '.' or '_' collides only with itself (refused above); else look the
        # unified name up (a scan of every topic per created topic was seconds at 10,000 topics).
        if unified != name or "_" in name:
            other = _collision_index(image.topics).get(unified)
            if other is None:
                other = next((o for o in pending_names if _colliding(o) == unified), None)
            if other is not None:
                raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION,
                                 f"Topic '{name}' collides with existing topic: {other}")
        configs: dict[str, str] = {}
        for c in t.configs or ():
            if c.value is None:
                raise KafkaError(Errors.INVALID_CONFIG, f"Null value not supported for topic configs: {c.name}")
            configs[c.name] = c.value
        LogConfig.validate(self._broker_defaults, configs)  # raises INVALID_CONFIG
        live = image.cluster.unfenced_broker_ids()
        assignments = list(t.assignments or ())
        if assignments:
            if t.num_partitions != -1 or t.replication_factor != -1:
                raise KafkaError(Errors.INVALID_REQUEST,
                                 "A manual partition assignment was specified, but numPartitions or "
                                 "replicationFactor was not set to -1.")
            by_index = {a.partition_index: list(a.broker_ids) for a in assignments}
            if sorted(by_index) != list(range(len(assignments))):
                raise KafkaError(Errors.INVALID_REPLICA_ASSIGNMENT,
                                 "Partitions should be consecutive, starting from 0 (" +
                                 ", ".join(str(a.partition_index) for a in assignments) + ")")
            replica_sets = [by_index[i] for i in range(len(assignments))]
            self._validate_manual(replica_sets, image)
            num_partitions, rf = len(replica_sets), len(replica_sets[0])
        else:
            num_partitions = self.num_partitions if t.num_partitions == -1 else t.num_partitions
            rf = self.default_replication_factor if t.replication_factor == -1 else t.replication_factor
            if num_partitions <= 0:
                raise KafkaError(Errors.INVALID_PARTITIONS,
                                 "Number of partitions was set to an invalid non-positive value.")
            if rf <= 0:
                raise KafkaError(Errors.INVALID_REPLICATION_FACTOR,
                                 "Replication factor must be larger than 0, or -1 to use the default value.")
            if 1 + num_partitions + len(configs) > room:  # TopicRecord, PartitionRecords, ConfigRecords
                raise _ExcessivelyLargeBatch()
            replica_sets = place(live, 0, num_partitions, rf, self._rng)
        topic_id = random_topic_id()
        pv = partition_record_version(self._mv())
        records = [ApiMessageAndVersion(mr.TopicRecord(name=name, topic_id=topic_id), 0)]
        for pid, replicas in enumerate(replica_sets):
            records.append(ApiMessageAndVersion(self._partition_record(topic_id, pid, replicas, live, pv), pv))
        for k, v in configs.items():
            records.append(ApiMessageAndVersion(mr.ConfigRecord(
                resource_type=ConfigResourceType.TOPIC, resource_name=name, name=k, value=v), 0))
        result = CreateTopicsResponse.CreatableTopicResult(
            name=name, topic_id=topic_id, error_code=0, error_message=None, topic_config_error_code=0,
            num_partitions=num_partitions, replication_factor=rf, configs=self._result_configs(configs, version))
        return result, records

    def _result_configs(self, overrides: dict[str, str], version: int) -> list[Any]:
        if version < 5:
            return []
        cls = CreateTopicsResponse.CreatableTopicConfigs
        return [cls(name=e.name, value=e.value, read_only=e.read_only, config_source=e.source,
                    is_sensitive=e.sensitive)
                for e in describe_topic(overrides, self._config_layers(), None)]

    def _config_layers(self) -> DynamicBrokerConfig:
        layers = DynamicBrokerConfig(self.node_id, self._broker_defaults)
        layers.update(self.image.configs)
        return layers

    def _validate_manual(self, replica_sets: list[list[int]], image: MetadataImage) -> None:
        rf = len(replica_sets[0])
        for pid, replicas in enumerate(replica_sets):
            if not replicas:
                raise KafkaError(Errors.INVALID_REPLICA_ASSIGNMENT,
                                 "The manual partition assignment includes an empty replica list.")
            if len(set(replicas)) != len(replicas):
                raise KafkaError(Errors.INVALID_REPLICA_ASSIGNMENT,
                                 f"The manual partition assignment includes the broker "
                                 f"{next(r for r in replicas if replicas.count(r) > 1)} more than once.")
            if len(replicas) != rf:
                raise KafkaError(Errors.INVALID_REPLICA_ASSIGNMENT,
                                 "All partitions in the manual partition assignment must have the same "
                                 "number of replicas.")
            for r in replicas:
                if r not in image.cluster.brokers:
                    raise KafkaError(Errors.INVALID_REPLICA_ASSIGNMENT,
                                     f"The manual partition assignment includes broker {r}, but no such "
                                     f"broker is registered.")

    def _partition_record(self, topic_id: bytes, pid: int, replicas: list[int], live: Sequence[int],
                          version: int) -> Any:
        isr = [r for r in replicas if r in live]
        if not isr:
            # Kafka creates the partition with the full ISR and no leader is available until a
            # replica unfences; leader -1 here makes Metadata answer LEADER_NOT_AVAILABLE.
            isr = list(replicas)
        leader = next((r for r in replicas if r in live), -1)
        kw: dict[str, Any] = dict(partition_id=pid, topic_id=topic_id, replicas=list(replicas), isr=isr,
                                  removing_replicas=[], adding_replicas=[], leader=leader,
                                  leader_recovery_state=0, leader_epoch=0, partition_epoch=0)
        if version >= 1:
            kw["directories"] = [UNASSIGNED_DIRECTORY] * len(replicas)
        return mr.PartitionRecord(**kw)

    async def create_topics_by_name(self, names: Iterable[str]) -> dict[str, int]:
        """Auto-creation (Metadata with auto.create.topics.enable): broker defaults for partitions and
        replication factor; returns name -> error code (TOPIC_ALREADY_EXISTS is a success here)."""
        req = CreateTopicsRequest(
            topics=[CreateTopicsRequest.CreatableTopic(name=n, num_partitions=-1, replication_factor=-1,
                                                        assignments=[], configs=[]) for n in names],
            timeout_ms=0, validate_only=False)
        resp = await self.create_topics(req, 7)
        return {r.name: (0 if r.error_code == Errors.TOPIC_ALREADY_EXISTS else r.error_code) for r in resp.topics}

    async def delete_topics(self, request: DeleteTopicsRequest, version: int) -> DeleteTopicsResponse:
        Result = DeleteTopicsResponse.DeletableTopicResult
        async with self._lock:
            image = self.image
            if version >= 6:
                wanted = [(t.name, bytes(t.topic_id) if t.topic_id is not None else ZERO_UUID) for t in request.topics]
            else:
                wanted = [(n, ZERO_UUID) for n in request.topic_names]
            name_counts: dict[str, int] = {}
            id_counts: dict[bytes, int] = {}
            for name, tid in wanted:
                if name is not None:
                    name_counts[name] = name_counts.get(name, 0) + 1
                if tid != ZERO_UUID:
                    id_counts[tid] = id_counts.get(tid, 0) + 1
            results: list[Any] = []
            records: list[ApiMessageAndVersion] = []
            removed: set[bytes] = set()
            for name, tid in wanted:
                def err(code: int, msg: str | None) -> Any:
                    return Result(name=name, topic_id=tid, error_code=int(code), error_message=msg)
                if name is not None and tid != ZERO_UUID:
                    results.append(err(Errors.INVALID_REQUEST, "Either the topic name or the topic id must be set, not both."))
                    continue
                if (name is not None and name_counts[name] > 1) or (tid != ZERO_UUID and id_counts[tid] > 1):
                    results.append(err(Errors.INVALID_REQUEST, "Duplicate topic name." if name is not None else "Duplicate topic id."))
                    continue
                if name is None:
                    topic = image.topics.by_id.get(tid)
                    if topic is None:
                        results.append(err(Errors.UNKNOWN_TOPIC_ID, "This server does not host this topic ID."))
                        continue
                else:
                    topic = image.topics.by_name.get(name)
                    if topic is None:
                        results.append(err(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                                           "This server does not host this topic-partition."))
                        continue
                if topic.topic_id in removed:  # same topic named by name and by id
                    results.append(err(Errors.INVALID_REQUEST, "Duplicate topic name."))
                    continue
                removed.add(topic.topic_id)
                records.append(ApiMessageAndVersion(mr.RemoveTopicRecord(topic_id=topic.topic_id), 0))
                results.append(Result(name=topic.name, topic_id=topic.topic_id if version >= 6 else ZERO_UUID,
                                      error_code=0, error_message=None))
            await self._commit(records)
            return DeleteTopicsResponse(throttle_time_ms=0, responses=results)

    async def create_partitions(self, request: CreatePartitionsRequest, version: int) -> CreatePartitionsResponse:
        Result = CreatePartitionsResponse.CreatePartitionsTopicResult
        async with self._lock:
            image = self.image
            counts: dict[str, int] = {}
            for t in request.topics:
                counts[t.name] = counts.get(t.name, 0) + 1
            results: list[Any] = []
            records: list[ApiMessageAndVersion] = []
            planned = 0
            planned_here = 0
            for t in request.topics:
                if counts[t.name] > 1:
                    results.append(Result(name=t.name, error_code=Errors.INVALID_REQUEST,
                                          error_message="Duplicate topic name."))
                    continue
                topic = image.topics.by_name.get(t.name)
                if topic is not None and t.count - len(topic.partitions) > MAX_RECORDS_PER_USER_OP - planned:
                    return CreatePartitionsResponse(throttle_time_ms=0, results=[
                        Result(name=x.name, error_code=Errors.POLICY_VIOLATION, error_message=EXCESSIVE_BATCH_MESSAGE)
                        for x in request.topics])
                try:
                    recs = await self._off_loop_if_big(
                        t.count - (len(topic.partitions) if topic is not None else 0), self._create_partitions, image, t)
                except KafkaError as e:
                    results.append(Result(name=t.name, error_code=int(e.code), error_message=e.message))
                    continue
                refusal = self._fd_refusal(recs, planned_here)
                if refusal is not None:
                    results.append(Result(name=t.name, error_code=Errors.POLICY_VIOLATION, error_message=refusal))
                    continue
                planned_here += self._replicas_here(recs)
                planned += len(recs)
                results.append(Result(name=t.name, error_code=0, error_message=None))
                if not request.validate_only:
                    records.extend(recs)
            await self._commit(records)
            return CreatePartitionsResponse(throttle_time_ms=0, results=results)

    def _create_partitions(self, image: MetadataImage, t: Any) -> list[ApiMessageAndVersion]:
        topic = image.topics.by_name.get(t.name)
        if topic is None:
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.")
        current = len(topic.partitions)
        if t.count < current:
            raise KafkaError(Errors.INVALID_PARTITIONS,
                             f"The topic {t.name} currently has {current} partition(s); {t.count} would not be an increase.")
        if t.count == current:
            raise KafkaError(Errors.INVALID_PARTITIONS, f"Topic already has {current} partition(s).")
        additional = t.count - current
        rf = len(topic.partitions[0].replicas) if topic.partitions else self.default_replication_factor
        live = image.cluster.unfenced_broker_ids()
        if t.assignments is not None and len(t.assignments) > 0:
            if len(t.assignments) != additional:
                raise KafkaError(Errors.INVALID_REPLICA_ASSIGNMENT,
                                 f"Attempted to add {additional} additional partition(s), but only "
                                 f"{len(t.assignments)} assignment(s) were specified.")
            replica_sets = [list(a.broker_ids) for a in t.assignments]
            self._validate_manual(replica_sets, image)
            if len(replica_sets[0]) != rf:
                raise KafkaError(Errors.INVALID_REPLICA_ASSIGNMENT,
                                 f"The manual partition assignment includes a partition with {len(replica_sets[0])} "
                                 f"replica(s), but this is not consistent with previous partitions, which have "
                                 f"{rf} replica(s).")
        else:
            replica_sets = place(live, current, additional, rf, self._rng)
        pv = partition_record_version(self._mv())
        return [ApiMessageAndVersion(self._partition_record(topic.topic_id, current + i, r, live, pv), pv)
                for i, r in enumerate(replica_sets)]

    # -- leader election and reassignment ------------------------------------------------------
    # Kafka's ReplicationControlManager.electLeaders / alterPartitionReassignments /
    # listPartitionReassignments. On one node every partition's only replica leads it, so an
    # election is never needed and the only valid target replica set is the current one; the
    # record-building paths below are the general ones, for when there are several brokers.
    def _leader_acceptor(self, image: MetadataImage) -> Any:
        live = set(image.cluster.unfenced_broker_ids())  # not fenced, not in controlled shutdown
        return live.__contains__

    async def elect_leaders(self, request: ElectLeadersRequest, version: int) -> ElectLeadersResponse:
        """Results per requested partition; `topic_partitions` null means every partition, and
        then the ones that need no election are left out (each topic is still listed)."""
        Result, PartResult = ElectLeadersResponse.ReplicaElectionResult, ElectLeadersResponse.PartitionResult
        election_type = request.election_type if version >= 1 else 0
        if election_type not in (0, 1):
            raise KafkaError(Errors.INVALID_REQUEST, f"Unknown election type {election_type}")
        election = Election.PREFERRED if election_type == 0 else Election.UNCLEAN
        if request.topic_partitions is not None and len(request.topic_partitions) == 0:
            return ElectLeadersResponse(throttle_time_ms=0, error_code=0, replica_election_results=[])
        async with self._lock:
            image = self.image
            records: list[ApiMessageAndVersion] = []
            results = []
            if request.topic_partitions is None:
                for name in sorted(image.topics.by_name):
                    parts = []
                    for pid in sorted(image.topics.by_name[name].partitions):
                        code, msg = self._elect_leader(image, name, pid, election, records)
                        if code != Errors.ELECTION_NOT_NEEDED:
                            parts.append(PartResult(partition_id=pid, error_code=code, error_message=msg))
                    results.append(Result(topic=name, partition_result=parts))
            else:
                for t in request.topic_partitions:
                    parts = []
                    for pid in t.partitions:
                        code, msg = self._elect_leader(image, t.topic, pid, election, records)
                        parts.append(PartResult(partition_id=pid, error_code=code, error_message=msg))
                    results.append(Result(topic=t.topic, partition_result=parts))
            await self._commit(records)
            return ElectLeadersResponse(throttle_time_ms=0, error_code=0, replica_election_results=results)

    def _elect_leader(self, image: MetadataImage, topic: str, pid: int, election: Election,
                      records: list[ApiMessageAndVersion]) -> tuple[int, str | None]:
        t = image.topics.by_name.get(topic)
        if t is None:
            return Errors.UNKNOWN_TOPIC_OR_PARTITION, f"No such topic as {topic}"
        part = t.partitions.get(pid)
        if part is None:
            return Errors.UNKNOWN_TOPIC_OR_PARTITION, f"No such partition as {topic}-{pid}"
        if (election is Election.PREFERRED and part.replicas and part.leader == part.replicas[0]) or \
                (election is Election.UNCLEAN and part.has_leader()):
            return Errors.ELECTION_NOT_NEEDED, "Leader election not needed for topic partition."
        pv = partition_record_version(self._mv())
        rec = build_partition_change(part, t.topic_id, is_acceptable_leader=self._leader_acceptor(image),
                                     record_version=pv, election=election)
        if rec is None:
            if election is Election.PREFERRED:
                return Errors.PREFERRED_LEADER_NOT_AVAILABLE, "The preferred leader was not available."
            return Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE, "Eligible topic partition leaders are not available."
        records.append(ApiMessageAndVersion(rec, pv))
        return 0, None

    async def alter_partition_reassignments(self, request: AlterPartitionReassignmentsRequest,
                                            version: int) -> AlterPartitionReassignmentsResponse:
        """Atomic: every accepted partition's PartitionChangeRecord goes in one batch."""
        TopicResp = AlterPartitionReassignmentsResponse.ReassignableTopicResponse
        PartResp = AlterPartitionReassignmentsResponse.ReassignablePartitionResponse
        allow_rf_change = request.allow_replication_factor_change if version >= 1 else True
        if not request.topics:
            return AlterPartitionReassignmentsResponse(
                throttle_time_ms=0, allow_replication_factor_change=allow_rf_change, error_code=0,
                error_message=None, responses=[])
        async with self._lock:
            image = self.image
            records: list[ApiMessageAndVersion] = []
            responses = []
            for t in request.topics:
                parts = []
                for p in t.partitions:
                    try:
                        rec = self._alter_partition_reassignment(image, t.name, p, allow_rf_change)
                    except KafkaError as e:
                        # ApiError.fromThrowable: no message when it is the error's default one.
                        msg = None if e.message == MESSAGES.get(e.error) else e.message
                        parts.append(PartResp(partition_index=p.partition_index, error_code=int(e.code),
                                              error_message=msg))
                        continue
                    if rec is not None:
                        records.append(rec)
                    parts.append(PartResp(partition_index=p.partition_index, error_code=0, error_message=None))
                responses.append(TopicResp(name=t.name, partitions=parts))
            await self._commit(records)
            return AlterPartitionReassignmentsResponse(
                throttle_time_ms=0, allow_replication_factor_change=allow_rf_change, error_code=0,
                error_message=None, responses=responses)

    def _alter_partition_reassignment(self, image: MetadataImage, topic: str, target: Any,
                                      allow_rf_change: bool) -> ApiMessageAndVersion | None:
        t = image.topics.by_name.get(topic)
        if t is None:
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"Unable to find a topic named {topic}.")
        part = t.partitions.get(target.partition_index)
        if part is None:
            raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                             f"Unable to find partition {topic}:{target.partition_index}.")
        pv = partition_record_version(self._mv())
        acceptor = self._leader_acceptor(image)
        if target.replicas is None:
            # cancelPartitionReassignment: back to the replicas before the reassignment.
            if not is_reassignment_in_progress(part):
                raise KafkaError(Errors.NO_REASSIGNMENT_IN_PROGRESS)
            revert_replicas = [r for r in part.replicas if r not in part.adding_replicas]
            revert_isr = [r for r in part.isr if r not in part.adding_replicas]
            unclean_enabled = self._unclean_leader_election_enabled(topic)
            if not revert_isr:
                if not unclean_enabled:
                    raise KafkaError(Errors.INVALID_REPLICA_ASSIGNMENT,
                                     f"Unable to revert partition assignment for {topic}:{target.partition_index} "
                                     "because it would require an unclean leader election.")
                revert_isr = [revert_replicas[0]]
            rec = build_partition_change(
                part, t.topic_id, is_acceptable_leader=acceptor, record_version=pv,
                election=Election.UNCLEAN if unclean_enabled else Election.ONLINE,
                target_replicas=revert_replicas, target_isr=revert_isr, target_removing=[], target_adding=[])
            return None if rec is None else ApiMessageAndVersion(rec, pv)
        replicas = list(target.replicas)
        self._validate_reassignment_target(replicas, image)
        if not allow_rf_change:
            self._validate_replication_factor_unchanged(part, replicas)
        change = PartitionReassignmentReplicas.between(part.replicas, replicas)
        rec = build_partition_change(
            part, t.topic_id, is_acceptable_leader=acceptor, record_version=pv,
            target_replicas=change.replicas if change.replicas != list(part.replicas) else None,
            target_removing=change.removing or None, target_adding=change.adding or None)
        return None if rec is None else ApiMessageAndVersion(rec, pv)

    @staticmethod
    def _validate_reassignment_target(replicas: list[int], image: MetadataImage) -> None:
        """validateManualPartitionAssignment without a replication factor: Kafka walks the ids in
        sorted order, so the first unregistered or repeated id (lowest) is the one named."""
        if not replicas:
            raise KafkaError(Errors.INVALID_REPLICA_ASSIGNMENT,
                             "The manual partition assignment includes an empty replica list.")
        prev = None
        for r in sorted(replicas):
            if r not in image.cluster.brokers:
                raise KafkaError(Errors.INVALID_REPLICA_ASSIGNMENT,
                                 f"The manual partition assignment includes broker {r}, but no such broker is "
                                 "registered.")
            if r == prev:
                raise KafkaError(Errors.INVALID_REPLICA_ASSIGNMENT,
                                 f"The manual partition assignment includes the broker {r} more than once.")
            prev = r

    @staticmethod
    def _validate_replication_factor_unchanged(part: Any, replicas: list[int]) -> None:
        """KIP-860: compared with the replica count the partition is heading for (an ongoing
        reassignment's target), INVALID_REPLICATION_FACTOR when it would change."""
        if is_reassignment_in_progress(part):
            current = len((set(part.replicas) | set(part.adding_replicas)) - set(part.removing_replicas))
        else:
            current = len(part.replicas)
        if current != len(replicas):
            raise KafkaError(Errors.INVALID_REPLICATION_FACTOR,
                             f"The replication factor is changed from {current} to {len(replicas)}")

    def _unclean_leader_election_enabled(self, topic: str) -> bool:
        value = self.image.configs.topic_config(topic).get("unclean.leader.election.enable")
        if value is None:
            value = self._config_layers().effective_props().get("unclean.leader.election.enable", "false")
        return str(value).strip().lower() == "true"

    async def list_partition_reassignments(self, request: ListPartitionReassignmentsRequest,
                                           version: int) -> ListPartitionReassignmentsResponse:
        """Only partitions with a reassignment in progress; unknown topics and partitions are
        left out silently (Kafka's rule), as are topics with none in progress."""
        TopicR = ListPartitionReassignmentsResponse.OngoingTopicReassignment
        PartR = ListPartitionReassignmentsResponse.OngoingPartitionReassignment
        image = self.image  # a read: the latest committed image, no lock needed
        wanted: Iterable[tuple[str, Iterable[int] | None]]
        if request.topics is None:
            wanted = ((name, None) for name in sorted_topic_names(image.topics))
        else:
            wanted = ((t.name, t.partition_indexes) for t in request.topics)
        topics = []
        # kafka-topics --describe asks about every partition: one look per partition, in slices.
        slice_end = time.perf_counter() + _CREATE_SLICE_SECONDS
        for name, pids in wanted:
            if time.perf_counter() >= slice_end:
                await asyncio.sleep(0)  # `image` stays this answer's one snapshot
                slice_end = time.perf_counter() + _CREATE_SLICE_SECONDS
            t = image.topics.by_name.get(name)
            if t is None:
                continue
            parts = []
            for pid in (sorted(t.partitions) if pids is None else pids):
                p = t.partitions.get(pid)
                if p is not None and is_reassignment_in_progress(p):
                    parts.append(PartR(partition_index=pid, replicas=list(p.replicas),
                                       adding_replicas=list(p.adding_replicas),
                                       removing_replicas=list(p.removing_replicas)))
            if parts:
                topics.append(TopicR(name=name, partitions=parts))
        return ListPartitionReassignmentsResponse(throttle_time_ms=0, error_code=0, error_message=None,
                                                  topics=topics)

    # -- configs ------------------------------------------------------------------------------
    # Kafka's ConfigurationControlManager with ControllerConfigurationValidator and the
    # QuorumController's config-resource existence check. The broker's ConfigAdminManager has
    # already refused duplicates, nulls and non-dynamic broker keys; this is the controller's own
    # validation, so a request reaching it directly is checked the same way.
    async def incremental_alter_configs(self, request: IncrementalAlterConfigsRequest,
                                        version: int) -> IncrementalAlterConfigsResponse:
        Resp = IncrementalAlterConfigsResponse.AlterConfigsResourceResponse
        async with self._lock:
            results: list[Any] = []
            records: list[ApiMessageAndVersion] = []
            for res in request.resources:
                try:
                    recs = self._incremental_records(res)
                except KafkaError as e:
                    results.append(Resp(error_code=int(e.code), error_message=e.message,
                                        resource_type=res.resource_type, resource_name=res.resource_name))
                    continue
                results.append(Resp(error_code=0, error_message=None, resource_type=res.resource_type,
                                    resource_name=res.resource_name))
                if not request.validate_only:
                    records.extend(recs)
            await self._commit(records)
            return IncrementalAlterConfigsResponse(throttle_time_ms=0, responses=results)

    def _current_configs(self, rtype: int, rname: str) -> dict[str, str]:
        return dict(self.image.configs.config(ConfigResource(rtype, rname)))

    def _incremental_records(self, res: Any) -> list[ApiMessageAndVersion]:
        rtype, rname = res.resource_type, res.resource_name
        names = [c.name for c in res.configs]
        if len(set(names)) != len(names):
            raise KafkaError(Errors.INVALID_REQUEST, "Error due to duplicate config keys")
        current = self._current_configs(rtype, rname)
        altered: list[tuple[str, str | None]] = []
        for c in res.configs:
            old = current.get(c.name)
            new: str | None = old
            op = c.config_operation
            if op == SET:
                new = c.value
            elif op == DELETE:
                new = None
            elif op in (APPEND, SUBTRACT):
                op_name = "APPEND" if op == APPEND else "SUBTRACT"
                if _config_type(rtype, c.name) != "list":
                    raise KafkaError(Errors.INVALID_CONFIG,
                                     f"Can't {op_name} to key {c.name} because its type is not LIST.")
                parts = [x for x in (new if new is not None else _config_default(rtype, c.name) or "").split(",") if x]
                for v in (c.value or "").split(","):
                    if op == APPEND and v not in parts:
                        parts.append(v)
                    elif op == SUBTRACT and v in parts:
                        parts.remove(v)
                new = ",".join(parts)
            else:
                raise KafkaError(Errors.INVALID_REQUEST, f"Unknown operations type {op}")
            # Broker configs are always rewritten, so brokers re-apply them (Kafka's rule).
            if new != old or rtype == ConfigResourceType.BROKER:
                altered.append((c.name, new))
        merged = dict(current)
        for k, v in altered:
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        self._validate_config_resource(rtype, rname, merged, [])
        return [ApiMessageAndVersion(mr.ConfigRecord(resource_type=rtype, resource_name=rname, name=k, value=v), 0)
                for k, v in altered]

    def _validate_config_resource(self, rtype: int, rname: str, new_configs: Mapping[str, str | None],
                                  null_keys: Sequence[str]) -> None:
        """ControllerConfigurationValidator.validate, then the existence check."""
        if rtype == ConfigResourceType.TOPIC:
            if rname == "":
                raise KafkaError(Errors.INVALID_REQUEST, "Default topic resources are not allowed.")
            err = topic_name_error(rname)
            if err is not None:
                raise KafkaError(Errors.INVALID_TOPIC_EXCEPTION, err)
            if null_keys:
                raise KafkaError(Errors.INVALID_CONFIG, "Null value not supported for topic configs: " + ",".join(null_keys))
            LogConfig.validate(self._broker_defaults, {k: v for k, v in new_configs.items() if v is not None})
            if rname not in self.image.topics.by_name:
                raise KafkaError(Errors.UNKNOWN_TOPIC_OR_PARTITION, f"The topic '{rname}' does not exist.")
        elif rtype == ConfigResourceType.BROKER:
            if rname != "":
                try:
                    broker_id = int(rname)
                except ValueError:
                    raise KafkaError(Errors.INVALID_REQUEST, "Unable to parse broker name as a base 10 number.") from None
                if broker_id < 0:
                    raise KafkaError(Errors.INVALID_REQUEST, "Invalid negative broker ID.")
                if broker_id not in self.image.cluster.brokers and broker_id != self.node_id:
                    raise KafkaError(Errors.BROKER_ID_NOT_REGISTERED, f"No node with id {broker_id} found.")
        elif rtype == ConfigResourceType.GROUP:
            # No existence check: a group's configs may be set before (or long after) the group.
            if rname == "":
                raise KafkaError(Errors.INVALID_REQUEST, "Default group resources are not allowed.")
            if null_keys:
                raise KafkaError(Errors.INVALID_CONFIG, "Null value not supported for group configs: " + ",".join(null_keys))
            group_config.validate({k: v for k, v in new_configs.items() if v is not None}, self._broker_defaults)
        else:
            raise KafkaError(Errors.INVALID_REQUEST, f"Unknown resource type {_resource_type_name(rtype)}")

    async def alter_configs(self, request: AlterConfigsRequest, version: int) -> AlterConfigsResponse:
        """Legacy AlterConfigs: the given keys replace the resource's whole dynamic config."""
        Resp = AlterConfigsResponse.AlterConfigsResourceResponse
        async with self._lock:
            results: list[Any] = []
            records: list[ApiMessageAndVersion] = []
            for res in request.resources:
                try:
                    recs = self._legacy_records(res)
                except KafkaError as e:
                    results.append(Resp(error_code=int(e.code), error_message=e.message,
                                        resource_type=res.resource_type, resource_name=res.resource_name))
                    continue
                results.append(Resp(error_code=0, error_message=None, resource_type=res.resource_type,
                                    resource_name=res.resource_name))
                if not request.validate_only:
                    records.extend(recs)
            await self._commit(records)
            return AlterConfigsResponse(throttle_time_ms=0, responses=results)

    def _legacy_records(self, res: Any) -> list[ApiMessageAndVersion]:
        rtype, rname = res.resource_type, res.resource_name
        current = self._current_configs(rtype, rname)
        new = {c.name: c.value for c in res.configs}
        out: list[tuple[str, str | None]] = [
            (k, v) for k, v in new.items() if current.get(k) != v or rtype == ConfigResourceType.BROKER]
        out += [(k, None) for k in current if k not in new]
        self._validate_config_resource(rtype, rname, {k: v for k, v in new.items() if v is not None},
                                       [k for k, v in new.items() if v is None])
        return [ApiMessageAndVersion(mr.ConfigRecord(resource_type=rtype, resource_name=rname, name=k, value=v), 0)
                for k, v in out]

    # -- features -----------------------------------------------------------------------------
    async def update_features(self, updates: Mapping[str, tuple[int, int]], validate_only: bool) -> str | None:
        """Kafka's FeatureControlManager.updateFeatures: `updates` maps a feature to (level,
        upgrade type: 1 UPGRADE, 2 SAFE_DOWNGRADE, 3 UNSAFE_DOWNGRADE). All or nothing: the first
        invalid update fails the whole request with INVALID_UPDATE_VERSION (KafkaError); else
        one FeatureLevelRecord per changed feature is committed in one batch (not with
        `validate_only`). Returns None on success."""
        from fastkafka.cluster.metadata.features import METADATA_VERSION, SUPPORTED, validate_level

        async with self._lock:
            image = self.image
            current = image.features.all_levels()
            proposed = dict(current)
            records = []
            for name, (level, upgrade_type) in updates.items():
                problem = self._feature_update_problem(name, level, upgrade_type, current.get(name, 0), proposed,
                                                       image, SUPPORTED, validate_level, METADATA_VERSION)
                if problem is not None:
                    raise KafkaError(Errors.INVALID_UPDATE_VERSION, "The update failed for all features since "
                                     f"the following feature had an error: {problem}")
                proposed[name] = level
                if level != current.get(name, 0):
                    records.append(ApiMessageAndVersion(mr.FeatureLevelRecord(name=name, feature_level=level), 0))
            if records and not validate_only:
                await self._commit(records)
            return None

    def _feature_update_problem(self, name: str, level: int, upgrade_type: int, current: int,
                                proposed: Mapping[str, int], image: MetadataImage, supported: Mapping[str, Any],
                                validate_level: Any, metadata_version: str) -> str | None:
        if level < 0:
            return f"Invalid update version {level} for feature {name}. The version must be non-negative."
        if upgrade_type not in (1, 2, 3):
            return f"Invalid upgrade type {upgrade_type} for feature {name}."
        if name == metadata_version:
            lo, hi = MINIMUM_VERSION, LATEST_PRODUCTION
            if not lo <= level <= hi:
                return (f"Invalid update version {level} for feature {name}. Local controller {self.node_id} "
                        f"only supports versions {lo}-{hi}")
            if level < current:
                # Kafka 4.x refuses every metadata.version downgrade (it may lose metadata).
                return (f"Invalid metadata.version {level}. Refusing to perform the requested downgrade because "
                        "it might delete metadata information.")
        else:
            spec = supported.get(name)
            if spec is None and level > 0:
                return (f"Invalid update version {level} for feature {name}. Local controller {self.node_id} "
                        "does not support this feature.")
            if spec is not None and not spec.min_supported <= level <= spec.max_supported:
                return (f"Invalid update version {level} for feature {name}. Local controller {self.node_id} "
                        f"only supports versions {spec.min_supported}-{spec.max_supported}")
            problem = validate_level(name, level, proposed)
            if problem is not None:
                return str(problem)
        for bid in sorted(image.cluster.brokers):
            b = image.cluster.brokers[bid]
            if b.fenced:
                continue
            rng = b.supported_features.get(name)
            if rng is None and level > 0:
                return f"Invalid update version {level} for feature {name}. Broker {bid} does not support this feature."
            if rng is not None and not rng[0] <= level <= rng[1]:
                return (f"Invalid update version {level} for feature {name}. Broker {bid} only supports "
                        f"versions {rng[0]}-{rng[1]}")
        if level < current and upgrade_type == 1:
            return (f"Invalid update version {level} for feature {name}. Can't downgrade the version of this "
                    "feature without setting the upgrade type to either safe or unsafe downgrade.")
        if level > current and upgrade_type != 1:
            return f"Invalid update version {level} for feature {name}. Can't downgrade to a newer version."
        return None

    # -- brokers ------------------------------------------------------------------------------
    async def register_broker(self, broker_id: int, incarnation_id: bytes, listeners: Sequence[Endpoint],
                              supported_features: Mapping[str, tuple[int, int]], rack: str | None,
                              log_dirs: Sequence[bytes] = ()) -> int:
        """Register (or re-register) a broker and unfence it in the same batch; returns the broker
        epoch, which is the offset of its RegisterBrokerRecord (Kafka's rule)."""
        async with self._lock:
            mv = self._mv()
            lo, hi = supported_features.get(FEATURE_NAME, (0, 0))
            if self.image.features.metadata_version and not lo <= mv <= hi:
                raise KafkaError(Errors.UNSUPPORTED_VERSION,
                                 f"Unable to register because the broker does not support finalized version "
                                 f"{mv} of metadata.version. The broker wants a version between {lo} and {hi}, inclusive.")
            epoch = self._writer.next_offset()
            rv = register_broker_record_version(mv)
            kw: dict[str, Any] = dict(
                broker_id=broker_id, incarnation_id=incarnation_id, broker_epoch=epoch,
                end_points=[mr.RegisterBrokerRecord.BrokerEndpoint(name=e.name, host=e.host, port=e.port,
                                                                    security_protocol=e.security_protocol)
                            for e in listeners],
                features=[mr.RegisterBrokerRecord.BrokerFeature(name=n, min_supported_version=a,
                                                                 max_supported_version=b)
                          for n, (a, b) in sorted(supported_features.items())],
                rack=rack, fenced=True, in_controlled_shutdown=False)
            if rv >= 3:
                kw["log_dirs"] = list(log_dirs)
            await self._commit([
                ApiMessageAndVersion(mr.RegisterBrokerRecord(**kw), rv),
                ApiMessageAndVersion(mr.UnfenceBrokerRecord(id=broker_id, epoch=epoch), 0),
            ])
            return epoch

    async def allocate_producer_ids(self, broker_id: int, broker_epoch: int) -> tuple[int, int]:
        """A block of PRODUCER_ID_BLOCK_SIZE ids for a broker: (first id, size)."""
        async with self._lock:
            b = self.image.cluster.brokers.get(broker_id)
            if b is None:
                raise KafkaError(Errors.BROKER_ID_NOT_REGISTERED, f"Broker {broker_id} is not registered.")
            if broker_epoch != -1 and b.epoch != broker_epoch:
                raise KafkaError(Errors.STALE_BROKER_EPOCH,
                                 f"Expected broker epoch {b.epoch}, but got {broker_epoch}")
            first = self.image.producer_ids.next_producer_id
            if first > LONG_MAX - PRODUCER_ID_BLOCK_SIZE:
                raise KafkaError(Errors.UNKNOWN_SERVER_ERROR, "Exhausted all producerIds as the next block's end "
                                 "producerId will overflow.")
            await self._commit([ApiMessageAndVersion(mr.ProducerIdsRecord(
                broker_id=broker_id, broker_epoch=b.epoch, next_producer_id=first + PRODUCER_ID_BLOCK_SIZE), 0)])
            return first, PRODUCER_ID_BLOCK_SIZE


def _config_type(rtype: int, name: str) -> str | None:
    """The type of a key in the controller's config schema (KafkaConfigSchema: topic and broker
    keys only, so no group key can be appended to or subtracted from)."""
    if rtype == ConfigResourceType.GROUP:
        return None
    if rtype == ConfigResourceType.TOPIC:
        td = TOPIC_CONFIG_DEFS.get(name)
        return td.type if td is not None else None
    bd = BROKER_CONFIG_DEFS.get(name)
    return bd.type if bd is not None else None


def _config_default(rtype: int, name: str) -> str | None:
    if rtype == ConfigResourceType.TOPIC:
        td = TOPIC_CONFIG_DEFS.get(name)
        return td.default if td is not None else None
    bd = BROKER_CONFIG_DEFS.get(name)
    return bd.default if bd is not None else None


def _resource_type_name(rtype: int) -> str:
    try:
        return ConfigResourceType(rtype).name
    except ValueError:
        return "UNKNOWN"


def default_bootstrap_records(metadata_version: int = LATEST_PRODUCTION,
                              features: Mapping[str, int] | None = None) -> list[ApiMessageAndVersion]:
    """What `kafka-storage format` puts in bootstrap.checkpoint: metadata.version first, then the
    other finalized features that are not 0 (`features` None: Kafka's defaults at that
    metadata.version, e.g. transaction.version 2 and group.version 1 from 4.0)."""
    from fastkafka.cluster.metadata.features import default_levels

    if features is None:
        features = default_levels(metadata_version)
    out = [ApiMessageAndVersion(mr.FeatureLevelRecord(name=FEATURE_NAME, feature_level=metadata_version), 0)]
    for name, level in sorted(features.items()):
        if level:
            out.append(ApiMessageAndVersion(mr.FeatureLevelRecord(name=name, feature_level=level), 0))
    return out
