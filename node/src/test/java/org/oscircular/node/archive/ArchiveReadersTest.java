package org.oscircular.node.archive;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.Origin;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.LoopbackHttpServer;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.OriginLayout;

class ArchiveReadersTest {
  @TempDir Path tmp;

  @Test
  @Timeout(60)
  void readersArrivingTogetherAtAFreshVersionFetchItsTableOnce() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 5);
    origin.publish("debian", "12.7", OriginFixture.image(65536 * 4, 65536, 1), 65536, Codec.ZSTD, List.of());
    String table = OriginLayout.table("debian", "12.7");
    var background = Executors.newVirtualThreadPerTaskExecutor();
    try (var server = new LoopbackHttpServer(origin.root());
        var http = Origin.parse(server.uri().toString(), 8, Duration.ofSeconds(20));
        var store = RocksBlockStore.open(tmp.resolve("cache"), CacheConfig.withMaxBytes(64L << 20))) {
      var archive = Archive.open(List.of(http), store, origin.trust(), FetchConfig.defaults(),
          () -> OriginFixture.NOW, Sleeper.SYSTEM, background);
      server.hold(); // the table's answer waits until every reader has asked
      Set<ImageReader> got = ConcurrentHashMap.newKeySet();
      List<Thread> readers = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        readers.add(Thread.ofVirtual().start(() -> {
          try {
            got.add(archive.reader("debian:12.7"));
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        }));
      }
      // Every reader is parked: waiting for the origin's answer, or for the reader that fetches. (Each
      // answer is counted before it is sent, so after the joins the count is exact.)
      Await.atMost(Duration.ofSeconds(30)).every(Duration.ofMillis(10)).until("the table asked for and every reader parked",
          () -> server.requests(table) > 0 && readers.stream()
              .noneMatch(t -> t.getState() == Thread.State.RUNNABLE || t.getState() == Thread.State.NEW));
      server.release();
      for (Thread t : readers) {
        t.join();
      }
      assertThat(got).as("one shared reader").hasSize(1);
      assertThat(server.requests(table)).as("GET %s", table).isEqualTo(1);
    } finally {
      background.shutdownNow();
    }
  }
}
