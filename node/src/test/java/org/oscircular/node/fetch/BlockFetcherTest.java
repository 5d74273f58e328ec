package org.oscircular.node.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.archive.OriginFixture;
import org.oscircular.node.testing.LoopbackHttpServer;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.ImageTable;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BlockFetcherTest {
  @TempDir Path tmp;

  private BlockEntry.Stored firstBlock(OriginFixture origin) throws IOException {
    ImageTable t = origin.publish("debian", "12.8", OriginFixture.image(4 * 4096, 4096, 1), 4096, Codec.ZSTD, List.of());
    return (BlockEntry.Stored) t.image().blocks().getFirst();
  }

  @Test
  void abandonsASlowOriginForTheNextAfterTheTimeout() throws Exception {
    var origin = new OriginFixture(tmp, 1);
    var entry = firstBlock(origin);
    try (var slow = new LoopbackHttpServer(origin.root()); var fast = new LoopbackHttpServer(origin.root());
        var slowOrigin = new HttpOrigin(slow.uri(), 2, Duration.ofMillis(300));
        var fastOrigin = new HttpOrigin(fast.uri(), 2, Duration.ofMillis(300))) {
      slow.hold();
      var fetcher = new BlockFetcher(List.of(slowOrigin, fastOrigin), FetchConfig.defaults(), Sleeper.SYSTEM);
      long t0 = System.nanoTime();
      var got = fetcher.fetch(entry);
      assertThat(got.source()).isSameAs(fastOrigin);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void retriesWithDoublingBackoffThenNamesEveryFailure() throws Exception {
    var origin = new OriginFixture(tmp, 1);
    var entry = firstBlock(origin);
    List<Duration> pauses = new ArrayList<>();
    try (var down = new HttpOrigin(URI.create("http://127.0.0.1:9/"), 2, Duration.ofSeconds(2))) {
      var fetcher = new BlockFetcher(List.of(down),
          FetchConfig.defaults().withRounds(4, Duration.ofMillis(100)), pauses::add);
      assertThatThrownBy(() -> fetcher.fetch(entry))
          .isInstanceOf(BlockFetchException.class)
          .hasMessageStartingWith("block " + entry.name() + " could not be fetched: origin http://127.0.0.1:9/ is unreachable");
    }
    assertThat(pauses).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400));
  }

  @Test
  void doesNotAskAnOriginAgainAfterItServedBadBytes() throws Exception {
    var origin = new OriginFixture(tmp, 1);
    var entry = firstBlock(origin);
    try (var server = new LoopbackHttpServer(origin.root());
        var http = new HttpOrigin(server.uri(), 2, Duration.ofSeconds(5))) {
      server.alterBodies(b -> new byte[0]);
      List<Duration> pauses = new ArrayList<>();
      var fetcher = new BlockFetcher(List.of(http), FetchConfig.defaults().withRounds(3, Duration.ofMillis(50)), d -> {
        pauses.add(d);
        server.alterBodies(b -> b);
      });
      // An empty body is a verification failure: that origin is not asked again for this block.
      assertThatThrownBy(() -> fetcher.fetch(entry)).hasMessageContaining("wrong length");
      assertThat(pauses).isEmpty();
    }
  }

  @Test
  void treatsAMissingBlockAsFinalForThatOrigin() throws Exception {
    var origin = new OriginFixture(tmp, 1);
    var entry = firstBlock(origin);
    var empty = new DirectoryOrigin(tmp.resolve("empty"));
    List<Duration> pauses = new ArrayList<>();
    var fetcher = new BlockFetcher(List.of(empty, new DirectoryOrigin(origin.root())), FetchConfig.defaults(), pauses::add);
    assertThat(fetcher.fetch(entry).source().describe()).isEqualTo(origin.root().toString());
    assertThat(pauses).isEmpty();
  }

  @Test
  void deliversABlockWhoseBytesLookLikeAnHtmlPage() throws Exception {
    var origin = new OriginFixture(tmp, 1);
    byte[] image = new byte[2 * 4096];
    byte[] page = "<!DOCTYPE html><html><body>a web page kept in the image</body></html>\n"
        .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    System.arraycopy(page, 0, image, 0, page.length);
    ImageTable t = origin.publish("site", "1", image, 4096, Codec.NONE, List.of());
    var entry = (BlockEntry.Stored) t.image().blocks().getFirst();
    try (var server = new LoopbackHttpServer(origin.root());
        var http = new HttpOrigin(server.uri(), 2, Duration.ofSeconds(5))) {
      var fetcher = new BlockFetcher(List.of(http), FetchConfig.defaults(), Sleeper.SYSTEM);
      assertThat(java.util.Arrays.copyOf(fetcher.fetch(entry).stored(), page.length)).isEqualTo(page);
    }
  }

  @Test
  void saysSoWhenAnOriginAnswersAnHtmlPageForABlock() throws Exception {
    var origin = new OriginFixture(tmp, 1);
    var entry = firstBlock(origin);
    try (var server = new LoopbackHttpServer(origin.root());
        var http = new HttpOrigin(server.uri(), 2, Duration.ofSeconds(5))) {
      server.alterBodies(b -> "<html><body>Welcome to nginx!</body></html>".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      var fetcher = new BlockFetcher(List.of(http), FetchConfig.defaults(), Sleeper.SYSTEM);
      assertThatThrownBy(() -> fetcher.fetch(entry)).isInstanceOf(BlockFetchException.class)
          .hasMessageContaining("origin " + server.uri() + " sent bad bytes")
          .hasMessageContaining("an HTML page: is the URL the origin's root?");
    }
  }

  @Test
  void refusesAnHtmlPageInsteadOfTheCatalog() throws Exception {
    var origin = new OriginFixture(tmp, 1);
    firstBlock(origin);
    try (var server = new LoopbackHttpServer(origin.root());
        var http = new HttpOrigin(server.uri(), 2, Duration.ofSeconds(5))) {
      server.alterBodies(b -> "\n  <!doctype html><title>Index of /</title>".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      assertThatThrownBy(() -> http.get("catalog", 1 << 20)).isInstanceOf(OriginException.class)
          .hasMessage("origin " + server.uri() + " returned an HTML page for catalog instead of an archive file"
              + " (is the URL the origin's root?)")
          .extracting(e -> ((OriginException) e).kind()).isEqualTo(OriginException.Kind.NOT_AN_ARCHIVE);
    }
  }

  @Test
  void namesAMissingDirectoryOrigin() {
    var gone = new DirectoryOrigin(tmp.resolve("gone"));
    assertThatThrownBy(() -> gone.get("catalog", 100)).isInstanceOf(OriginException.class)
        .hasMessage("origin directory " + tmp.resolve("gone") + " does not exist");
  }
}
