"""The `fastkafka` command.

    fastkafka                              format (if needed) and run a single-node
                                           broker+controller on 127.0.0.1:9092
    fastkafka start server.properties      run with Kafka's server.properties keys
              [--override key=value ...]
    fastkafka format -t ID -c server.properties [--ignore-formatted] [--standalone]
                                           what `kafka-storage format` does
    fastkafka random-uuid                  a new cluster id
    fastkafka info -c server.properties    what `kafka-storage info` prints
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time

from fastkafka.config import ConfigError, KafkaConfig, default_single_node_props, load_properties


def _setup_logging() -> None:
    level = os.environ.get("FASTKAFKA_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="[%(asctime)s] %(levelname)s %(message)s (%(name)s)",
        stream=sys.stderr,
    )


def _load_config(path: str | None, overrides: list[str]) -> KafkaConfig:
    props = load_properties(path) if path else default_single_node_props()
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--override expects key=value, got {item!r}")
        props[key.strip()] = value.strip()
    return KafkaConfig(props)


async def _run(config: KafkaConfig, started_at: float) -> int:
    from fastkafka.server import KafkaRaftServer

    server = KafkaRaftServer(config)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.startup()
    except Exception as e:
        from fastkafka.fd_budget import emfile_hint

        hint = emfile_hint(e)
        if hint is not None:  # the operator's fix, not a traceback to decode
            # No controlled shutdown: the logs are half loaded, and writing their checkpoints and
            # the clean-shutdown marker now would make the next start skip recovery.
            logging.getLogger("fastkafka").critical("Fatal error during start-up: %s", hint)
            logging.shutdown()
            os._exit(1)
        logging.getLogger("fastkafka").exception("Fatal error during start-up; shutting down")
        await server.shutdown()
        return 1
    logging.getLogger("fastkafka").info(
        "[KafkaRaftServer nodeId=%d] Kafka Server started (%.0f ms)", config.node_id,
        (time.monotonic() - started_at) * 1000)
    await stop.wait()
    await server.shutdown()
    return 0


def _event_loop_run(coro: object) -> int:
    if os.environ.get("FASTKAFKA_EVENT_LOOP", "uvloop") == "uvloop":
        import uvloop

        return uvloop.run(coro)  # type: ignore[arg-type,no-any-return]
    return asyncio.run(coro)  # type: ignore[arg-type,no-any-return]


def main(argv: list[str] | None = None) -> int:
    started_at = time.monotonic()
    parser = argparse.ArgumentParser(prog="fastkafka", description="A Kafka-compatible event-streaming broker")
    sub = parser.add_subparsers(dest="command")
    p_start = sub.add_parser("start", help="run a broker/controller from a server.properties file")
    p_start.add_argument("config", help="server.properties with Kafka's keys")
    p_start.add_argument("--override", action="append", default=[], metavar="KEY=VALUE")
    p_format = sub.add_parser("format", help="format storage directories (kafka-storage format)")
    p_format.add_argument("-t", "--cluster-id", required=True)
    p_format.add_argument("-c", "--config", required=True)
    p_format.add_argument("-g", "--ignore-formatted", action="store_true")
    p_format.add_argument("-s", "--standalone", action="store_true")
    p_format.add_argument("--override", action="append", default=[], metavar="KEY=VALUE")
    p_format.add_argument("-f", "--feature", action="append", default=[], metavar="NAME=LEVEL",
                          help="finalize a feature at a level other than its default, e.g. transaction.version=0")
    sub.add_parser("random-uuid", help="print a new cluster id")
    p_info = sub.add_parser("info", help="print meta.properties of the configured directories")
    p_info.add_argument("-c", "--config", required=True)
    args = parser.parse_args(argv)

    _setup_logging()
    from fastkafka.cluster.format import StorageFormatError, format_storage, is_formatted, random_uuid, storage_info

    try:
        if args.command == "random-uuid":
            print(random_uuid())
            return 0
        if args.command == "info":
            print(storage_info(_load_config(args.config, [])))
            return 0
        if args.command == "format":
            config = _load_config(args.config, args.override)
            format_storage(config, args.cluster_id, ignore_formatted=args.ignore_formatted, features=args.feature)
            print(f"Formatting metadata directory {config.metadata_log_dir} with metadata.version 4.1-IV1.")
            return 0
        if args.command == "start":
            config = _load_config(args.config, args.override)
        else:
            # No arguments: the embedded single-node defaults, formatted on first run.
            config = _load_config(None, [])
            if not is_formatted(config):
                format_storage(config, random_uuid(), ignore_formatted=True)
                logging.getLogger("fastkafka").info("Formatted %s", ", ".join(config.log_dirs))
        config.check_served()  # fail closed: no plaintext socket for an SSL/SASL listener
    except (ConfigError, StorageFormatError) as e:
        print(f"fastkafka: {e}", file=sys.stderr)
        return 1
    return _event_loop_run(_run(config, started_at))


if __name__ == "__main__":
    sys.exit(main())
