"""Reader/Writer primitives: boundaries of every type, varint edge cases, truncation."""
from __future__ import annotations

import pytest

from fastkafka._native.wire import DecodeError, Reader, Writer


@pytest.mark.parametrize("v", [0, 1, 127, 128, 16383, 16384, 2**31 - 1, 2**32 - 1])
def test_uvarint(v: int) -> None:
    w = Writer()
    w.uvarint(v)
    data = w.getvalue()
    assert Reader(data).uvarint() == v
    assert len(data) == max(1, (v.bit_length() + 6) // 7)


@pytest.mark.parametrize("v", [0, -1, 1, -64, 64, 2**31 - 1, -(2**31)])
def test_zigzag_varint(v: int) -> None:
    w = Writer()
    w.varint(v)
    assert Reader(w.getvalue()).varint() == v


@pytest.mark.parametrize("v", [0, -1, 2**63 - 1, -(2**63), 1 << 40])
def test_zigzag_varlong(v: int) -> None:
    w = Writer()
    w.varlong(v)
    assert Reader(w.getvalue()).varlong() == v


def test_known_encodings() -> None:
    w = Writer()
    w.varint(-1)
    w.varint(1)
    w.compact_string(None)
    w.compact_string("ab")
    w.string(None)
    w.int32(-2)
    assert w.getvalue() == b"\x01\x02\x00\x03ab\xff\xff\xff\xff\xff\xfe"


def test_every_primitive_round_trips() -> None:
    w = Writer(1)  # forces growth
    w.int8(-128); w.int16(32767); w.uint16(65535); w.int32(-(2**31)); w.uint32(2**32 - 1)
    w.int64(2**63 - 1); w.float64(-0.5); w.boolean(True); w.uuid(bytes(range(16)))
    w.string("héllo"); w.bytes_(None); w.compact_bytes(b"xyz"); w.array_length(-1); w.compact_array_length(2)
    r = Reader(w.getvalue())
    assert [r.int8(), r.int16(), r.uint16(), r.int32(), r.uint32(), r.int64(), r.float64(), r.boolean()] == [
        -128, 32767, 65535, -(2**31), 2**32 - 1, 2**63 - 1, -0.5, True]
    assert r.uuid() == bytes(range(16))
    assert r.string() == "héllo" and r.bytes_() is None and r.compact_bytes() == b"xyz"
    assert r.array_length() == -1
    with pytest.raises(DecodeError):
        r.compact_array_length()  # claims 2 elements with no bytes left
    assert r.remaining() == 0


def test_records_is_a_view_not_a_copy() -> None:
    buf = bytearray(b"\x00\x00\x00\x03abc")
    view = Reader(buf).records()
    assert view is not None and bytes(view) == b"abc"
    buf[4] = ord("z")
    assert bytes(view) == b"zbc"


@pytest.mark.parametrize("data,method", [
    (b"", "int8"), (b"\x00", "int16"), (b"\x00\x00\x00", "int32"), (b"\x00" * 7, "int64"),
    (b"\x80\x80", "uvarint"), (b"\xff\xff\xff\xff\xff\xff", "uvarint"), (b"\x00\x05ab", "string"),
    (b"\xff\xfe", "string"), (b"\x00\x00\x00\x09x", "bytes_"), (b"\x05a", "compact_string"),
    (b"\x00\x02\xff\xfe", "string"), (b"\x7f\xff\xff\xff", "array_length"),
])
def test_malformed_input_raises_decode_error(data: bytes, method: str) -> None:
    with pytest.raises(DecodeError):
        getattr(Reader(data), method)()
