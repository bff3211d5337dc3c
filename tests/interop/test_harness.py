"""The comparison the interop tests rely on must itself catch every kind of difference (no broker needed)."""
from __future__ import annotations

import dataclasses

import pytest

from interop_data import assert_same_records, sample_records, with_expected_offsets


def test_sample_records_cover_the_cases() -> None:
    recs = sample_records()
    assert any(r.key is None for r in recs) and any(r.key == b"" for r in recs)
    assert any(r.value is None for r in recs) and any(r.value == b"" for r in recs)
    assert any(len({k for k, _ in r.headers}) < len(r.headers) for r in recs)  # duplicate header keys
    assert any(v is None for r in recs for _, v in r.headers)
    assert not any(v is None for r in sample_records(null_header_values=False) for _, v in r.headers)
    assert {r.partition for r in recs} == {0, 1, 2}


def test_expected_offsets_are_consecutive_per_partition() -> None:
    recs = with_expected_offsets(sample_records(9), start=4)
    assert [(r.partition, r.offset) for r in recs] == [(i % 3, 4 + i // 3) for i in range(9)]


@pytest.mark.parametrize("change", [
    {"value": b"other"}, {"key": None}, {"headers": (("h1", b"v2"),)}, {"timestamp": 1}, {"offset": 99},
])
def test_assert_same_records_detects_any_difference(change: dict[str, object]) -> None:
    expected = with_expected_offsets(sample_records(12))
    got = list(expected)
    got[6] = dataclasses.replace(got[6], **change)  # type: ignore[arg-type]
    with pytest.raises(AssertionError):
        assert_same_records(got, expected)


def test_assert_same_records_detects_missing_reordered_and_misplaced() -> None:
    expected = with_expected_offsets(sample_records(12))
    with pytest.raises(AssertionError):
        assert_same_records(expected[:-1], expected)
    p0 = [r for r in expected if r.partition == 0]
    swapped = [r for r in expected if r.partition != 0] + [p0[1], p0[0]] + p0[2:]
    with pytest.raises(AssertionError):
        assert_same_records(swapped, expected)
    with pytest.raises(AssertionError):
        assert_same_records([dataclasses.replace(expected[0], partition=1)] + expected[1:], expected)
    assert_same_records(list(expected), expected)
