#!/usr/bin/env bash
# Sequential reads through `circular mount` (FUSE), measured in one run against baselines on the same
# ext4 image (>= 512 MiB, built with mkfs.ext4 -d from SRC_DIR and published with zstd, 256 KiB blocks):
#   warm: `cat` of MOUNT/bench/1.img with every block in the RocksDB cache, vs `cat` of the raw image from
#         the page cache (target >= 0.5x). Measured twice: a re-read, the FUSE file in the page cache too
#         (what a second read gets: kernel_cache keeps pages across opens), and a pass with the FUSE
#         file's pages dropped first, so that every read reaches the mount; for that pass the script also
#         prints its ceiling, set by the CPU `cat` itself spends filling the FUSE file's page cache;
#   cold: the same `cat` with an empty cache, blocks fetched from nginx on loopback, vs fetching the same
#         block files with 8 parallel keep-alive `curl` processes (target >= 0.8x). Measured twice:
#         fresh process: a new `circular mount` per run (boot-time case: JIT and start-up included);
#         running mount: one mount, one version read untimed first (JIT warm), then each run reads a
#         version never read before (cold cache, warm process: a node that is already running), against
#         curl of exactly that version's block files. These versions (2..RUNS+2) are the same image with
#         a version stamp in the first 16 bytes of every non-zero 256 KiB block: no block is shared
#         between versions, and size and compression stay those of version 1.
#         Each cold run also prints the ceiling this machine puts on that ratio for any client: the CPU of
#         the work no verifying client can skip (curl's own fetch, SHA1 and SHA-256 of the stored bytes in
#         `openssl dgst`, their decoding in `zstd -d`, user time only), nginx serving them, and what `cat`
#         itself spent reading the FUSE file, spread perfectly over all CPUs, against curl's time. Storing
#         the blocks and the mount's own FUSE replies are left out, so the true ceiling is lower still.
#   pin:  `circular pin` of the version into an empty cache from the same nginx, vs the same curl baseline.
# Prints every run, medians and ratios. Needs root (FUSE mount, dropping the page cache), nginx, curl.
# PARTS picks what runs (default warm,cold,pin); the load average is printed before and after.
#   RUNS=3 SIZE_MIB=768 SRC_DIR=/usr/lib/jvm PARTS=cold,pin bench/mount.sh
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
. "$root/bin/find-jdk.sh"
. "$root/bin/aot-cache.sh"   # AOT_JAVA_OPTS: the JVM options every circular process runs with
runs=${RUNS:-3}
src=${SRC_DIR:-/usr/lib/jvm}
work=${BENCH_DIR:-$root/.bench/mount}
port=${PORT:-18089}
conns=${CONNECTIONS:-8}
parts=",${PARTS:-warm,cold,pin},"
part() { [[ "$parts" == *",$1,"* ]]; }
[ "$(id -u)" -eq 0 ] || { echo "error: bench/mount.sh needs root (FUSE mount, drop_caches)" >&2; exit 1; }
for p in nginx curl mkfs.ext4 python3 openssl zstd; do
  command -v "$p" >/dev/null || { echo "error: $p missing (Debian: nginx curl e2fsprogs python3 openssl zstd)" >&2; exit 1; }
done
src_mib=$(du -sm "$src" | cut -f1)
size_mib=${SIZE_MIB:-$(( src_mib * 5 / 4 + 64 > 768 ? src_mib * 5 / 4 + 64 : 768 ))}
mkdir -p "$work"
jar="${JAR:-$root/node/target/circular.jar}"   # JAR=/tmp/base.jar: measure another build (A/B)
if [ -z "${JAR:-}" ] && { [ ! -f "$jar" ] || [ -n "${REBUILD:-}" ]; }; then
  (cd "$root" && ./mvnw -q -B -ntp -DskipTests -pl node -am package) >&2
fi
circular() { "$JAVA_HOME/bin/java" "${AOT_JAVA_OPTS[@]}" -jar "$jar" "$@"; }
# The measured processes (mount, pin) start as bin/circular starts them: from this jar's AOT cache when
# bin/train-aot has written it. BENCH_JAVA_OPTS: extra JVM options for them (-XX:AOTMode=off: no cache).
aot_cache_opts "$jar" "${BENCH_JAVA_OPTS:-}"
circular_measured() { "$JAVA_HOME/bin/java" "${AOT_JAVA_OPTS[@]}" "${AOT_CACHE_OPTS[@]}" \
  ${BENCH_JAVA_OPTS:-} -jar "$jar" "$@"; }

