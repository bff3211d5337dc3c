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


@pytest.mark.parametrize("pos,end", [(0, 5), (3, 2), (-1, -1), (4, 3)])
def test_reader_window_must_lie_inside_the_buffer(pos: int, end: int) -> None:
    with pytest.raises(DecodeError):
        Reader(b"abc", pos, end)


def test_reader_window_limits_reads() -> None:
    r = Reader(b"\x00\x01\x00\x02\x00\x03", 2, 4)
    assert r.remaining() == 2 and r.int16() == 2
    with pytest.raises(DecodeError):
        r.int8()
    r.pos = 100  # callers may skip by assigning pos; reads stay bounds-checked
    with pytest.raises(DecodeError):
        r.int8()


def test_reader_over_non_byte_memoryview_counts_bytes() -> None:
    import array

    a = array.array("i", [0x01020304, 0])
    r = Reader(memoryview(a))
    r.pos = 4
    view = r.raw(4)
    assert view.nbytes == 4 and bytes(view) == b"\x00\x00\x00\x00"


@pytest.mark.parametrize("method,v", [("int8", 128), ("int8", -129), ("int16", 32768), ("uint16", -1),
                                      ("uint16", 65536), ("int32", 2**31), ("uint32", -1), ("int64", 2**63),
                                      ("uvarint", -1), ("varint", 2**31)])
def test_writer_refuses_out_of_range_integers(method: str, v: int) -> None:
    with pytest.raises(OverflowError):
        getattr(Writer(), method)(v)


def test_strings_are_capped_at_32767_bytes_like_kafka() -> None:
    w = Writer()
    w.compact_string("x" * 32767)
    assert Reader(w.getvalue()).compact_string() == "x" * 32767
    with pytest.raises(ValueError):
        Writer().compact_string("x" * 32768)
    with pytest.raises(ValueError):
        Writer().string("é" * 16384)  # 32768 bytes of UTF-8
    w = Writer()
    w.uvarint(32769)
    w.raw(b"x" * 32768)
    with pytest.raises(DecodeError):
        Reader(w.getvalue()).compact_string()


def test_invalid_utf8_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        Reader(b"\x00\x02\xc3\x28").string()
    with pytest.raises(DecodeError):
        Reader(b"\x03\xff\xfe").compact_string()


def test_varint_encodings_match_kafka_byteutils() -> None:
    # ByteUtilsTest: zig-zag and unsigned varint byte layouts.
    cases = [("varint", 0, b"\x00"), ("varint", -1, b"\x01"), ("varint", 1, b"\x02"), ("varint", -64, b"\x7f"),
             ("varint", 64, b"\x80\x01"), ("varint", 2**31 - 1, b"\xfe\xff\xff\xff\x0f"),
             ("varint", -(2**31), b"\xff\xff\xff\xff\x0f"), ("uvarint", 300, b"\xac\x02"),
             ("uvarint", 2**32 - 1, b"\xff\xff\xff\xff\x0f"),
             ("varlong", -(2**63), b"\xff" * 9 + b"\x01"), ("varlong", 2**63 - 1, b"\xfe" + b"\xff" * 8 + b"\x01")]
    for method, v, data in cases:
        w = Writer()
        getattr(w, method)(v)
        assert w.getvalue() == data, (method, v)
        r = Reader(data)
        assert getattr(r, method)() == v and r.remaining() == 0
    with pytest.raises(DecodeError):
        Reader(b"\xff" * 10 + b"\x01").varlong()  # 11 bytes: too long


def test_writer_buffer_export_is_zero_copy_and_pins_the_buffer() -> None:
    w = Writer(16)
    w.raw(b"abc")
    view = memoryview(w)
    assert view.readonly and bytes(view) == b"abc"
    w.int8(1)  # fits in the current allocation: allowed, the view keeps its length
    assert bytes(view) == b"abc"
    with pytest.raises(BufferError):
        w.raw(b"x" * 64)  # would move the memory under the view
    view.release()
    w.raw(b"x" * 64)
    assert len(w) == 4 + 64 and w.getvalue()[:4] == b"abc\x01"


def test_empty_reads_and_zero_length_values() -> None:
    r = Reader(b"\x00\x00\x00\x00\x01\x01")
    assert r.bytes_() == b"" and r.compact_string() == "" and r.compact_records() is not None
    assert r.remaining() == 0
    assert bytes(Reader(b"").raw(0)) == b""


def test_size_prefix_patched_in_place() -> None:
    w = Writer()
    w.int32(0)
    w.string("body")
    w.set_int32(0, len(w) - 4)
    assert w.getvalue() == b"\x00\x00\x00\x06\x00\x04body"
    with pytest.raises(IndexError):
        w.set_int32(len(w) - 3, 1)
    with pytest.raises(IndexError):
        w.set_int32(-1, 1)
