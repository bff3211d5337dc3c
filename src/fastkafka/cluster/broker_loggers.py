"""BROKER_LOGGER config resources on Python logging (Kafka's Log4jController and
RuntimeLoggerManager).

Invariants: the logger names are Python's (`root` plus every logger created so far); levels use
Kafka's names (FATAL, ERROR, WARN, INFO, DEBUG, TRACE; Python's CRITICAL is FATAL, WARNING is
WARN, and TRACE maps to Python level 5). Changes are validated as a whole before any is applied,
apply only in memory (as in Kafka, they do not survive a restart), and DELETE resets a logger to
inherit its parent's level. Errors carry Kafka's codes and messages.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastkafka.protocol.errors import Errors, KafkaError

ROOT_LOGGER = "root"
VALID_LOG_LEVELS = ("FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE")
TRACE = 5

_TO_PY = {"FATAL": logging.CRITICAL, "ERROR": logging.ERROR, "WARN": logging.WARNING, "INFO": logging.INFO,
          "DEBUG": logging.DEBUG, "TRACE": TRACE}
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
_OP_NAMES = {APPEND: "APPEND", SUBTRACT: "SUBTRACT"}


def _kafka_level(level: int) -> str:
    if level >= logging.CRITICAL:
        return "FATAL"
    if level >= logging.ERROR:
        return "ERROR"
    if level >= logging.WARNING:
        return "WARN"
    if level >= logging.INFO:
        return "INFO"
    if level >= logging.DEBUG:
        return "DEBUG"
    return "TRACE"


def _logger(name: str) -> logging.Logger:
    return logging.getLogger() if name == ROOT_LOGGER else logging.getLogger(name)


def logger_exists(name: str) -> bool:
    return name == ROOT_LOGGER or isinstance(logging.Logger.manager.loggerDict.get(name), logging.Logger)


def current_loggers() -> dict[str, str]:
    """Every logger with its effective level (Log4jController.loggers), root first."""
    out = {ROOT_LOGGER: _kafka_level(logging.getLogger().getEffectiveLevel())}
    for name in sorted(logging.Logger.manager.loggerDict):
        lg = logging.Logger.manager.loggerDict[name]
        if isinstance(lg, logging.Logger):
            out[name] = _kafka_level(lg.getEffectiveLevel())
    return out


def validate_node_id(resource_name: str, node_id: int) -> None:
    try:
        requested = int(resource_name)
    except ValueError:
        raise KafkaError(Errors.INVALID_REQUEST, f"Node id must be an integer, but it is: {resource_name}") from None
    if requested != node_id:
        # Kafka's message prints its own id twice (RuntimeLoggerManager.validateResourceNameIsNodeId).
        raise KafkaError(Errors.INVALID_REQUEST, f"Unexpected node id. Expected {node_id}, but received {node_id}")


def validate(ops: Iterable[Any]) -> None:
    """RuntimeLoggerManager.validateLogLevelConfigs; `ops` have name, value, config_operation."""
    for op in ops:
        code = op.config_operation
        if code == SET:
            if not logger_exists(op.name):
                raise KafkaError(Errors.INVALID_CONFIG, f"Logger {op.name} does not exist!")
            if op.value not in VALID_LOG_LEVELS:
                raise KafkaError(Errors.INVALID_CONFIG,
                                 f"Cannot set the log level of {op.name} to {op.value} as it is not a supported "
                                 f"log level. Valid log levels are {', '.join(VALID_LOG_LEVELS)}")
        elif code == DELETE:
            if not logger_exists(op.name):
                raise KafkaError(Errors.INVALID_CONFIG, f"Logger {op.name} does not exist!")
            if op.name == ROOT_LOGGER:
                raise KafkaError(Errors.INVALID_REQUEST, f"Removing the log level of the {ROOT_LOGGER} logger is not allowed")
        elif code in _OP_NAMES:
            raise KafkaError(Errors.INVALID_REQUEST, f"{_OP_NAMES[code]} operation is not allowed for the BROKER_LOGGER resource")
        else:
            raise KafkaError(Errors.INVALID_REQUEST,
                             f"Unknown operation type {code} is not allowed for the BROKER_LOGGER resource")


def apply(ops: Iterable[Any]) -> None:
    log = logging.getLogger("fastkafka.server.ConfigAdminManager")
    for op in ops:
        if op.config_operation == SET:
            _logger(op.name).setLevel(_TO_PY[op.value])
            log.warning("Updated the log level of %s to %s", op.name, op.value)
        else:
            _logger(op.name).setLevel(logging.NOTSET)
            log.warning("Unset the log level of %s", op.name)
