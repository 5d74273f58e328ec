package org.oscircular.node.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.DirectoryOrigin;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.HttpOrigin;
import org.oscircular.node.fetch.Origin;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.testing.LoopbackHttpServer;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.OriginLayout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ImageReaderTest {
  @TempDir Path tmp;
  private final List<AutoCloseable> closing = new ArrayList<>();
  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();

  @AfterEach
  void close() throws Exception {
    background.shutdownNow();
    // Background loads still inside RocksDB must finish before the store closes under them.
    assertThat(background.awaitTermination(20, TimeUnit.SECONDS)).as("background loads finished").isTrue();
    for (var c : closing.reversed()) {
      c.close();
    }
  }

  private RocksBlockStore store(String name) throws IOException {
    var s = RocksBlockStore.open(tmp.resolve(name), CacheConfig.withMaxBytes(256L << 20));
    closing.add(s);
    return s;
  }

  private Archive archive(OriginFixture origin, RocksBlockStore store, List<Origin> origins, FetchConfig config)
      throws IOException {
    return Archive.open(origins, store, origin.trust(), config, InstantSource.fixed(OriginFixture.NOW),
        Sleeper.SYSTEM, background);
  }

  private static FetchConfig fast() {
    return FetchConfig.defaults().withTimeout(Duration.ofSeconds(5)).withRounds(2, Duration.ofMillis(10));
  }

  @ParameterizedTest
  @CsvSource({"4096,NONE", "65536,ZSTD", "262144,DEFLATE", "262144,ZSTD"})
  void readsEveryRangeOfTheImageExactly(int blockSize, Codec codec) throws IOException {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(blockSize * 9 + 1536, blockSize, 7);
    origin.publish("debian", "12.8", image, blockSize, codec, List.of());
    var archive = archive(origin, store("cache"), List.of(new DirectoryOrigin(origin.root())), fast());
    ImageReader reader = archive.reader("debian:12.8");
    assertThat(reader.size()).isEqualTo(image.length);

    ByteBuffer whole = ByteBuffer.allocate(image.length);
    reader.read(0, whole);
    assertThat(whole.array()).isEqualTo(image);

    var rnd = new Random(3);
    for (int i = 0; i < 200; i++) {
      int off = rnd.nextInt(image.length);
      int len = rnd.nextInt(Math.min(image.length - off, 3 * blockSize) + 1);
      ByteBuffer dst = ByteBuffer.allocateDirect(len);
      reader.read(off, dst);
      byte[] got = new byte[len];
      dst.flip().get(got);
      assertThat(got).as("read of %d bytes at %d", len, off).isEqualTo(Arrays.copyOfRange(image, off, off + len));
    }
  }

  @ParameterizedTest
  @CsvSource({"4096,NONE", "65536,DEFLATE", "262144,ZSTD"})
  void readsWholeBlocksIntoDirectBuffersFromOriginThenFromCache(int blockSize, Codec codec) throws IOException {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(blockSize * 6 + 100, blockSize, 11);
    origin.publish("debian", "12.8", image, blockSize, codec, List.of());
    var store = store("cache");
    for (int pass = 0; pass < 2; pass++) {
      // Pass 0 fetches every block and decodes it from the fetched bytes straight into dst; pass 1, with the origin's blocks gone and a fresh reader (nothing decoded
      // in memory), decodes each block from the cache straight into the caller's buffer.
      if (pass == 1) {
        deleteTree(origin.root().resolve("blocks"));
      }
      var reader = archive(origin, store, List.of(new DirectoryOrigin(origin.root())), fast().withReadahead(0))
          .reader("debian:12.8");
      long hitsBefore = store.stats().hits();
      long missesBefore = store.stats().misses();
      for (int b = 6; b >= 0; b--) { // backwards: no readahead or decode-ahead runs
        int len = (int) Math.min(blockSize, image.length - (long) b * blockSize);
        ByteBuffer dst = ByteBuffer.allocateDirect(len + 8).position(4).limit(4 + len);
        reader.read((long) b * blockSize, dst);
        assertThat(dst.position()).isEqualTo(4 + len);
        byte[] got = new byte[len];
        dst.get(4, got);
        assertThat(got).as("pass %d block %d", pass, b)
            .isEqualTo(Arrays.copyOfRange(image, b * blockSize, b * blockSize + len));
      }
      // Fetched or cached, a whole block is decoded once, into the caller's buffer: no plaintext kept.
      assertThat(reader.decodedBytes()).as("decoded memory after pass %d", pass).isZero();
      if (pass == 0) {
        long stored = reader.table().image().blocks().stream().filter(e -> e instanceof BlockEntry.Stored).count();
        assertThat(store.stats().misses() - missesBefore).as("cache misses of the first pass: one per block")
            .isEqualTo(stored);
      } else {
        assertThat(store.stats().hits() - hitsBefore).as("cache hits of the second pass").isPositive();
      }
    }
  }

  @Test
  void decodeAheadLeavesBlocksTheReaderHasAlreadyReadWhole() throws IOException {
    int blockSize = 65536;
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(blockSize * 8, blockSize, 19); // blocks 2 and 6 are zeros
    origin.publish("debian", "12.8", image, blockSize, Codec.ZSTD, List.of());
    var store = store("cache");
    archive(origin, store, List.of(new DirectoryOrigin(origin.root())), fast()).reader("debian:12.8")
        .read(0, ByteBuffer.allocate(image.length));
    // Decode-ahead tasks wait here until the reader has read the blocks they were for.
    List<Runnable> held = new ArrayList<>();
    var reader = Archive.open(List.of(new DirectoryOrigin(origin.root())), store, origin.trust(), fast(),
        InstantSource.fixed(OriginFixture.NOW), Sleeper.SYSTEM, held::add).reader("debian:12.8");
    java.util.function.IntConsumer readWhole = b -> {
      ByteBuffer dst = ByteBuffer.allocateDirect(blockSize);
      try {
        reader.read((long) b * blockSize, dst);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      byte[] got = new byte[blockSize];
      dst.flip().get(got);
      assertThat(got).as("block %d", b).isEqualTo(Arrays.copyOfRange(image, b * blockSize, (b + 1) * blockSize));
    };
    readWhole.accept(0);
    readWhole.accept(1); // sequential: blocks 3 and 4 are decoded ahead
    assertThat(held).as("decode-ahead tasks").isNotEmpty();
    readWhole.accept(3);
    readWhole.accept(4);
    long hits = store.stats().hits();
    held.forEach(Runnable::run);
    // Decoding them now would only decode them a second time (and write them to the decoded tier).
    assertThat(reader.decodedBytes()).as("decoded memory").isZero();
    assertThat(store.stats().hits() - hits).as("cache reads by decode-ahead").isZero();
  }

  @Test
  void smallSequentialReadsOfABlockTakeItFromTheCacheOnce() throws IOException {
    int blockSize = 262144;
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(blockSize * 4, blockSize, 13);
    origin.publish("debian", "12.8", image, blockSize, Codec.ZSTD, List.of());
    var store = store("cache");
    archive(origin, store, List.of(new DirectoryOrigin(origin.root())), fast()).reader("debian:12.8")
        .read(0, ByteBuffer.allocate(image.length));
    // A fresh reader (nothing decoded yet), no readahead: 64 reads of 4 KiB cover block 1 (block 2 is zeros).
    var reader = archive(origin, store, List.of(new DirectoryOrigin(origin.root())), fast().withReadahead(0))
        .reader("debian:12.8");
    long hits = store.stats().hits();
    for (int i = 0; i < 64; i++) {
      long off = 1L * blockSize + i * 4096L;
      ByteBuffer dst = ByteBuffer.allocateDirect(4096);
      reader.read(off, dst);
      byte[] got = new byte[4096];
      dst.flip().get(got);
      assertThat(got).isEqualTo(Arrays.copyOfRange(image, (int) off, (int) off + 4096));
    }
    assertThat(store.stats().hits() - hits).as("cache reads of block 1").isEqualTo(1);
  }

  @ParameterizedTest
  @CsvSource({"131072", "0"})
  void decodedMemoryStaysUnderItsByteBoundAndDropsTheLeastRecentlyUsedBlockFirst(long bound) throws IOException {
    int blockSize = 65536;
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(blockSize * 8, blockSize, 17); // blocks 2 and 6 are zeros
    origin.publish("debian", "12.8", image, blockSize, Codec.ZSTD, List.of());
    // The decoded tier on disk is off here: this counts the block-cache reads that decoded memory saves.
    var store = RocksBlockStore.open(tmp.resolve("cache"),
        CacheConfig.withMaxBytes(256L << 20).withDecodedBytes(bound).withDecodedDiskBytes(0));
    closing.add(store);
    archive(origin, store, List.of(new DirectoryOrigin(origin.root())), fast()).reader("debian:12.8")
        .read(0, ByteBuffer.allocate(image.length));
    var reader = archive(origin, store, List.of(new DirectoryOrigin(origin.root())), fast().withReadahead(0))
        .reader("debian:12.8");
    java.util.function.IntFunction<Long> piece = b -> { // 1000 bytes inside block b; returns cache reads
      long hits = store.stats().hits();
      long off = (long) b * blockSize + 10;
      ByteBuffer dst = ByteBuffer.allocate(1000);
      try {
        reader.read(off, dst);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      assertThat(dst.array()).isEqualTo(Arrays.copyOfRange(image, (int) off, (int) off + 1000));
      assertThat(reader.decodedBytes()).isLessThanOrEqualTo(bound);
      return store.stats().hits() - hits;
    };
    assertThat(piece.apply(0)).isEqualTo(1);
    assertThat(piece.apply(1)).isEqualTo(1);
    assertThat(piece.apply(3)).isEqualTo(1); // room for two blocks: block 0 leaves
    assertThat(reader.decodedBytes()).isEqualTo(bound);
    assertThat(piece.apply(1)).as("block 1, still held").isEqualTo(bound == 0 ? 1 : 0);
    assertThat(piece.apply(0)).as("block 0, dropped").isEqualTo(1);
    assertThat(piece.apply(3)).as("block 3, dropped for block 0").isEqualTo(1);
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  void refusesReadsOutsideTheImage() throws IOException {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    origin.publish("debian", "12.8", OriginFixture.image(8192, 4096, 1), 4096, Codec.NONE, List.of());
    var reader = archive(origin, store("cache"), List.of(new DirectoryOrigin(origin.root())), fast()).reader("debian:12.8");
    assertThatThrownBy(() -> reader.read(8000, ByteBuffer.allocate(500)))
        .isInstanceOf(IOException.class).hasMessageContaining("outside the image");
  }

  @Test
  void servesCachedBlocksWhenOriginIsDown() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(16 * 4096, 4096, 5);
    origin.publish("debian", "12.8", image, 4096, Codec.ZSTD, List.of());
    java.net.URI uri;
    try (var server = new LoopbackHttpServer(origin.root());
        var http = new HttpOrigin(server.uri(), 4, Duration.ofSeconds(5))) {
      uri = server.uri();
      var store = store("cache");
      var reader = archive(origin, store, List.of(http), fast().withReadahead(0)).reader("debian:12.8");
      reader.read(0, ByteBuffer.allocate(8 * 4096));
    }
    // The server is gone: the catalog, table and the first half come from the cache.
    try (var down = new HttpOrigin(uri, 2, Duration.ofSeconds(2))) {
      var archive = archive(origin, (RocksBlockStore) closing.getFirst(), List.of(down), fast().withReadahead(0));
      assertThat(archive.catalogSource()).startsWith("cache");
      ByteBuffer first = ByteBuffer.allocate(8 * 4096);
      archive.reader("debian:12.8").read(0, first);
      assertThat(first.array()).isEqualTo(Arrays.copyOf(image, 8 * 4096));
      assertThatThrownBy(() -> archive.reader("debian:12.8").read(13 * 4096 + 10, ByteBuffer.allocate(10)))
          .isInstanceOf(BlockUnavailableException.class)
          .hasMessageContaining("debian:12.8 block 13 at image offset 53248")
          .hasMessageContaining(uri.toString());
    }
  }

  @Test
  void neverDeliversABlockCorruptedOnTheOriginAndTriesTheNextMirror() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(8 * 4096, 4096, 9);
    ImageTable table = origin.publish("debian", "12.8", image, 4096, Codec.NONE, List.of());
    try (var bad = new LoopbackHttpServer(origin.root()); var good = new LoopbackHttpServer(origin.root());
        var badOrigin = new HttpOrigin(bad.uri(), 4, Duration.ofSeconds(5));
        var goodOrigin = new HttpOrigin(good.uri(), 4, Duration.ofSeconds(5))) {
      bad.alterBodies(b -> {
        if (b.length == 4096) { // a block, not the catalog or table
          b = b.clone();
          b[100] ^= 1;
        }
        return b;
      });
      var store = store("cache");
      var alone = archive(origin, store, List.of(badOrigin), fast().withReadahead(0));
      String blockPath = OriginLayout.block(((BlockEntry.Stored) table.image().blocks().get(1)).name());
      assertThatThrownBy(() -> alone.reader("debian:12.8").read(4096, ByteBuffer.allocate(4096)))
          .isInstanceOf(BlockUnavailableException.class)
          .hasMessageContaining("block 1 at image offset 4096")
          .hasMessageContaining(bad.uri().toString())
          .hasMessageContaining("SHA1 does not match");
      assertThat(store.stats().blocks()).isZero();

      var mirrored = archive(origin, store, List.of(badOrigin, goodOrigin), fast().withReadahead(0));
      ByteBuffer dst = ByteBuffer.allocate(4096);
      mirrored.reader("debian:12.8").read(4096, dst);
      assertThat(dst.array()).isEqualTo(Arrays.copyOfRange(image, 4096, 8192));
      assertThat(good.requests(blockPath)).isEqualTo(1);
    }
  }

  @Test
  void concurrentReadersOfAMissingBlockCauseOneFetch() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(4 * 65536, 65536, 11);
    ImageTable table = origin.publish("debian", "12.8", image, 65536, Codec.ZSTD, List.of());
    try (var server = new LoopbackHttpServer(origin.root());
        var http = new HttpOrigin(server.uri(), 8, Duration.ofSeconds(20))) {
      var reader = archive(origin, store("cache"), List.of(http), fast().withReadahead(0)).reader("debian:12.8");
      server.hold();
      ExecutorService readers = Executors.newFixedThreadPool(8);
      try {
        List<Future<byte[]>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          int off = 1000 * i;
          results.add(readers.submit(() -> {
            ByteBuffer b = ByteBuffer.allocate(500);
            reader.read(off, b);
            return b.array();
          }));
        }
        String path = OriginLayout.block(((BlockEntry.Stored) table.image().blocks().getFirst()).name());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.requests(path) < 1 && System.nanoTime() < deadline) {
          java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        server.release();
        for (int i = 0; i < 8; i++) {
          assertThat(results.get(i).get(20, TimeUnit.SECONDS))
              .isEqualTo(Arrays.copyOfRange(image, 1000 * i, 1000 * i + 500));
        }
        assertThat(server.requests(path)).isEqualTo(1);
      } finally {
        readers.shutdownNow();
      }
    }
  }

  @Test
  void neverFetchesZeroBlocks() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = new byte[6 * 4096];
    image[4096 * 5 + 3] = 42;
    origin.publish("blank", "1", image, 4096, Codec.NONE, List.of());
    try (var server = new LoopbackHttpServer(origin.root());
        var http = new HttpOrigin(server.uri(), 4, Duration.ofSeconds(5))) {
      var reader = archive(origin, store("cache"), List.of(http), fast()).reader("blank:1");
      int before = server.totalRequests();
      ByteBuffer dst = ByteBuffer.allocate(image.length);
      reader.read(0, dst);
      assertThat(dst.array()).isEqualTo(image);
      assertThat(server.totalRequests() - before).isEqualTo(1);
    }
  }

  @Test
  void readsAheadOfASequentialReader() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(32 * 4096, 4096, 13);
    ImageTable table = origin.publish("debian", "12.8", image, 4096, Codec.NONE, List.of());
    var store = store("cache");
    var reader = archive(origin, store, List.of(new DirectoryOrigin(origin.root())),
        fast().withReadahead(4)).reader("debian:12.8");
    reader.read(0, ByteBuffer.allocate(4096));
    reader.read(4096, ByteBuffer.allocate(4096));
    var block5 = table.image().blocks().get(5);
    assertThat(block5).isInstanceOf(BlockEntry.Stored.class);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!store.contains(((BlockEntry.Stored) block5).name()) && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
    assertThat(store.contains(((BlockEntry.Stored) block5).name())).isTrue();
  }

  @Test
  void refusesAnOlderCatalogOnceANewerWasSeen() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    origin.publish("debian", "12.8", OriginFixture.image(8192, 4096, 1), 4096, Codec.NONE, List.of());
    byte[] old = Files.readAllBytes(origin.root().resolve(OriginLayout.CATALOG));
    origin.publish("debian", "12.9", OriginFixture.image(8192, 4096, 2), 4096, Codec.NONE, List.of());
    var store = store("cache");
    var dir = new DirectoryOrigin(origin.root());
    assertThat(archive(origin, store, List.of(dir), fast()).versions()).hasSize(2);
    Files.write(origin.root().resolve(OriginLayout.CATALOG), old);
    // The origin now serves the rolled-back catalog: refused, and the cached newer one is used.
    var archive = archive(origin, store, List.of(dir), fast());
    assertThat(archive.catalog().sequence()).isEqualTo(2);
    assertThat(archive.catalogSource()).startsWith("cache");
  }
}
