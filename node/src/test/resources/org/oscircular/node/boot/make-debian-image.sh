#!/usr/bin/env bash
# Builds what the network-boot tests boot: a Debian 12 minbase root filesystem with a kernel,
# initramfs-tools and nbd-client (so the initramfs can mount its root over NBD, nbdroot=),
# kexec-tools, and a test init that prints a marker line and powers off. Output in OUT (kept between
# runs, since debootstrap takes minutes; callers name OUT after a hash of this file, so any change
# here builds a new image):
#   OUT/vmlinuz OUT/initrd.img   kernel and initrd (with the nbd-client hook)
#   OUT/VERSION.img              ext4 root images, one per VERSION argument; /etc/circular-test-version
#                                holds VERSION, printed in the marker
# Usage: make-debian-image.sh OUT VERSION...    (root; needs debootstrap, e2fsprogs, network)
set -euo pipefail
out=$1; shift
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Every package the image holds beyond minbase (the one list; change it here only).
packages=(linux-image-amd64 initramfs-tools nbd-client kmod udev ifupdown isc-dhcp-client procps kexec-tools)
[ "$(id -u)" -eq 0 ] || { echo "make-debian-image.sh: needs root (debootstrap, chroot)" >&2; exit 1; }
mkdir -p "$out"
root="$out/rootfs"
if [ ! -f "$out/rootfs.done" ]; then
  rm -rf "$root"
  debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
    bookworm "$root" "$mirror"
  cat > "$root/sbin/circular-test-init" <<'INIT'
#!/bin/sh
# Test init: prove the system booted from its network disk, then power off.
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
. /etc/os-release
rootdev=$(awk '$2 == "/" {print $1}' /proc/mounts | tail -1)
echo "BOOTED-FROM-NETWORK-DISK: version=$(cat /etc/circular-test-version) os=\"$PRETTY_NAME\" root=$rootdev cmdline=\"$(cat /proc/cmdline)\""
# circular.test=run on the kernel command line: the host shares, read-only over virtio 9p, a JDK
# (tag jdk) and a directory with OS Circular's classpath and a script guest.sh (tag circular); run
# it (it may not return: the kexec test ends in a new kernel).
case " $(cat /proc/cmdline) " in
  *" circular.test=run "*)
    mount -t tmpfs -o size=768m tmpfs /tmp
    mkdir -p /tmp/jdk /tmp/circular
    modprobe 9pnet_virtio && modprobe 9p \
      && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro jdk /tmp/jdk \
      && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro circular /tmp/circular \
      && sh /tmp/circular/guest.sh
    echo "CIRCULAR-TEST-FAILED: guest.sh exited with $?"
    ;;
esac
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
