#!/usr/bin/env bash
# Warm sequential read through NBD: `nbdcopy` from `circular nbd` serving a raw image vs `nbdcopy`
# from `nbdkit file` serving the same image, measured in one run. Prints medians and the ratio
# (our throughput / nbdkit's; target >= 0.9).
#   SIZE_MIB=1024 RUNS=5 bench/nbd.sh
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
. "$root/bin/find-jdk.sh"
size_mib=${SIZE_MIB:-1024}
runs=${RUNS:-5}
work=${BENCH_DIR:-$root/.bench/nbd}
ours_port=${OURS_PORT:-10899}
base_port=${BASE_PORT:-10898}
for p in nbdcopy nbdinfo nbdkit; do
  command -v "$p" >/dev/null || { echo "error: $p missing (Debian: libnbd-bin nbdkit)" >&2; exit 1; }
done
mkdir -p "$work"
img="$work/image-${size_mib}m.raw"
if [ ! -f "$img" ]; then
  echo "bench: writing a ${size_mib} MiB random image to $img" >&2
  head -c "${size_mib}M" /dev/urandom > "$img.tmp" && mv "$img.tmp" "$img"
fi
jar="$root/node/target/circular.jar"
if [ ! -f "$jar" ] || [ -n "${REBUILD:-}" ]; then
  (cd "$root" && ./mvnw -q -B -ntp -DskipTests -pl node -am package) >&2
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -jar "$jar" \
  nbd --listen "127.0.0.1:$ours_port" --file "bench=$img" >"$work/ours.log" 2>&1 &
pids+=($!)
nbdkit -f -r -i 127.0.0.1 -p "$base_port" file "$img" >"$work/nbdkit.log" 2>&1 &
pids+=($!)
ours="nbd://127.0.0.1:$ours_port/bench"
base="nbd://127.0.0.1:$base_port/"
for uri in "$ours" "$base"; do
  for _ in $(seq 100); do nbdinfo --size "$uri" >/dev/null 2>&1 && break; sleep 0.1; done
  nbdinfo --size "$uri" >/dev/null || { echo "error: $uri does not answer" >&2; exit 1; }
done

cat "$img" >/dev/null                      # page cache warm for both servers
for _ in 1 2; do nbdcopy "$ours" null:; nbdcopy "$base" null:; done  # untimed passes (JIT warm-up)

now() { date +%s%N; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, clock ticks
ours_pid=${pids[0]}; base_pid=${pids[1]}
c_ours0=$(cpu "$ours_pid"); c_base0=$(cpu "$base_pid")
t_ours=(); t_base=()
for i in $(seq "$runs"); do
  a=$(now); nbdcopy "$ours" null:; b=$(now); t_ours+=($(( (b - a) / 1000000 )))
  a=$(now); nbdcopy "$base" null:; b=$(now); t_base+=($(( (b - a) / 1000000 )))
done
c_ours=$(( $(cpu "$ours_pid") - c_ours0 )); c_base=$(( $(cpu "$base_pid") - c_base0 ))
hz=$(getconf CLK_TCK)
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
m_ours=$(median "${t_ours[@]}")
m_base=$(median "${t_base[@]}")
awk -v mo="$m_ours" -v mb="$m_base" -v s="$size_mib" -v r="$runs" -v to="${t_ours[*]}" -v tb="${t_base[*]}" -v co="$c_ours" -v cb="$c_base" -v hz="$hz" 'BEGIN {
  printf "nbdcopy of a %d MiB image, warm, %d runs (ms): circular [%s]  nbdkit-file [%s]\n", s, r, to, tb
  printf "median: circular %d ms (%.0f MiB/s), nbdkit-file %d ms (%.0f MiB/s)\n", mo, s*1000/mo, mb, s*1000/mb
  printf "ratio (circular throughput / nbdkit-file throughput): %.2fx (target >= 0.9x)\n", mb/mo
  printf "server CPU per GiB read: circular %.2f s, nbdkit-file %.2f s\n", co/hz/(r*s/1024), cb/hz/(r*s/1024)
}'
