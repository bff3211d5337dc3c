"""TransactionIndex: a segment's `.txnindex`, the aborted transactions whose ABORT marker is in
that segment (storage.internals.log.TransactionIndex, AbortedTxn, TxnIndexSearchResult).

File format, Kafka's: back-to-back 34-byte AbortedTxn entries, each int16 version (0), int64
producer id, int64 first offset, int64 last offset (the marker's offset), int64 last stable
offset (the LSO right after the marker was written). The file exists only once an entry was
appended (Kafka opens it lazily).

Invariants: entries are in increasing last offset (the order markers are appended); the in-memory
list and the file hold the same entries (an append writes through with pwrite at the file's
end; the page cache survives kill -9, a crash of the machine is covered by recovery rebuilding
the index of every segment above the recovery point); a torn trailing entry is dropped at load.
Concurrency: single writer, the event-loop thread (owned by its LogSegment).
"""
from __future__ import annotations

import bisect
import os
import struct
from typing import NamedTuple

ABORTED_TXN_VERSION = 0
ABORTED_TXN_SIZE = 34
_ENTRY = struct.Struct(">hqqqq")


class AbortedTxn(NamedTuple):
    producer_id: int
    first_offset: int
    last_offset: int
    last_stable_offset: int

    def encode(self) -> bytes:
        return _ENTRY.pack(ABORTED_TXN_VERSION, self.producer_id, self.first_offset, self.last_offset,
                           self.last_stable_offset)


class TxnIndexSearchResult(NamedTuple):
    aborted_transactions: list[AbortedTxn]
    # An entry's LSO reached the upper bound: no later segment can hold an overlapping entry.
    is_complete: bool


class TransactionIndex:
    def __init__(self, start_offset: int, path: str) -> None:
        self.start_offset = start_offset
        self.path = path
        self._entries: list[AbortedTxn] = []
        self._last_offsets: list[int] = []  # the entries' last offsets (ascending), for bisect
        self._fd: int | None = None
        self._dirty = False  # appended or truncated since the last fsync
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            whole = len(data) - len(data) % ABORTED_TXN_SIZE
            for pos in range(0, whole, ABORTED_TXN_SIZE):
                version, pid, first, last, lso = _ENTRY.unpack_from(data, pos)
                if version != ABORTED_TXN_VERSION:
                    whole = pos  # Kafka raises on an unknown version: treat the rest as torn
                    break
                self._entries.append(AbortedTxn(pid, first, last, lso))
                self._last_offsets.append(last)
            if whole != len(data):
                os.truncate(path, whole)

    @property
    def entries(self) -> list[AbortedTxn]:
        return list(self._entries)

    @property
    def last_offset(self) -> int | None:
        return self._entries[-1].last_offset if self._entries else None

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        return self._fd

    def append(self, txn: AbortedTxn) -> None:
        last = self.last_offset
        if last is not None and last >= txn.last_offset:
            raise ValueError(f"The last offset of appended transactions must increase sequentially, but "
                             f"{txn.last_offset} is not greater than current last offset {last} of index {self.path}")
        fd = self._file()
        os.pwrite(fd, txn.encode(), len(self._entries) * ABORTED_TXN_SIZE)
        self._dirty = True
        self._entries.append(txn)
        self._last_offsets.append(txn.last_offset)

    def collect_aborted_txns(self, fetch_offset: int, upper_bound_offset: int) -> TxnIndexSearchResult:
        """Entries overlapping [fetch_offset, upper_bound_offset); complete once an entry's LSO
        reaches the upper bound (Kafka's collectAbortedTxns).

        The scan starts at the first entry with last offset >= fetch_offset (bisect): the result
        is Kafka's, because an earlier entry whose LSO reached the upper bound means no later
        entry starts below it."""
        out = []
        start = bisect.bisect_left(self._last_offsets, fetch_offset)
        for i in range(start, len(self._entries)):
            txn = self._entries[i]
            if txn.last_offset >= fetch_offset and txn.first_offset < upper_bound_offset:
                out.append(txn)
            if txn.last_stable_offset >= upper_bound_offset:
                return TxnIndexSearchResult(out, True)
        return TxnIndexSearchResult(out, False)

    def truncate_to(self, offset: int) -> None:
        """Drop entries whose marker is at or above `offset` (a truncated log)."""
        keep = 0
        while keep < len(self._entries) and self._entries[keep].last_offset < offset:
            keep += 1
        if keep == len(self._entries):
            return
        del self._entries[keep:]
        del self._last_offsets[keep:]
        if os.path.exists(self.path):
            os.truncate(self.path, keep * ABORTED_TXN_SIZE)
            self._dirty = True

    def reset(self) -> None:
        """Empty the index (segment recovery rebuilds it)."""
        self._entries.clear()
        self._last_offsets.clear()
        if os.path.exists(self.path):
            os.truncate(self.path, 0)
            self._dirty = True

    def flush(self) -> None:
        """fsync the file if it changed since the last flush (reopened if closed meanwhile)."""
        if not self._dirty:
            return
        if self._fd is not None:
            os.fsync(self._fd)
        else:
            try:
                fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                self._dirty = False
                return
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._dirty = False

    def rename_to(self, path: str) -> None:
        if os.path.exists(self.path):
            os.rename(self.path, path)
        self.path = path

    def moved_to(self, path: str) -> None:
        """The directory was renamed: only the path changes (an open fd follows the file)."""
        self.path = path

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def delete_if_exists(self) -> None:
        self.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __repr__(self) -> str:
        return f"TransactionIndex({self.path}, entries={len(self._entries)})"
