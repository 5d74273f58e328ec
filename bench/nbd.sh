#!/usr/bin/env bash
# Warm sequential read through NBD, measured in one run on the same random image:
#   archive: `circular nbd ORIGIN` serving the image published into a local origin and pinned in the
#            block cache (every read decodes cached blocks through the verifying reader)
#   file:    `circular nbd --file` serving the raw image (the NBD server alone)
#   nbdkit:  `nbdkit file` serving the raw image (the baseline)
# each read whole with `nbdcopy URI null:`, alternating, after WARMUP (default 2) untimed passes. Prints medians,
# throughput ratios to nbdkit (target for archive >= 0.9) and server CPU time per GiB.
#   SIZE_MIB=1024 RUNS=5 bench/nbd.sh       (WARMUP=20: a server past its JIT warm-up, see docs/nbd.md)
# IMAGE=FILE serves that image instead of a random one (e.g. the ext4 image of bench/mount.sh, whose
# blocks compress: the archive export then reads plaintext kept by the decoded tier, or decodes zstd).
# JAR=FILE runs that build of circular instead of node/target/circular.jar (alternate two for an A/B).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
. "$root/bin/find-jdk.sh"
. "$root/bin/aot-cache.sh"   # AOT_JAVA_OPTS: the JVM options every circular process runs with
size_mib=${SIZE_MIB:-1024}
runs=${RUNS:-5}
work=${BENCH_DIR:-$root/.bench/nbd}
port0=${BASE_PORT:-10896}
for p in nbdcopy nbdinfo nbdkit; do
  command -v "$p" >/dev/null || { echo "error: $p missing (Debian: libnbd-bin nbdkit)" >&2; exit 1; }
done
mkdir -p "$work"
img="${IMAGE:-$work/image-${size_mib}m.raw}"
tag=$(basename "$img"); tag=${tag%.*}
if [ -n "${IMAGE:-}" ]; then
  [ -f "$img" ] || { echo "error: IMAGE=$img does not exist" >&2; exit 1; }
  size_mib=$(( $(stat -c %s "$img") / 1048576 ))
fi
if [ ! -f "$img" ]; then
  echo "bench: writing a ${size_mib} MiB random image to $img" >&2
  head -c "${size_mib}M" /dev/urandom > "$img.tmp" && mv "$img.tmp" "$img"
fi
jar="${JAR:-$root/node/target/circular.jar}"   # JAR=/tmp/base.jar: measure another build (A/B)
if [ -z "${JAR:-}" ] && { [ ! -f "$jar" ] || [ -n "${REBUILD:-}" ]; }; then
  (cd "$root" && ./mvnw -q -B -ntp -DskipTests -pl node -am package) >&2
fi
circular() { "$JAVA_HOME/bin/java" "${AOT_JAVA_OPTS[@]}" -jar "$jar" "$@"; }
origin="$work/origin-$tag"; cache="$work/cache-$tag"; key="$work/publisher.key"
[ -f "$key" ] || circular keygen --out "$key" --comment bench >/dev/null
if [ ! -d "$origin" ]; then
  circular publish "$img" --name bench --version 1 --origin "$origin" --key "$key" --quiet >&2
fi
circular pin "$origin" bench:1 --cache "$cache" --trust "$key.pub" --quiet >&2

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
# The servers start as bin/circular starts them: from this jar's AOT cache when bin/train-aot has written
# it. BENCH_JAVA_OPTS: extra JVM options for them (-XX:AOTMode=off: no cache).
aot_cache_opts "$jar" "${BENCH_JAVA_OPTS:-}"
circular_bg() { exec "$JAVA_HOME/bin/java" "${AOT_JAVA_OPTS[@]}" "${AOT_CACHE_OPTS[@]}" \
  ${BENCH_JAVA_OPTS:-} -jar "$jar" "$@"; }
circular_bg nbd "$origin" --cache "$cache" --trust "$key.pub" --listen "127.0.0.1:$port0" \
  >"$work/archive.log" 2>&1 &
