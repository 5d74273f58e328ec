package org.oscircular.node.archive;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.BlockFetcher;
import org.oscircular.node.fetch.DirectoryOrigin;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.ImageTable;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BootPrefetcherTest {
  @TempDir Path tmp;

  /** A clock that only moves when the prefetcher sleeps. */
  static final class VirtualClock implements InstantSource {
    Instant now = Instant.parse("2026-11-26T00:00:00Z");
    final List<Duration> sleeps = new ArrayList<>();

    @Override
    public Instant instant() {
      return now;
    }

    void sleep(Duration d) {
      sleeps.add(d);
      now = now.plus(d);
    }
  }

  @Test
  void prefetchesTheBootProfileInOrderWithinTheBandwidthCap() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = new byte[16 * 4096];
    new java.util.Random(1).nextBytes(image);
    ImageTable table = origin.publish("debian", "12.8", image, 4096, Codec.NONE, List.of(9, 3, 12, 3, 0));
    try (var store = RocksBlockStore.open(tmp.resolve("cache"), CacheConfig.withMaxBytes(1 << 20))) {
      var loader = new BlockLoader(store, BlockSource.origins(new BlockFetcher(List.of(new DirectoryOrigin(origin.root())),
          FetchConfig.defaults(), d -> { })), Runnable::run, 4);
      var clock = new VirtualClock();
      long rate = 8192; // two blocks a second
      var prefetcher = new BootPrefetcher(table, loader, rate, clock, clock::sleep);
      prefetcher.run();

      assertThat(prefetcher.loaded()).isEqualTo(4);
      for (int i : List.of(9, 3, 12, 0)) {
        assertThat(store.contains(((BlockEntry.Stored) table.image().blocks().get(i)).name())).isTrue();
      }
      assertThat(store.contains(((BlockEntry.Stored) table.image().blocks().get(5)).name())).isFalse();
      // 4 blocks of 4 KiB at 8 KiB/s take 2 s of virtual time, no more.
      Duration total = clock.sleeps.stream().reduce(Duration.ZERO, Duration::plus);
      assertThat(total).isEqualTo(Duration.ofSeconds(2));
    }
  }
}