img="$work/image-${size_mib}m.img"
origin="$work/origin"
blocks_of() { (cd "$origin" && find blocks -type f | sort); }
if [ ! -f "$img" ] || [ ! -f "$origin/catalog" ] || [ ! -f "$work/blocks-v1" ]; then
  rm -rf "$origin" "$img" "$work/key" "$work/key.pub" "$work"/blocks-v*
  echo "bench: ext4 image of $size_mib MiB from $src ($src_mib MiB)" >&2
  mkfs.ext4 -q -F -t ext4 -b 4096 -d "$src" "$img" "${size_mib}M"
  circular keygen --out "$work/key" --comment bench >/dev/null
  circular publish "$img" --name bench --version 1 --origin "$origin" --key "$work/key" \
    --block-size 256K --codec zstd >&2
  blocks_of > "$work/blocks-v1"
fi
# Versions 2..RUNS+2 for the running-mount cold part, published once and kept with the origin; each
# version's block list is what publishing it added to the origin.
if part cold; then
  for v in $(seq 2 $((runs + 2))); do
    [ -f "$work/blocks-v$v" ] && continue
    echo "bench: publishing version $v (stamped copy of version 1)" >&2
    python3 - "$img" "$work/stamped.img" "$v" <<'EOF'
import sys
src, dst, v = sys.argv[1], sys.argv[2], int(sys.argv[3])
bs = 256 * 1024
stamp = ("bench-v%08d" % v).encode().ljust(16, b".")
with open(src, "rb") as i, open(dst, "wb") as o:
    while True:
        b = i.read(bs)
        if not b:
            break
        if b.count(0) == len(b):
            o.seek(len(b), 1)
        else:
            o.write(stamp + b[16:])
    o.truncate()
EOF
    blocks_of > "$work/blocks-before"
    circular publish "$work/stamped.img" --name bench --version "$v" --origin "$origin" --key "$work/key" \
      --block-size 256K --codec zstd >&2
    blocks_of | comm -13 "$work/blocks-before" - > "$work/blocks-v$v"
    rm -f "$work/stamped.img" "$work/blocks-before"
  done
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
  rm -f "$work"/stored-v*.bin "$work"/stored-v*.bin.tmp
  stop_mount
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT
nginx -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf"
url="http://127.0.0.1:$port/"
for _ in $(seq 100); do curl -sf -o /dev/null "${url}catalog" && break; sleep 0.1; done

