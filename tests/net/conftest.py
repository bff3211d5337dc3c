"""An in-process KafkaRaftServer on ephemeral ports, under uvloop and under plain asyncio."""
from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from fastkafka.cluster.format import format_storage, random_uuid
from fastkafka.config import KafkaConfig
from fastkafka.server import KafkaRaftServer


@pytest.fixture(params=["uvloop", "asyncio"])
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


@pytest.fixture
def run(event_loop_kind: str):  # type: ignore[no-untyped-def]
    """Run a coroutine to completion on the chosen loop implementation."""
    def _run(coro):  # type: ignore[no-untyped-def]
        if event_loop_kind == "uvloop":
            import uvloop

            return uvloop.run(coro)
        return asyncio.run(coro)

    return _run


def make_config(tmp_path: os.PathLike[str], **overrides: str) -> KafkaConfig:
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": "1@127.0.0.1:0",
        "listeners": "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(tmp_path),
    }
    props.update(overrides)
    return KafkaConfig(props)


class Broker:
    def __init__(self, config: KafkaConfig) -> None:
        self.config = config
        self.server = KafkaRaftServer(config)

    async def __aenter__(self) -> "Broker":
        await self.server.startup()
        assert self.server.socket_server is not None
        self.host, self.port = self.server.socket_server.bound["PLAINTEXT"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.shutdown()


@pytest.fixture
def broker_config(tmp_path: os.PathLike[str]) -> KafkaConfig:
    config = make_config(tmp_path)
    format_storage(config, random_uuid())
    return config
