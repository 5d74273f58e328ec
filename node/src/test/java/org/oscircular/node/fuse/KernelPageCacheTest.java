package org.oscircular.node.fuse;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.OriginFixture;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.DirectoryOrigin;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.testing.Root;
import org.oscircular.protocol.format.Codec;

/**
 * The kernel keeps a version file's pages across opens (versions are immutable), and drops them when a
 * version is replaced on the origin. A real FUSE mount in this JVM, so its READ requests can be counted.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KernelPageCacheTest {
  static final int BLOCK = 64 * 1024;
  @TempDir Path tmp;

  @Test
  void aSecondOpenAndReadOfAVersionIsServedFromThePageCacheUntilTheVersionIsReplacedOnTheOrigin()
      throws Exception {
    Root.require("a FUSE mount");
    var origin = new OriginFixture(tmp.resolve("origin"), 5);
    byte[] v1 = OriginFixture.image(BLOCK * 32, BLOCK, 1);
    origin.publish("testos", "1", v1, BLOCK, Codec.ZSTD, List.of());
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    var background = Executors.newVirtualThreadPerTaskExecutor();
    InstantSource clock = InstantSource.fixed(OriginFixture.NOW);
    try (var store = RocksBlockStore.open(tmp.resolve("cache"), CacheConfig.withMaxBytes(64L << 20))) {
      var archive = Archive.open(List.of(new DirectoryOrigin(origin.root())), store, origin.trust(),
          FetchConfig.defaults(), clock, Sleeper.SYSTEM, background);
      try (var mount = ArchiveMount.mount(archive, mnt, background, clock, Sleeper.SYSTEM)) {
        Path file = mnt.resolve("testos/1.img");
        assertThat(Files.readAllBytes(file)).isEqualTo(v1);
        long afterFirst = mount.readRequests();
        assertThat(afterFirst).as("the first read reaches the filesystem").isPositive();

        assertThat(Files.readAllBytes(file)).as("second open").isEqualTo(v1);
        byte[] piece = new byte[5000];
        try (var ch = FileChannel.open(file)) {
          ch.read(ByteBuffer.wrap(piece), 7 * BLOCK + 123);
        }
        assertThat(piece).isEqualTo(java.util.Arrays.copyOfRange(v1, 7 * BLOCK + 123, 7 * BLOCK + 123 + 5000));
        assertThat(mount.readRequests()).as("READ requests after re-reading from the page cache")
            .isEqualTo(afterFirst);

        // The publisher replaces version 1 with other bytes and another length (publish --force).
        byte[] v1b = OriginFixture.image(BLOCK * 40, BLOCK, 2);
        origin.publish("testos", "1", v1b, BLOCK, Codec.ZSTD, List.of());
        assertThat(archive.refresh()).isTrue();
        mount.catalogChanged();
        assertThat(Files.size(file)).isEqualTo(v1b.length);
        assertThat(Files.readAllBytes(file)).as("no page of the replaced bytes is served").isEqualTo(v1b);
        assertThat(mount.readRequests()).isGreaterThan(afterFirst);
      }
    } finally {
      background.shutdownNow();
    }
  }
}
