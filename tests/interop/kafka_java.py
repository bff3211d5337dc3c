"""Command lines for Apache Kafka 4.4's Java tools and broker, from the jars tools/setup_test_env.sh fetched.

The jars come from Maven Central's org.apache.kafka artifacts (kafka_2.13, kafka-tools, kafka-streams
and their dependencies, plus slf4j-simple so that Kafka's own logging goes to stderr), placed by
`tools/fetch_kafka_jars.sh` in .deps/kafka-4.4.0/libs. The class names below are what the
bin/kafka-*.sh scripts of the 4.4 distribution run.
A missing jar directory is an error, never a skip: the tests that need Java must fail loudly.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_VERSION = "4.4.0"

# bin/<script>.sh -> main class, as in Kafka 4.4's distribution.
TOPICS = "org.apache.kafka.tools.TopicCommand"
CONSOLE_PRODUCER = "org.apache.kafka.tools.ConsoleProducer"
CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"
VERIFIABLE_PRODUCER = "org.apache.kafka.tools.VerifiableProducer"
PRODUCER_PERF_TEST = "org.apache.kafka.tools.ProducerPerformance"
DUMP_LOG = "org.apache.kafka.tools.DumpLogSegments"
STORAGE = "kafka.tools.StorageTool"


def kafka_libs() -> Path:
    override = os.environ.get("FASTKAFKA_KAFKA_LIBS")
    libs = Path(override) if override else REPO_ROOT / ".deps" / f"kafka-{KAFKA_VERSION}" / "libs"
    if not any(libs.glob("kafka-clients-*.jar")):
        raise FileNotFoundError(
            f"Apache Kafka {KAFKA_VERSION} jars not found in {libs}: run `bash tools/setup_test_env.sh`")
    return libs


def java_command(main_class: str, *args: str, heap: str = "-Xmx256m", log_level: str = "warn") -> list[str]:
    java = shutil.which("java")
    if java is None:
        raise FileNotFoundError("java not found on PATH (Java 17 is required for the Kafka tools)")
    return [java, heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
            f"-Dorg.slf4j.simpleLogger.defaultLogLevel={log_level}", "-Dorg.slf4j.simpleLogger.logFile=System.err",
            "-cp", f"{kafka_libs()}/*", main_class, *args]


def run_tool(main_class: str, *args: str, input: bytes | None = None, timeout: float = 120.0,
             check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Runs one Kafka tool to completion; on failure the error carries its stdout and stderr."""
    proc = subprocess.run(java_command(main_class, *args), input=input, capture_output=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{main_class} {' '.join(args)} exited {proc.returncode}\n--- stdout\n"
            f"{proc.stdout.decode(errors='replace')[-5000:]}\n--- stderr\n{proc.stderr.decode(errors='replace')[-5000:]}")
    return proc
