package org.oscircular.node.publish;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.Ext4Images;

/** {@code circular publish --kernel-from-image} stores the image's own kernel and initrd. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PublishKernelFromImageTest {
  @TempDir Path tmp;

  @Test
  void storesTheImagesKernelAndInitrdAsBootAttachments() throws Exception {
    Path tree = Files.createDirectories(tmp.resolve("tree/boot"));
    byte[] kernel = new byte[900_000];
    byte[] initrd = new byte[1_700_000];
    new Random(11).nextBytes(kernel);
    new Random(12).nextBytes(initrd);
    Files.write(tree.resolve("vmlinuz-6.1.0-50-amd64"), kernel);
    Files.write(tree.resolve("initrd.img-6.1.0-50-amd64"), initrd);
    Files.createSymbolicLink(tmp.resolve("tree/vmlinuz"), Path.of("boot/vmlinuz-6.1.0-50-amd64"));
    Path img = tmp.resolve("root.img");
    Ext4Images.mkfs(tmp.resolve("tree"), img, 16);
    Path key = tmp.resolve("publisher.key");
    CliRun.run("keygen", "--out", key.toString()).ok();
    Path origin = tmp.resolve("origin");
    var run = CliRun.run("publish", img.toString(), "--name", "os", "--version", "1", "--origin",
        origin.toString(), "--key", key.toString(), "--kernel-from-image", "--cmdline",
        "console=ttyS0", "--block-size", "64K", "--quiet").ok();
    assertTrue(run.out().contains("kernel /boot/vmlinuz-6.1.0-50-amd64 and initrd"
        + " /boot/initrd.img-6.1.0-50-amd64 taken from the image"), run.out());

    // read back through the cache, verified, as a booting machine gets them
    Path dir = tmp.resolve("fetched");
    var kexec = CliRun.run("kexec", origin.toString(), "os:1", "--dry-run", "--dir", dir.toString(),
        "--cache", tmp.resolve("cache").toString(), "--trust", key + ".pub", "--nbd",
        "192.0.2.1:10809").ok();
    assertArrayEquals(kernel, Files.readAllBytes(dir.resolve("os-1.kernel")));
    assertArrayEquals(initrd, Files.readAllBytes(dir.resolve("os-1.initrd")));
    assertTrue(kexec.out().contains("nbdroot=192.0.2.1:10809/os:1 ip=dhcp ro console=ttyS0"),
        kexec.out());
  }

  @Test
  void refusesKernelFromImageTogetherWithKernel() throws Exception {
    Path key = tmp.resolve("publisher.key");
    CliRun.run("keygen", "--out", key.toString()).ok();
    Path img = tmp.resolve("x.img");
    Files.write(img, new byte[1 << 16]);
    Files.write(tmp.resolve("vmlinuz"), new byte[512]);
    var run = CliRun.run("publish", img.toString(), "--name", "os", "--version", "1", "--origin",
        tmp.resolve("origin").toString(), "--key", key.toString(), "--kernel-from-image",
        "--kernel", tmp.resolve("vmlinuz").toString(), "--quiet");
    assertEquals(1, run.exitCode());
    assertTrue(run.err().contains("--kernel-from-image takes kernel and initrd from the image"),
        run.err());
  }

  @Test
  void anImageWithoutKernelIsNotPublished() throws Exception {
    Path tree = Files.createDirectories(tmp.resolve("tree/etc"));
    Files.writeString(tree.resolve("hostname"), "none\n");
    Path img = tmp.resolve("root.img");
    Ext4Images.mkfs(tmp.resolve("tree"), img, 8);
    Path key = tmp.resolve("publisher.key");
    CliRun.run("keygen", "--out", key.toString()).ok();
    Path origin = tmp.resolve("origin");
    var run = CliRun.run("publish", img.toString(), "--name", "os", "--version", "1", "--origin",
        origin.toString(), "--key", key.toString(), "--kernel-from-image", "--quiet");
    assertEquals(1, run.exitCode());
    assertTrue(run.err().contains("holds no kernel"), run.err());
    assertTrue(!Files.exists(origin.resolve("catalog")) || !Files.readString(origin.resolve("catalog"))
        .contains("os"), "nothing published");
  }
}
