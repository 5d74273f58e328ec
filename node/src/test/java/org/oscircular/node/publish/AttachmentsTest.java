package org.oscircular.node.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.origin.OriginStore;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.NginxOrigin;
import org.oscircular.node.testing.OriginSnapshot;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.TrustedKeys;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AttachmentsTest {
  @TempDir Path dir;

  private Path file(String name, int size, long seed) throws IOException {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    Path p = dir.resolve(name);
    Files.write(p, b);
    return p;
  }

  @Test
  void storesKernelInitrdCmdlineAndBootProfileAndGetsAttachmentsBack() throws IOException {
    Path key = dir.resolve("k");
    CliRun.run("keygen", "--out", key.toString()).ok();
    Path img = file("os.img", 1 << 20, 1);
    Path kernel = file("vmlinuz", 300_001, 2);
    Path initrd = file("initrd.img", 200_000, 3);
    Path profile = dir.resolve("boot.txt");
    Files.writeString(profile, "5\n@0\n@0x30000\n");
    Path origin = dir.resolve("origin");
    CliRun.run("publish", img.toString(), "--name", "os", "--version", "1", "--origin", origin.toString(),
        "--key", key.toString(), "--block-size", "64K", "--kernel", kernel.toString(), "--initrd", initrd.toString(),
        "--cmdline", "root=/dev/nbd0 ro quiet", "--boot-profile", profile.toString()).ok();

    var trust = TrustedKeys.parse(Files.readString(dir.resolve("k.pub")), "trust");
    Catalog c = Documents.openCatalog(Files.readAllBytes(origin.resolve("catalog")), trust, -1, Instant.now());
    ImageTable t = Documents.openTable(Files.readAllBytes(origin.resolve("tables/os/1")), c.require("os:1"), trust);
    assertThat(t.properties()).containsEntry("cmdline", "root=/dev/nbd0 ro quiet");
    assertThat(t.bootProfile()).containsExactly(5, 0, 3);
    assertThat(t.attachments().keySet()).containsExactly("initrd", "kernel");
    assertThat(t.attachments().get("kernel").length()).isEqualTo(300_001);

    try (var nginx = NginxOrigin.serve(origin)) {
      for (Path want : new Path[] {kernel, initrd}) {
        String blob = want == kernel ? "kernel" : "initrd";
        Path out = dir.resolve("got-" + blob);
        CliRun.run("get", nginx.url(), "os:1", out.toString(), "--blob", blob, "--trust", dir.resolve("k.pub").toString(),
            "--state-dir", dir.resolve("state").toString()).ok();
        assertThat(Files.mismatch(out, want)).as(blob).isEqualTo(-1L);
      }
    }
  }

  @Test
  void refusesABootProfileOutsideTheImageAndWritesNothing() throws IOException {
    Path key = dir.resolve("k");
    CliRun.run("keygen", "--out", key.toString()).ok();
    Path img = file("os.img", 1 << 20, 1);
    Path profile = dir.resolve("boot.txt");
    Files.writeString(profile, "0\n16\n");
    Path origin = dir.resolve("origin");
    Files.createDirectories(origin);
    var before = OriginSnapshot.of(origin);
    var r = CliRun.run("publish", img.toString(), "--name", "os", "--version", "1", "--origin", origin.toString(),
        "--key", key.toString(), "--block-size", "64K", "--boot-profile", profile.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).endsWith("boot.txt line 2: block 16 is outside the image (16 blocks of 65536 bytes)");
    assertThat(OriginSnapshot.of(origin)).isEqualTo(before);
  }

  @Test
  void refusesToPublishWhileAnotherWriterHoldsTheOriginLock() throws IOException {
    Path key = dir.resolve("k");
    CliRun.run("keygen", "--out", key.toString()).ok();
    Path img = file("os.img", 1 << 20, 1);
    Path origin = dir.resolve("origin");
    var store = OriginStore.open(origin, true);
    try (var lock = store.lock()) {
      var r = CliRun.run("publish", img.toString(), "--name", "os", "--version", "1", "--origin", origin.toString(),
          "--key", key.toString());
      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(r.err()).contains("is locked by another publish, retire or gc");
    }
    assertThat(origin.resolve("catalog")).doesNotExist();
  }
}
