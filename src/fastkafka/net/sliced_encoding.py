"""Big response arrays built and encoded on the event loop in slices of a few milliseconds.

A Metadata, DescribeTopicPartitions or DescribeConfigs answer about ~10,000 topics is tens of
milliseconds of pure Python to build and as much again to encode; done in one callback it held the
loop for 100-300 ms (issue 13, fuzz run with 11,500 topics). Python work does not go to a worker
thread (it would hold the GIL the loop needs), so the handler builds the array's elements one by
one and encodes each at once into a `SlicedEncoder`, which yields to the loop whenever the current
slice has run `SLICE_SECONDS`. The result, an `EncodedArray`, stands in for the element list of
the generated response class: `len()` is the element count (the array length on the wire) and
iterating it yields pieces whose `encode(w, version)` writes their bytes, so the generated
`encode` of the enclosing message writes the same bytes as with the element objects.

Invariants: an `EncodedArray` holds bytes for exactly one protocol version (the handler's request
version) and is only ever encoded with that version; it is immutable once built and may be shared
between responses (cached answers). The elements are encoded as they are built, so each reflects
the image the handler took at its start: a handler takes one image and uses only it.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any, Protocol

from fastkafka._native.wire import Writer

# One slice of building+encoding: short enough that other clients' requests wait no more than a
# few ms, long enough that the yields (one loop turn each) cost nothing measurable.
SLICE_SECONDS = 0.002
# Elements encoded between two looks at the clock.
_CHECK_EVERY = 16


class Encodable(Protocol):
    def encode(self, w: Writer, version: int) -> None: ...


class _Piece:
    """Bytes already encoded for the array's version."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def encode(self, w: Writer, version: int) -> None:
        w.raw(self.data)


class EncodedArray:
    """The encoded elements of one response array (see the module docstring)."""

    __slots__ = ("count", "version", "_pieces", "nbytes")

    def __init__(self, count: int, version: int, pieces: list[bytes]) -> None:
        self.count = count
        self.version = version
        self._pieces = [_Piece(p) for p in pieces if p]
        self.nbytes = sum(len(p) for p in pieces)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[_Piece]:
        return iter(self._pieces)

    def __repr__(self) -> str:
        return f"EncodedArray({self.count} elements, v{self.version}, {self.nbytes} bytes)"


class SlicedEncoder:
    """Encodes elements into one array for `version`; `add` says when the slice is used up and the
    caller must `await pause()` (kept apart so adding stays a plain call, not an await)."""

    __slots__ = ("version", "count", "_w", "_pieces", "_deadline", "_since_check")

    def __init__(self, version: int) -> None:
        self.version = version
        self.count = 0
        self._w = Writer(4096)
        self._pieces: list[bytes] = []
        self._deadline = time.perf_counter() + SLICE_SECONDS
        self._since_check = 0

    def add(self, element: Any) -> bool:
        """Encode one element; True when the current slice has run its time."""
        element.encode(self._w, self.version)
        self.count += 1
        return self.tick()

    def tick(self) -> bool:
        """Count one unit of work done outside `add` (e.g. an element skipped); True when the
        slice has run its time."""
        self._since_check += 1
        if self._since_check < _CHECK_EVERY:
            return False
        self._since_check = 0
        return time.perf_counter() >= self._deadline

    async def pause(self) -> None:
        """Let the loop serve others, then start a new slice."""
        if len(self._w):
            self._pieces.append(self._w.getvalue())
            self._w = Writer(4096)
        await asyncio.sleep(0)
        self._deadline = time.perf_counter() + SLICE_SECONDS
        self._since_check = 0

    def result(self) -> EncodedArray:
        if len(self._w):
            self._pieces.append(self._w.getvalue())
            self._w = Writer(16)
        return EncodedArray(self.count, self.version, self._pieces)
