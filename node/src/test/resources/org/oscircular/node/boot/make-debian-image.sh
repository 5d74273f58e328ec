#!/usr/bin/env bash
# Builds what the network-boot tests boot: a Debian 12 minbase root filesystem with a kernel,
# initramfs-tools and nbd-client (so the initramfs can mount its root over NBD, nbdroot=), and a
# test init that prints a marker line and powers off. Output in OUT (kept between runs, since
# debootstrap takes minutes):
#   OUT/vmlinuz OUT/initrd.img   kernel and initrd (with the nbd-client hook)
#   OUT/VERSION.img              ext4 root images, one per VERSION argument; /etc/circular-test-version
#                                holds VERSION, printed in the marker
# Usage: make-debian-image.sh OUT VERSION...    (root; needs debootstrap, e2fsprogs, network)
set -euo pipefail
out=$1; shift
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "make-debian-image.sh: needs root (debootstrap, chroot)" >&2; exit 1; }
mkdir -p "$out"
root="$out/rootfs"
if [ ! -f "$out/rootfs.done" ]; then
  rm -rf "$root"
  debootstrap --variant=minbase \
    --include=linux-image-amd64,initramfs-tools,nbd-client,kmod,udev,ifupdown,isc-dhcp-client,procps \
    bookworm "$root" "$mirror"
  cat > "$root/sbin/circular-test-init" <<'INIT'
#!/bin/sh
# Test init: prove the system booted from its network disk, then power off.
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
. /etc/os-release
rootdev=$(awk '$2 == "/" {print $1}' /proc/mounts | tail -1)
echo "BOOTED-FROM-NETWORK-DISK: version=$(cat /etc/circular-test-version) os=\"$PRETTY_NAME\" root=$rootdev cmdline=\"$(cat /proc/cmdline)\""
sync
echo o > /proc/sysrq-trigger
sleep 30
INIT
  chmod 755 "$root/sbin/circular-test-init"
  # The initramfs must bring up the network (virtio-net) and carry nbd-client for nbdroot=.
  echo 'MODULES=netboot' > "$root/etc/initramfs-tools/conf.d/circular-netboot"
  printf 'virtio_net\nvirtio_pci\nvirtio_blk\nnbd\next4\n' >> "$root/etc/initramfs-tools/modules"
  chroot "$root" update-initramfs -u -k all
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
  touch "$out/rootfs.done"
fi
cp -L "$root/vmlinuz" "$out/vmlinuz"
cp -L "$root/initrd.img" "$out/initrd.img"
for v in "$@"; do
  if [ ! -f "$out/$v.img" ]; then
    echo "$v" > "$root/etc/circular-test-version"
    mkfs.ext4 -q -F -t ext4 -b 4096 -L "circular-$v" -d "$root" "$out/$v.img.tmp" 1200M
    mv "$out/$v.img.tmp" "$out/$v.img"
  fi
done
ls -la "$out"
