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

  @Test
  void refusesAnImageThatDoesNotStartWithAFileSystem() throws Exception {
    Path img = tmp.resolve("disk.img");
    byte[] mbr = new byte[1 << 20];
    mbr[510] = 0x55;
    mbr[511] = (byte) 0xaa;
    Files.write(img, mbr);
    var e = assertThrows(IOException.class, () -> extract(img));
    assertTrue(e.getMessage().contains("does not start with an ext2/3/4 or squashfs file system"),
        e.getMessage());
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
