package org.oscircular.node.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.archive.OriginFixture;
import org.oscircular.node.testing.CliRun;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.ImageTable;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PinCommandTest {
  @TempDir Path dir;

  @Test
  void pinsAnImageResumesForFreeAndShowsItInCacheStatsUntilUnpinned() throws Exception {
    var origin = new OriginFixture(dir.resolve("origin"), 3);
    ImageTable t = origin.publish("labos", "2", OriginFixture.image(40 * 65536, 65536, 3), 65536, Codec.ZSTD, List.of());
    Path trust = dir.resolve("trusted-keys");
    Files.writeString(trust, origin.key().publicKey().toText("pin test") + "\n");
    String cache = dir.resolve("cache").toString();
    int stored = (int) t.image().blocks().stream().filter(b -> b instanceof org.oscircular.protocol.format.BlockEntry.Stored).count();

    var first = CliRun.run("pin", origin.root().toString(), "labos:2", "--quiet", "--cache", cache, "--trust", trust.toString()).ok();
    assertThat(first.out()).startsWith("pinned labos:2: " + stored + " blocks")
        .doesNotContain("(0.0 MiB fetched now");
    var again = CliRun.run("pin", origin.root().toString(), "labos:2", "--quiet", "--cache", cache, "--trust", trust.toString()).ok();
    assertThat(again.out()).contains("(0.0 MiB fetched now, the rest was cached)");

    var stats = CliRun.run("cache", "stats", "--cache", cache).ok();
    assertThat(stats.out()).contains("blocks:         " + stored).contains("pinned images:  labos:2")
        .contains("of 20480.0 MiB").contains("decoded tier:   0.0 MiB of 4096.0 MiB in 0 image versions");

    CliRun.run("unpin", "labos:2", "--cache", cache).ok();
    assertThat(CliRun.run("cache", "stats", "--cache", cache).ok().out()).contains("pinned images:  none")
        .contains("blocks:         " + stored);
    var twice = CliRun.run("unpin", "labos:2", "--cache", cache);
    assertThat(twice.exitCode()).isEqualTo(1);
    assertThat(twice.err()).contains("circular unpin: labos:2 is not pinned");
  }

  @Test
  void namesAVersionTheCatalogDoesNotList() throws Exception {
    var origin = new OriginFixture(dir.resolve("origin"), 3);
    origin.publish("labos", "2", OriginFixture.image(4 * 4096, 4096, 3), 4096, Codec.NONE, List.of());
    Path trust = dir.resolve("trusted-keys");
    Files.writeString(trust, origin.key().publicKey().toText("pin test") + "\n");
    var r = CliRun.run("pin", origin.root().toString(), "labos:3", "--quiet", "--cache", dir.resolve("c").toString(),
        "--trust", trust.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("the catalog has no labos:3");
  }

  @Test
  void cacheStatsOfAMissingCacheSaysSo() {
    var r = CliRun.run("cache", "stats", "--cache", dir.resolve("nothing-here").toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("no cache at");
  }
}