start_mount() { # CACHE_DIR
  "$JAVA_HOME/bin/java" "${AOT_JAVA_OPTS[@]}" "${AOT_CACHE_OPTS[@]}" ${BENCH_JAVA_OPTS:-} -jar "$jar" \
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
  if [ "$1" = nginx ]; then # the worker processes' CPU
    local w; for w in $(pgrep -P "$(cat "$work/nginx/nginx.pid")"); do cpu_ms "$w"; done | awk '{s+=$1} END {print s+0}'
    return
  fi
  if [ "$1" = children ]; then awk '{print ($16 + $17) * 10}' "/proc/$$/stat"; else awk '{print ($14 + $15) * 10}' "/proc/$1/stat"; fi
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

file="$mnt/bench/1.img"
nblocks=$(wc -l < "$work/blocks-v1")
stored_mib=$(( $(cd "$origin" && xargs stat -c %s < "$work/blocks-v1" | awk '{s+=$1} END {print s}') / 1048576 ))
# curl config files, one per connection, for version $1's block files: $work/curl-v$1.??.curl
curl_prep() {
  rm -f "$work/curl-v$1".*
  sed "s|^|$url|" "$work/blocks-v$1" | split -n "r/$conns" - "$work/curl-v$1."
  for f in "$work/curl-v$1".??; do awk '{print "url = \"" $0 "\"\noutput = \"/dev/null\""}' "$f" > "$f.curl"; done
}
curl_all() { local p=(); for f in "$work/curl-v${1:-1}".??.curl; do curl -s -K "$f" & p+=($!); done; wait "${p[@]}"; }
# User CPU (ms) that hashing (SHA1, SHA-256) and decoding version $1's stored blocks take in stock tools:
# `openssl dgst` (SHA-NI where the CPU has it) and `zstd -d` (the blocks are zstd frames; concatenated,
# they decode as one stream), reading one file of all the blocks from the page cache; that file is written
# once per version (the fresh-process runs all measure version 1).
work_cpu() {
  local f="$work/stored-v$1.bin" u0 me=$BASHPID   # a subshell when called as $(work_cpu V): its own children
  if [ ! -f "$f" ]; then
    rm -f "$work"/stored-v*.bin
    (cd "$origin" && xargs cat < "$work/blocks-v$1") > "$f.tmp" && mv "$f.tmp" "$f"
  fi
  u0=$(awk '{print $16 * 10}' "/proc/$me/stat")
  openssl dgst -sha1 < "$f" >/dev/null
  openssl dgst -sha256 < "$f" >/dev/null
  zstd -dcq < "$f" >/dev/null
  echo $(( $(awk '{print $16 * 10}' "/proc/$me/stat") - u0 ))
}
curl_prep 1

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
cold=(); curlt=(); warm=(); raw=(); reread=(); pint=(); coldcpu=(); curlcpu=(); pincpu=()
warmcpu=(); warmcat=(); rereadcpu=(); rawcpu=(); coldtotal=(); coldcat=(); needcpu=(); nginxcpu=()
for i in $(seq "$runs"); do
  if part cold; then
    rm -rf "$work/cache"
    start_mount "$work/cache"
    drop
    c0=$(cpu_ms "$mount_pid"); k0=$(cpu_ms children)
    cold+=($(ms cat "$file"))
    coldcpu+=($(( $(cpu_ms "$mount_pid") - c0 ))); coldcat+=($(( $(cpu_ms children) - k0 )))
    coldtotal+=($(cpu_ms "$mount_pid"))
    stop_mount
  fi
  if part pin; then
    rm -rf "$work/pincache"
    drop
    c0=$(cpu_ms children)
    pint+=($(ms circular_measured pin "$url" bench:1 --cache "$work/pincache" --trust "$trust" -q \
      --set "fetch.origin-connections=$conns"))
    pincpu+=($(( $(cpu_ms children) - c0 )))
  fi
  drop
  c0=$(cpu_ms children); n0=$(cpu_ms nginx)
  curlt+=($(ms curl_all))
  curlcpu+=($(( $(cpu_ms children) - c0 ))); nginxcpu+=($(( $(cpu_ms nginx) - n0 )))
  if part cold; then needcpu+=($(work_cpu 1)); fi
done
rm -rf "$work/pincache"
# Cold, running mount: one mount for all runs, version 2 read untimed (JIT, RocksDB and FUSE warm), then
# run i reads version i+2, whose blocks none of the earlier reads fetched, against curl of exactly its blocks.
runcold=(); runcurl=(); runcpu=(); runcurlcpu=(); runcat=(); runneed=(); runnginx=()
if part cold; then
  rm -rf "$work/runcache"
  start_mount "$work/runcache"
  cat "$mnt/bench/2.img" >/dev/null
  for i in $(seq "$runs"); do
    v=$((i + 2))
    curl_prep "$v"
    drop
    c0=$(cpu_ms "$mount_pid"); k0=$(cpu_ms children)
    runcold+=($(ms cat "$mnt/bench/$v.img"))
    runcpu+=($(( $(cpu_ms "$mount_pid") - c0 ))); runcat+=($(( $(cpu_ms children) - k0 )))
    drop
    c0=$(cpu_ms children); n0=$(cpu_ms nginx)
    runcurl+=($(ms curl_all "$v"))
    runcurlcpu+=($(( $(cpu_ms children) - c0 ))); runnginx+=($(( $(cpu_ms nginx) - n0 )))
    runneed+=($(work_cpu "$v"))
  done
  stop_mount
  rm -rf "$work/runcache"
fi
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
if [ ${#AOT_CACHE_OPTS[@]} -gt 0 ]; then jvm_desc="the AOT cache of this jar ($(basename "$(aot_cache_of "$jar")"))"
else jvm_desc="no AOT cache (bin/train-aot writes it)"; fi
jvm_desc="$jvm_desc${BENCH_JAVA_OPTS:+, BENCH_JAVA_OPTS=$BENCH_JAVA_OPTS}"
ncpu=$(nproc)
# ceiling CURL_MS CURL_CPU NGINX_CPU NEED_CPU CAT_CPU: the best ratio to curl any client can reach on $ncpu CPUs
ceiling() { awk -v u="$1" -v uc="$2" -v g="$3" -v w="$4" -v k="$5" -v n="$ncpu" 'BEGIN {
  t = (uc + g + w + k) / n; printf "%.2f", (t > u) ? u / t : 1 }'; }
ceil=(); runceil=()
for i in "${!needcpu[@]}"; do ceil+=($(ceiling "${curlt[$i]}" "${curlcpu[$i]}" "${nginxcpu[$i]}" "${needcpu[$i]}" "${coldcat[$i]}")); done
for i in "${!runneed[@]}"; do runceil+=($(ceiling "${runcurl[$i]}" "${runcurlcpu[$i]}" "${runnginx[$i]}" "${runneed[$i]}" "${runcat[$i]}")); done

m_cold=$(median "${cold[@]:-0}"); m_curl=$(median "${curlt[@]}"); m_pin=$(median "${pint[@]:-0}")
m_warm=$(median "${warm[@]:-0}"); m_raw=$(median "${raw[@]:-0}"); m_re=$(median "${reread[@]:-0}")
awk -v s="$size_mib" -v st="$stored_mib" -v n="$nblocks" -v r="$runs" -v c="$conns" -v parts="$parts" \
  -v mc="$m_cold" -v mu="$m_curl" -v mw="$m_warm" -v mr="$m_raw" -v me="$m_re" -v mp="$m_pin" \
  -v tc="${cold[*]}" -v tu="${curlt[*]}" -v tw="${warm[*]}" -v tr="${raw[*]}" -v te="${reread[*]}" -v tp="${pint[*]}" \
  -v lb="$load_before" -v la="$load_after" -v jvm="$jvm_desc" -v cc="${coldcpu[*]}" -v uc="${curlcpu[*]}" -v pc="${pincpu[*]}" \
  -v mcc="$(median "${coldcpu[@]:-0}")" -v muc="$(median "${curlcpu[@]}")" -v mpc="$(median "${pincpu[@]:-0}")" \
  -v wc="${warmcpu[*]}" -v mwc="$(median "${warmcpu[@]:-0}")" -v mwk="$(median "${warmcat[@]:-0}")" \
  -v mec="$(median "${rereadcpu[@]:-0}")" -v mrc="$(median "${rawcpu[@]:-0}")" \
  -v tk="${runcold[*]}" -v tku="${runcurl[*]}" -v kc="${runcpu[*]}" -v kuc="${runcurlcpu[*]}" \
  -v ct="${coldtotal[*]}" -v mct="$(median "${coldtotal[@]:-0}")" \
  -v mk="$(median "${runcold[@]:-0}")" -v mku="$(median "${runcurl[@]:-0}")" \
  -v mkc="$(median "${runcpu[@]:-0}")" -v mkuc="$(median "${runcurlcpu[@]:-0}")" -v nc="$ncpu" \
  -v tn="${needcpu[*]}" -v tkc="${coldcat[*]}" -v tg="${nginxcpu[*]}" -v tkg="${runnginx[*]}" -v tce="${ceil[*]}" -v mce="$(median "${ceil[@]:-0}")" \
  -v tkn="${runneed[*]}" -v tkk="${runcat[*]}" -v tkce="${runceil[*]}" -v mkce="$(median "${runceil[@]:-0}")" 'BEGIN {
  printf "image: %d MiB ext4, %d stored blocks (%d MiB zstd), %d runs, %d connections\n", s, n, st, r, c
  printf "load average (1, 5, 15 min): before %s, after %s\n", lb, la
  printf "JVM of the measured processes: %s\n", jvm
  if (index(parts, ",warm,")) {
    printf "warm (ms): FUSE cat [%s]  raw cat from page cache [%s]  FUSE re-read from page cache [%s]\n", tw, tr, te
    printf "median warm, FUSE file in the page cache (a re-read; kernel_cache keeps pages across opens): %d ms (%.0f MiB/s), raw cat %d ms, ratio %.2fx (target >= 0.5x)\n", me, s*1000/me, mr, mr/me
    printf "median warm, pages of the FUSE file dropped (every read reaches the mount): FUSE %d ms (%.0f MiB/s), raw cat %d ms (%.0f MiB/s), ratio %.2fx\n", mw, s*1000/mw, mr, s*1000/mr, mr/mw
    printf "warm CPU of the mount process per pass (ms): [%s]\n", wc
    printf "median warm CPU: mount %d ms + cat %d ms per pass (%.2f CPU-s/GiB); re-read cat %d ms; raw cat %d ms\n", mwc, mwk, (mwc+mwk)*1.024/s, mec, mrc
    if (mwk > 0 && mec > 0) printf "by CPU (steadier on a shared box): re-read cat %d ms vs raw cat %d ms, %.2fx; the pages-dropped pass cannot beat %.2fx, as cat alone spends %d ms of CPU in it (the kernel filling the page cache of the FUSE file)\n", mec, mrc, mrc/mec, mrc/mwk, mwk
  }
  printf "parallel curl of the block files (ms): [%s]  CPU of the curl processes (ms): [%s]\n", tu, uc
  if (index(parts, ",cold,")) {
    printf "cold, fresh process (ms): FUSE cat via nginx [%s]  CPU of the mount process during the cat (ms): [%s]\n", tc, cc
    printf "median cold CPU: mount %d ms, curl %d ms (%.1fx that of curl)\n", mcc, muc, mcc/muc
    printf "cold, fresh process: CPU of the mount process from its start to the end of the cat (ms): [%s], median %d\n", ct, mct
    printf "median cold, fresh process: FUSE %d ms (%.0f MiB/s image, %.0f MiB/s stored), curl %d ms (%.0f MiB/s stored), ratio %.2fx (target >= 0.8x)\n", mc, s*1000/mc, st*1000/mc, mu, st*1000/mu, mu/mc
    printf "cold ceiling on %d CPUs, fresh-process runs: nginx serving curl (CPU, ms) [%s], hashing and decoding in stock tools (user CPU, ms) [%s], cat reading the FUSE file (CPU, ms) [%s], ceilings [%s], median %.2fx\n", nc, tg, tn, tkc, tce, mce
    printf "cold, running mount (ms): FUSE cat of a version never read [%s]  curl of its blocks [%s]\n", tk, tku
    printf "cold, running mount CPU (ms): mount process [%s]  curl [%s]\n", kc, kuc
    printf "median cold, running mount CPU: mount %d ms, curl %d ms (%.1fx that of curl)\n", mkc, mkuc, mkc/mkuc
    printf "median cold, running mount: FUSE %d ms (%.0f MiB/s image, %.0f MiB/s stored), curl %d ms (%.0f MiB/s stored), ratio %.2fx (target >= 0.8x)\n", mk, s*1000/mk, st*1000/mk, mku, st*1000/mku, mku/mk
    printf "cold ceiling on %d CPUs, running-mount runs: nginx serving curl (CPU, ms) [%s], hashing and decoding in stock tools (user CPU, ms) [%s], cat reading the FUSE file (CPU, ms) [%s], ceilings [%s], median %.2fx\n", nc, tkg, tkn, tkk, tkce, mkce
    printf "(ceiling: the curl time against the CPU no verifying client can skip, nginx serving the blocks + the curl fetch + both hashes + zstd -d + the cat read, spread over all %d CPUs; nothing stored; an upper bound, close only while nothing else runs on the machine)\n", nc
  }
  if (index(parts, ",pin,")) {
    printf "pin (ms): circular pin into an empty cache [%s]  CPU of the pin process (ms): [%s]\n", tp, pc
    printf "median pin CPU: %d ms (JVM start included), curl %d ms (%.1fx that of curl)\n", mpc, muc, mpc/muc
    printf "median pin: %d ms (%.0f MiB/s stored), curl %d ms (%.0f MiB/s stored), ratio %.2fx\n", mp, st*1000/mp, mu, st*1000/mu, mu/mp
  }
}'
