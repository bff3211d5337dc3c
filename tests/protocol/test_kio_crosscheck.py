"""Cross-check encodings against kio, an independent implementation of Kafka's schemas: bytes
we write must parse with kio, and kio must write back exactly our bytes."""
from __future__ import annotations

import importlib
import io
import random

import pytest
from kio.serial import entity_reader, entity_writer

from fastkafka.protocol import _generated as g

from .values import build, versions_of


def _kio_class(module: str, kind: str, name: str, version: int) -> type | None:
    try:
        mod = importlib.import_module(f"kio.schema.{module}.v{version}.{kind}")
    except ImportError:
        return None
    return getattr(mod, name, None)


CASES = []
for key, (name, req, resp) in sorted(g.APIS.items()):
    module = req.__module__.rsplit(".", 1)[1]
    for cls, kind in ((req, "request"), (resp, "response")):
        for v in versions_of(cls):
            CASES.append((cls, module, kind, v))


def test_kio_covers_a_broad_sample() -> None:
    covered = [c for c in CASES if _kio_class(c[1], c[2], c[0].NAME, c[3]) is not None]
    assert len(covered) >= 400, len(covered)
    names = {(c[0].NAME, c[3]) for c in covered}
    for must in [("ProduceRequest", 3), ("ProduceRequest", 9), ("ProduceResponse", 11), ("FetchRequest", 4),
                 ("FetchRequest", 12), ("FetchResponse", 16), ("MetadataRequest", 0), ("MetadataResponse", 12),
                 ("ApiVersionsRequest", 3), ("ApiVersionsResponse", 0), ("ApiVersionsResponse", 3),
                 ("CreateTopicsRequest", 2), ("CreateTopicsResponse", 7)]:
        assert must in names, must


@pytest.mark.parametrize("cls,module,kind,version", CASES, ids=[f"{c[0].NAME}-v{c[3]}" for c in CASES])
def test_same_bytes_as_kio(cls: type, module: str, kind: str, version: int) -> None:
    kio_cls = _kio_class(module, kind, cls.NAME, version)
    if kio_cls is None:
        pytest.skip(f"kio has no {cls.NAME} v{version}")  # kio's own coverage; the sample size is asserted above
    for seed in range(3):
        obj = build(cls, cls, version, random.Random(seed))
        ours = obj.to_bytes(version)
        parsed, end = entity_reader(kio_cls)(memoryview(ours), 0)
        assert end == len(ours)
        buf = io.BytesIO()
        entity_writer(kio_cls)(buf, parsed)
        theirs = buf.getvalue()
        assert theirs == ours
        assert cls.from_bytes(theirs, version) == obj  # kio's encoding decodes back to our value
