"""Frame fuzzer for the broker: a seeded mutator over captured real-client frames, and a driver
that sends the mutated frames over many pipelined connections and classifies every outcome.

Corpus: `fuzz_corpus/frames.jsonl` (written by tools/capture_fuzz_corpus.py): request frames
(header + body, no size prefix) of every (api_key, version) the broker listener serves.

Mutator (`FrameMutator`): frame number `i` of seed `s` is a pure function of (s, i) (its own
`random.Random`), so any reported frame can be rebuilt with `FrameMutator(s).frame(i)` whatever
the connection or timing it was sent with. Operators: bit flips; bytes and int16/int32/varint set
to interesting values (0, -1, 0x7f, 0x80, 0xff, extremes); truncation; extension; splicing from
another frame; corruption of string / array / compact length fields (positions found once per
seed frame); api_version set to unsupported, negative or another served version; api_key set to
another or an unknown API; correlation id and client id (length, bytes) corrupted; header tagged
fields corrupted; and a size prefix that does not match the frame (such a frame is "terminal":
sent last on its connection, followed by a write shutdown). About 5% of frames are sent intact.

Driver (`run_fuzz`): `connections` workers, each owning one connection at a time; a worker sends
a batch of frames pipelined, then a well-formed ApiVersions v0 "sentinel" whose answer proves
every earlier frame of the batch was either answered or deliberately not (Produce acks=0).
Responses leave the broker in request order, so each response is matched to the oldest
outstanding frame with its correlation id. Outcomes per frame:
- answered: a response whose correlation id is the frame's (checked to decode with the
  generated codec at the frame's API and version when `verify_answers`);
- no_response: skipped by a later response (Produce with acks=0 sends none);
- closed: the broker closed the connection with this frame the oldest outstanding one (the
  frames after it were never read by the broker: they are sent again on the next connection);
- parked: the oldest outstanding frame is an API that legitimately waits on a client-given
  timeout (Fetch max_wait_ms, JoinGroup/SyncGroup rebalances) and got no answer within
  `park_timeout`: Kafka would wait too; the connection is dropped;
- hang: any other frame with neither answer nor close within `hang_timeout` -> failure.
Invariants: every generated frame ends with exactly one outcome; the driver never interprets a
request beyond its header except to decode answers.
"""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import random
import struct
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "fuzz_corpus" / "frames.jsonl"

# APIs whose answer may legitimately wait for a timeout the request itself carries.
WAITING_APIS = frozenset({1, 11, 14})  # Fetch, JoinGroup, SyncGroup
_API_VERSIONS = 18
_SENTINEL_CLIENT = b"fuzz-sentinel"
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_INT16_VALUES = (-1, 0, 1, 0x7FFF, -0x8000, 0x7FFE, -2)
_INT32_VALUES = (-1, 0, 1, 0x7FFFFFFF, -0x80000000, 1_000_000, 1_000_001, 0x10000, -2)
_BYTE_VALUES = (0x00, 0x7F, 0x80, 0xFF, 0x01, 0xFE)
_VARINTS = (b"\xff\xff\xff\xff\x0f", b"\x80\x80\x80\x80\x08", b"\x00", b"\xff\xff\xff\xff\xff\xff",
            b"\x81\x80\x80\x80\x00", b"\x80")
_PRINTABLE = frozenset(range(0x20, 0x7F))


@dataclasses.dataclass(frozen=True, slots=True)
class Seed:
    api_key: int
    api_version: int
    frame: bytes
    header_end: int  # offset of the body (after client id and header tagged fields)
    str_lens: tuple[int, ...]  # positions of probable int16 string lengths
    arr_lens: tuple[int, ...]  # positions of probable int32 array counts
    compact_lens: tuple[int, ...]  # positions of probable compact (uvarint) lengths


def _header_end(frame: bytes, flexible_header: bool) -> int:
    cid = _I16.unpack_from(frame, 8)[0]
    pos = 10 + max(cid, 0)
    if flexible_header and pos < len(frame):
        pos += 1  # the corpus headers carry no tagged fields: one zero count byte
    return pos


