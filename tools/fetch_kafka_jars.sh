#!/usr/bin/env bash
# Fetches Apache Kafka 4.1.0's jars (broker, tools, clients and their runtime dependencies) from Maven
# Central's org.apache.kafka artifacts (and Kafka Streams) into .deps/kafka-4.1.0/libs, with Maven's dependency plugin.
# Stand-in for `python tools/kafka_dist.py fetch` (tools/setup_test_env.sh prefers that when present).
# Idempotent: does nothing when the jars are already there. Run from anywhere.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION=4.1.0
DEST=".deps/kafka-$VERSION/libs"
if ls "$DEST"/kafka_2.13-$VERSION.jar "$DEST"/kafka-tools-$VERSION.jar "$DEST"/kafka-streams-$VERSION.jar >/dev/null 2>&1; then
  exit 0
fi
WORK=".deps/kafka-$VERSION/pom"
mkdir -p "$WORK" "$DEST"
cat > "$WORK/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>fastkafka.test</groupId><artifactId>kafka-dist</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- the broker (kafka.Kafka, StorageTool, DumpLogSegments) -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <!-- TopicCommand, ConsoleProducer/Consumer, VerifiableProducer, ProducerPerformance -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$VERSION</version></dependency>
    <!-- Kafka Streams (exactly_once_v2 interop test); rocksdbjni comes with it -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-streams</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
POM
mvn -q -B -Dstyle.color=never -f "$WORK/pom.xml" dependency:copy-dependencies -DoutputDirectory="$(pwd)/$DEST" -DincludeScope=runtime
