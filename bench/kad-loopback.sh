#!/usr/bin/env bash
# Announce an image's blocks into a DHT of real libp2p hosts on loopback (one JVM): per-key baseline vs region
# sweep in the same run, then find-providers latency. Usage: bench/kad-loopback.sh [nodes=100] [blocks=16384] [baseline=1024]
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
./mvnw -B -ntp -q -pl node -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/kad-bench.classpath -Dmdep.includeScope=test
exec "$JAVA_HOME/bin/java" -Xmx2g --enable-native-access=ALL-UNNAMED \
  -cp "node/target/classes:node/target/test-classes:protocol/target/classes:protocol/target/test-classes:$(cat node/target/kad-bench.classpath)" \
  org.oscircular.node.kad.bench.DhtLoopbackBench "$@"
