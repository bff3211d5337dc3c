"""kafka-python 3.x infers the broker's version from ApiVersions (its
infer_broker_version_from_api_versions: the newest release whose marker API version the broker
advertises). Against fastkafka it must infer the same as against Apache Kafka 4.4 — the newest
release that kafka-python knows (4.3 for 3.0.12) — so that it uses the newest request versions and
the admin calls that need them. Passes against Apache Kafka 4.4 too (FASTKAFKA_TEST_TARGET=apache).
"""
from __future__ import annotations

import pytest
from kafka import KafkaAdminClient

from broker_process import BrokerProcess

pytestmark = pytest.mark.interop


def test_kafka_python_infers_the_newest_broker_version_it_knows(broker: BrokerProcess) -> None:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, client_id="version-probe")
    try:
        # 4.3 is the newest release kafka-python 3.0.x tells apart (DescribeLogDirs v5); a later
        # kafka-python may know 4.4 (Produce 13 and Fetch 18 are advertised too).
        inferred = admin.get_broker_version_data(1).broker_version
        assert inferred >= (4, 3), inferred
        assert admin.describe_features() is not None
    finally:
        admin.close()
