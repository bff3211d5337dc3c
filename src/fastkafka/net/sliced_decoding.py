"""Requests whose first field is a big array, decoded on the event loop in slices.

`kafka-topics --describe` names every topic in each DescribeTopicPartitions page (and a client
subscribed to thousands of topics names them all in Metadata): 10,000 names took 50-140 ms of the
generated decoder in the connection's one callback, before the handler even ran. A handler
registered with `sliced_request(...)` as its request type gets such a request undecoded, as a
`PendingRequest`, when the array has `min_elements` or more elements (smaller ones are decoded at
once, as usual); the handler then awaits `PendingRequest.decode()`, which decodes the elements with
the generated element decoder, yielding to the loop between slices, and the fields after the
array with the generated decoder of the request itself (run over an empty array followed by the
rest of the bytes), so every field is read exactly as the generated codec reads it.

Invariants: the undecoded bytes are copied out of the frame (a large frame's pooled buffer is
returned once the handler is dispatched); a malformed array raises DecodeError from `decode()`,
inside the handler, so it is answered with the API's error response instead of closing the
connection. Only for an array that is the request's first field, or follows fixed-size fields
only (`prefix_bytes`); a null array (-1) is decoded at once.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from fastkafka._native.wire import Reader

SLICE_SECONDS = 0.002
_CHECK_EVERY = 32


class PendingRequest:
    """A request whose leading array is still to be decoded (see the module docstring)."""

    __slots__ = ("_request_cls", "_element_cls", "_field", "_version", "_flexible", "_count", "_data", "_prefix")

    def __init__(self, request_cls: Any, element_cls: Any, field: str, version: int, flexible: bool,
                 count: int, data: bytes, prefix: bytes = b"") -> None:
        self._prefix = prefix
        self._request_cls = request_cls
        self._element_cls = element_cls
        self._field = field
        self._version = version
        self._flexible = flexible
        self._count = count
        self._data = data

    async def decode(self) -> Any:
        r = Reader(self._data, 0)
        version = self._version
        decode_element = self._element_cls.decode
        elements = []
        deadline = time.perf_counter() + SLICE_SECONDS
        for i in range(self._count):
            elements.append(decode_element(r, version))
            if i % _CHECK_EVERY == _CHECK_EVERY - 1 and time.perf_counter() >= deadline:
                await asyncio.sleep(0)  # the loop serves others between slices
                deadline = time.perf_counter() + SLICE_SECONDS
        empty = b"\x01" if self._flexible else b"\x00\x00\x00\x00"  # an array of no element
        rest = self._data[r.pos:]
        request = self._request_cls.decode(Reader(self._prefix + empty + rest, 0), version)
        setattr(request, self._field, elements)
        return request


class _SlicedRequestType:
    """Stands in for a generated request class as a handler's `request_type`: `decode` returns the
    request, or a PendingRequest when its leading array is big."""

    def __init__(self, request_cls: Any, element_cls: Any, field: str, min_elements: int,
                 prefix_bytes: int) -> None:
        self._prefix_bytes = prefix_bytes
        self._request_cls = request_cls
        self._element_cls = element_cls
        self._field = field
        self._min_elements = min_elements
        self.VALID_VERSIONS = request_cls.VALID_VERSIONS
        self.__name__ = request_cls.__name__

    def decode(self, r: Reader, version: int) -> Any:
        start = r.pos
        prefix = bytes(r.raw(self._prefix_bytes))
        first_flexible = self._request_cls.FLEXIBLE_VERSIONS[0]
        flexible = first_flexible is not None and version >= first_flexible
        n = r.compact_array_length() if flexible else r.array_length()
        if n < self._min_elements:
            r.pos = start
            return self._request_cls.decode(r, version)
        data = bytes(r.raw(r.remaining()))
        return PendingRequest(self._request_cls, self._element_cls, self._field, version, flexible, n, data, prefix)


def sliced_request(request_cls: Any, element_cls: Any, field: str, min_elements: int = 1000,
                   prefix_bytes: int = 0) -> Any:
    """A request type for `handler(..., request_type=...)`: see the module docstring.
    `prefix_bytes`: the fixed-size fields before the array (ListPartitionReassignments' int32
    timeout), kept as bytes and decoded with the rest."""
    return _SlicedRequestType(request_cls, element_cls, field, min_elements, prefix_bytes)
