package org.oscircular.node.origin;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.Ext4Images;
import org.oscircular.node.testing.OriginSnapshot;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.TrustedKeys;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RetireAndGcTest {
  @TempDir Path dir;
  Path key;
  Path trust;
  Path origin;
  Path v1;
  Path v2;

  @BeforeEach
  void publishTwoVersions() throws IOException {
    key = dir.resolve("k");
    CliRun.run("keygen", "--out", key.toString()).ok();
    trust = dir.resolve("k.pub");
    Path files = dir.resolve("files");
    Ext4Images.generateFiles(files, 3, 2 << 20);
    v1 = dir.resolve("v1.img");
    Ext4Images.mkfs(files, v1, 8);
    v2 = dir.resolve("v2.img");
    Files.copy(v1, v2);
    Path f = dir.resolve("new.txt");
    Files.writeString(f, "version two\n".repeat(30_000));
    Ext4Images.debugfs(v2, "write " + f + " /etc/motd");
    origin = dir.resolve("origin");
    for (var v : Map.of("1", v1, "2", v2).entrySet()) {
      CliRun.run("publish", v.getValue().toString(), "--name", "os", "--version", v.getKey(), "--origin",
          origin.toString(), "--key", key.toString(), "--block-size", "16K", "--codec", "deflate").ok();
    }
  }

  private Set<String> blocksOf(String version) throws IOException {
    var t = TrustedKeys.parse(Files.readString(trust), "trust");
    Catalog c = Documents.openCatalog(Files.readAllBytes(origin.resolve("catalog")), t, -1, Instant.now());
    ImageTable table = Documents.openTable(Files.readAllBytes(origin.resolve("tables/os/" + version)),
        c.find("os", version).orElseThrow(), t);
    Set<String> out = new HashSet<>();
    for (BlockEntry b : table.image().blocks()) {
      if (b instanceof BlockEntry.Stored s) {
        out.add(s.name().hex());
      }
    }
    return out;
  }

  private Set<String> blockFiles() throws IOException {
    try (Stream<Path> s = Files.walk(origin.resolve("blocks"))) {
      return new HashSet<>(s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void gcDeletesOnlyBlocksThatNoLiveVersionUses() throws IOException {
    Set<String> only1 = blocksOf("1");
    only1.removeAll(blocksOf("2"));
    assertThat(only1).isNotEmpty();
    Set<String> all = blockFiles();

    var retire = CliRun.run("retire", origin.toString(), "os:1", "--key", key.toString()).ok();
    assertThat(retire.out()).contains("retired os:1");
    String state = dir.resolve("state").toString();
    assertThat(CliRun.run("images", origin.toString(), "--trust", trust.toString(), "--state-dir", state).ok().out())
        .containsPattern("os\\s+1\\s+.*retired").containsPattern("os\\s+2\\s+.*live");

    var before = OriginSnapshot.of(origin);
    var dry = CliRun.run("gc", origin.toString(), "--dry-run").ok();
    assertThat(dry.out()).contains("would delete " + only1.size() + " block file(s)");
    assertThat(OriginSnapshot.of(origin)).isEqualTo(before);

    CliRun.run("gc", origin.toString()).ok();
    Set<String> expected = new HashSet<>(all);
    expected.removeAll(only1);
    assertThat(blockFiles()).isEqualTo(expected);
    CliRun.run("verify", origin.toString(), "--trust", trust.toString(), "--state-dir", state).ok();

    try (var pool = Executors.newVirtualThreadPerTaskExecutor();
        var server = StaticOriginServer.start(origin, new InetSocketAddress("127.0.0.1", 0), pool)) {
      Path out = dir.resolve("got.img");
      CliRun.run("get", server.url(), "os:2", out.toString(), "--trust", trust.toString(), "--state-dir", state).ok();
      assertThat(Files.mismatch(out, v2)).isEqualTo(-1L);
    }
  }

  @Test
  void gcDeletesNothingWhenALiveTableCannotBeRead() throws IOException {
    CliRun.run("retire", origin.toString(), "os:1", "--key", key.toString()).ok();
    Path t = origin.resolve("tables/os/2");
    byte[] b = Files.readAllBytes(t);
    b[100] ^= 1;
    Files.write(t, b);
    var before = OriginSnapshot.of(origin);
    var r = CliRun.run("gc", origin.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("table os:2 does not match the catalog's digest").contains("gc deleted nothing");
    assertThat(OriginSnapshot.of(origin)).isEqualTo(before);
  }
}
