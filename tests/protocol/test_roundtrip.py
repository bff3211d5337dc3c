"""Round trip of every generated message at every version: encode -> decode gives an equal
object, and re-encoding gives the same bytes. Values come from hypothesis-chosen seeds."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastkafka._native.wire import DecodeError
from fastkafka.protocol import _generated as g
from fastkafka.protocol._generated import data_types, headers

from .values import build, versions_of

MESSAGES: list[type] = []
for _key, (_name, _req, _resp) in sorted(g.APIS.items()):
    MESSAGES += [_req, _resp]
MESSAGES += [headers.RequestHeader, headers.ResponseHeader]
MESSAGES += [getattr(data_types, n) for n in data_types.__all__]
MESSAGES += list(g.METADATA_RECORDS.values())
for _table in (g.GROUP_RECORDS, g.TXN_RECORDS, g.RAFT_RECORDS, g.SHARE_RECORDS):
    MESSAGES += list(_table.values())

CASES = [(cls, v) for cls in MESSAGES for v in versions_of(cls)]


def test_every_api_is_generated() -> None:
    assert len(g.APIS) >= 80
    assert g.APIS[0][0] == "Produce" and g.APIS[18][0] == "ApiVersions"
    assert len(g.METADATA_RECORDS) >= 20


@pytest.mark.parametrize("cls,version", CASES, ids=[f"{c.NAME}-v{v}" for c, v in CASES])
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_round_trip(cls: type, version: int, seed: int) -> None:
    obj = build(cls, cls, version, random.Random(seed))
    flex = cls.FLEXIBLE_VERSIONS
    if flex is not None and flex[0] <= version and seed % 2:
        obj._unknown_tagged_fields = {9999: seed.to_bytes(5, "big")}  # a tag from a newer Kafka
    data = obj.to_bytes(version)
    back = cls.from_bytes(data, version)
    assert back == obj
    assert back._unknown_tagged_fields == obj._unknown_tagged_fields
    assert back.to_bytes(version) == data


@pytest.mark.parametrize("cls,version", CASES[::7], ids=[f"{c.NAME}-v{v}" for c, v in CASES[::7]])
def test_truncated_input_raises_decode_error(cls: type, version: int) -> None:
    data = build(cls, cls, version, random.Random(1)).to_bytes(version)
    for cut in range(0, len(data), max(1, len(data) // 8)):
        try:
            cls.from_bytes(data[:cut], version)
        except DecodeError:
            continue
        # A prefix can itself be a valid (shorter) message only when trailing fields are empty.
        assert cut > 0


def test_generated_code_is_up_to_date() -> None:
    """The committed _generated/ equals what the generator writes from the spec folder."""
    from pathlib import Path

    from fastkafka._tools import genproto

    spec = Path(__file__).resolve().parents[3] / "shared" / "kafka-protocol"
    if not (spec / "messages").is_dir():
        pytest.skip(f"spec folder {spec} is not beside the checkout (CI and developers have it)")
    assert genproto.main([str(spec), "--check"]) == 0
