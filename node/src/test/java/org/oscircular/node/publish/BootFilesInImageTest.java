package org.oscircular.node.publish;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.oscircular.node.nbd.TestTools;
import org.oscircular.node.testing.Ext4Images;

/**
 * Kernel and initrd found in, and copied out of, real ext4 ({@code mkfs.ext4 -d}) and squashfs
 * ({@code mksquashfs}) images with fake {@code /boot} contents laid out like distributions do.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BootFilesInImageTest {
  @TempDir Path tmp;

  Path tree() throws IOException {
    return Files.createDirectories(tmp.resolve("tree"));
  }

  static void write(Path root, String path, String content) throws IOException {
    Path p = root.resolve(path);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
  }

  static void link(Path root, String path, String target) throws IOException {
    Path p = root.resolve(path);
    Files.createDirectories(p.getParent());
    Files.createSymbolicLink(p, Path.of(target));
  }

  /** The tree as an image of {@code kind}: "ext4" or "squashfs". */
  Path image(Path tree, String kind) throws IOException {
    Path img = tmp.resolve("image." + kind);
    if (kind.equals("ext4")) {
      Ext4Images.mkfs(tree, img, 8);
    } else {
      TestTools.require("mksquashfs", "squashfs-tools");
      ImageFileSystem.run(List.of("mksquashfs", tree.toString(), img.toString(), "-noappend",
          "-quiet", "-no-progress"), null);
    }
    return img;
  }

  BootFilesInImage.Extracted extract(Path img) throws IOException {
    Path out = Files.createDirectories(tmp.resolve("out-" + System.nanoTime()));
    return BootFilesInImage.extract(img, out);
  }

  static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @ValueSource(strings = {"ext4", "squashfs"})
  void takesTheKernelAndInitrdTheRootLinksPointTo(String kind) throws Exception {
    Path t = tree();
    write(t, "boot/vmlinuz-6.1.0-9-amd64", "old kernel");
    write(t, "boot/initrd.img-6.1.0-9-amd64", "old initrd");
    write(t, "boot/vmlinuz-6.1.0-10-amd64", "new kernel");
    write(t, "boot/initrd.img-6.1.0-10-amd64", "new initrd");
    write(t, "boot/vmlinuz-6.1.0-11-amd64", "newest kernel, but not the one linked");
    link(t, "vmlinuz", "boot/vmlinuz-6.1.0-10-amd64");
    link(t, "initrd.img", "boot/initrd.img-6.1.0-10-amd64");
    link(t, "vmlinuz.old", "boot/vmlinuz-6.1.0-9-amd64");
    var x = extract(image(t, kind));
    assertEquals("/boot/vmlinuz-6.1.0-10-amd64", x.kernelInImage());
    assertEquals("new kernel", read(x.kernel()));
    assertEquals(Optional.of("/boot/initrd.img-6.1.0-10-amd64"), x.initrdInImage());
    assertEquals("new initrd", read(x.initrd().orElseThrow()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"ext4", "squashfs"})
  void takesTheNewestVersionedKernelWhenNoLinkNamesOne(String kind) throws Exception {
    Path t = tree();
    write(t, "boot/vmlinuz-5.10.0-30-amd64", "5.10");
    write(t, "boot/vmlinuz-6.1.0-9-amd64", "6.1.0-9");
    write(t, "boot/vmlinuz-6.1.0-10-amd64", "6.1.0-10");
    write(t, "boot/initrd.img-6.1.0-9-amd64", "initrd 6.1.0-9");
    write(t, "boot/initramfs-6.1.0-10-amd64.img", "initramfs 6.1.0-10");
    write(t, "boot/config-6.1.0-10-amd64", "not a kernel");
    var x = extract(image(t, kind));
    assertEquals("/boot/vmlinuz-6.1.0-10-amd64", x.kernelInImage());
    assertEquals("6.1.0-10", read(x.kernel()));
    assertEquals("initramfs 6.1.0-10", read(x.initrd().orElseThrow()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"ext4", "squashfs"})
  void resolvesAbsoluteAndChainedLinksInsideTheImageNotOnTheHost(String kind) throws Exception {
    Path t = tree();
    // /boot is a link to /efi/boot; /vmlinuz -> /boot/vmlinuz -> vmlinuz-6.6 (absolute, chained)
    write(t, "efi/boot/vmlinuz-6.6", "kernel 6.6");
    write(t, "efi/boot/initrd.img-6.6", "initrd 6.6");
    link(t, "boot", "/efi/boot");
    link(t, "efi/boot/vmlinuz", "vmlinuz-6.6");
    link(t, "vmlinuz", "/boot/vmlinuz");
    // a link whose absolute target exists on the host but not in the image is not followed out
    link(t, "initrd.img", "/etc/hostname");
    var x = extract(image(t, kind));
    assertEquals("/efi/boot/vmlinuz-6.6", x.kernelInImage());
    assertEquals("kernel 6.6", read(x.kernel()));
    assertEquals(Optional.of("/efi/boot/initrd.img-6.6"), x.initrdInImage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"ext4", "squashfs"})
  void followsALinkTooLongToBeStoredInTheInode(String kind) throws Exception {
    Path t = tree();
    String dir = "boot/" + "d".repeat(90);
    write(t, dir + "/vmlinuz-1", "far kernel");
    link(t, "vmlinuz", dir + "/vmlinuz-1");
    var x = extract(image(t, kind));
    assertEquals("/" + dir + "/vmlinuz-1", x.kernelInImage());
    assertEquals("far kernel", read(x.kernel()));
    assertTrue(x.initrd().isEmpty());
  }

  @ParameterizedTest
  @ValueSource(strings = {"ext4", "squashfs"})
  void copiesLargeKernelsWhole(String kind) throws Exception {
    Path t = tree();
    byte[] kernel = new byte[3 << 20];
    new java.util.Random(7).nextBytes(kernel);
    Files.createDirectories(t.resolve("boot"));
    Files.write(t.resolve("boot/vmlinuz-6.1"), kernel);
    var x = extract(image(t, kind));
    assertArrayEquals(kernel, Files.readAllBytes(x.kernel()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"ext4", "squashfs"})
  void saysSoWhenTheImageHoldsNoKernel(String kind) throws Exception {
    Path t = tree();
    write(t, "etc/hostname", "no kernel here");
    write(t, "boot/config-6.1", "a config, no kernel");
    link(t, "vmlinuz", "boot/vmlinuz-6.1"); // dangling
    Path img = image(t, kind);
    var e = assertThrows(IOException.class, () -> extract(img));
    assertTrue(e.getMessage().contains("holds no kernel") && e.getMessage().contains("--kernel"),
        e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"ext4", "squashfs"})
  void stopsAtASymlinkLoop(String kind) throws Exception {
    Path t = tree();
    link(t, "vmlinuz", "loop-a");
    link(t, "loop-a", "loop-b");
    link(t, "loop-b", "/vmlinuz");
    Path img = image(t, kind);
    var e = assertThrows(IOException.class, () -> extract(img));
    assertTrue(e.getMessage().contains("too many levels of symlinks"), e.getMessage());
  }

  /**
   * A whole-disk image with an MBR ("dos") or GPT ("gpt") partition table written by sfdisk, one
   * partition per file system image (null: a partition left empty), from sector 2048 on.
   */
  Path disk(String label, Path... partitions) throws Exception {
    TestTools.require("sfdisk", "fdisk");
    StringBuilder script = new StringBuilder("label: " + label + "\n");
    long sector = 2048;
    List<Long> starts = new java.util.ArrayList<>();
    for (Path p : partitions) {
      long sectors = p == null ? 2048 : (Files.size(p) + 511) / 512;
      starts.add(sector);
      script.append("start=").append(sector).append(", size=").append(sectors)
          .append(label.equals("dos") ? ", type=83" : "").append("\n");
      sector += sectors;
    }
    Path disk = tmp.resolve("disk-" + label + ".img");
    try (var ch = java.nio.channels.FileChannel.open(disk, java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(0);
      ch.write(java.nio.ByteBuffer.allocate(1), (sector + 2048) * 512 - 1);
    }
    Path in = Files.writeString(tmp.resolve("sfdisk.in"), script);
    Process p = new ProcessBuilder("sfdisk", "-q", disk.toString()).redirectInput(in.toFile())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("sfdisk.log").toFile()).start();
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("sfdisk failed: " + Files.readString(tmp.resolve("sfdisk.log")));
    }
    try (var out = java.nio.channels.FileChannel.open(disk, java.nio.file.StandardOpenOption.WRITE)) {
      for (int i = 0; i < partitions.length; i++) {
        if (partitions[i] != null) {
          try (var src = java.nio.channels.FileChannel.open(partitions[i])) {
            long done = 0;
            while (done < src.size()) {
              done += src.transferTo(done, src.size() - done, out.position(starts.get(i) * 512 + done));
            }
          }
        }
      }
    }
    return disk;
  }

  @ParameterizedTest
  @ValueSource(strings = {"dos", "gpt"})
  void findsTheKernelInTheRootPartitionOfAWholeDisk(String label) throws Exception {
    Path data = tmp.resolve("data");
    write(data, "etc/hostname", "a partition without a kernel");
    Path dataImg = image(data, "ext4");
    Path dataPart = Files.move(dataImg, tmp.resolve("data.ext4"));
    Path root = tree();
    write(root, "boot/vmlinuz-6.1.0-50-amd64", "partitioned kernel");
    write(root, "boot/initrd.img-6.1.0-50-amd64", "partitioned initrd");
    link(root, "vmlinuz", "boot/vmlinuz-6.1.0-50-amd64");
    Path rootPart = image(root, "squashfs");
    var x = extract(disk(label, null, dataPart, rootPart));
    assertEquals("/boot/vmlinuz-6.1.0-50-amd64", x.kernelInImage());
    assertEquals("partitioned kernel", read(x.kernel()));
    assertEquals("partitioned initrd", read(x.initrd().orElseThrow()));
    assertEquals("squashfs in partition 3", x.fileSystem());
  }

  @Test
  void findsTheKernelOnASeparateBootPartition() throws Exception {
    Path boot = tmp.resolve("bootfs");
    write(boot, "vmlinuz-6.1.0-49-amd64", "older");
    write(boot, "vmlinuz-6.1.0-50-amd64", "boot partition kernel");
    write(boot, "initrd.img-6.1.0-50-amd64", "boot partition initrd");
    Path bootPart = Files.move(image(boot, "ext4"), tmp.resolve("boot.ext4"));
    Path root = tree();
    write(root, "etc/hostname", "root without /boot contents");
    Files.createDirectories(root.resolve("boot"));
    Path rootPart = image(root, "ext4");
    var x = extract(disk("gpt", bootPart, rootPart));
    assertEquals("/vmlinuz-6.1.0-50-amd64", x.kernelInImage());
    assertEquals("boot partition initrd", read(x.initrd().orElseThrow()));
    assertEquals("ext2/3/4 in partition 1", x.fileSystem());
  }

  @Test
  void refusesADiskWithoutAnyFileSystemItCanRead() throws Exception {
    Path junk = tmp.resolve("junk.bin");
    Files.write(junk, new byte[1 << 20]);
    Path disk = disk("gpt", junk);
    var e = assertThrows(IOException.class, () -> extract(disk));
    assertTrue(e.getMessage().contains("holds no ext2/3/4 or squashfs file system, neither at its"
        + " start nor in an MBR or GPT partition"), e.getMessage());
  }

  @Test
  void ordersVersionsNumberByNumber() {
    List<String> ascending = List.of("5.10.0-30-amd64", "6.1.0-9-amd64", "6.1.0-10-amd64",
        "6.1.10", "6.10", "6.10.1", "10.0");
    for (int i = 0; i < ascending.size(); i++) {
      for (int j = 0; j < ascending.size(); j++) {
        int c = BootFilesInImage.compareVersions(ascending.get(i), ascending.get(j));
        assertEquals(Integer.signum(Integer.compare(i, j)), Integer.signum(c),
            ascending.get(i) + " vs " + ascending.get(j));
      }
    }
  }
}
