#!/usr/bin/env bash
# Lab benchmark: N clients (default 4, 8, 16) in network namespaces read one image at once from an nginx
# origin whose link is shaped with tc tbf. Prints, per N, origin egress / image bytes and the time for all
# N to read / the time for one client alone, with peer exchange on and off. Needs root, nginx, fuse3.
#   bench/lab.sh [CLIENTS] [ORIGIN_RATE]      e.g. bench/lab.sh 4,8 200mbit
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
. bin/find-jdk.sh
clients="${1:-4,8,16}"
rate="${2:-100mbit}"
./mvnw -B -q -ntp -pl node -am test -Dtest=LabBench -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtest.excludedGroups=none -Dbench.clients="$clients" -Dbench.origin-rate="$rate" >/dev/null || {
  echo "lab bench failed; see node/target/surefire-reports/" >&2; exit 1; }
grep -E '^(lab bench:|clients |[0-9]+ )' node/target/surefire-reports/org.oscircular.node.daemon.LabBench-output.txt
