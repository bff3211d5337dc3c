"""The `*_authorized_operations` bit sets of Metadata, DescribeCluster, DescribeGroups,
ConsumerGroupDescribe and DescribeTopicPartitions (KIP-430), as Kafka's AuthHelper computes them.

A client that asks (`include_*_authorized_operations`) gets the operations it may perform on the
resource as a 32-bit field with bit `AclOperation.code` set (Utils.to32BitField). fastkafka has no
authorizer, and Kafka without `authorizer.class.name` allows every operation the resource type
supports (AclEntry.supportedOperations). A client that does not ask gets Integer.MIN_VALUE
(AUTHORIZED_OPERATIONS_OMITTED).
"""
from __future__ import annotations

from enum import IntEnum


class AclOperation(IntEnum):
    """Kafka's org.apache.kafka.common.acl.AclOperation codes."""
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12


AUTHORIZED_OPERATIONS_OMITTED = -2147483648

_O = AclOperation
# AclEntry.supportedOperations per resource type.
_SUPPORTED = {
    "topic": (_O.READ, _O.WRITE, _O.CREATE, _O.DESCRIBE, _O.DELETE, _O.ALTER, _O.DESCRIBE_CONFIGS,
              _O.ALTER_CONFIGS),
    "group": (_O.READ, _O.DESCRIBE, _O.DELETE, _O.DESCRIBE_CONFIGS, _O.ALTER_CONFIGS),
    "cluster": (_O.CREATE, _O.CLUSTER_ACTION, _O.DESCRIBE_CONFIGS, _O.ALTER_CONFIGS, _O.IDEMPOTENT_WRITE,
                _O.ALTER, _O.DESCRIBE),
}


def _bit_field(ops: tuple[AclOperation, ...]) -> int:
    value = 0
    for op in ops:
        value |= 1 << int(op)
    return value


TOPIC_OPERATIONS = _bit_field(_SUPPORTED["topic"])
GROUP_OPERATIONS = _bit_field(_SUPPORTED["group"])
CLUSTER_OPERATIONS = _bit_field(_SUPPORTED["cluster"])


def authorized_operations(resource_type: str, requested: bool) -> int:
    """The field for a `resource_type` ("topic", "group", "cluster"); OMITTED unless requested."""
    if not requested:
        return AUTHORIZED_OPERATIONS_OMITTED
    return _bit_field(_SUPPORTED[resource_type])
