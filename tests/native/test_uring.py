"""UringAppender (_native/uring.py) and FileRecords' batched appends: queued writes land at their
own offsets in one submission; reads, flushes and truncations inside a batch see queued bytes;
a failed write surfaces as OSError."""
import os

import pytest

try:
    from fastkafka._native import uring
except ImportError as e:  # the broker then appends with pwrite
    pytest.skip(f"fastkafka._native.uring refuses to load here ({e}): no liburing wheel, or a CPU without the "
                "instructions the pinned wheel uses (uring._missing_cpu_flags)", allow_module_level=True)

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


def test_ring_opens_and_writes_at_explicit_offsets_out_of_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Buffers of every accepted kind at explicit, out-of-order offsets with gaps, more writes
    than ring entries (the queue-full path completes what is queued first), read back."""
    u = _appender(4)
    path = tmp_path / "f"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    expected = bytearray(20 * 1000)
    order = [7, 2, 19, 0, 11, 5, 16, 1, 9, 13, 3, 18, 6, 14, 10]  # 15 writes, 4 entries
    request = bytearray(os.urandom(1000 * 20))  # a "request buffer" memoryviews point into
    for k, slot in enumerate(order):
        off = slot * 1000
        size = 500 + slot * 20
        kind = k % 4
        if kind == 0:
            data: object = os.urandom(size)
        elif kind == 1:
            data = bytearray(os.urandom(size))
        elif kind == 2:
            data = memoryview(request)[off:off + size]
        else:
            data = memoryview(os.urandom(size)).cast("c")  # not format "B"
        expected[off:off + size] = bytes(data)  # type: ignore[call-overload]
        u.write(fd, data, off)  # type: ignore[arg-type]
        assert u.queued == k % 4 + 1  # never more than `entries` queued
    u.complete()
    assert u.queued == 0 and u.writes == len(order) and u.fallbacks == 0
    assert u.submits == 4  # 4 + 4 + 4 on a full queue, 3 at the end
    assert os.pread(fd, len(expected) + 10, 0) == bytes(expected[:max(order) * 1000 + 500 + 19 * 20])
    os.close(fd)
    u.close()
    with pytest.raises(ValueError):
        u.write(0, b"x", 0)


def test_completions_of_an_earlier_batch_never_count(tmp_path) -> None:  # type: ignore[no-untyped-def]
    u = _appender(8)
    fd = os.open(tmp_path / "g", os.O_RDWR | os.O_CREAT)
    for batch in range(5):
        for i in range(3):
            u.write(fd, bytes([65 + batch]) * 10, (batch * 3 + i) * 10)
        u.complete()
    assert u.writes == 15 and u.fallbacks == 0
    assert os.pread(fd, 200, 0) == b"".join(bytes([65 + b]) * 30 for b in range(5))
    os.close(fd)
    u.close()


def test_cpu_flag_check() -> None:
    if os.uname().machine != "x86_64":
        pytest.skip(f"uring._missing_cpu_flags checks x86-64 /proc/cpuinfo flags only; this is {os.uname().machine}")
    have = "flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512vl bmi1 bmi2 movbe\n"
    assert uring._missing_cpu_flags("processor\t: 0\n" + have) == set()
    assert uring._missing_cpu_flags("flags\t\t: fpu sse2 avx avx2 bmi1 bmi2 movbe\n") == {
        "avx512f", "avx512bw", "avx512vl"}


def test_a_rejected_write_queues_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Arguments the binding refuses raise at write() and leave no live SQE behind."""
    u = _appender(2)
    fd = os.open(tmp_path / "h", os.O_RDWR | os.O_CREAT)
    with pytest.raises(TypeError):
        u.write(fd, 12345, 0)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        u.write(2**40, b"never", 0)  # fails inside the binding, after an SQE was taken
    with pytest.raises(ValueError):
        u.write(fd, b"never", -1)
    for i in range(3):
        u.write(fd, b"%d" % i * 4, 4 * i)
    u.complete()
    assert u.queued == 0 and u.writes == 3 and u.fallbacks == 0
    assert os.pread(fd, 100, 0) == b"000011112222"
    os.close(fd)
    u.close()
