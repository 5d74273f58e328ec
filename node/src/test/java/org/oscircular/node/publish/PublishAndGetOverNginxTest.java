package org.oscircular.node.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.Ext4Images;
import org.oscircular.node.testing.NginxOrigin;

@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PublishAndGetOverNginxTest {
  static final int BLOCK = 64 * 1024;
  @TempDir static Path dir;
  static Path key;
  static Path trust;
  static Path origin;
  static Path v1;

  @BeforeAll
  static void publishFirstVersion() throws IOException {
    key = dir.resolve("publisher.key");
    CliRun.run("keygen", "--out", key.toString(), "--comment", "test publisher").ok();
    trust = dir.resolve("trusted-keys");
    Files.copy(dir.resolve("publisher.key.pub"), trust);
    Path files = dir.resolve("files");
    Ext4Images.generateFiles(files, 42, 8 << 20);
    v1 = dir.resolve("v1.img");
    Ext4Images.mkfs(files, v1, 24);
    origin = dir.resolve("origin");
    CliRun.run("publish", v1.toString(), "--name", "testos", "--version", "1", "--origin", origin.toString(),
        "--key", key.toString(), "--block-size", "64K", "--codec", "zstd").ok();
  }

  @Test
  void anAllZeroImagePublishesIntoAFreshOriginAndComesBack() throws IOException {
    // No block is written, so blocks/ never exists: publish must not try to make it durable.
    Path zeros = Files.write(dir.resolve("zeros.img"), new byte[4 * BLOCK]);
    Path fresh = dir.resolve("origin-of-zeros");
    var published = CliRun.run("publish", zeros.toString(), "--name", "blank", "--version", "1", "--origin",
        fresh.toString(), "--key", key.toString(), "--block-size", "64K", "--quiet").ok();
    assertThat(published.out()).contains("blocks: 4 total, 4 zero, 0 new");
    assertThat(fresh.resolve("blocks")).doesNotExist();
    Path out = dir.resolve("got-zeros.img");
    CliRun.run("get", fresh.toString(), "blank:1", out.toString(), "--trust", trust.toString(),
        "--state-dir", dir.resolve("state-zeros").toString(), "--quiet").ok();
    assertThat(Files.mismatch(out, zeros)).isEqualTo(-1L);
  }

  @Test
  void keygenWritesAPrivateKeyOnlyTheOwnerCanRead() throws IOException {
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(dir.resolve("publisher.key.pub"))).startsWith("circular-ed25519-public ");
  }

  @Test
  void getsThePublishedImageBackByteIdenticalThroughNginx() throws IOException {
    try (var nginx = NginxOrigin.serve(origin)) {
      var images = CliRun.run("images", nginx.url(), "--trust", trust.toString(), "--state-dir", dir.resolve("state-a").toString()).ok();
      assertThat(images.out()).contains("testos").contains("24.0 MiB").contains("live");
      Path out = dir.resolve("got-v1.img");
      CliRun.run("get", nginx.url(), "testos:1", out.toString(), "--trust", trust.toString(),
          "--state-dir", dir.resolve("state-a").toString(), "--parallel", "4").ok();
      assertThat(Files.mismatch(out, v1)).isEqualTo(-1L);
      // Parallel requests reused kept-alive connections: far fewer connections than requests.
      var log = nginx.accessLog();
      long connections = log.stream().map(l -> l.split(" ")[0]).distinct().count();
      assertThat(log.size()).isGreaterThan(100);
      assertThat(connections).isLessThanOrEqualTo(8);
    }
  }

  @Test
  void secondVersionWritesOnlyTheChangedBlocksAndBothVersionsReassemble() throws IOException {
    Path v2 = dir.resolve("v2.img");
    Files.copy(v1, v2);
    Path changed = dir.resolve("changed.txt");
    Files.writeString(changed, "a new file in version 2\n".repeat(20_000));
    Ext4Images.debugfs(v2, "rm /etc/hostname", "write " + changed + " /etc/hostname", "write " + changed + " /etc/motd");
    assertThat(Ext4Images.cat(v2, "/etc/motd")).isEqualTo(Files.readAllBytes(changed));

    Set<String> before = blockFiles();
    int expectedNew = newPlaintextBlocks(v1, v2);
    var r = CliRun.run("publish", v2.toString(), "--name", "testos", "--version", "2", "--origin", origin.toString(),
        "--key", key.toString(), "--block-size", "64K", "--codec", "zstd").ok();
    Set<String> after = blockFiles();
    after.removeAll(before);
    assertThat(expectedNew).isBetween(1, 40);
    assertThat(after).hasSize(expectedNew);
    assertThat(r.out()).containsPattern(Pattern.compile("\\d+ zero, " + expectedNew + " new, \\d+ already present"));

    try (var nginx = NginxOrigin.serve(origin)) {
      String state = dir.resolve("state-b").toString();
      for (var pair : new Object[][] {{"1", v1}, {"2", v2}}) {
        Path out = dir.resolve("got-b-" + pair[0] + ".img");
        CliRun.run("get", nginx.url(), "testos:" + pair[0], out.toString(), "--trust", trust.toString(),
            "--state-dir", state).ok();
        assertThat(Files.mismatch(out, (Path) pair[1])).as("version " + pair[0]).isEqualTo(-1L);
      }
    }
  }

  @Test
  void republishingTheSameContentChangesNothing() throws IOException {
    byte[] catalog = Files.readAllBytes(origin.resolve("catalog"));
    var r = CliRun.run("publish", v1.toString(), "--name", "testos", "--version", "1", "--origin", origin.toString(),
        "--key", key.toString(), "--block-size", "64K", "--codec", "zstd").ok();
    assertThat(r.out()).contains("already published with the same content");
    assertThat(Files.readAllBytes(origin.resolve("catalog"))).isEqualTo(catalog);
  }

  private static Set<String> blockFiles() throws IOException {
    try (Stream<Path> s = Files.walk(origin.resolve("blocks"))) {
      return new HashSet<>(s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).toList());
    }
  }

  /** Distinct non-zero blocks of {@code b} whose plaintext appears nowhere in {@code a}. */
  private static int newPlaintextBlocks(Path a, Path b) throws IOException {
    Set<String> old = plainBlocks(a);
    Set<String> fresh = plainBlocks(b);
    fresh.removeAll(old);
    return fresh.size();
  }

  private static Set<String> plainBlocks(Path img) throws IOException {
    byte[] all = Files.readAllBytes(img);
    Set<String> out = new HashSet<>();
    for (int off = 0; off < all.length; off += BLOCK) {
      int len = Math.min(BLOCK, all.length - off);
      if (Arrays.mismatch(all, off, off + len, new byte[len], 0, len) < 0) {
        continue;
      }
      try {
        var md = MessageDigest.getInstance("SHA-256");
        md.update(all, off, len);
        out.add(HexFormat.of().formatHex(md.digest()));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }
}
