"""UringAppender (_native/uring.pyx) and FileRecords' batched appends: queued writes land at their
own offsets in one submission; reads, flushes and truncations inside a batch see queued bytes;
a failed write surfaces as OSError."""
import os

import pytest

uring = pytest.importorskip("fastkafka._native.uring")

from fastkafka.storage.file_records import FileRecords, batched_appends  # noqa: E402


def _appender(entries: int = 8):
    try:
        return uring.UringAppender(entries)
    except OSError as e:  # kernel refuses io_uring (sysctl, seccomp): the broker falls back
        pytest.skip(str(e))


def test_writes_land_at_their_offsets_across_full_submission_queues(tmp_path) -> None:  # type: ignore[no-untyped-def]
    u = _appender(8)
    fds = [os.open(tmp_path / f"f{i}", os.O_RDWR | os.O_CREAT) for i in range(3)]
    expected = [bytearray() for _ in fds]
    for i in range(50):  # 50 writes through an 8-entry ring: several submissions
        k = i % 3
        data = os.urandom(100 + i)
        buf = memoryview(b"pad" + data)[3:] if i % 2 else data  # memoryviews and bytes
        u.write(fds[k], buf, len(expected[k]))
        expected[k] += data
    u.complete()
    assert u.queued == 0 and u.writes == 50 and u.fallbacks == 0
    assert u.submits >= 50 // 8
    for fd, exp in zip(fds, expected):
        assert os.pread(fd, len(exp) + 10, 0) == bytes(exp)
        os.close(fd)
    u.close()


def test_a_failed_write_raises(tmp_path) -> None:  # type: ignore[no-untyped-def]
    u = _appender()
    fd = os.open(tmp_path / "ro", os.O_RDONLY | os.O_CREAT)
    u.write(fd, b"x" * 10, 0)
    with pytest.raises(OSError):
        u.complete()  # EBADF through the ring, and again through the pwrite retry
    os.close(fd)
    u.close()


def test_file_records_in_a_batch_read_flush_and_truncate_see_queued_writes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    u = _appender()
    fr = FileRecords(str(tmp_path / "0.log"))
    with batched_appends(u):
        fr.append(b"a" * 100)
        fr.append(b"b" * 100)
        assert u.queued == 2 and fr.size == 200
        assert fr.read_bytes(50, 100) == b"a" * 50 + b"b" * 50  # completes the queue first
        assert u.queued == 0
        fr.append(b"c" * 100)
        fr.flush()
        assert u.queued == 0
        fr.append(b"d" * 100)
        fr.truncate_to(300)
        assert u.queued == 0
        fr.append(b"e" * 10)
    assert u.queued == 0
    assert fr.read_bytes() == b"a" * 100 + b"b" * 100 + b"c" * 100 + b"e" * 10
    assert os.path.getsize(tmp_path / "0.log") == 310
    fr.close()
    u.close()
