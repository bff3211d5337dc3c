"""Replica placement for new partitions (a simplification of Kafka's StripedReplicaPlacer)."""
from __future__ import annotations

import random
from collections.abc import Sequence

from fastkafka.protocol.errors import Errors, KafkaError


def place(brokers: Sequence[int], start_partition: int, num_partitions: int, replication_factor: int,
          rng: random.Random) -> list[list[int]]:
    """Assign `replication_factor` distinct brokers to each new partition, striping leaders round
    robin from a random start so leadership spreads evenly (rack awareness: not yet).

    Raises INVALID_REPLICATION_FACTOR when there are fewer usable brokers than replicas, with
    Kafka's message."""
    usable = sorted(brokers)
    if replication_factor > len(usable):
        raise KafkaError(Errors.INVALID_REPLICATION_FACTOR,
                         f"Unable to replicate the partition {replication_factor} time(s): The target "
                         f"replication factor of {replication_factor} cannot be reached because only "
                         f"{len(usable)} broker(s) are registered.")
    n = len(usable)
    first = rng.randrange(n) if n else 0
    out = []
    for p in range(start_partition, start_partition + num_partitions):
        lead = (first + p) % n
        # Kafka's AdminUtils-style replica shift: followers are lead+1+((shift+i) mod (n-1)), so
        # they are distinct and differ from the leader; the shift moves every full round.
        shift = (p // n) % (n - 1) if n > 1 else 0
        replicas = [usable[lead]]
        for i in range(replication_factor - 1):
            replicas.append(usable[(lead + 1 + (shift + i) % (n - 1)) % n])
        out.append(replicas)
    return out
