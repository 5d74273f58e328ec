#!/usr/bin/env bash
# Diskless network boot time (qemu start -> marker line of the test init), in one run:
#   cold:     circular node (circular nbd ORIGIN --http) with an empty block cache
#   warm:     the same node again (blocks now cached)
#   baseline: the raw image served by `nbdkit file` + kernel/initrd from a static HTTP server
# All three boot with qemu's iPXE ROM, a one-version iPXE script (no menu timeout), root over NBD.
# Uses the Debian image the boot tests build (/var/cache/circular-test/debian-12-HASH, HASH from
# make-debian-image.sh; made if missing).
#   RUNS=1 bench/boot.sh        (root: qemu, debootstrap on the first run)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
. "$root/bin/find-jdk.sh"
. "$root/bin/aot-cache.sh"   # AOT_JAVA_OPTS: the JVM options every circular process runs with
runs=${RUNS:-1}
make_image="$root/node/src/test/resources/org/oscircular/node/boot/make-debian-image.sh"
img_dir=${CIRCULAR_TEST_CACHE:-/var/cache/circular-test}/debian-12-$(sha256sum "$make_image" | cut -c1-12)
work=${BENCH_DIR:-$root/.bench/boot}
p_nbd=${BASE_PORT:-10880}; p_http=$((p_nbd + 1)); p_kit=$((p_nbd + 2)); p_static=$((p_nbd + 3))
cmdline="console=ttyS0 init=/sbin/circular-test-init"
for p in qemu-system-x86_64 nbdkit python3; do
  command -v "$p" >/dev/null || { echo "error: $p missing (Debian: qemu-system-x86 ipxe-qemu nbdkit python3)" >&2; exit 1; }
done
jar="$root/node/target/circular.jar"
if [ ! -f "$jar" ] || [ -n "${REBUILD:-}" ]; then
  (cd "$root" && ./mvnw -q -B -ntp -DskipTests -pl node -am package) >&2
fi
circular() { "$JAVA_HOME/bin/java" "${AOT_JAVA_OPTS[@]}" -jar "$jar" "$@"; }
if [ ! -f "$img_dir/v2.img" ]; then
  bash "$make_image" "$img_dir" v1 v2 >&2
fi
if [ ! -f "$img_dir/origin.done" ]; then
  [ -f "$img_dir/publisher.key" ] || circular keygen --out "$img_dir/publisher.key" >/dev/null
  # as NetworkBootTest publishes them: v1 with the kernel files, v2 with its own /boot
  circular publish "$img_dir/v1.img" --name debian --version v1 --origin "$img_dir/origin" \
    --key "$img_dir/publisher.key" --kernel "$img_dir/vmlinuz" --initrd "$img_dir/initrd.img" \
    --cmdline "$cmdline" --force --quiet >&2
  circular publish "$img_dir/v2.img" --name debian --version v2 --origin "$img_dir/origin" \
    --key "$img_dir/publisher.key" --kernel-from-image --cmdline "$cmdline" --force --quiet >&2
  echo "v1 v2" > "$img_dir/origin.done"
fi
rm -rf "$work"; mkdir -p "$work/static"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
( exec "$JAVA_HOME/bin/java" "${AOT_JAVA_OPTS[@]}" -jar "$jar" \
    nbd "$img_dir/origin" --cache "$work/cache" --trust "$img_dir/publisher.key.pub" \
    --listen "127.0.0.1:$p_nbd" --http "127.0.0.1:$p_http" ) >"$work/node.log" 2>&1 &
pids+=($!)
nbdkit -f -r -i 127.0.0.1 -p "$p_kit" file "$img_dir/v2.img" >"$work/nbdkit.log" 2>&1 &
pids+=($!)
cp "$img_dir/vmlinuz" "$img_dir/initrd.img" "$work/static/"
cat > "$work/static/boot.ipxe" <<IPXE
#!ipxe
kernel http://10.0.2.2:$p_static/vmlinuz root=/dev/nbd0 nbdroot=10.0.2.2:$p_kit/debian:v2 ip=dhcp ro $cmdline
initrd http://10.0.2.2:$p_static/initrd.img
boot
IPXE
( cd "$work/static" && exec python3 -m http.server "$p_static" --bind 127.0.0.1 ) >"$work/static.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$p_http/boot/menu.ipxe" >/dev/null && break; sleep 0.2; done

# Prints seconds from qemu start to the marker line.
boot() {
  local log="$work/$1.log" t0 t1
  t0=$(date +%s%N)
  qemu-system-x86_64 -m 1024 -nographic -no-reboot -monitor none -boot n \
    -netdev "user,id=n0,bootfile=$2" -device virtio-net-pci,netdev=n0 >"$log" 2>&1 &
  local q=$!
  for _ in $(seq 1500); do
    if grep -aq 'BOOTED-FROM-NETWORK-DISK: version=v2' "$log"; then break; fi
    kill -0 "$q" 2>/dev/null || break
    sleep 0.2
  done
  t1=$(date +%s%N)
  grep -aq 'BOOTED-FROM-NETWORK-DISK: version=v2' "$log" || { echo "error: $1: no marker, see $log" >&2; kill "$q" 2>/dev/null; exit 1; }
  wait "$q" || true
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}
ours="http://10.0.2.2:$p_http/boot/debian/v2/boot.ipxe"
base="http://10.0.2.2:$p_static/boot.ipxe"
cold=$(boot cold "$ours")
warm=(); baseline=()
for i in $(seq "$runs"); do
  warm+=("$(boot "warm$i" "$ours")")
  baseline+=("$(boot "baseline$i" "$base")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
mw=$(median "${warm[@]}"); mb=$(median "${baseline[@]}")
echo "diskless boot, qemu start to marker (s): cold $cold | warm ${warm[*]} (median $mw) | nbdkit+static ${baseline[*]} (median $mb)"
awk -v c="$cold" -v w="$mw" -v b="$mb" 'BEGIN { printf "ratio to nbdkit+static (time): cold %.2fx, warm %.2fx\n", c/b, w/b }'
