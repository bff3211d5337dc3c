import asyncio
import random

import pytest

from fastkafka.cluster.metadata.broker_registration import Endpoint
from fastkafka.cluster.metadata.metadata_loader import MetadataLoader
from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.protocol.messages import (
    AlterConfigsRequest, CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest,
    IncrementalAlterConfigsRequest)

from fake_raft import InMemoryRaft

CT = CreateTopicsRequest.CreatableTopic


def run(coro):
    return asyncio.run(coro)


def qc():
    # imported here, not at collection: it imports storage, which needs the native modules (conftest)
    from fastkafka.cluster.controller import quorum_controller
    return quorum_controller


async def make(brokers=(1,), features=None, **kw):
    from fastkafka.cluster.metadata.features import supported_ranges
    QuorumController = qc().QuorumController
    loader = MetadataLoader()
    raft = InMemoryRaft(loader)
    c = QuorumController(raft, loader, node_id=1, rng=random.Random(7), **kw)
    await c.bootstrap()
    for b in brokers:
        await c.register_broker(b, bytes([b]) * 16, [Endpoint("PLAINTEXT", "localhost", 9000 + b, 0)],
                                supported_ranges() if features is None else features, None)
    return c, raft


def topic(name, n=-1, rf=-1, assignments=(), configs=()):
    return CT(name=name, num_partitions=n, replication_factor=rf,
              assignments=[CreateTopicsRequest.CreatableReplicaAssignment(partition_index=i, broker_ids=b)
                           for i, b in assignments],
              configs=[CreateTopicsRequest.CreatableTopicConfig(name=k, value=v) for k, v in configs])


def create(c, *topics, validate_only=False, version=7):
    return c.create_topics(CreateTopicsRequest(topics=list(topics), timeout_ms=1000, validate_only=validate_only), version)


def codes(resp):
    return {t.name: t.error_code for t in resp.topics}


def test_bootstrap_and_registration():
    async def main():
        c, raft = await make()
        img = c.image
        assert img.features.metadata_version == 27
        # Kafka's defaults at 4.1-IV1: transaction.version 2, group.version 1
        assert img.features.all_levels() == {"metadata.version": 27, "transaction.version": 2, "group.version": 1}
        assert img.cluster.unfenced_broker_ids() == [1]
        assert img.cluster.brokers[1].epoch == 3  # offset of its RegisterBrokerRecord, after 3 feature records
        assert not await c.bootstrap()  # only once
    run(main())


def test_update_features_as_kafka_feature_control_manager():
    """UpdateFeatures: upgrade/downgrade rules, all or nothing, validate_only writes nothing."""
    async def main():
        c, raft = await make()
        levels = lambda: c.image.features.all_levels()  # noqa: E731
        await c.update_features({"transaction.version": (1, 2)}, validate_only=False)  # safe downgrade
        assert levels()["transaction.version"] == 1
        await c.update_features({"transaction.version": (0, 3)}, validate_only=False)
        assert "transaction.version" not in levels()  # level 0: off, not stored
        await c.update_features({"transaction.version": (2, 1)}, validate_only=True)
        assert "transaction.version" not in levels()
        await c.update_features({"transaction.version": (2, 1)}, validate_only=False)
        assert levels()["transaction.version"] == 2
        cases = [
            ({"transaction.version": (3, 1)}, "Local controller 1 only supports versions 0-2"),
            ({"transaction.version": (1, 1)}, "without setting the upgrade type"),
            ({"share.version": (1, 1)}, "does not support this feature"),
            ({"metadata.version": (28, 1)}, "only supports versions 7-27"),
            ({"metadata.version": (26, 3)}, "Refusing to perform the requested downgrade"),
            ({"group.version": (1, 1), "kraft.version": (1, 1)}, "only supports versions 0-0"),
            # all or nothing: the valid group.version downgrade is not applied either
            ({"group.version": (0, 2), "transaction.version": (9, 1)}, "only supports versions 0-2"),
        ]
        for updates, message in cases:
            try:
                await c.update_features(updates, validate_only=False)
            except KafkaError as e:
                assert e.code == Errors.INVALID_UPDATE_VERSION and message in e.message, (updates, e.message)
                assert e.message.startswith("The update failed for all features since the following feature had")
            else:
                raise AssertionError(f"{updates} accepted")
        assert levels() == {"metadata.version": 27, "transaction.version": 2, "group.version": 1}
        # A registered broker that does not support a level refuses it for the cluster.
        c2, _ = await make(features={"metadata.version": (7, 27), "transaction.version": (0, 1)})
        try:
            await c2.update_features({"transaction.version": (2, 1)}, validate_only=False)
        except KafkaError as e:
            assert "Broker 1 only supports versions 0-1" in e.message
        else:
            raise AssertionError("accepted")
    run(main())


