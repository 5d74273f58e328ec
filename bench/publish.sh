#!/usr/bin/env bash
# Publish throughput per codec next to sha1sum of the same >= 512 MiB image: medians of 3 runs, measured
# in the same run, printed as ratios. Usage: bench/publish.sh [SIZE_MIB]  (image cached in .bench/)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
. "$root/bin/find-jdk.sh"
. "$root/bin/aot-cache.sh"   # AOT_JAVA_OPTS: the JVM options every circular process runs with
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
java=("$JAVA_HOME/bin/java" "${AOT_JAVA_OPTS[@]}" -jar "$root/node/target/circular.jar")
key="$work/bench.key"
[ -f "$key" ] || "${java[@]}" keygen --out "$key" >/dev/null
cat "$img" > /dev/null   # warm the page cache for every contender alike
mib=$(( $(stat -c %s "$img") >> 20 ))

# One timed run: prints "wall cpu" (cpu = user + sys of the command and its children).
timed() {
  local t
  t=$( { TIMEFORMAT='%R %U %S'; time "$@" > "$work/last.txt"; } 2>&1 | tail -1 )
  echo "$t" | awk '{print $1, $2 + $3}'
}
contenders=(sha1sum none zstd deflate republish)
declare -A walls cpus notes
# Rounds interleave the contenders, so load from other processes hits all of them alike.
for round in $(seq $runs); do
  echo "bench: round $round of $runs" >&2
  for c in "${contenders[@]}"; do
    case "$c" in
      sha1sum) r=$(timed sha1sum "$img") ;;
      republish)
        rm -rf "$work/origin"
        "${java[@]}" publish "$img" --name bench --version 1 --origin "$work/origin" --key "$key" --codec none --quiet >/dev/null
        r=$(timed "${java[@]}" publish "$img" --name bench --version 2 --origin "$work/origin" --key "$key" --codec none --quiet)
        notes[$c]="every block already present: $(grep -o 'dedup.*' "$work/last.txt")" ;;
      *)
        rm -rf "$work/origin"; sync
        r=$(timed "${java[@]}" publish "$img" --name bench --version 1 --origin "$work/origin" --key "$key" --codec "$c" --quiet)
        notes[$c]="fresh origin: $(grep -o '[0-9.]* [KMG]iB written' "$work/last.txt")" ;;
    esac
    walls[$c]+="${r% *} "; cpus[$c]+="${r#* } "
  done
done
median() { tr ' ' '\n' | grep . | sort -g | sed -n "$(( (runs + 1) / 2 ))p"; }
sha_wall=$(echo "${walls[sha1sum]}" | median); sha_cpu=$(echo "${cpus[sha1sum]}" | median)
printf '%-26s %7s %7s %10s %7s %10s\n' "median of $runs" "wall s" "MiB/s" "speed" "cpu s" "cpu eff."
for c in "${contenders[@]}"; do
  wall=$(echo "${walls[$c]}" | median); cpu=$(echo "${cpus[$c]}" | median)
  case "$c" in sha1sum) label="sha1sum" ;; republish) label="re-publish --codec none" ;; *) label="publish --codec $c" ;; esac
  printf '%-26s %7.2f %7.0f %9.2fx %7.2f %9.2fx  %s\n' "$label" "$wall" "$(echo "$mib / $wall" | bc -l)" \
    "$(echo "$sha_wall / $wall" | bc -l)" "$cpu" "$(echo "$sha_cpu / $cpu" | bc -l)" "${notes[$c]:-}"
done
echo "speed = sha1sum wall time / publish wall time (target for none: >= 0.80x); cpu eff. = the same for user+sys CPU."
echo "${mib} MiB image, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); publish times include JVM start-up."
