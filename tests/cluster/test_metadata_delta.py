import uuid

import pytest

from fastkafka.cluster.metadata.config_resource import ConfigResource, ConfigResourceType
from fastkafka.cluster.metadata.metadata_delta import MetadataDelta, MetadataDeltaError
from fastkafka.cluster.metadata.metadata_image import EMPTY_IMAGE
from fastkafka.cluster.metadata.metadata_loader import CommittedBatch, MetadataLoader
from fastkafka.cluster.metadata.metadata_provenance import MetadataProvenance
from fastkafka.protocol._generated import metadata_records as mr

T1 = uuid.uuid4().bytes


def topic_records(name="t", tid=T1, n=2):
    out = [mr.TopicRecord(name=name, topic_id=tid)]
    for p in range(n):
        out.append(mr.PartitionRecord(partition_id=p, topic_id=tid, replicas=[1], isr=[1], leader=1,
                                      leader_epoch=0, partition_epoch=0))
    return out


def broker_record(bid=1, epoch=10, fenced=True):
    return mr.RegisterBrokerRecord(
        broker_id=bid, incarnation_id=bytes(16), broker_epoch=epoch,
        end_points=[mr.RegisterBrokerRecord.BrokerEndpoint(name="PLAINTEXT", host="h", port=9092, security_protocol=0)],
        features=[mr.RegisterBrokerRecord.BrokerFeature(name="metadata.version", min_supported_version=7,
                                                         max_supported_version=27)],
        rack=None, fenced=fenced)


def apply(image, records, offset):
    d = MetadataDelta(image)
    d.replay_all(records)
    return d, d.apply(MetadataProvenance(offset, 1))


def test_topic_and_partitions():
    d, img = apply(EMPTY_IMAGE, topic_records(), 2)
    t = img.topics.by_name["t"]
    assert img.topics.by_id[T1] is t
    assert sorted(t.partitions) == [0, 1]
    assert t.partitions[0].leader == 1 and t.partitions[0].isr == (1,)
    assert d.created_topic_ids == {T1} and set(d.changed_topics) == {T1}
    assert img.provenance.last_contained_offset == 2
    assert EMPTY_IMAGE.topics.by_name == {}  # the old image is untouched


def test_images_are_read_only():
    _, img = apply(EMPTY_IMAGE, topic_records(), 2)
    with pytest.raises(TypeError):
        img.topics.by_name["x"] = None  # type: ignore[index]
    with pytest.raises(Exception):
        img.provenance = None  # type: ignore[misc]


def test_partition_change_merges_and_bumps_epochs():
    _, img = apply(EMPTY_IMAGE, topic_records(), 2)
    _, img2 = apply(img, [mr.PartitionChangeRecord(partition_id=0, topic_id=T1, isr=[1])], 3)
    p = img2.topics.by_id[T1].partitions[0]
    assert (p.leader, p.leader_epoch, p.partition_epoch) == (1, 0, 1)  # leader unchanged (-2)
    _, img3 = apply(img2, [mr.PartitionChangeRecord(partition_id=0, topic_id=T1, leader=-1)], 4)
    p = img3.topics.by_id[T1].partitions[0]
    assert (p.leader, p.leader_epoch, p.partition_epoch, p.isr) == (-1, 1, 2, (1,))
    assert img3.topics.by_id[T1].partitions[1] is img.topics.by_id[T1].partitions[1]


def test_remove_topic_drops_topic_and_its_configs():
    recs = topic_records() + [mr.ConfigRecord(resource_type=2, resource_name="t", name="retention.ms", value="1")]
    _, img = apply(EMPTY_IMAGE, recs, 3)
    assert img.configs.topic_config("t") == {"retention.ms": "1"}
    d, img2 = apply(img, [mr.RemoveTopicRecord(topic_id=T1)], 4)
    assert img2.topics.by_name == {} and img2.topics.by_id == {}
    assert img2.configs.topic_config("t") == {}
    assert set(d.deleted_topics) == {T1} and d.deleted_topics[T1].name == "t"


def test_create_and_remove_in_one_delta():
    _, img = apply(EMPTY_IMAGE, topic_records() + [mr.RemoveTopicRecord(topic_id=T1)], 3)
    assert img.topics.by_name == {}


def test_recreate_same_name_new_id():
    _, img = apply(EMPTY_IMAGE, topic_records(), 2)
    t2 = uuid.uuid4().bytes
    _, img2 = apply(img, [mr.RemoveTopicRecord(topic_id=T1)] + topic_records(tid=t2, n=1), 5)
    assert img2.topics.by_name["t"].topic_id == t2 and T1 not in img2.topics.by_id


