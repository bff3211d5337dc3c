"""KIP-430 authorized operations through librdkafka's admin API (confluent-kafka): describe_topics,
describe_cluster and describe_consumer_groups with include_authorized_operations. Without an
authorizer Kafka allows every operation the resource type supports (AuthHelper with
AclEntry.supportedOperations); without the flag the field is omitted (None). Passes against Apache
Kafka 4.4 too (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, TopicCollection
from confluent_kafka.admin import AclOperation, AdminClient, NewTopic

from broker_process import BrokerProcess

pytestmark = pytest.mark.interop

TOPIC_OPS = {AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DELETE, AclOperation.ALTER,
             AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS}
CLUSTER_OPS = {AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS,
               AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER, AclOperation.DESCRIBE}
GROUP_OPS = {AclOperation.READ, AclOperation.DELETE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS,
             AclOperation.ALTER_CONFIGS}


def test_authorized_operations_are_every_supported_one_without_an_authorizer(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic("authz-ops", 1, 1)]).values():
        f.result(30)
    topics = admin.describe_topics(TopicCollection(["authz-ops"]), include_authorized_operations=True)
    assert set(topics["authz-ops"].result(30).authorized_operations) == TOPIC_OPS
    plain = admin.describe_topics(TopicCollection(["authz-ops"]))["authz-ops"].result(30)
    assert plain.authorized_operations is None

    cluster = admin.describe_cluster(include_authorized_operations=True).result(30)
    assert set(cluster.authorized_operations) == CLUSTER_OPS
    assert admin.describe_cluster().result(30).authorized_operations is None

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "authz-group", "auto.offset.reset": "earliest"})
    try:
        c.subscribe(["authz-ops"])
        deadline = time.monotonic() + 30
        while not c.assignment() and time.monotonic() < deadline:
            c.poll(0.2)
        group = admin.describe_consumer_groups(["authz-group"], include_authorized_operations=True)
        assert set(group["authz-group"].result(30).authorized_operations) == GROUP_OPS
    finally:
        c.close()
