"""The answer to a request whose handler failed: Kafka's `AbstractRequest.getErrorResponse`,
built generically from the generated codec's schemas.

Kafka's KafkaApis.handleError answers any exception a handler raises with the API's error
response (UNKNOWN_SERVER_ERROR for an unexpected exception, the exception's own code for an
ApiException) instead of closing the connection. Each request class there builds it by hand:
the top-level error code where the response has one, otherwise the request's topics/partitions
(or groups, resources, ...) mirrored into the response, each with the error code.

`error_response` does the same from the schemas: a response with a top-level `error_code` at
this version gets it (and `error_message` where there is one); otherwise every list of structs
in the response mirrors the request's first list of structs at this version, element by
element, copying the key fields with the same name (name, topic_id, partition_index, group_id,
...) and setting `error_code` at every level that has one. Invariants: pure (reads the request,
builds a new response); never raises for a decodable request (it falls back to the default
response: an empty answer is still an answer).
"""
from __future__ import annotations

import sys
from typing import Any

from fastkafka.protocol import api

# Request field -> response field names that carry the same key in Kafka's schemas.
_ALIASES = {
    "partition": ("partition_index", "partition"),
    "partition_index": ("partition_index", "partition", "index"),
    "index": ("index", "partition_index"),
    "topic": ("topic", "name", "topic_name"),
    "name": ("name", "topic", "topic_name"),
    "topic_name": ("topic_name", "name"),
    "group_id": ("group_id",),
    "resource_name": ("resource_name",),
    "resource_type": ("resource_type",),
    "transactional_id": ("transactional_id",),
}


def _in(versions: tuple[int, int | None] | None, v: int) -> bool:
    return versions is not None and versions[0] <= v and (versions[1] is None or v <= versions[1])


def _fields(cls: type, version: int) -> dict[str, str]:
    return {f[0]: f[1] for f in getattr(cls, "SCHEMA", ()) if _in(f[2], version)}


def _struct_class(top: type, typ: str) -> type | None:
    """The generated class of a struct-typed field ('[]TopicData' / 'LeaderIdAndEpoch') of the
    message `top` or of one of its structs (the codec names them `_<Message>_<Struct>`)."""
    name = typ[2:] if typ.startswith("[]") else typ
    return getattr(sys.modules[top.__module__], f"_{top.__name__}_{name}", None)


def _fill(req: Any, resp: Any, version: int, code: int, message: str | None,
          qtop: type, rtop: type) -> None:
    rcls = type(resp)
    rfields = _fields(rcls, version)
    if "error_code" in rfields:
        resp.error_code = code
    if "error_message" in rfields and message is not None:
        resp.error_message = message
    if req is None:
        return
    qfields = _fields(type(req), version)
    for qname, qtype in qfields.items():
        if qtype.startswith("[]") or qtype in ("bytes", "records"):
            continue
        for rname in _ALIASES.get(qname, ()):
            if rfields.get(rname) == qtype:
                setattr(resp, rname, getattr(req, qname))
                break
    req_lists = [n for n, t in qfields.items()
                 if t.startswith("[]") and _struct_class(qtop, t) is not None]
    req_scalar_lists = [n for n, t in qfields.items() if t in ("[]int32", "[]string")]
    for rname, rtype in rfields.items():
        if not rtype.startswith("[]"):
            continue
        ecls = _struct_class(rtop, rtype)
        if ecls is None:
            continue
        efields = _fields(ecls, version)
        items: list[Any] = []
        if req_lists:
            for q in getattr(req, req_lists[0]) or ():
                el = ecls()
                _fill(q, el, version, code, message, qtop, rtop)
                items.append(el)
        elif req_scalar_lists:
            # e.g. DescribeGroups' groups, DeleteTopics v0-5's topic_names, a partition id list.
            key = next((k for k, t in efields.items() if t in ("int32", "string")
                        and k in ("partition_index", "partition", "group_id", "name", "topic", "topic_name")), None)
            if key is not None:
                for v in getattr(req, req_scalar_lists[0]) or ():
                    el = ecls()
                    if efields[key] == ("int32" if isinstance(v, int) else "string"):
                        setattr(el, key, v)
                    _fill(None, el, version, code, message, qtop, rtop)
                    items.append(el)
        if items:
            setattr(resp, rname, items)


def error_response(api_key: int, version: int, request: Any, code: int, message: str | None = None) -> Any:
    """The response to `request` answering `code` (see the module docstring)."""
    cls = api.RESPONSES[api_key]
    resp = cls()
    try:
        _fill(request, resp, version, code, message, api.REQUESTS[api_key], cls)
    except Exception:  # a shape the mirror does not know: the bare top-level answer
        resp = cls()
        if "error_code" in _fields(cls, version):
            resp.error_code = code
    return resp
