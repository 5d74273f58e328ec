package org.oscircular.node.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Real NBD clients (libnbd's nbdinfo and nbdcopy, qemu-img) against the server. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdClientsInteropTest {
  static final int SIZE = 24 * 1024 * 1024 + 3 * 512;
  static final Duration T = Duration.ofSeconds(60);

  @TempDir static Path dir;
  static byte[] image;
  static Path imageFile;
  static FileExport file;
  static ExecutorService reads;
  static NbdServer server;
  static String base;

  @BeforeAll
  static void start() throws IOException {
    Exec.require("nbdinfo", "libnbd-bin");
    Exec.require("nbdcopy", "libnbd-bin");
    Exec.require("qemu-img", "qemu-utils");
    imageFile = dir.resolve("image.raw");
    image = TestExports.writeImage(imageFile, SIZE, 2026);
    file = FileExport.open("debian:12.8", imageFile);
    var flaky = new TestExports.Flaky("broken:1", file, 8 * 1024 * 1024, 8 * 1024 * 1024 + 4096);
    reads = Executors.newVirtualThreadPerTaskExecutor();
    server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0),
        NbdExports.of(List.of(file, flaky)), reads, 2);
    base = "nbd://127.0.0.1:" + server.address().getPort() + "/";
  }

  @AfterAll
  static void stop() throws IOException {
    if (server != null) {
      server.close();
      reads.shutdownNow();
      file.close();
    }
  }

  @Test
  void nbdinfoListsEveryExport() throws Exception {
    String out = Exec.ok(T, "nbdinfo", "--list", base);
    assertTrue(out.contains("debian:12.8"), out);
    assertTrue(out.contains("broken:1"), out);
  }

  @Test
  void nbdinfoShowsTheSizeReadOnlyFlagAndBlockSizes() throws Exception {
    String out = Exec.ok(T, "nbdinfo", "--json", base + "debian:12.8");
    String flat = out.replaceAll("\\s+", "");
    assertTrue(flat.contains("\"export-size\":" + SIZE), out);
    assertTrue(flat.contains("\"is_read_only\":true"), out);
    assertTrue(flat.contains("\"block_size_maximum\":33554432"), out);
    assertTrue(flat.contains("\"can_multi_conn\":true"), out);
  }

  @Test
  void nbdcopyOfAnExportEqualsTheImage() throws Exception {
    Path copy = dir.resolve("nbdcopy.raw");
    Exec.ok(T, "nbdcopy", base + "debian:12.8", copy.toString());
    assertArrayEquals(image, Files.readAllBytes(copy));
  }

  @Test
  void qemuImgConvertAndCompareAgreeWithTheImage() throws Exception {
    Path copy = dir.resolve("qemu.raw");
    Exec.ok(T, "qemu-img", "convert", "-f", "raw", "-O", "raw", base + "debian:12.8",
        copy.toString());
    assertArrayEquals(image, Files.readAllBytes(copy));
    String out = Exec.ok(T, "qemu-img", "compare", "-f", "raw", "-F", "raw",
        base + "debian:12.8", imageFile.toString());
    assertTrue(out.contains("identical"), out);
  }

  @Test
  void qemuImgCompareNoticesADifferentImage() throws Exception {
    Path other = dir.resolve("other.raw");
    byte[] changed = image.clone();
    changed[SIZE / 2] ^= 1;
    Files.write(other, changed);
    Exec.Result r = Exec.run(T, "qemu-img", "compare", "-f", "raw", "-F", "raw",
        base + "debian:12.8", other.toString());
    assertEquals(1, r.exit(), r.output());
  }

  @Test
  void nbdcopyFailsOnAnUnverifiableBlockInsteadOfCopyingWrongBytes() throws Exception {
    Path copy = dir.resolve("broken.raw");
    Exec.Result r = Exec.run(T, "nbdcopy", base + "broken:1", copy.toString());
    assertNotEquals(0, r.exit(), r.output());
    assertTrue(r.output().toLowerCase().contains("input/output error"), r.output());
  }
}
