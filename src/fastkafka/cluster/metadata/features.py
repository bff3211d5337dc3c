"""The feature flags this node supports (Kafka's org.apache.kafka.server.common.Feature).

A feature is a cluster-wide level finalized in the KRaft log by a FeatureLevelRecord: written at
format time (the bootstrap checkpoint) and changed later by UpdateFeatures (`kafka-features
upgrade/downgrade`). Each node reports the range it supports (ApiVersions' SupportedFeatures,
BrokerRegistration); the controller refuses a level outside every registered node's range.

Only features whose behaviour fastkafka implements are supported here, so a client never sees a
level it cannot rely on:

| feature | supported | what a level turns on |
|---|---|---|
| metadata.version | 3.3-IV3 .. 4.1-IV1 | record versions of the metadata log |
| transaction.version | 0-2 | 1: flexible TransactionLogValue; 2: KIP-890 part 2 (Produce v12 implicit AddPartitionsToTxn, epoch bump per EndTxn, TxnOffsetCommit v5 without AddOffsetsToTxn) |
| group.version | 0-1 | 1: the KIP-848 consumer group protocol |
| kraft.version | 0 | 0: static voters (`controller.quorum.voters`); 1 (KIP-853 dynamic quorums) is not served |

eligible.leader.replicas.version, share.version and streams.version are not listed: a node that
does not list a feature supports only its level 0 (Kafka's rule), which is what fastkafka serves.

Default levels (`fastkafka format` without `--feature`) are Kafka's Feature.defaultLevel: the
highest level whose bootstrap metadata.version is at or below the one being formatted.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from fastkafka.cluster.metadata.metadata_version import FEATURE_NAME as METADATA_VERSION
from fastkafka.cluster.metadata.metadata_version import (IBP_3_3_IV3, IBP_4_0_IV0, IBP_4_0_IV2, LATEST_PRODUCTION,
                                                         MINIMUM_VERSION)

TRANSACTION_VERSION = "transaction.version"
GROUP_VERSION = "group.version"
KRAFT_VERSION = "kraft.version"


@dataclasses.dataclass(frozen=True, slots=True)
class FeatureSpec:
    name: str
    min_supported: int
    max_supported: int
    # level -> the metadata.version from which `format` finalizes it by default (Kafka's
    # FeatureVersion.bootstrapMetadataVersion).
    bootstrap_metadata_version: Mapping[int, int]
    # level -> {feature: minimum level} it needs (Kafka's FeatureVersion.dependencies).
    dependencies: Mapping[int, Mapping[str, int]] = dataclasses.field(default_factory=dict)

    def default_level(self, metadata_version: int) -> int:
        return max((lvl for lvl, mv in self.bootstrap_metadata_version.items()
                    if mv <= metadata_version and lvl <= self.max_supported), default=0)


# Kafka 4.4's server-common: TransactionVersion TV_1/TV_2 bootstrap at 4.0-IV2, GroupVersion GV_1
# at 4.0-IV0, KRaftVersion 1 at 3.9-IV0 (not supported here).
SUPPORTED: dict[str, FeatureSpec] = {
    TRANSACTION_VERSION: FeatureSpec(TRANSACTION_VERSION, 0, 2, {0: IBP_3_3_IV3, 1: IBP_4_0_IV2, 2: IBP_4_0_IV2}),
    GROUP_VERSION: FeatureSpec(GROUP_VERSION, 0, 1, {0: IBP_3_3_IV3, 1: IBP_4_0_IV0}),
    KRAFT_VERSION: FeatureSpec(KRAFT_VERSION, 0, 0, {0: IBP_3_3_IV3}),
}


def supported_ranges() -> dict[str, tuple[int, int]]:
    """name -> (min, max) this node supports, metadata.version included (ApiVersions v3+)."""
    out = {METADATA_VERSION: (MINIMUM_VERSION, LATEST_PRODUCTION)}
    out.update({n: (s.min_supported, s.max_supported) for n, s in SUPPORTED.items()})
    return out


def default_levels(metadata_version: int) -> dict[str, int]:
    """The features `format` finalizes besides metadata.version (levels of 0 left out, as Kafka's
    bootstrap writes no record for them). kraft.version lives in the raft log, not here."""
    out = {}
    for name, spec in SUPPORTED.items():
        if name == KRAFT_VERSION:
            continue
        level = spec.default_level(metadata_version)
        if level:
            out[name] = level
    return out


def validate_level(name: str, level: int, finalized: Mapping[str, int]) -> str | None:
    """Why `name` cannot be finalized at `level` given the other `finalized` levels (Kafka's
    FeatureControlManager messages), or None. metadata.version is checked by the caller."""
    spec = SUPPORTED.get(name)
    if spec is None:
        return None if level == 0 else f"Invalid update version {level} for feature {name}. " \
                                       f"Local controller does not support this feature."
    if not spec.min_supported <= level <= spec.max_supported:
        return (f"Invalid update version {level} for feature {name}. Local controller only supports "
                f"versions {spec.min_supported}-{spec.max_supported}")
    for dep, need in spec.dependencies.get(level, {}).items():
        if finalized.get(dep, 0) < need:
            return f"Feature {name} at level {level} depends on {dep} at level {need} or above"
    return None


def parse_feature_args(values: list[str], metadata_version: int) -> dict[str, int]:
    """`--feature name=level` (kafka-storage format): the defaults at `metadata_version`, then the
    given levels; ValueError with Kafka's wording for an unknown feature or level."""
    levels = default_levels(metadata_version)
    for item in values:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not text.strip().lstrip("-").isdigit():
            raise ValueError(f"Can't parse feature={item}. The format must be name=level")
        level = int(text)
        if name == METADATA_VERSION:
            raise ValueError("Use --release-version instead of --feature with metadata.version")
        problem = validate_level(name, level, levels)
        if problem is not None:
            raise ValueError(problem)
        if level:
            levels[name] = level
        else:
            levels.pop(name, None)
    return levels


__all__ = ["GROUP_VERSION", "KRAFT_VERSION", "METADATA_VERSION", "SUPPORTED", "TRANSACTION_VERSION", "FeatureSpec",
           "default_levels", "parse_feature_args", "supported_ranges", "validate_level"]