def _length_candidates(frame: bytes, start: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    n = len(frame)
    strs, arrs, compact = [], [], []
    for p in range(start, n - 1):
        v = (frame[p] << 8) | frame[p + 1]
        if 1 <= v <= n - p - 2 and all(b in _PRINTABLE for b in frame[p + 2:p + 2 + min(v, 16)]):
            strs.append(p)
        b = frame[p]
        if 2 <= b <= 0x7F and b - 1 <= n - p - 1 and all(c in _PRINTABLE for c in frame[p + 1:p + min(b, 17)]):
            compact.append(p)
        elif 1 <= b <= 8 and (p == start or frame[p - 1] == 0):
            compact.append(p)  # maybe a compact array length
    for p in range(start, n - 3):
        v = _I32.unpack_from(frame, p)[0]
        if 0 <= v <= 64 and frame[p] == 0 and frame[p + 1] == 0:
            arrs.append(p)
    return tuple(strs[:256]), tuple(arrs[:256]), tuple(compact[:256])


def load_corpus(path: Path = CORPUS) -> list[Seed]:
    from fastkafka.protocol import api

    seeds = []
    for line in path.read_text().splitlines():
        d = json.loads(line)
        frame = base64.b64decode(d["frame"])
        key, version = d["api_key"], d["api_version"]
        end = _header_end(frame, api.request_header_version(key, version) >= 2)
        seeds.append(Seed(key, version, frame, end, *_length_candidates(frame, end)))
    return seeds


class FrameMutator:
    """Deterministic: `frame(i)` depends only on the seed and i."""

    def __init__(self, seed: int, corpus: list[Seed] | None = None) -> None:
        self.seed = seed
        self.corpus = corpus if corpus is not None else load_corpus()
        by_api: dict[int, list[Seed]] = {}
        for s in self.corpus:
            by_api.setdefault(s.api_key, []).append(s)
        self.apis = sorted(by_api)
        self.by_api = by_api
        self.versions = {k: sorted({s.api_version for s in v}) for k, v in by_api.items()}
        self._ops: list[Callable[[random.Random, bytearray, Seed], None]] = [
            self._bitflip, self._bitflip, self._byte, self._int16, self._int32, self._varint,
            self._truncate, self._extend, self._splice, self._str_len, self._str_len, self._arr_len,
            self._arr_len, self._compact_len, self._compact_len, self._version, self._api_key,
            self._client_id, self._header_tags, self._correlation,
        ]

    def frame(self, i: int) -> tuple[bytes, int | None]:
        """(frame without size prefix, size prefix to send instead of len(frame) or None)."""
        rng = random.Random(self.seed * 1_000_000_007 + i)
        seed = rng.choice(self.by_api[rng.choice(self.apis)])
        f = bytearray(seed.frame)
        f[4:8] = _I32.pack(i & 0x7FFFFFFF)  # unique correlation id (unless mutated below)
        r = rng.random()
        if r < 0.05:
            return bytes(f), None
        if r < 0.5:
            body = self._structured(rng, seed)
            if body is not None:
                f[seed.header_end:] = body
                if rng.random() < 0.8:
                    return bytes(f), None
        for _ in range(1 + (rng.random() < 0.35) + (rng.random() < 0.15)):
            try:
                rng.choice(self._ops)(rng, f, seed)
            except (struct.error, ValueError, IndexError):  # an earlier operator left too little to work on
                pass
        size = None
        if rng.random() < 0.04:
            size = self._size_mismatch(rng, len(f))
        return bytes(f), size

    # -- structured: decode, change field values, re-encode ---------------------------------------
    def _structured(self, rng: random.Random, seed: Seed) -> bytes | None:
        """The seed's body decoded with the generated codec, 1-3 field values replaced by
        hostile ones of the field's type, encoded again (at the seed's version, sometimes at
        another served one): frames that parse, so the handlers see the values. None if the
        seed does not decode or the result cannot be encoded."""
        from fastkafka._native.wire import Reader, Writer
        from fastkafka.protocol import api

        cls = api.REQUESTS[seed.api_key]
        try:
            req = cls.decode(Reader(seed.frame, seed.header_end), seed.api_version)
        except Exception:
            return None
        leaves: list[tuple[object, str | int, str, bool]] = []
        _collect_leaves(req, seed.api_version, leaves)
        if not leaves:
            return None
        for _ in range(1 + (rng.random() < 0.4) + (rng.random() < 0.2)):
            holder, attr, typ, nullable = rng.choice(leaves)
            value = _hostile_value(rng, typ, nullable)
            if isinstance(attr, int):
                holder[attr] = value  # type: ignore[index]
            else:
                setattr(holder, attr, value)
        version = seed.api_version if rng.random() < 0.9 else rng.choice(self.versions[seed.api_key])
        w = Writer()
        try:
            req.encode(w, version)
        except Exception:
            return None
        if version != seed.api_version:
            return None  # the header carries the seed's version; keep frames self-consistent
        return w.getvalue()

    # -- operators ------------------------------------------------------------------------------
    @staticmethod
    def _pos(rng: random.Random, f: bytearray, seed: Seed, width: int = 1) -> int | None:
        lo = min(seed.header_end, len(f)) if rng.random() < 0.9 else 0
        hi = len(f) - width
        if hi < lo:
            return None
        return rng.randint(lo, hi)

    def _bitflip(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        for _ in range(rng.choice((1, 1, 2, 4, 8))):
            p = self._pos(rng, f, seed)
            if p is not None:
                f[p] ^= 1 << rng.randrange(8)

    def _byte(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        p = self._pos(rng, f, seed)
        if p is not None:
            f[p] = rng.choice(_BYTE_VALUES)

    def _int16(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        p = self._pos(rng, f, seed, 2)
        if p is not None:
            f[p:p + 2] = _I16.pack(rng.choice(_INT16_VALUES))

    def _int32(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        p = self._pos(rng, f, seed, 4)
        if p is not None:
            f[p:p + 4] = _I32.pack(rng.choice(_INT32_VALUES))

    def _varint(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        p = self._pos(rng, f, seed)
        if p is not None:
            f[p:p + 1] = rng.choice(_VARINTS)

    def _truncate(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        lo = min(max(0, seed.header_end - 4), len(f)) if rng.random() < 0.9 else 0
        cut = rng.randint(lo, len(f))
        del f[cut:]

    def _extend(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        if rng.random() < 0.5:
            f += rng.randbytes(rng.choice((1, 2, 4, 16, 64, 512)))
        else:
            a = rng.randint(0, len(f))
            f += f[a:a + rng.randint(1, 256)]

    def _splice(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        other = rng.choice(self.corpus)
        a = rng.randint(other.header_end, len(other.frame)) if other.header_end < len(other.frame) else 0
        piece = other.frame[a:a + rng.randint(1, 128)]
        p = self._pos(rng, f, seed)
        if p is not None:
            f[p:p + len(piece)] = piece

    def _str_len(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        if not seed.str_lens:
            return self._int16(rng, f, seed)
        p = rng.choice(seed.str_lens)
        if p + 2 > len(f):
            return None
        n = _I16.unpack_from(f, p)[0]
        f[p:p + 2] = _I16.pack(_clamp16(rng.choice((-1, -2, 0, n + 1, n - 1, 0x7FFF, -0x8000, n + 100))))
        return None

    def _arr_len(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        if not seed.arr_lens:
            return self._int32(rng, f, seed)
        p = rng.choice(seed.arr_lens)
        if p + 4 > len(f):
            return None
        n = _I32.unpack_from(f, p)[0]
        f[p:p + 4] = _I32.pack(_clamp32(rng.choice((-1, -2, 0, n + 1, n - 1, 0x7FFFFFFF, 1_000_001, 999_999, 65_536))))
        return None

    def _compact_len(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        if not seed.compact_lens:
            return self._varint(rng, f, seed)
        p = rng.choice(seed.compact_lens)
        if p >= len(f):
            return None
        n = f[p]
        f[p:p + 1] = rng.choice((b"\x00", bytes([min(n + 1, 0x7F)]), bytes([max(n - 1, 0)]), b"\x7f",
                                 b"\xff\xff\xff\xff\x0f", b"\x81\x80\x80\x80\x00", b"\xc0\x84\x3d"))
        return None

    def _version(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        vs = self.versions[seed.api_key]
        f[2:4] = _I16.pack(rng.choice((vs[-1] + 1, 0x7FFF, -1, -0x8000, max(vs[0] - 1, -1), rng.choice(vs),
                                       rng.choice(vs))))

    def _api_key(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        f[0:2] = _I16.pack(rng.choice((rng.choice(self.apis), rng.choice(self.apis), -1, 0x7FFF, rng.randint(0, 90))))

    def _client_id(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        cid = _I16.unpack_from(f, 8)[0] if len(f) >= 10 else 0
        if rng.random() < 0.7 or cid <= 0:
            f[8:10] = _I16.pack(rng.choice((-1, -2, 0, cid + 1, max(cid - 1, 0), 0x7FFF, -0x8000)))
        else:
            f[10:12] = rng.choice((b"\xff\xfe", b"\xc3\x28", b"\xed\xa0", b"\x00\x00"))

    def _header_tags(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        p = seed.header_end - 1
        if p >= 10 and p < len(f):
            f[p:p + 1] = rng.choice((b"\x01", b"\x7f", b"\xff\xff\xff\xff\x0f", b"\x02\x00\x00", b"\x01\x05\x7f"))

    def _correlation(self, rng: random.Random, f: bytearray, seed: Seed) -> None:
        f[4:8] = _I32.pack(rng.choice((-1, 0, 0x7FFFFFFF, -0x80000000)))

    @staticmethod
    def _size_mismatch(rng: random.Random, n: int) -> int:
        return rng.choice((n + 1, n + 7, n + 1000, n - 1, n - 3, n // 2, 0x7FFFFFFF, -1, 0, 9, n + 100_000_000))


def _in_versions(versions: tuple[int, int | None] | None, v: int) -> bool:
    return versions is not None and versions[0] <= v and (versions[1] is None or v <= versions[1])


def _collect_leaves(obj: object, version: int, out: list[tuple[object, str | int, str, bool]]) -> None:
    """(holder, attribute or list index, schema type, nullable) of every field value present
    at `version`, depth first; lists contribute themselves and their elements."""
    for name, typ, versions, nullable_versions, *_ in getattr(obj, "SCHEMA", ()):
        if not _in_versions(versions, version):
            continue
        nullable = _in_versions(nullable_versions, version)
        value = getattr(obj, name, None)
        out.append((obj, name, typ, nullable))
        if isinstance(value, list):
            for i, el in enumerate(value[:8]):
                if hasattr(el, "SCHEMA"):
                    _collect_leaves(el, version, out)
                else:
                    out.append((value, i, typ[2:], False))
        elif hasattr(value, "SCHEMA"):
            _collect_leaves(value, version, out)


_HOSTILE_STRINGS = ("", "a" * 300, "\x00", ".", "..", "é\u2603", "__consumer_offsets", "__transaction_state",
                    "__cluster_metadata", "x" * 249, "*", ".*", "[", "topic with spaces", "-1", "1" * 10)
_HOSTILE_INTS = {
    "int8": (-1, 0, 1, 127, -128, 2, 3),
    "int16": (-1, 0, 1, 0x7FFF, -0x8000, 2),
    "uint16": (0, 1, 0xFFFF),
    "int32": (-1, 0, 1, 0x7FFFFFFF, -0x80000000, 1_000_000, 2, 100),
    "int64": (-1, 0, 1, 2**63 - 1, -2**63, -2, 1_000_000_000_000),
}


def _hostile_value(rng: random.Random, typ: str, nullable: bool) -> object:
    if nullable and rng.random() < 0.15:
        return None
    if typ in _HOSTILE_INTS:
        return rng.choice(_HOSTILE_INTS[typ])
    if typ == "string":
        return rng.choice(_HOSTILE_STRINGS)
    if typ == "bool":
        return rng.random() < 0.5
    if typ == "uuid":
        return rng.choice((bytes(16), b"\xff" * 16, rng.randbytes(16)))
    if typ == "float64":
        return rng.choice((float("nan"), float("inf"), -1.0, 0.0))
    if typ in ("bytes", "records"):
        return rng.choice((b"", rng.randbytes(rng.choice((1, 12, 61, 100))), None if nullable else b""))
    if typ.startswith("[]"):
        return rng.choice(([], None if nullable else []))
    return None  # a struct: null (encode refuses it where the schema does)


def _clamp16(v: int) -> int:
    return max(-0x8000, min(0x7FFF, v))


def _clamp32(v: int) -> int:
    return max(-0x80000000, min(0x7FFFFFFF, v))


# -- driver ----------------------------------------------------------------------------------------

@dataclasses.dataclass
class FuzzResult:
    answered: int = 0
    no_response: int = 0
    closed: int = 0
    parked: int = 0
    hangs: list[str] = dataclasses.field(default_factory=list)
    bad_answers: list[str] = dataclasses.field(default_factory=list)
    connections: int = 0
    connect_errors: int = 0
    elapsed: float = 0.0

    @property
    def frames(self) -> int:
        return self.answered + self.no_response + self.closed + self.parked + len(self.hangs)

    def summary(self) -> str:
        fps = self.frames / self.elapsed if self.elapsed else 0.0
        return (f"{self.frames} frames in {self.elapsed:.1f}s ({fps:.0f} frames/s) over {self.connections} "
                f"connections: answered {self.answered}, no response (acks=0) {self.no_response}, closed "
                f"{self.closed}, parked {self.parked}, hangs {len(self.hangs)}, bad answers {len(self.bad_answers)}")


@dataclasses.dataclass(slots=True)
class _Sent:
    index: int  # -1: the sentinel
    api_key: int
    api_version: int
    correlation_id: int | None  # None: a frame too short to carry one
    terminal: bool


def _sentinel(correlation_id: int) -> bytes:
    body = struct.pack(">hhih", _API_VERSIONS, 0, correlation_id, len(_SENTINEL_CLIENT)) + _SENTINEL_CLIENT
    return _I32.pack(len(body)) + body


def _check_answer(sent: _Sent, payload: bytes) -> str | None:
    """None if the response decodes as the frame's API and version (or ApiVersions' v0 fallback)."""
    from fastkafka._native.wire import Reader
    from fastkafka.protocol import api

    try:
        cls = api.RESPONSES[sent.api_key]
        r = Reader(payload, 4)
        if api.response_header_version(sent.api_key, sent.api_version) >= 1:
            for _ in range(r.tagged_field_count()):
                r.uvarint()
                r.raw(r.uvarint())
        cls.decode(r, sent.api_version)
        return None
    except Exception as e:
        if sent.api_key == _API_VERSIONS:
            try:
                api.RESPONSES[_API_VERSIONS].decode(Reader(payload, 4), 0)
                return None
            except Exception:
                pass
        return f"{type(e).__name__}: {e}"


async def run_fuzz(host: str, port: int, total: int, *, seed: int = 1, connections: int = 16, batch: int = 16,
                   hang_timeout: float = 15.0, park_timeout: float = 2.0, verify_answers: bool = True,
                   progress: Callable[[int], None] | None = None, progress_every: int = 10_000,
                   mutator: FrameMutator | None = None) -> FuzzResult:
    """Send frames 0..total-1 of `FrameMutator(seed)` and classify each; see the module docstring."""
    m = mutator or FrameMutator(seed)
    res = FuzzResult()
    next_index = 0
    done = 0
    next_progress = progress_every
    t0 = time.monotonic()

    def outcome(n: int = 1) -> None:
        nonlocal done, next_progress
        done += n
        if progress is not None and done >= next_progress:
            next_progress += progress_every
            progress(done)

    async def worker(wid: int) -> None:
        nonlocal next_index
        retry: deque[tuple[int, bytes, int | None]] = deque()
        sentinel_corr = -2_000_000_000 + wid * 1_000_000  # outside the mutator's counter range
        while True:
            # Take a batch: frames the broker never read first, then new ones.
            todo: list[tuple[int, bytes, int | None]] = []
            while retry and len(todo) < batch and not (todo and todo[-1][2] is not None):
                todo.append(retry.popleft())
            while len(todo) < batch and next_index < total and not (todo and todo[-1][2] is not None):
                i = next_index
                next_index += 1
                todo.append((i, *m.frame(i)))  # a terminal frame (size prefix not its size) ends the batch
            if not todo:
                return
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                res.connect_errors += 1
                retry.extendleft(reversed(todo))
                await asyncio.sleep(0.05)
                continue
            res.connections += 1
            outstanding: deque[_Sent] = deque()
            chunks = []
            terminal = False
            for i, f, size in todo:
                key, version = (_I16.unpack_from(f, 0)[0], _I16.unpack_from(f, 2)[0]) if len(f) >= 4 else (-1, -1)
                corr = _I32.unpack_from(f, 4)[0] if len(f) >= 8 else None
                terminal = size is not None
                outstanding.append(_Sent(i, key, version, corr, terminal))
                chunks.append(_I32.pack(len(f) if size is None else size))
                chunks.append(f)
            if not terminal:
                sentinel_corr += 1
                outstanding.append(_Sent(-1, _API_VERSIONS, 0, sentinel_corr, False))
                chunks.append(_sentinel(sentinel_corr))
            frames_by_index = {i: (f, size) for i, f, size in todo}
            try:
                try:
                    writer.write(b"".join(chunks))
                    if terminal:
                        writer.write_eof()
                except OSError:
                    pass  # the broker closed already: _collect reads the end of the stream
                await _collect(reader, outstanding, frames_by_index, retry, res, outcome, m,
                               hang_timeout, park_timeout, verify_answers)
            finally:
                writer.close()

    workers = [asyncio.ensure_future(worker(w)) for w in range(connections)]
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:
            w.cancel()
    res.elapsed = time.monotonic() - t0
    return res


async def _collect(reader: asyncio.StreamReader, outstanding: deque[_Sent],
                   frames: dict[int, tuple[bytes, int | None]], retry: deque[tuple[int, bytes, int | None]],
                   res: FuzzResult, outcome: Callable[[int], None], m: FrameMutator,
                   hang_timeout: float, park_timeout: float, verify: bool) -> None:
    """Read answers until every outstanding frame has an outcome or the connection ends."""
    while outstanding:
        head = outstanding[0]
        wait = park_timeout if head.api_key in WAITING_APIS else hang_timeout
        try:
            size_b = await asyncio.wait_for(reader.readexactly(4), wait)
            size = _I32.unpack(size_b)[0]
            payload = await asyncio.wait_for(reader.readexactly(size), hang_timeout)
        except asyncio.TimeoutError:
            if head.api_key in WAITING_APIS:
                res.parked += 1
                outcome(1)
                outstanding.popleft()
            else:
                res.hangs.append(_describe(head, frames, m, "no answer and no close"))
                outcome(1)
                outstanding.popleft()
            _requeue(outstanding, frames, retry)
            return
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            # Closed: the oldest outstanding frame is the one the broker refused (or, for a
            # terminal frame, the connection ended as it should). The rest were never read.
            if head.index >= 0:
                res.closed += 1
                outcome(1)
            outstanding.popleft()
            _requeue(outstanding, frames, retry)
            return
        corr = _I32.unpack_from(payload, 0)[0] if len(payload) >= 4 else None
        # Responses are in request order: frames before the one answered sent no response.
        while outstanding and outstanding[0].correlation_id != corr:
            skipped = outstanding.popleft()
            if skipped.index < 0:
                res.bad_answers.append(f"sentinel skipped by an answer with correlation id {corr}")
            else:
                res.no_response += 1
                outcome(1)
        if not outstanding:
            res.bad_answers.append(f"answer with correlation id {corr} matches no outstanding request")
            return
        sent = outstanding.popleft()
        if sent.index >= 0:
            res.answered += 1
            outcome(1)
            if verify:
                err = _check_answer(sent, payload)
                if err is not None:
                    res.bad_answers.append(_describe(sent, frames, m, f"answer does not decode: {err}"))


def _requeue(outstanding: deque[_Sent], frames: dict[int, tuple[bytes, int | None]],
             retry: deque[tuple[int, bytes, int | None]]) -> None:
    for s in outstanding:
        if s.index >= 0:
            f, size = frames[s.index]
            retry.append((s.index, f, size))
    outstanding.clear()


def _describe(sent: _Sent, frames: dict[int, tuple[bytes, int | None]], m: FrameMutator, what: str) -> str:
    f, size = frames.get(sent.index, (b"", None))
    return (f"frame {sent.index} (seed {m.seed}; api_key {sent.api_key} v{sent.api_version}, size prefix "
            f"{size if size is not None else len(f)}): {what}; frame {f[:200].hex()}")


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description="Fuzz a running broker with mutated real-client frames.")
    ap.add_argument("--bootstrap", default="127.0.0.1:9092")
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--show", type=int, nargs="*", help="print these frame numbers (hex) and exit")
    args = ap.parse_args()
    m = FrameMutator(args.seed)
    if args.show:
        for i in args.show:
            f, size = m.frame(i)
            print(i, size, f.hex())
        return
    host, port = args.bootstrap.rsplit(":", 1)
    res = asyncio.run(run_fuzz(host, int(port), args.frames, seed=args.seed, connections=args.connections,
                               progress=lambda n: print(f"{n} frames", flush=True), progress_every=100_000,
                               mutator=m))
    print(res.summary())
    for h in res.hangs[:20] + res.bad_answers[:20]:
        print(h)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    main()
