#!/usr/bin/env bash
# Scale benchmark of the rollout simulator: events per CPU second and heap bytes per simulated host at growing
# sizes, with ratios to the smallest size of the same run.
#   bench/sim.sh                      # 10k (median of 3) and 100k hosts
#   bench/sim.sh 10000 100000 1000000 # add 1M hosts (needs SIM_BENCH_HEAP=8g)
#   bench/sim.sh --boot-blocks=64 1000000
#   bench/sim.sh --build-only 100000 1000000   # heap of a built world before anyone boots
#   bench/sim.sh --scenario=simulator/scenarios/noon-rollout.yaml 10000 100000    # a scenario file, sized per run
#   bench/sim.sh --scenario=simulator/scenarios/noon-rollout.yaml --set=network.large-component-delay=200ms 1000000
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
. "$root/bin/find-jdk.sh"
jar="$root/simulator/target/circular-sim.jar"
if [ ! -f "$jar" ] || [ -n "${CIRCULAR_REBUILD:-}" ]; then
  (cd "$root" && ./mvnw -q -B -ntp -DskipTests -pl simulator -am package) >&2
fi
exec "$JAVA_HOME/bin/java" -Xmx"${SIM_BENCH_HEAP:-8g}" -XX:+UseParallelGC -cp "$jar" org.oscircular.simulator.SimBench "$@"
