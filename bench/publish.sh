#!/usr/bin/env bash
# Publish throughput per codec next to sha1sum of the same >= 512 MiB image: medians of 3 runs, measured
# in the same run, printed as ratios. Usage: bench/publish.sh [SIZE_MIB]  (image cached in .bench/)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
. "$root/bin/find-jdk.sh"
size_mib="${1:-512}"
runs=3
work="$root/.bench/publish"
mkdir -p "$work"
img="$work/mix-${size_mib}M.img"

if [ ! -f "$img" ]; then
  echo "bench: making $img (a third random, a third zeros, a third text)" >&2
  third=$((size_mib / 3)); rest=$((size_mib - 2 * third))
  {
    head -c "$((third << 20))" /dev/urandom
    head -c "$((third << 20))" /dev/zero
    (set +o pipefail; seq 1 100000000 | sed 's/$/ a line of text in a disk image/' | head -c "$((rest << 20))")
  } > "$img.tmp"
  mv "$img.tmp" "$img"
fi
[ -f "$root/node/target/circular.jar" ] || (cd "$root" && ./mvnw -q -B -ntp -DskipTests -pl node -am package)
java=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -jar "$root/node/target/circular.jar")
key="$work/bench.key"
[ -f "$key" ] || "${java[@]}" keygen --out "$key" >/dev/null
cat "$img" > /dev/null   # warm the page cache for every contender alike
mib=$(( $(stat -c %s "$img") >> 20 ))

# measure NAME SETUP COMMAND...: runs COMMAND $runs times (SETUP before each, untimed); sets wall and cpu medians.
measure() {
  local setup="$1"; shift
  local walls=() cpus=() t
  for _ in $(seq $runs); do
    eval "$setup"
    t=$( { TIMEFORMAT='%R %U %S'; time "$@" > "$work/last.txt"; } 2>&1 | tail -1 )
    walls+=("$(echo "$t" | cut -d' ' -f1)")
    cpus+=("$(echo "$t" | awk '{print $2 + $3}')")
  done
  wall=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
}
row() { # label note
  printf '%-26s %7.2f %7.0f %9.2fx %7.2f %9.2fx  %s\n' "$1" "$wall" "$(echo "$mib / $wall" | bc -l)" \
    "$(echo "$sha_wall / $wall" | bc -l)" "$cpu" "$(echo "$sha_cpu / $cpu" | bc -l)" "$2"
}

measure : sha1sum "$img"; sha_wall=$wall; sha_cpu=$cpu
printf '%-26s %7s %7s %10s %7s %10s\n' "median of $runs" "wall s" "MiB/s" "speed" "cpu s" "cpu eff."
row "sha1sum" ""
for codec in none zstd deflate; do
  measure "rm -rf '$work/origin'" "${java[@]}" publish "$img" --name bench --version 1 --origin "$work/origin" \
    --key "$key" --codec "$codec" --quiet
  row "publish --codec $codec" "fresh origin: $(grep -o '[0-9.]* [KMG]iB written' "$work/last.txt")"
done
measure "rm -rf '$work/origin'; ${java[*]} publish '$img' --name bench --version 1 --origin '$work/origin' --key '$key' --codec none --quiet >/dev/null" \
  "${java[@]}" publish "$img" --name bench --version 2 --origin "$work/origin" --key "$key" --codec none --quiet
row "re-publish --codec none" "every block already present: $(grep -o 'dedup.*' "$work/last.txt")"
echo "speed = sha1sum wall time / publish wall time (target for none: >= 0.80x); cpu eff. = the same for user+sys CPU."
echo "${mib} MiB image, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); publish times include JVM start-up."
