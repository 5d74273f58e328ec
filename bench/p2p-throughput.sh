#!/usr/bin/env bash
# libp2p loopback benchmark: echo and one-way throughput through noise+yamux vs plain Netty TCP measured in
# the same run, and connection setups per second. Options (Java system properties):
#   BENCH_OPTS="-Dbench.bytes=268435456 -Dbench.rounds=5 -Dbench.handshakes=200 -Dbench.window=1048576 -Dbench.psk=true"
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
. bin/find-jdk.sh
cp_file=node/target/bench-classpath.txt
./mvnw -B -ntp -q -pl node -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$PWD/$cp_file" -Dmdep.includeScope=test
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx2g ${BENCH_OPTS:-} \
  -cp "node/target/test-classes:node/target/classes:protocol/target/classes:$(cat "$cp_file")" \
  org.oscircular.node.p2p.P2pBench
