#!/usr/bin/env bash
# Sequential reads through `circular mount` (FUSE), measured in one run against baselines on the same
# ext4 image (>= 512 MiB, built with mkfs.ext4 -d from SRC_DIR and published with zstd, 256 KiB blocks):
#   warm: `cat` of MOUNT/bench/1.img with every block in the RocksDB cache and the FUSE file's kernel
#         pages dropped before each run, vs `cat` of the raw image from the page cache (target >= 0.5x);
#   cold: the same `cat` with an empty cache, blocks fetched from nginx on loopback, vs fetching the same
#         block files with 8 parallel keep-alive `curl` processes (target >= 0.8x).
#   pin:  `circular pin` of the version into an empty cache from the same nginx, vs the same curl baseline.
# Prints every run, medians and ratios. Needs root (FUSE mount, dropping the page cache), nginx, curl.
# PARTS picks what runs (default warm,cold,pin); the load average is printed before and after.
#   RUNS=3 SIZE_MIB=768 SRC_DIR=/usr/lib/jvm PARTS=cold,pin bench/mount.sh
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
. "$root/bin/find-jdk.sh"
runs=${RUNS:-3}
src=${SRC_DIR:-/usr/lib/jvm}
work=${BENCH_DIR:-$root/.bench/mount}
port=${PORT:-18089}
conns=${CONNECTIONS:-8}
parts=",${PARTS:-warm,cold,pin},"
part() { [[ "$parts" == *",$1,"* ]]; }
[ "$(id -u)" -eq 0 ] || { echo "error: bench/mount.sh needs root (FUSE mount, drop_caches)" >&2; exit 1; }
for p in nginx curl mkfs.ext4; do
  command -v "$p" >/dev/null || { echo "error: $p missing (Debian: nginx curl e2fsprogs)" >&2; exit 1; }
done
src_mib=$(du -sm "$src" | cut -f1)
size_mib=${SIZE_MIB:-$(( src_mib * 5 / 4 + 64 > 768 ? src_mib * 5 / 4 + 64 : 768 ))}
mkdir -p "$work"
jar="$root/node/target/circular.jar"
if [ ! -f "$jar" ] || [ -n "${REBUILD:-}" ]; then
  (cd "$root" && ./mvnw -q -B -ntp -DskipTests -pl node -am package) >&2