def test_create_topic_defaults_and_response():
    async def main():
        c, raft = await make(num_partitions=3)
        resp = await create(c, topic("a"))
        r = resp.topics[0]
        assert r.error_code == 0 and r.num_partitions == 3 and r.replication_factor == 1
        t = c.image.topics.by_name["a"]
        assert t.topic_id == r.topic_id and len(r.topic_id) == 16 and r.topic_id != bytes(16)
        assert [p.leader for p in t.partitions.values()] == [1, 1, 1]
        assert {e.name: e.value for e in r.configs}["cleanup.policy"] == "delete"
        assert len(raft.batches[-1]) == 4  # TopicRecord + 3 PartitionRecords, one atomic batch
    run(main())


def test_create_topic_errors():
    async def main():
        c, raft = await make()
        await create(c, topic("exists"))
        before = raft.leo
        resp = await create(
            c, topic("exists"), topic("bad name"), topic("a" * 250), topic(".."), topic("zero", n=0),
            topic("neg", n=-2), topic("rf0", rf=0), topic("rf2", rf=2), topic("dup"), topic("dup"),
            topic("badcfg", configs=[("retention.ms", "abc")]), topic("unknowncfg", configs=[("nope", "1")]),
            topic("ex.ists"), topic("ok"))
        assert codes(resp) == {
            "exists": Errors.TOPIC_ALREADY_EXISTS, "bad name": Errors.INVALID_TOPIC_EXCEPTION,
            "a" * 250: Errors.INVALID_TOPIC_EXCEPTION, "..": Errors.INVALID_TOPIC_EXCEPTION,
            "zero": Errors.INVALID_PARTITIONS, "neg": Errors.INVALID_PARTITIONS,
            "rf0": Errors.INVALID_REPLICATION_FACTOR, "rf2": Errors.INVALID_REPLICATION_FACTOR,
            "dup": Errors.INVALID_REQUEST, "badcfg": Errors.INVALID_CONFIG, "unknowncfg": Errors.INVALID_CONFIG,
            "ex.ists": 0, "ok": 0}
        assert set(c.image.topics.by_name) == {"exists", "ex.ists", "ok"}
        assert raft.leo > before
        resp = await create(c, topic("ex_ists"))
        assert codes(resp) == {"ex_ists": Errors.INVALID_TOPIC_EXCEPTION}  # collides with ex.ists
        err = [t for t in resp.topics][0]
        assert "collides" in err.error_message and err.num_partitions == -1
    run(main())


def test_validate_only_writes_nothing():
    async def main():
        c, raft = await make()
        before = raft.leo
        resp = await create(c, topic("v", n=2), validate_only=True)
        assert codes(resp) == {"v": 0} and resp.topics[0].num_partitions == 2
        assert raft.leo == before and "v" not in c.image.topics.by_name
    run(main())


def test_manual_assignment():
    async def main():
        c, _ = await make(brokers=(1, 2, 3))
        resp = await create(c, topic("m", assignments=[(0, [3, 1]), (1, [2, 3])]),
                            topic("both", n=2, assignments=[(0, [1])]),
                            topic("gap", assignments=[(0, [1]), (2, [1])]),
                            topic("dupb", assignments=[(0, [1, 1])]),
                            topic("unknownb", assignments=[(0, [9])]),
                            topic("uneven", assignments=[(0, [1]), (1, [1, 2])]))
        assert codes(resp) == {"m": 0, "both": Errors.INVALID_REQUEST, "gap": Errors.INVALID_REPLICA_ASSIGNMENT,
                               "dupb": Errors.INVALID_REPLICA_ASSIGNMENT, "unknownb": Errors.INVALID_REPLICA_ASSIGNMENT,
                               "uneven": Errors.INVALID_REPLICA_ASSIGNMENT}
        parts = c.image.topics.by_name["m"].partitions
        assert parts[0].replicas == (3, 1) and parts[0].leader == 3 and parts[1].leader == 2
        resp = await create(c, topic("rf3", n=6, rf=3))
        ps = c.image.topics.by_name["rf3"].partitions.values()
        assert all(sorted(p.replicas) == [1, 2, 3] for p in ps)
        assert {p.leader for p in ps} == {1, 2, 3}  # leaders striped
    run(main())


