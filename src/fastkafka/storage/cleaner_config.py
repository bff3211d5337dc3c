"""CleanerConfig: the log cleaner's broker settings (Kafka's CleanerConfig), read from the
broker's properties with Kafka's keys and defaults (`config.BROKER_CONFIG_DEFS`).

Immutable; a dynamic change (`log.cleaner.*` other than `log.cleaner.enable`) makes a new one.
Per-topic cleaning settings (`min.cleanable.dirty.ratio`, `min/max.compaction.lag.ms`,
`delete.retention.ms`, `segment.bytes`, `segment.index.bytes`) live in `LogConfig`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CleanerConfig:
    num_threads: int = 1
    dedupe_buffer_size: int = 134217728
    dedupe_buffer_load_factor: float = 0.9
    io_buffer_size: int = 524288
    max_message_size: int = 1048588
    max_io_bytes_per_second: float = 1.7976931348623157e308
    backoff_ms: int = 15000
    enable_cleaner: bool = True

    @classmethod
    def from_props(cls, props: Mapping[str, str]) -> "CleanerConfig":
        from fastkafka.config import BROKER_CONFIG_DEFS

        def get(key: str) -> str:
            v = props.get(key)
            if v is None:
                d = BROKER_CONFIG_DEFS.get(key)
                assert d is not None and d.default is not None, key
                return d.default
            return str(v)

        cfg = cls(
            num_threads=int(get("log.cleaner.threads")),
            dedupe_buffer_size=int(get("log.cleaner.dedupe.buffer.size")),
            dedupe_buffer_load_factor=float(get("log.cleaner.io.buffer.load.factor")),
            io_buffer_size=int(get("log.cleaner.io.buffer.size")),
            max_message_size=int(get("message.max.bytes")),
            max_io_bytes_per_second=float(get("log.cleaner.io.max.bytes.per.second")),
            backoff_ms=int(get("log.cleaner.backoff.ms")),
            enable_cleaner=get("log.cleaner.enable").strip().lower() == "true",
        )
        if cfg.num_threads < 0:
            raise ValueError(f"log.cleaner.threads must be >= 0, got {cfg.num_threads}")
        return cfg

    @property
    def dedupe_buffer_size_per_thread(self) -> int:
        """Kafka: dedupeBufferSize / numThreads, capped at Int.MaxValue."""
        return min(self.dedupe_buffer_size // max(self.num_threads, 1), 2**31 - 1)
