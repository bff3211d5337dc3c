"""Ready before listening (issue 13 item 6): the broker listener is bound during start-up (its
ephemeral port is known and advertised) but refuses connections until the broker is registered
and unfenced in the published image; the first connection then gets a complete Metadata answer
(this broker listed, a controller id). In process, under uvloop and plain asyncio.

FASTKAFKA_TEST_REGISTRATION_DELAY_MS stretches the window between bind and registration, as a
loaded machine does; FASTKAFKA_TEST_SERVE_BEFORE_REGISTRATION=1 restores the old order, under
which a client connecting in that window is answered without brokers or controller."""
from __future__ import annotations

import asyncio
import re

import pytest

from fastkafka.protocol.messages import MetadataRequest
from fastkafka.server import KafkaRaftServer

from .test_connection import frame, read_response


async def _metadata(host: str, port: int) -> object:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(frame(3, 12, 7, MetadataRequest(topics=None).to_bytes(12)))
        _, resp = await asyncio.wait_for(read_response(reader, 3, 12), 10)
        return resp
    finally:
        writer.close()


async def _bound_port(server: KafkaRaftServer) -> tuple[str, int]:
    while server.socket_server is None or "PLAINTEXT" not in server.socket_server.bound:
        await asyncio.sleep(0.001)
    return server.socket_server.bound["PLAINTEXT"]


def test_listener_refuses_until_registered_then_answers_completely(run, broker_config, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FASTKAFKA_TEST_REGISTRATION_DELAY_MS", "300")

    async def main() -> None:
        server = KafkaRaftServer(broker_config)
        startup = asyncio.ensure_future(server.startup())
        try:
            host, port = await _bound_port(server)
            assert not startup.done()
            with pytest.raises(ConnectionRefusedError):  # bound, not listening: clients retry
                await asyncio.open_connection(host, port)
            await startup
            # The moment start-up returns ("Kafka Server started"), the answer is complete.
            resp = await _metadata(host, port)
            assert [(b.node_id, b.port) for b in resp.brokers] == [(1, port)]
            assert resp.controller_id == 1
            assert server.is_broker_alive(1, "PLAINTEXT")
        finally:
            if not startup.done():
                startup.cancel()
            await server.shutdown()

    run(main())


def test_old_order_answers_without_brokers_or_controller(run, broker_config, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """What a client saw before the fix (and why librdkafka's admin client waited for a controller
    until it timed out): an answer with no brokers and controller id -1."""
    monkeypatch.setenv("FASTKAFKA_TEST_REGISTRATION_DELAY_MS", "500")
    monkeypatch.setenv("FASTKAFKA_TEST_SERVE_BEFORE_REGISTRATION", "1")

    async def main() -> None:
        server = KafkaRaftServer(broker_config)
        startup = asyncio.ensure_future(server.startup())
        try:
            host, port = await _bound_port(server)
            resp = await _metadata(host, port)
            assert not startup.done()
            assert (resp.brokers, resp.controller_id) == ([], -1)
            await startup
            resp = await _metadata(host, port)
            assert resp.controller_id == 1
        finally:
            if not startup.done():
                startup.cancel()
            await server.shutdown()

    run(main())


def test_controller_listener_is_served_at_once(run, broker_config, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Only broker listeners wait: the controller listener (KRaft peers, admin tools with
    --bootstrap-controller) is served as soon as it is bound."""
    monkeypatch.setenv("FASTKAFKA_TEST_REGISTRATION_DELAY_MS", "300")

    async def main() -> None:
        server = KafkaRaftServer(broker_config)
        startup = asyncio.ensure_future(server.startup())
        try:
            while server.socket_server is None or "CONTROLLER" not in server.socket_server.bound:
                await asyncio.sleep(0.001)
            host, port = server.socket_server.bound["CONTROLLER"]
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            assert not startup.done()
            await startup
        finally:
            if not startup.done():
                startup.cancel()
            await server.shutdown()

    run(main())


# ----------------------------------------------------------------------------- fail closed (item 7)
_REFUSED = [
    ({"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
      "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL"},
     "Listener SSL in listeners uses security protocol SSL (listener.security.protocol.map)"),
    ({"listeners": "CLIENTS://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
      "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,CLIENTS:SASL_PLAINTEXT"},
     "Listener CLIENTS in listeners uses security protocol SASL_PLAINTEXT"),
    ({"listeners": "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
      "listener.security.protocol.map": "CONTROLLER:SASL_SSL,PLAINTEXT:PLAINTEXT"},
     "Listener CONTROLLER in listeners uses security protocol SASL_SSL"),
    ({"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer"},
     "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer is not provided by fastkafka"),
]


@pytest.mark.parametrize("overrides,message", _REFUSED)
def test_unserved_security_stops_start_up(run, tmp_path, overrides, message) -> None:  # type: ignore[no-untyped-def]
    from fastkafka.config import ConfigError

    from .conftest import make_config

    config = make_config(tmp_path, **overrides)  # valid for Kafka: the constructor accepts it
    with pytest.raises(ConfigError, match=re.escape(message)):
        config.check_served()
    server = KafkaRaftServer(config)

    async def main() -> None:
        try:
            with pytest.raises(ConfigError, match=re.escape(message)):
                await server.startup()
            assert server.socket_server is None  # nothing was bound
        finally:
            await server.shutdown()

    run(main())


@pytest.mark.parametrize("overrides,message", _REFUSED[:1] + _REFUSED[3:])
def test_cli_exits_1_naming_the_key(tmp_path, capsys, overrides, message) -> None:  # type: ignore[no-untyped-def]
    from fastkafka.__main__ import main

    from .conftest import make_config

    props = dict(make_config(tmp_path).props)
    props.update(overrides)
    path = tmp_path / "server.properties"
    path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    assert main(["start", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.startswith("fastkafka: ")


def test_plaintext_and_no_authorizer_are_served(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from .conftest import make_config

    make_config(tmp_path).check_served()
    make_config(tmp_path, **{"authorizer.class.name": " "}).check_served()
