"""AlterReplicaLogDirs (34) handler over a real LogManager with two log dirs, v1 and v2 encoded and
decoded: per-partition codes (moved, LOG_DIR_NOT_FOUND, UNKNOWN_TOPIC_OR_PARTITION vs
REPLICA_NOT_AVAILABLE), and DescribeLogDirs listing the future replica until the swap."""
from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

from fastkafka.net.handlers.k34_alter_replica_log_dirs import handle_alter_replica_log_dirs
from fastkafka.net.handlers.k35_describe_log_dirs import handle_describe_log_dirs
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import AlterReplicaLogDirsRequest, AlterReplicaLogDirsResponse, DescribeLogDirsRequest
from fastkafka.storage import LogConfig, LogManager, TopicPartition

D = AlterReplicaLogDirsRequest.AlterReplicaLogDir
T = AlterReplicaLogDirsRequest.AlterReplicaLogDirTopic


def _ctx(key: int, version: int) -> RequestContext:
    return RequestContext(api_key=key, api_version=version, correlation_id=1, client_id="t", listener_name="PLAINTEXT",
                          security_protocol="PLAINTEXT", client_address="127.0.0.1", connection_id="c")


def test_codes_and_future_replica(tmp_path: Path) -> None:
    async def main() -> None:
        dirs = [str(tmp_path / "a"), str(tmp_path / "b")]
        lm = LogManager(dirs, {"fastkafka.io.uring.enable": "false"})
        lm.startup()
        try:
            lm.get_or_create_log(TopicPartition("t", 0), bytes([1]) * 16, LogConfig())
            src = lm.log_dir_of(TopicPartition("t", 0))
            dest = next(d for d in dirs if d != src)
            # "t" has partitions 0 and 1 in the metadata; only 0 is hosted here.
            known = {("t", 0), ("t", 1)}
            broker = SimpleNamespace(log_manager=lm,
                                     partition_leader=lambda t, p: (1, 0) if (t, p) in known else None)
            for version in (1, 2):
                req = AlterReplicaLogDirsRequest(dirs=[
                    D(path=dest, topics=[T(name="t", partitions=[0, 1]), T(name="u", partitions=[0])]),
                    D(path="relative/dir", topics=[T(name="v", partitions=[0])]),
                ])
                resp = handle_alter_replica_log_dirs(broker, _ctx(34, version), req)
                resp = AlterReplicaLogDirsResponse.from_bytes(resp.to_bytes(version), version)
                got = {(t.topic_name, p.partition_index): p.error_code for t in resp.results for p in t.partitions}
                assert got == {("t", 0): 0, ("t", 1): Errors.REPLICA_NOT_AVAILABLE,
                               ("u", 0): Errors.UNKNOWN_TOPIC_OR_PARTITION, ("v", 0): Errors.LOG_DIR_NOT_FOUND}
            # Not copied yet (no await since): listed in both dirs, the destination as future.
            desc = handle_describe_log_dirs(broker, _ctx(35, 4), DescribeLogDirsRequest(topics=None))
            found = {(r.log_dir, p.is_future_key) for r in desc.results for t in r.topics for p in t.partitions}
            assert found == {(src, False), (dest, True)}
            while lm.future_logs():
                await asyncio.sleep(0.01)
            desc = handle_describe_log_dirs(broker, _ctx(35, 4), DescribeLogDirsRequest(topics=None))
            found = {(r.log_dir, p.is_future_key) for r in desc.results for t in r.topics for p in t.partitions}
            assert found == {(dest, False)}
        finally:
            lm.shutdown()

    asyncio.run(main())