pids+=($!)
circular_bg nbd --listen "127.0.0.1:$((port0 + 1))" --file "bench=$img" >"$work/file.log" 2>&1 &
pids+=($!)
nbdkit -f -r -i 127.0.0.1 -p "$((port0 + 2))" file "$img" >"$work/nbdkit.log" 2>&1 &
pids+=($!)
names=(archive file nbdkit)
uris=("nbd://127.0.0.1:$port0/bench:1" "nbd://127.0.0.1:$((port0 + 1))/bench" "nbd://127.0.0.1:$((port0 + 2))/")
for uri in "${uris[@]}"; do
  for _ in $(seq 150); do nbdinfo --size "$uri" >/dev/null 2>&1 && break; sleep 0.2; done
  nbdinfo --size "$uri" >/dev/null || { echo "error: $uri does not answer" >&2; exit 1; }
done

cat "$img" >/dev/null                      # page cache warm
for _ in $(seq "${WARMUP:-2}"); do for uri in "${uris[@]}"; do nbdcopy "$uri" null:; done; done  # untimed (JIT warm-up)

now() { date +%s%N; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, clock ticks
c2cpu() {  # CPU of the JVM's C2 compiler threads (clock ticks): is the JIT still at work in the timed passes?
  local t c=0
  for t in /proc/"$1"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in "C2 Compiler"*) c=$(( c + $(awk '{print $14 + $15}' "$t/stat") ));; esac
  done
  echo "$c"
}
declare -a times cpu0 c2cpu0
for k in 0 1 2; do times[$k]=""; cpu0[$k]=$(cpu "${pids[$k]}"); c2cpu0[$k]=$(c2cpu "${pids[$k]}"); done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq "$runs"); do
  for k in 0 1 2; do
    a=$(now); nbdcopy "${uris[$k]}" null:; b=$(now)
    times[$k]="${times[$k]} $(( (b - a) / 1000000 ))"
  done
done
hz=$(getconf CLK_TCK)
median() { printf '%s\n' $1 | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
base_median=$(median "${times[2]}")
echo "nbdcopy of a $size_mib MiB image, warm, $runs runs each after ${WARMUP:-2} untimed passes"
echo "load average (1, 5, 15 min): before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ${#AOT_CACHE_OPTS[@]} -gt 0 ]; then echo "JVM of the servers: the AOT cache of this jar ($(basename "$(aot_cache_of "$jar")"))${BENCH_JAVA_OPTS:+, BENCH_JAVA_OPTS=$BENCH_JAVA_OPTS}"
else echo "JVM of the servers: no AOT cache (bin/train-aot writes it)${BENCH_JAVA_OPTS:+, BENCH_JAVA_OPTS=$BENCH_JAVA_OPTS}"; fi
for k in 0 1 2; do
  m=$(median "${times[$k]}")
  c=$(( $(cpu "${pids[$k]}") - cpu0[k] ))
  awk -v n="${names[$k]}" -v m="$m" -v b="$base_median" -v s="$size_mib" -v r="$runs" -v t="${times[$k]}" \
      -v c="$c" -v hz="$hz" 'BEGIN {
    printf "%-8s median %6d ms  %5.0f MiB/s  ratio to nbdkit %.2fx  server CPU %.2f s/GiB  runs(ms):%s\n",
      n, m, s*1000/m, b/m, c/hz/(r*s/1024), t }'
  if [ "$k" -lt 2 ]; then awk -v n="${names[$k]}" -v c="$(cpu "${pids[$k]}")" -v hz="$hz" \
      -v j="$(( $(c2cpu "${pids[$k]}") - c2cpu0[k] ))" -v r="$runs" -v t="$c" \
    'BEGIN { printf "%-8s server CPU since its start (start-up, untimed and timed passes): %.2f s; C2 compiler in the timed passes: %.0f ms per pass, %.0f%% of the server CPU\n",
      n, c/hz, j*1000/hz/r, t ? 100*j/t : 0 }'; fi
done
echo "target: archive ratio >= 0.9x"