def test_delete_topics_by_name_and_id():
    async def main():
        c, _ = await make()
        r = await create(c, topic("a"), topic("b"), topic("c"))
        ids = {t.name: t.topic_id for t in r.topics}
        D = DeleteTopicsRequest.DeleteTopicState
        resp = await c.delete_topics(DeleteTopicsRequest(topics=[D(name="a", topic_id=bytes(16)),
                                                                 D(name=None, topic_id=ids["b"]),
                                                                 D(name="zz", topic_id=bytes(16)),
                                                                 D(name=None, topic_id=b"\x05" * 16)],
                                                         timeout_ms=0), 6)
        got = {(x.name, x.error_code) for x in resp.responses}
        assert got == {("a", 0), ("b", 0), ("zz", Errors.UNKNOWN_TOPIC_OR_PARTITION), (None, Errors.UNKNOWN_TOPIC_ID)}
        assert set(c.image.topics.by_name) == {"c"}
        resp = await c.delete_topics(DeleteTopicsRequest(topic_names=["c", "c"], timeout_ms=0), 5)
        assert [x.error_code for x in resp.responses] == [Errors.INVALID_REQUEST] * 2
        resp = await c.delete_topics(DeleteTopicsRequest(topic_names=["c"], timeout_ms=0), 5)
        assert [x.error_code for x in resp.responses] == [0] and c.image.topics.by_name == {}
    run(main())


def test_create_partitions():
    async def main():
        c, _ = await make(brokers=(1, 2))
        await create(c, topic("p", n=2, rf=2))
        P = CreatePartitionsRequest.CreatePartitionsTopic
        A = CreatePartitionsRequest.CreatePartitionsAssignment
        resp = await c.create_partitions(CreatePartitionsRequest(topics=[
            P(name="p", count=4, assignments=None), P(name="nope", count=3, assignments=None)],
            timeout_ms=0, validate_only=False), 3)
        assert {(r.name, r.error_code) for r in resp.results} == {("p", 0), ("nope", Errors.UNKNOWN_TOPIC_OR_PARTITION)}
        parts = c.image.topics.by_name["p"].partitions
        assert sorted(parts) == [0, 1, 2, 3] and all(len(p.replicas) == 2 for p in parts.values())
        resp = await c.create_partitions(CreatePartitionsRequest(topics=[
            P(name="p", count=4, assignments=None)], timeout_ms=0, validate_only=False), 3)
        assert resp.results[0].error_code == Errors.INVALID_PARTITIONS
        resp = await c.create_partitions(CreatePartitionsRequest(topics=[
            P(name="p", count=2, assignments=None)], timeout_ms=0, validate_only=False), 3)
        assert resp.results[0].error_code == Errors.INVALID_PARTITIONS
        resp = await c.create_partitions(CreatePartitionsRequest(topics=[
            P(name="p", count=6, assignments=[A(broker_ids=[1, 2])])], timeout_ms=0, validate_only=False), 3)
        assert resp.results[0].error_code == Errors.INVALID_REPLICA_ASSIGNMENT
        resp = await c.create_partitions(CreatePartitionsRequest(topics=[
            P(name="p", count=5, assignments=[A(broker_ids=[2, 1])])], timeout_ms=0, validate_only=True), 3)
        assert resp.results[0].error_code == 0 and len(c.image.topics.by_name["p"].partitions) == 4
    run(main())


def test_incremental_alter_configs():
    async def main():
        c, _ = await make()
        await create(c, topic("t"))
        R = IncrementalAlterConfigsRequest.AlterConfigsResource
        C = IncrementalAlterConfigsRequest.AlterableConfig

        async def alter(*configs, name="t", rtype=2):
            resp = await c.incremental_alter_configs(IncrementalAlterConfigsRequest(
                resources=[R(resource_type=rtype, resource_name=name,
                             configs=[C(name=k, config_operation=op, value=v) for k, op, v in configs])],
                validate_only=False), 1)
            return resp.responses[0].error_code
        assert await alter(("retention.ms", 0, "1000")) == 0
        assert c.image.configs.topic_config("t") == {"retention.ms": "1000"}
        assert await alter(("cleanup.policy", 2, "compact")) == 0
        assert c.image.configs.topic_config("t")["cleanup.policy"] == "delete,compact"
        assert await alter(("cleanup.policy", 3, "delete")) == 0
        assert c.image.configs.topic_config("t")["cleanup.policy"] == "compact"
        assert await alter(("retention.ms", 1, None)) == 0
        assert c.image.configs.topic_config("t") == {"cleanup.policy": "compact"}
        assert await alter(("retention.ms", 0, "x")) == Errors.INVALID_CONFIG
        assert await alter(("retention.ms", 2, "1")) == Errors.INVALID_CONFIG
        assert await alter(("retention.ms", 0, "1"), name="nope") == Errors.UNKNOWN_TOPIC_OR_PARTITION
        assert await alter(("a", 0, "1"), ("a", 0, "2")) == Errors.INVALID_REQUEST
        assert await alter(("log.retention.ms", 0, "5"), name="", rtype=4) == 0
        assert dict(c.image.configs.config((4, ""))) == {"log.retention.ms": "5"}
    run(main())


