#!/usr/bin/env bash
# Announce a 16k-block image into the 1000-node virtual-time DHT harness: per-key baseline vs region sweep,
# measured in the same run. Usage: bench/kad-announce.sh [blocks=16384] [nodes=1000] [seeds=3]
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
./mvnw -B -ntp -q -pl protocol test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/kad-bench.classpath -Dmdep.includeScope=test
exec "$JAVA_HOME/bin/java" -Xmx2g \
  -cp "protocol/target/classes:protocol/target/test-classes:$(cat protocol/target/kad-bench.classpath)" \
  org.oscircular.protocol.kad.bench.AnnounceBench "$@"
