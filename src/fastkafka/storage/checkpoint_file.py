"""CheckpointFile: Kafka's versioned text checkpoint format (server.common.CheckpointFile), and
the OffsetCheckpointFile used for `recovery-point-offset-checkpoint`,
`log-start-offset-checkpoint` and `replication-offset-checkpoint`.

Format (UTF-8, '\\n' line ends):
    <version>            e.g. 0
    <entry count>
    <entry>              one line per entry; for offset checkpoints: "topic partition offset"
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Generic, TypeVar

from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.topic_partition import TopicPartition

T = TypeVar("T")

RECOVERY_POINT_CHECKPOINT_FILE = "recovery-point-offset-checkpoint"
LOG_START_OFFSET_CHECKPOINT_FILE = "log-start-offset-checkpoint"
REPLICATION_OFFSET_CHECKPOINT_FILE = "replication-offset-checkpoint"


# Inside deferred_fsync(): the paths whose fsync was put off, per thread (the event loop defers;
# a log-creation worker thread syncs its own files itself, never into the loop's set).
_tls = threading.local()


def _current_deferred() -> set[str] | None:
    return getattr(_tls, "paths", None)


@contextmanager
def deferred_fsync() -> Iterator[set[str]]:
    """Inside the block, `fsync_dir` and `atomic_write` record what they would fsync instead of
    syncing; the caller passes the set to `fsync_paths`, typically on a background thread. For
    bulk metadata work (a topic of 10,000 partitions is ~60,000 fsyncs otherwise, minutes on one
    disk). A `kill -9` sees the same files either way (the page cache survives it); an OS crash
    before the deferred fsyncs can lose only the new empty logs, which the KRaft metadata log
    recreates, and atomic_write's old-or-new guarantee holds once they are done. Re-entrant."""
    current = _current_deferred()
    if current is not None:
        yield current
        return
    paths: set[str] = set()
    _tls.paths = paths
    try:
        yield paths
    finally:
        _tls.paths = None


def fsync_paths(paths: Iterable[str]) -> None:
    """fsync files and directories (missing ones are skipped: deleted since)."""
    for path in sorted(paths, key=lambda p: -p.count(os.sep)):  # files and subdirs before parents
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_dir(dir_path: str) -> None:
    """fsync a directory so a rename/creation inside it survives a crash (Utils.flushDir)."""
    deferred = _current_deferred()
    if deferred is not None:
        deferred.add(os.path.abspath(dir_path))
        return
    fd = os.open(dir_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str, data: bytes) -> None:
    """tmp file + fsync + rename + fsync(dir): readers see the old or the new file, never a mix."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        deferred = _current_deferred()
        if deferred is None:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if deferred is not None:
        deferred.add(os.path.abspath(path))
    fsync_dir(os.path.dirname(os.path.abspath(path)))


class CheckpointFile(Generic[T]):
    """A versioned list of entries in a text file.

    Invariants: the file on disk is always a complete checkpoint (atomic_write); `read` rejects
    a wrong version, a count that does not match, or a malformed line with KAFKA_STORAGE_ERROR
    (Kafka's IOException "Malformed line in checkpoint file").
    Concurrency: single writer: call only from the event loop thread.
    """

    def __init__(self, path: str, version: int, to_line: Callable[[T], str],
                 from_line: Callable[[str], T | None]) -> None:
        self.path = path
        self.version = version
        self._to_line = to_line
        self._from_line = from_line

    def write(self, entries: Iterable[T]) -> None:
        items = list(entries)
        lines = [str(self.version), str(len(items))] + [self._to_line(e) for e in items]
        atomic_write(self.path, ("\n".join(lines) + "\n").encode())

    def read(self) -> list[T]:
        """Entries of the file; [] if it does not exist."""
        try:
            with open(self.path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            return []
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()

        def malformed(line: str) -> KafkaError:
            return KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Malformed line in checkpoint file {self.path}: '{line}'")

        if not lines:
            raise malformed("")
        try:
            version = int(lines[0].strip())
        except ValueError:
            raise malformed(lines[0]) from None
        if version != self.version:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR,
                             f"Unrecognized version of the checkpoint file {self.path}: {version}")
        if len(lines) < 2:
            raise malformed("")
        try:
            expected = int(lines[1].strip())
        except ValueError:
            raise malformed(lines[1]) from None
        entries: list[T] = []
        for line in lines[2:]:
            e = self._from_line(line)
            if e is None:
                raise malformed(line)
            entries.append(e)
        if len(entries) != expected:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR,
                             f"Expected {expected} entries in checkpoint file ({self.path}), but found only {len(entries)}")
        return entries


def _offset_to_line(e: tuple[TopicPartition, int]) -> str:
    tp, offset = e
    return f"{tp.topic} {tp.partition} {offset}"


def _offset_from_line(line: str) -> tuple[TopicPartition, int] | None:
    parts = line.split()
    if len(parts) != 3:
        return None
    try:
        return TopicPartition(parts[0], int(parts[1])), int(parts[2])
    except ValueError:
        return None


class OffsetCheckpointFile:
    """`topic partition offset` checkpoint, version 0 (kafka.server.checkpoints.OffsetCheckpointFile)."""

    CURRENT_VERSION = 0

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: CheckpointFile[tuple[TopicPartition, int]] = CheckpointFile(
            path, self.CURRENT_VERSION, _offset_to_line, _offset_from_line)

    def write(self, offsets: Mapping[TopicPartition, int]) -> None:
        self._file.write(sorted(offsets.items()))

    def read(self) -> dict[TopicPartition, int]:
        return dict(self._file.read())