def test_alter_configs_replaces_all():
    async def main():
        c, _ = await make()
        await create(c, topic("t", configs=[("retention.ms", "1000"), ("segment.ms", "100000")]))
        R = AlterConfigsRequest.AlterConfigsResource
        C = AlterConfigsRequest.AlterableConfig
        resp = await c.alter_configs(AlterConfigsRequest(resources=[R(
            resource_type=2, resource_name="t", configs=[C(name="retention.ms", value="2000")])],
            validate_only=False), 2)
        assert resp.responses[0].error_code == 0
        assert c.image.configs.topic_config("t") == {"retention.ms": "2000"}
    run(main())


def test_producer_id_blocks():
    async def main():
        c, _ = await make()
        epoch = c.image.cluster.brokers[1].epoch
        assert await c.allocate_producer_ids(1, epoch) == (0, qc().PRODUCER_ID_BLOCK_SIZE)
        assert await c.allocate_producer_ids(1, epoch) == (1000, qc().PRODUCER_ID_BLOCK_SIZE)
        assert c.image.producer_ids.next_producer_id == 2000
        with pytest.raises(KafkaError) as e:
            await c.allocate_producer_ids(1, epoch + 99)
        assert e.value.code == Errors.STALE_BROKER_EPOCH
        with pytest.raises(KafkaError) as e:
            await c.allocate_producer_ids(5, -1)
        assert e.value.code == Errors.BROKER_ID_NOT_REGISTERED
    run(main())


def test_auto_create_and_concurrent_ops_are_serialized():
    async def main():
        c, _ = await make()
        results = await asyncio.gather(*[c.create_topics_by_name(["x", f"y{i}"]) for i in range(5)])
        assert all(r["x"] == 0 for r in results)
        assert set(c.image.topics.by_name) == {"x", "y0", "y1", "y2", "y3", "y4"}
    run(main())


def test_register_rejects_unsupported_metadata_version():
    async def main():
        c, _ = await make()
        with pytest.raises(KafkaError) as e:
            await c.register_broker(2, b"\x02" * 16, [], {"metadata.version": (7, 20)}, None)
        assert e.value.code == Errors.UNSUPPORTED_VERSION
    run(main())


def test_bootstrap_records():
    recs = qc().default_bootstrap_records(27, {"group.version": 1, "x": 0})
    assert [(r.message.name, r.message.feature_level) for r in recs] == [("metadata.version", 27), ("group.version", 1)]


def test_one_operation_writes_at_most_ten_thousand_records():
    """Kafka's MAX_RECORDS_PER_USER_OP: a CreateTopics or CreatePartitions whose records would pass
    10,000 fails whole with POLICY_VIOLATION, validate_only too, before building the records (a
    2^31-1 partition request costs nothing)."""
    async def main():
        c, _ = await make()
        # 10,000 + 1 partitions: Kafka's MAX_PARTITIONS_PER_BATCH first; 10,000 partitions in one
        # topic pass it but make 10,001 records.
        for n, small, validate_only, msg in (
                (9_999, 2, False, "Excessively large number of partitions per request."),
                (2**31 - 1, 1, True, "Excessively large number of partitions per request."),
                (10_000, 0, False, "Unable to perform excessively large batch operation.")):
            topics = [topic("huge", n=n)] + ([topic("small", n=small)] if small else [])
            resp = await create(c, *topics, validate_only=validate_only)
            assert {(t.name, t.error_code, t.error_message) for t in resp.topics} == {
                (t.name, Errors.POLICY_VIOLATION, msg) for t in topics}
        assert c.image.topics.by_name == {}
        resp = await create(c, topic("big", n=9_999))  # TopicRecord + 9,999 PartitionRecords
        assert resp.topics[0].error_code == 0
        P = CreatePartitionsRequest.CreatePartitionsTopic
        resp = await c.create_partitions(CreatePartitionsRequest(topics=[P(name="big", count=20_000, assignments=None)],
                                                                 timeout_ms=0, validate_only=False), 3)
        assert resp.results[0].error_code == Errors.POLICY_VIOLATION
        resp = await c.create_partitions(CreatePartitionsRequest(topics=[P(name="big", count=19_999, assignments=None)],
                                                                 timeout_ms=0, validate_only=False), 3)
        assert resp.results[0].error_code == 0 and len(c.image.topics.by_name["big"].partitions) == 19_999
    run(main())
