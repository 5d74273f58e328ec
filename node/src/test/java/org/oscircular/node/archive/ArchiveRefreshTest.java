package org.oscircular.node.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.OriginLayout;

class ArchiveRefreshTest {
  @TempDir Path tmp;

  @Test
  void aRefreshPicksUpANewlyPublishedVersionAndRefusesAnOlderCatalog() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 3);
    byte[] v1 = OriginFixture.image(65536 * 5, 65536, 1);
    origin.publish("debian", "12.7", v1, 65536, Codec.ZSTD, List.of());
    byte[] oldCatalog = Files.readAllBytes(origin.root().resolve(OriginLayout.CATALOG));
    var background = Executors.newVirtualThreadPerTaskExecutor();
    try (var store = RocksBlockStore.open(tmp.resolve("cache"), CacheConfig.withMaxBytes(64L << 20))) {
      var archive = origin.archive(store, FetchConfig.defaults(), background);
      assertThat(archive.refresh()).as("nothing new yet").isFalse();

      byte[] v2 = OriginFixture.image(65536 * 6, 65536, 2);
      origin.publish("debian", "12.8", v2, 65536, Codec.ZSTD, List.of());
      assertThat(archive.refresh()).isTrue();
      assertThat(archive.versions()).extracting(Catalog.Entry::id).containsExactly("debian:12.7", "debian:12.8");
      ByteBuffer got = ByteBuffer.allocate(v2.length);
      archive.reader("debian:12.8").read(0, got);
      assertThat(got.array()).isEqualTo(v2);

      // Someone puts the old catalog back on the origin: the archive keeps the newer one.
      Files.write(origin.root().resolve(OriginLayout.CATALOG), oldCatalog);
      assertThatThrownBy(archive::refresh).hasMessageContaining("rollback refused");
      assertThat(archive.versions()).hasSize(2);
    } finally {
      background.shutdownNow();
    }
  }
}
