"""DescribeLogDirs (35) handler over a real LogManager with two log dirs, every version encoded
and decoded: all dirs listed, requested partitions only, sizes, v4 volume sizes."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from fastkafka.net.handlers.k35_describe_log_dirs import handle_describe_log_dirs
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.messages import DescribeLogDirsRequest, DescribeLogDirsResponse
from fastkafka.storage import LogConfig, LogManager, TopicPartition


def _ctx(version: int) -> RequestContext:
    return RequestContext(api_key=35, api_version=version, correlation_id=1, client_id="t", listener_name="PLAINTEXT",
                          security_protocol="PLAINTEXT", client_address="127.0.0.1", connection_id="c")


def test_every_version(tmp_path: Path) -> None:
    dirs = [str(tmp_path / "a"), str(tmp_path / "b")]
    lm = LogManager(dirs, {"fastkafka.io.uring.enable": "false"})
    lm.startup()
    try:
        for p in range(3):
            lm.get_or_create_log(TopicPartition("t", p), bytes([p + 1]) * 16, LogConfig())
        broker = SimpleNamespace(log_manager=lm)
        T = DescribeLogDirsRequest.DescribableLogDirTopic
        for version in range(5):
            for topics in (None, [T(topic="t", partitions=[0, 2]), T(topic="missing", partitions=[0])]):
                req = DescribeLogDirsRequest(topics=topics)
                resp = handle_describe_log_dirs(broker, _ctx(version), req)
                resp = DescribeLogDirsResponse.from_bytes(resp.to_bytes(version), version)
                assert sorted(r.log_dir for r in resp.results) == sorted(dirs)
                found = {(t.name, p.partition_index): (r.log_dir, p.partition_size, p.offset_lag, p.is_future_key)
                         for r in resp.results for t in r.topics for p in t.partitions}
                expected = {0, 1, 2} if topics is None else {0, 2}
                assert set(found) == {("t", p) for p in expected}
                for (_, p), (d, size, lag, future) in found.items():
                    assert d == lm.log_dir_of(TopicPartition("t", p)) and size == 0 and lag == 0 and not future
                for r in resp.results:
                    assert r.error_code == 0
                    if version >= 4:
                        assert r.total_bytes >= r.usable_bytes > 0
                    else:
                        assert r.total_bytes == -1  # not on the wire before v4
    finally:
        lm.shutdown()
