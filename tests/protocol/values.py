"""Build populated instances of generated messages from their SCHEMA tables (for tests)."""
from __future__ import annotations

import random
from typing import Any

INT_RANGES = {"int8": (-128, 127), "int16": (-32768, 32767), "uint16": (0, 65535), "int32": (-2**31, 2**31 - 1),
              "uint32": (0, 2**32 - 1), "int64": (-2**63, 2**63 - 1)}


def in_range(v: tuple[int, int | None] | None, version: int) -> bool:
    return v is not None and v[0] <= version and (v[1] is None or version <= v[1])


def prim(t: str, rng: random.Random) -> Any:
    if t in INT_RANGES:
        lo, hi = INT_RANGES[t]
        return rng.choice([lo, hi, 0, -1 if lo < 0 else 1, rng.randint(lo, hi)])
    if t == "bool":
        return rng.random() < 0.5
    if t == "float64":
        return rng.choice([0.0, 1.5, -2.25, 1e300])
    if t == "string":
        return rng.choice(["", "a", "topic-é", "x" * 40])
    if t == "bytes":
        return rng.choice([b"", b"\x00\x01", bytes(range(50))])
    if t == "records":
        return rng.choice([b"", b"batch-bytes"])
    if t == "uuid":
        return bytes(rng.randrange(256) for _ in range(16))
    raise AssertionError(t)


def build(cls: type, owner: type, version: int, rng: random.Random, depth: int = 0) -> Any:
    """An instance of `cls` (a message or nested struct of `owner`) with every field present in
    `version` set to a random value (nulls where the version allows them)."""
    kwargs: dict[str, Any] = {}
    for attr, ktype, versions, nullable, _tag in cls.SCHEMA:  # type: ignore[attr-defined]
        if not in_range(versions, version):
            continue
        if in_range(nullable, version) and rng.random() < 0.2:
            kwargs[attr] = None
            continue
        if ktype.startswith("[]"):
            elem = ktype[2:]
            n = rng.randint(0, 2 if depth < 3 else 0)
            if hasattr(owner, elem):
                kwargs[attr] = [build(getattr(owner, elem), owner, version, rng, depth + 1) for _ in range(n)]
            else:
                kwargs[attr] = [prim(elem, rng) for _ in range(n)]
        elif hasattr(owner, ktype):
            kwargs[attr] = build(getattr(owner, ktype), owner, version, rng, depth + 1)
        elif attr.endswith("error_code"):
            kwargs[attr] = rng.choice([0, 3, 6, 35])  # real codes: kio checks them
        elif ktype in ("int32", "int64") and ("_ms" in attr or "timestamp" in attr or "time" in attr):
            kwargs[attr] = rng.randint(0, 10**9)  # durations/instants: kio maps them to datetime types
        else:
            kwargs[attr] = prim(ktype, rng)
    return cls(**kwargs)


def versions_of(cls: type) -> range:
    lo, hi = cls.VALID_VERSIONS  # type: ignore[attr-defined]
    return range(lo, hi + 1)