def test_config_set_and_delete():
    res = ConfigResource(ConfigResourceType.BROKER, "")
    _, img = apply(EMPTY_IMAGE, [mr.ConfigRecord(resource_type=4, resource_name="", name="a", value="1"),
                                 mr.ConfigRecord(resource_type=4, resource_name="", name="b", value="2")], 1)
    assert img.configs.config(res) == {"a": "1", "b": "2"}
    _, img2 = apply(img, [mr.ConfigRecord(resource_type=4, resource_name="", name="a", value=None)], 2)
    assert img2.configs.config(res) == {"b": "2"}
    _, img3 = apply(img2, [mr.ConfigRecord(resource_type=4, resource_name="", name="b", value=None)], 3)
    assert res not in img3.configs.data


def test_broker_registration_fencing():
    _, img = apply(EMPTY_IMAGE, [broker_record()], 10)
    b = img.cluster.brokers[1]
    assert b.fenced and b.listeners["PLAINTEXT"].port == 9092 and b.supported_features["metadata.version"] == (7, 27)
    assert img.cluster.unfenced_broker_ids() == []
    _, img2 = apply(img, [mr.UnfenceBrokerRecord(id=1, epoch=10)], 11)
    assert img2.cluster.unfenced_broker_ids() == [1] and img2.cluster.is_alive(1)
    _, img3 = apply(img2, [mr.BrokerRegistrationChangeRecord(broker_id=1, broker_epoch=10, fenced=1)], 12)
    assert img3.cluster.brokers[1].fenced
    with pytest.raises(MetadataDeltaError):
        apply(img3, [mr.UnfenceBrokerRecord(id=1, epoch=9)], 13)  # stale epoch
    _, img4 = apply(img3, [mr.UnregisterBrokerRecord(broker_id=1, broker_epoch=10)], 14)
    assert img4.cluster.brokers == {}


def test_features_and_producer_ids():
    _, img = apply(EMPTY_IMAGE, [mr.FeatureLevelRecord(name="metadata.version", feature_level=27),
                                 mr.FeatureLevelRecord(name="group.version", feature_level=1)], 1)
    assert img.features.metadata_version == 27 and img.features.level("group.version") == 1
    assert img.features.all_levels() == {"metadata.version": 27, "group.version": 1}
    _, img2 = apply(img, [mr.FeatureLevelRecord(name="group.version", feature_level=0),
                          mr.ProducerIdsRecord(broker_id=1, broker_epoch=5, next_producer_id=1000)], 2)
    assert img2.features.finalized_versions == {} and img2.producer_ids.next_producer_id == 1000
    with pytest.raises(MetadataDeltaError):
        apply(img2, [mr.ProducerIdsRecord(broker_id=1, broker_epoch=5, next_producer_id=0)], 3)


def test_errors_on_inconsistent_records():
    with pytest.raises(MetadataDeltaError):
        apply(EMPTY_IMAGE, [mr.PartitionRecord(partition_id=0, topic_id=T1, replicas=[1], isr=[1], leader=1)], 0)
    _, img = apply(EMPTY_IMAGE, topic_records(), 2)
    with pytest.raises(MetadataDeltaError):
        apply(img, [mr.TopicRecord(name="t2", topic_id=T1)], 3)
    with pytest.raises(MetadataDeltaError):
        apply(img, [mr.PartitionChangeRecord(partition_id=7, topic_id=T1, isr=[1])], 3)


def test_loader_publishes_each_batch_and_skips_applied():
    loader = MetadataLoader()
    seen = []
    loader.install_publishers(("test", lambda d, img: seen.append((set(d.changed_topics), img.offset()))))
    loader.handle_commit([CommittedBatch(topic_records(), 2, 1)])
    loader.handle_commit([CommittedBatch(topic_records(), 2, 1)])  # replayed again: ignored
    assert seen == [({T1}, 2)]
    assert loader.image.topics.by_name["t"].topic_id == T1
    late = []
    loader.install_publishers(("late", lambda d, img: late.append(img.offset())))
    assert late == [2]


def test_loader_survives_a_failing_publisher():
    loader = MetadataLoader()
    got = []

    def bad(d, img):
        raise RuntimeError("boom")
    loader.install_publishers(("bad", bad), ("good", lambda d, img: got.append(img.offset())))
    loader.handle_commit([CommittedBatch(topic_records(), 2, 1)])
    assert got == [2]


def test_replay_twice_gives_equal_images():
    recs = [broker_record(), mr.UnfenceBrokerRecord(id=1, epoch=10)] + topic_records() + [
        mr.ConfigRecord(resource_type=2, resource_name="t", name="cleanup.policy", value="compact")]
    _, a = apply(EMPTY_IMAGE, recs, 5)
    _, b = apply(EMPTY_IMAGE, recs, 5)
    assert a == b and a is not b
