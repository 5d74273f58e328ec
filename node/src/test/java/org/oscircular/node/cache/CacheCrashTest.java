package org.oscircular.node.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.OriginFixture;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.HttpOrigin;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.testing.ChildJvm;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.NginxOrigin;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.ImageTable;

/**
 * A child JVM pinning an image is killed with SIGKILL in the middle of fetching, again and again; the
 * cache it leaves must open, hold only blocks that verify, and let a last run finish the pin.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CacheCrashTest {
  @TempDir Path dir;

  @Test
  void cacheKilledMidFetchRepeatedlyHoldsOnlyVerifiedBlocks() throws Exception {
    var origin = new OriginFixture(dir.resolve("origin"), 5);
    int blockSize = 64 * 1024;
    byte[] image = new byte[24 << 20];
    new Random(17).nextBytes(image); // incompressible: every block is stored at full size
    ImageTable table = origin.publish("crashos", "1", image, blockSize, Codec.ZSTD, List.of());
    Path trust = dir.resolve("trusted-keys");
    Files.writeString(trust, origin.key().publicKey().toText("crash test") + "\n");
    Path cache = dir.resolve("cache");
    var rnd = new Random(99);

    String url;
    try (var nginx = NginxOrigin.start(origin.root(), "limit_rate 3m;")) {
      url = nginx.url();
      int kills = 0;
      for (int round = 0; round < 5; round++) {
        int before = nginx.accessLog().size();
        // The cache writes without a WAL: a 1 MiB write buffer makes RocksDB flush every 16 blocks, so
        // kills land between flushes and what reaches the disk is checked, not an empty cache.
        try (var child = ChildJvm.start(dir.resolve("logs"), "pin", nginx.url(), "crashos:1", "--quiet",
            "--cache", cache.toString(), "--trust", trust.toString(), "--set", "cache.write-buffer-bytes=1M")) {
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (nginx.accessLog().size() < before + 4 && child.process().isAlive() && System.nanoTime() < deadline) {
            child.process().waitFor(20, TimeUnit.MILLISECONDS);
          }
          // Some further random time into the fetch, then SIGKILL.
          child.process().waitFor(rnd.nextInt(400), TimeUnit.MILLISECONDS);
          if (child.process().isAlive()) {
            child.kill();
            kills++;
          }
        }
        assertCacheVerifies(cache, table);
      }
      assertThat(kills).as("runs killed mid-fetch").isGreaterThanOrEqualTo(3);
      assertThat(assertCacheVerifies(cache, table).blocks()).as("blocks that reached the disk before the kills")
          .isPositive();

      var done = CliRun.run("pin", nginx.url(), "crashos:1", "--quiet", "--cache", cache.toString(),
          "--trust", trust.toString()).ok();
      assertThat(done.out()).contains("pinned crashos:1: 384 blocks");
    }
    var report = assertCacheVerifies(cache, table);
    assertThat(report.blocks()).isEqualTo(384);

    // Everything is pinned and cached: the image reads back through the same origin URL, now down.
    try (var store = RocksBlockStore.open(cache, CacheConfig.defaults());
        var down = new HttpOrigin(URI.create(url), 1, Duration.ofSeconds(1));
        var bg = Executors.newVirtualThreadPerTaskExecutor()) {
      assertThat(store.pinnedImages()).containsExactly("crashos:1");
      assertThat(store.stats().pinnedBytes()).isEqualTo(table.image().storedBytes());
      var archive = Archive.open(List.of(down), store, origin.trust(), FetchConfig.defaults(),
          InstantSource.fixed(OriginFixture.NOW), Sleeper.SYSTEM, bg);
      ByteBuffer all = ByteBuffer.allocate(image.length);
      archive.reader("crashos:1").read(0, all);
      assertThat(all.array()).isEqualTo(image);
    }
  }

  static Map<BlockName, BlockEntry.Stored> entries(ImageTable table) {
    Map<BlockName, BlockEntry.Stored> m = new HashMap<>();
    for (var b : table.image().blocks()) {
      if (b instanceof BlockEntry.Stored s) {
        m.put(s.name(), s);
      }
    }
    return m;
  }

  static RocksBlockStore.VerifyReport assertCacheVerifies(Path cache, ImageTable table) throws Exception {
    if (!Files.exists(cache)) {
      return new RocksBlockStore.VerifyReport(0, 0, List.of());
    }
    var entries = entries(table);
    try (var store = RocksBlockStore.open(cache, CacheConfig.defaults())) {
      var report = store.verifyAll(n -> Optional.ofNullable(entries.get(n)));
      assertThat(report.problems()).isEmpty();
      assertThat(report.checkedAgainstTable()).isEqualTo(report.blocks());
      return report;
    }
  }
}
