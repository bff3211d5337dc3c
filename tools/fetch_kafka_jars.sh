#!/usr/bin/env bash
# Fetches Apache Kafka 4.4.0's jars (broker, tools, clients and their runtime dependencies) from Maven
# Central's org.apache.kafka artifacts (and Kafka Streams) into .deps/kafka-4.4.0/libs, with Maven's dependency plugin.
# Stand-in for `python tools/kafka_dist.py fetch` (tools/setup_test_env.sh prefers that when present).
# Idempotent: does nothing when the jars are already there. Run from anywhere.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION=4.4.0
DEST=".deps/kafka-$VERSION/libs"
SLF4J=1.7.36  # the slf4j-api version Kafka 4.4's poms name
if ls "$DEST"/kafka_2.13-$VERSION.jar "$DEST"/kafka-tools-$VERSION.jar "$DEST"/kafka-streams-$VERSION.jar \
      "$DEST"/slf4j-simple-$SLF4J.jar >/dev/null 2>&1; then
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
    <!-- an SLF4J binding: without one the broker and tools log nothing (Kafka's distribution ships
         log4j's, which its poms leave out); levels with -Dorg.slf4j.simpleLogger.defaultLogLevel -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>$SLF4J</version></dependency>
  </dependencies>
</project>
POM
mvn -q -B -Dstyle.color=never -f "$WORK/pom.xml" dependency:copy-dependencies -DoutputDirectory="$(pwd)/$DEST" -DincludeScope=runtime