fi
circular() { "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -jar "$jar" "$@"; }

img="$work/image-${size_mib}m.img"
origin="$work/origin"
if [ ! -f "$img" ] || [ ! -f "$origin/catalog" ]; then
  rm -rf "$origin" "$img" "$work/key" "$work/key.pub"
  echo "bench: ext4 image of $size_mib MiB from $src ($src_mib MiB)" >&2
  mkfs.ext4 -q -F -t ext4 -b 4096 -d "$src" "$img" "${size_mib}M"
  circular keygen --out "$work/key" --comment bench >/dev/null
  circular publish "$img" --name bench --version 1 --origin "$origin" --key "$work/key" \
    --block-size 256K --codec zstd >&2
fi
trust="$work/key.pub"

mnt="$work/mnt"
mkdir -p "$mnt" "$work/nginx"
cat > "$work/nginx/nginx.conf" <<EOF
user root;
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 100000;
  server { listen 127.0.0.1:$port; root $origin; }
}
EOF
mount_pid=""
stop_mount() {
  if [ -n "$mount_pid" ]; then kill -TERM "$mount_pid" 2>/dev/null || true; wait "$mount_pid" 2>/dev/null || true; mount_pid=""; fi
  if grep -q " $mnt " /proc/mounts; then umount -l "$mnt" || true; fi
}
cleanup() {
  stop_mount
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT
nginx -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf"
url="http://127.0.0.1:$port/"
for _ in $(seq 100); do curl -sf -o /dev/null "${url}catalog" && break; sleep 0.1; done

start_mount() { # CACHE_DIR
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -jar "$jar" \
    mount "$url" "$mnt" --cache "$1" --trust "$trust" --set "fetch.origin-connections=$conns" \
    --set fetch.readahead-blocks=16 >"$work/mount.log" 2>&1 &
  mount_pid=$!
  for _ in $(seq 300); do grep -q '^mounted ' "$work/mount.log" && return 0; sleep 0.1; done
  echo "error: mount did not come up:" >&2; cat "$work/mount.log" >&2; exit 1
}
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
ms() { local a b; a=$(date +%s%N); "$@" >/dev/null; b=$(date +%s%N); echo $(( (b - a) / 1000000 )); }
# CPU milliseconds (user + system) of process $1, or with "children" of this shell's waited-for children.
cpu_ms() {
  if [ "$1" = children ]; then awk '{print ($16 + $17) * 10}' "/proc/$$/stat"; else awk '{print ($14 + $15) * 10}' "/proc/$1/stat"; fi
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

file="$mnt/bench/1.img"
find "$origin/blocks" -type f | sed "s|^$origin/|$url|" > "$work/urls"
nblocks=$(wc -l < "$work/urls")
stored_mib=$(du -sm --apparent-size "$origin/blocks" | cut -f1)
split -n "r/$conns" "$work/urls" "$work/urls."
for f in "$work"/urls.??; do awk '{print "url = \"" $0 "\"\noutput = \"/dev/null\""}' "$f" > "$f.curl"; done
curl_all() { local p=(); for f in "$work"/urls.??.curl; do curl -s -K "$f" & p+=($!); done; wait "${p[@]}"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
cold=(); curlt=(); warm=(); raw=(); reread=(); pint=(); coldcpu=(); curlcpu=(); pincpu=()
warmcpu=(); warmcat=(); rereadcpu=(); rawcpu=()
for i in $(seq "$runs"); do
  if part cold; then
    rm -rf "$work/cache"
    start_mount "$work/cache"
    drop
    c0=$(cpu_ms "$mount_pid")
    cold+=($(ms cat "$file"))
    coldcpu+=($(( $(cpu_ms "$mount_pid") - c0 )))
    stop_mount
  fi
  if part pin; then
    rm -rf "$work/pincache"
    drop
    c0=$(cpu_ms children)
    pint+=($(ms circular pin "$url" bench:1 --cache "$work/pincache" --trust "$trust" -q \
      --set "fetch.origin-connections=$conns"))
    pincpu+=($(( $(cpu_ms children) - c0 )))
  fi
  drop
  c0=$(cpu_ms children)
  curlt+=($(ms curl_all))
  curlcpu+=($(( $(cpu_ms children) - c0 )))
done
rm -rf "$work/pincache"
# Warm: one long-running mount (as in use), two untimed passes first (cache complete, JIT compiled, RocksDB
# files in the page cache); before each timed pass only the FUSE file's own pages are dropped
# (fadvise DONTNEED via dd iflag=nocache), so every read reaches the process. CPU time is recorded too
# (mount process and cat, against the raw cat's): on a shared machine it varies less than wall time.
if part warm; then
  if ! part cold; then rm -rf "$work/cache"; fi
  start_mount "$work/cache"
  cat "$file" >/dev/null
  dd if="$file" iflag=nocache count=0 status=none
  cat "$file" >/dev/null
  for i in $(seq "$runs"); do
    dd if="$file" iflag=nocache count=0 status=none
    c0=$(cpu_ms "$mount_pid"); k0=$(cpu_ms children)
    warm+=($(ms cat "$file"))
    warmcpu+=($(( $(cpu_ms "$mount_pid") - c0 ))); warmcat+=($(( $(cpu_ms children) - k0 )))
    k0=$(cpu_ms children)
    reread+=($(ms cat "$file"))
    rereadcpu+=($(( $(cpu_ms children) - k0 )))
    cat "$img" >/dev/null
    k0=$(cpu_ms children)
    raw+=($(ms cat "$img"))
    rawcpu+=($(( $(cpu_ms children) - k0 )))
  done
  stop_mount
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

m_cold=$(median "${cold[@]:-0}"); m_curl=$(median "${curlt[@]}"); m_pin=$(median "${pint[@]:-0}")
m_warm=$(median "${warm[@]:-0}"); m_raw=$(median "${raw[@]:-0}"); m_re=$(median "${reread[@]:-0}")
awk -v s="$size_mib" -v st="$stored_mib" -v n="$nblocks" -v r="$runs" -v c="$conns" -v parts="$parts" \
  -v mc="$m_cold" -v mu="$m_curl" -v mw="$m_warm" -v mr="$m_raw" -v me="$m_re" -v mp="$m_pin" \
  -v tc="${cold[*]}" -v tu="${curlt[*]}" -v tw="${warm[*]}" -v tr="${raw[*]}" -v te="${reread[*]}" -v tp="${pint[*]}" \
  -v lb="$load_before" -v la="$load_after" -v cc="${coldcpu[*]}" -v uc="${curlcpu[*]}" -v pc="${pincpu[*]}" \
  -v mcc="$(median "${coldcpu[@]:-0}")" -v muc="$(median "${curlcpu[@]}")" -v mpc="$(median "${pincpu[@]:-0}")" \
  -v wc="${warmcpu[*]}" -v mwc="$(median "${warmcpu[@]:-0}")" -v mwk="$(median "${warmcat[@]:-0}")" \
  -v mec="$(median "${rereadcpu[@]:-0}")" -v mrc="$(median "${rawcpu[@]:-0}")" 'BEGIN {
  printf "image: %d MiB ext4, %d stored blocks (%d MiB zstd), %d runs, %d connections\n", s, n, st, r, c
  printf "load average (1, 5, 15 min): before %s, after %s\n", lb, la
  if (index(parts, ",warm,")) {
    printf "warm (ms): FUSE cat [%s]  raw cat from page cache [%s]  FUSE re-read from page cache [%s]\n", tw, tr, te
    printf "median warm: FUSE %d ms (%.0f MiB/s), raw cat %d ms (%.0f MiB/s), ratio %.2fx (target >= 0.5x)\n", mw, s*1000/mw, mr, s*1000/mr, mr/mw
    printf "median warm re-read (kernel page cache of the FUSE file): %d ms (%.0f MiB/s), ratio %.2fx\n", me, s*1000/me, mr/me
    printf "warm CPU of the mount process per pass (ms): [%s]\n", wc
    printf "median warm CPU: mount %d ms + cat %d ms per pass (%.2f CPU-s/GiB); re-read cat %d ms; raw cat %d ms\n", mwc, mwk, (mwc+mwk)*1.024/s, mec, mrc
  }
  printf "parallel curl of the block files (ms): [%s]  CPU of the curl processes (ms): [%s]\n", tu, uc
  if (index(parts, ",cold,")) {
    printf "cold (ms): FUSE cat via nginx [%s]  CPU of the mount process during the cat (ms): [%s]\n", tc, cc
    printf "median cold CPU: mount %d ms, curl %d ms (%.1fx that of curl)\n", mcc, muc, mcc/muc
    printf "median cold: FUSE %d ms (%.0f MiB/s image, %.0f MiB/s stored), curl %d ms (%.0f MiB/s stored), ratio %.2fx (target >= 0.8x)\n", mc, s*1000/mc, st*1000/mc, mu, st*1000/mu, mu/mc
  }
  if (index(parts, ",pin,")) {
    printf "pin (ms): circular pin into an empty cache [%s]  CPU of the pin process (ms): [%s]\n", tp, pc
    printf "median pin CPU: %d ms (JVM start included), curl %d ms (%.1fx that of curl)\n", mpc, muc, mpc/muc
    printf "median pin: %d ms (%.0f MiB/s stored), curl %d ms (%.0f MiB/s stored), ratio %.2fx\n", mp, st*1000/mp, mu, st*1000/mu, mu/mp
  }
}'
