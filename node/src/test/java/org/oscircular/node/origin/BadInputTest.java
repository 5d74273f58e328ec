package org.oscircular.node.origin;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.Ext4Images;
import org.oscircular.node.testing.NginxOrigin;
import org.oscircular.node.testing.OriginSnapshot;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.Digests;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.PublisherKey;
import org.oscircular.protocol.format.TrustedKeys;

/**
 * Every kind of bad input gives one clear line naming the problem, a non-zero exit, and leaves the
 * origin exactly as it was.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BadInputTest {
  @TempDir static Path shared;
  static Path key;
  static Path trust;
  static Path pristine;
  static Path image;

  @TempDir Path dir;
  Path origin;
  Path state;

  @BeforeAll
  static void publishOnce() throws IOException {
    key = shared.resolve("publisher.key");
    CliRun.run("keygen", "--out", key.toString()).ok();
    trust = shared.resolve("trusted-keys");
    Files.copy(shared.resolve("publisher.key.pub"), trust);
    Path files = shared.resolve("files");
    Ext4Images.generateFiles(files, 7, 2 << 20);
    image = shared.resolve("os.img");
    Ext4Images.mkfs(files, image, 8);
    pristine = shared.resolve("origin");
    CliRun.run("publish", image.toString(), "--name", "testos", "--version", "1", "--origin", pristine.toString(),
        "--key", key.toString(), "--block-size", "64K").ok();
  }

  @BeforeEach
  void freshOrigin() throws IOException {
    origin = dir.resolve("origin");
    OriginSnapshot.copy(pristine, origin);
    state = dir.resolve("state");
  }

  private CliRun client(String... args) {
    String[] all = Arrays.copyOf(args, args.length + 4);
    all[args.length] = "--trust";
    all[args.length + 1] = trust.toString();
    all[args.length + 2] = "--state-dir";
    all[args.length + 3] = state.toString();
    return CliRun.run(all);
  }

  /** Runs {@code action}, then checks it failed with exactly one line containing {@code expected} and changed nothing. */
  private void failsCleanly(String expected, java.util.function.Supplier<CliRun> action) throws IOException {
    Map<String, String> before = OriginSnapshot.of(origin);
    CliRun r = action.get();
    assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
    assertThat(r.err().strip().lines().toList()).as(r.err()).hasSize(1);
    assertThat(r.err()).startsWith("circular ").contains(expected);
    assertThat(OriginSnapshot.of(origin)).isEqualTo(before);
  }

  private Catalog catalog() throws IOException {
    return Documents.openCatalog(Files.readAllBytes(origin.resolve("catalog")), TrustedKeys.parse(Files.readString(trust), "t"),
        -1, Instant.now());
  }

  private PublisherKey.Private privateKey() throws IOException {
    return PublisherKey.parsePrivate(Files.readString(key), key.toString());
  }

  /** Re-signs the catalog so it vouches for the table bytes now on disk (to reach the table parser). */
  private void vouchForTable(byte[] table) throws IOException {
    Catalog c = catalog();
    var e = c.entries().getFirst();
    var entry = new Catalog.Entry(e.name(), e.version(), Digests.sha256(table), e.imageLength(), e.created(), false);
    var next = new Catalog(c.sequence() + 1, c.created(), c.expires(), List.of(entry));
    Files.write(origin.resolve("catalog"), Documents.signCatalog(next, privateKey()));
  }

  @Test
  void refusesATruncatedTable() throws IOException {
    Path t = origin.resolve("tables/testos/1");
    byte[] table = Files.readAllBytes(t);
    byte[] cut = Arrays.copyOf(table, table.length / 2);
    Files.write(t, cut);
    vouchForTable(cut);
    failsCleanly("table testos:1 is truncated", () -> client("get", origin.toString(), "testos:1", dir.resolve("o.img").toString()));
    assertThat(dir.resolve("o.img")).doesNotExist();
  }

  @Test
  void refusesATableThatDoesNotMatchTheCatalog() throws IOException {
    Path t = origin.resolve("tables/testos/1");
    byte[] table = Files.readAllBytes(t);
    table[table.length / 2] ^= 1;
    Files.write(t, table);
    failsCleanly("table testos:1 does not match the catalog's digest",
        () -> client("get", origin.toString(), "testos:1", dir.resolve("o.img").toString()));
  }

  @Test
  void refusesACorruptTableEvenWhenTheCatalogVouchesForIt() throws IOException {
    Path t = origin.resolve("tables/testos/1");
    byte[] table = Files.readAllBytes(t);
    table[40] ^= 0x55;
    Files.write(t, table);
    vouchForTable(table);
    failsCleanly("table testos:1 has a bad signature",
        () -> client("get", origin.toString(), "testos:1", dir.resolve("o.img").toString()));
  }

  @Test
  void refusesACatalogWithAWrongSignature() throws IOException {
    Path c = origin.resolve("catalog");
    byte[] bytes = Files.readAllBytes(c);
    bytes[bytes.length - 10] ^= 1;
    Files.write(c, bytes);
    failsCleanly("catalog has a bad signature", () -> client("images", origin.toString()));
  }

  @Test
  void refusesACatalogWithoutItsSignature() throws IOException {
    Path c = origin.resolve("catalog");
    byte[] bytes = Files.readAllBytes(c);
    Files.write(c, Arrays.copyOf(bytes, bytes.length - 64));
    failsCleanly("catalog is truncated (reading signature", () -> client("images", origin.toString()));
  }

  @Test
  void refusesACatalogSignedByAnUnknownKey() throws IOException {
    Path otherKey = dir.resolve("other.key");
    CliRun.run("keygen", "--out", otherKey.toString()).ok();
    Path otherTrust = dir.resolve("other-trust");
    Files.copy(dir.resolve("other.key.pub"), otherTrust);
    failsCleanly("signed by untrusted key", () -> CliRun.run("images", origin.toString(), "--trust", otherTrust.toString(),
        "--state-dir", state.toString()));
  }

  @Test
  void refusesAnOlderCatalogThanOneSeenInAnEarlierRun() throws IOException {
    byte[] old = Files.readAllBytes(origin.resolve("catalog"));
    CliRun.run("resign", origin.toString(), "--key", key.toString()).ok();
    client("images", origin.toString()).ok();
    Files.write(origin.resolve("catalog"), old);
    failsCleanly("rollback refused", () -> client("images", origin.toString()));
  }

  @Test
  void refusesAnExpiredCatalog() throws IOException {
    Catalog c = catalog();
    Instant past = Instant.now().minusSeconds(3600);
    var expired = new Catalog(c.sequence() + 1, past.minusSeconds(60), past, c.entries());
    Files.write(origin.resolve("catalog"), Documents.signCatalog(expired, privateKey()));
    failsCleanly("catalog expired at", () -> client("images", origin.toString()));
  }

  @Test
  void refusesABlockWhoseHashDoesNotMatchAndVerifyNamesIt() throws IOException {
    Path block;
    try (Stream<Path> s = Files.walk(origin.resolve("blocks"))) {
      block = s.filter(Files::isRegularFile).sorted().findFirst().orElseThrow();
    }
    byte[] b = Files.readAllBytes(block);
    b[b.length / 2] ^= 1;
    Files.write(block, b);
    String name = block.getFileName().toString();
    failsCleanly("block " + name, () -> client("get", origin.toString(), "testos:1", dir.resolve("o.img").toString(),
        "--retries", "2"));
    assertThat(dir.resolve("o.img")).doesNotExist();
    Map<String, String> before = OriginSnapshot.of(origin);
    CliRun v = client("verify", origin.toString());
    assertThat(v.exitCode()).isEqualTo(1);
    assertThat(v.err()).contains("bad block " + name).contains("SHA1 does not match its name");
    assertThat(OriginSnapshot.of(origin)).isEqualTo(before);
  }

  @Test
  void verifyNamesAMissingBlock() throws IOException {
    Path block;
    try (Stream<Path> s = Files.walk(origin.resolve("blocks"))) {
      block = s.filter(Files::isRegularFile).sorted().skip(3).findFirst().orElseThrow();
    }
    Files.delete(block);
    CliRun v = client("verify", origin.toString());
    assertThat(v.exitCode()).isEqualTo(1);
    assertThat(v.err()).contains("bad block " + block.getFileName() + " (testos:1 image block");
  }

  @Test
  void refusesABlockSizeThatIsNotAPowerOfTwo() throws IOException {
    failsCleanly("block size must be a power of two from 4 KiB to 4 MiB", () -> CliRun.run("publish", image.toString(),
        "--name", "testos", "--version", "2", "--origin", origin.toString(), "--key", key.toString(), "--block-size", "100K"));
  }

  @Test
  void refusesAnImageThatIsNotAMultipleOf512() throws IOException {
    Path odd = dir.resolve("odd.img");
    Files.write(odd, new byte[512 * 3 + 7]);
    failsCleanly("is 1543 bytes, not a multiple of 512", () -> CliRun.run("publish", odd.toString(),
        "--name", "testos", "--version", "2", "--origin", origin.toString(), "--key", key.toString()));
  }

  @Test
  void refusesAnImageThatDoesNotExist() throws IOException {
    failsCleanly("image " + dir.resolve("missing.img") + " does not exist", () -> CliRun.run("publish",
        dir.resolve("missing.img").toString(), "--name", "testos", "--version", "2", "--origin", origin.toString(),
        "--key", key.toString()));
  }

  @Test
  void refusesToRepublishARetiredVersionWithoutUndo() throws IOException {
    CliRun.run("retire", origin.toString(), "testos:1", "--key", key.toString()).ok();
    failsCleanly("testos:1 is retired; make it live again with 'circular retire --undo'", () -> CliRun.run("publish",
        image.toString(), "--name", "testos", "--version", "1", "--origin", origin.toString(), "--key", key.toString(),
        "--block-size", "64K"));
  }

  @Test
  void refusesToRepublishAVersionWithDifferentContentUnlessForced() throws IOException {
    Path changed = dir.resolve("changed.img");
    Files.copy(image, changed);
    Ext4Images.debugfs(changed, "mkdir /new-dir");
    failsCleanly("testos:1 is already published with different content", () -> CliRun.run("publish", changed.toString(),
        "--name", "testos", "--version", "1", "--origin", origin.toString(), "--key", key.toString(), "--block-size", "64K"));
    CliRun.run("publish", changed.toString(), "--name", "testos", "--version", "1", "--origin", origin.toString(),
        "--key", key.toString(), "--block-size", "64K", "--force").ok();
    client("get", origin.toString(), "testos:1", dir.resolve("o.img").toString()).ok();
    assertThat(Files.mismatch(dir.resolve("o.img"), changed)).isEqualTo(-1L);
  }

  @Test
  void refusesToPublishOverACatalogSignedByAnotherKey() throws IOException {
    Path otherKey = dir.resolve("other.key");
    CliRun.run("keygen", "--out", otherKey.toString()).ok();
    failsCleanly("signed by another key", () -> CliRun.run("publish", image.toString(), "--name", "testos",
        "--version", "2", "--origin", origin.toString(), "--key", otherKey.toString()));
  }

  @Test
  void saysSoWhenTheOriginIsDown() throws IOException {
    String url;
    try (var nginx = NginxOrigin.serve(origin)) {
      url = nginx.url();
      client("images", url).ok();
    }
    failsCleanly("is unreachable (connection refused) while fetching catalog", () -> client("images", url));
  }

  @Test
  void saysSoWhenTheOriginReturnsAnHtmlPage() throws IOException {
    Path web = dir.resolve("web");
    Files.createDirectories(web);
    try (var nginx = NginxOrigin.serveHtmlFallback(web)) {
      failsCleanly("returned an HTML page for catalog", () -> client("images", nginx.url()));
      failsCleanly("returned an HTML page for catalog", () -> client("get", nginx.url(), "testos:1",
          dir.resolve("o.img").toString()));
    }
  }

  @Test
  void saysSoWhenTheOriginHasNoCatalog() throws IOException {
    Files.delete(origin.resolve("catalog"));
    try (var nginx = NginxOrigin.serve(origin)) {
      failsCleanly("has no catalog (HTTP 404)", () -> client("images", nginx.url()));
    }
  }

}
