package org.oscircular.node.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.archive.OriginFixture;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.protocol.format.Codec;

/**
 * Reads whose blocks are in the decoded tier are served on the event loop, without the read pool; a
 * tier copy that fails its CRC-32C there sends that read to the pool, which answers with the right bytes.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdReadsAtHandTest {
  static final Duration T = Duration.ofSeconds(60);
  static final int BLOCK = 65_536;

  @TempDir Path tmp;
  CountingExecutor reads = new CountingExecutor(Executors.newFixedThreadPool(4));
  ArchiveNbdFixture nbd;
  String uri;
  byte[] image;

  @BeforeEach
  void publishAndServe() throws IOException {
    Exec.require("nbdcopy", "libnbd-bin");
    var origin = new OriginFixture(tmp.resolve("origin"), 7);
    image = OriginFixture.image(BLOCK * 40 + 4096, BLOCK, 4); // some blocks are zeros, the last is short
    origin.publish("debian", "12.7", image, BLOCK, Codec.ZSTD, List.of());
    // No decoded memory and no readahead: a block is at hand only when it is in the decoded tier.
    nbd = new ArchiveNbdFixture(tmp.resolve("cache"),
        CacheConfig.withMaxBytes(256L << 20).withDecodedBytes(0).withDecodedDiskBytes(64L << 20), reads);
    this.origin = origin;
    serve();
  }

  OriginFixture origin;

  /** A server on a fresh archive over the same cache (as after a restart of the process). */
  private void serve() throws IOException {
    var fetch = FetchConfig.defaults().withReadahead(0);
    uri = nbd.serve(new ArchiveExports(nbd.archive(origin, fetch))) + "debian:12.7";
  }

  @AfterEach
  void stop() throws Exception {
    nbd.close();
  }

  /** Copies the export with nbdcopy; returns how many requests went to the read pool meanwhile. */
  private int copyEqualsImage(String name) throws Exception {
    int before = reads.submitted.get();
    Path copy = tmp.resolve(name);
    Exec.ok(T, "nbdcopy", uri, copy.toString());
    assertThat(Files.readAllBytes(copy)).as(name).isEqualTo(image);
    return reads.submitted.get() - before;
  }

  @Test
  void readsOfBlocksInTheDecodedTierAreServedOnTheEventLoopAndEqualTheImage() throws Exception {
    assertThat(copyEqualsImage("cold.img")).as("cold: every read goes to the pool").isPositive();
    assertThat(copyEqualsImage("second.img")).as("decoded a second time: kept in the tier").isPositive();
    assertThat(copyEqualsImage("warm.img")).as("reads sent to the pool once the tier holds every block")
        .isZero();
  }

  @Test
  void aRestartedServerServesTierBlocksWhosePagesAreInMemoryOnTheEventLoopAtOnce() throws Exception {
    copyEqualsImage("cold.img");
    copyEqualsImage("second.img");
    assertThat(copyEqualsImage("warm.img")).isZero();
    serve();
    Exec.ok(T, "nbdinfo", "--map", uri); // the version's table is loaded on the pool, once, for nbdinfo's GO
    assertThat(copyEqualsImage("restarted.img")).as("the tier's pages are in the page cache: no pool").isZero();
    // Pages that are not (after a reboot) go to the pool: DecodedBlocksTest.viewNowLeavesABlockWhosePages…
  }

  private Path tierDataFile() throws IOException {
    try (Stream<Path> files = Files.list(nbd.store.directory().resolve("decoded"))) {
      return files.filter(p -> p.toString().endsWith(".data")).findFirst().orElseThrow();
    }
  }

  @Test
  void aTierCopyThatFailsItsCheckOnTheEventLoopIsReadThroughThePoolWithTheRightBytes() throws Exception {
    copyEqualsImage("cold.img");
    copyEqualsImage("second.img");
    assertThat(copyEqualsImage("warm.img")).isZero();
    Path data = tierDataFile();
    int damaged = firstStoredBlock();
    try (var ch = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, (long) damaged * BLOCK + 1000);
      ch.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0x04)}), (long) damaged * BLOCK + 1000);
    }
    assertThat(copyEqualsImage("damaged.img")).as("only the read of the damaged block goes to the pool")
        .isEqualTo(1);
    assertThat(copyEqualsImage("rewritten.img")).as("the pool kept that block decoded again").isZero();
  }

  private int firstStoredBlock() {
    for (int i = 0; ; i++) {
      for (int k = 0; k < BLOCK; k++) {
        if (image[i * BLOCK + k] != 0) {
          return i;
        }
      }
    }
  }

  /** The read pool, counting the tasks the server hands it. */
  static final class CountingExecutor extends AbstractExecutorService {
    final AtomicInteger submitted = new AtomicInteger();
    private final ExecutorService pool;

    CountingExecutor(ExecutorService pool) {
      this.pool = pool;
    }

    @Override
    public void execute(Runnable task) {
      submitted.incrementAndGet();
      pool.execute(task);
    }

    @Override
    public void shutdown() {
      pool.shutdown();
    }

    @Override
    public List<Runnable> shutdownNow() {
      return pool.shutdownNow();
    }

    @Override
    public boolean isShutdown() {
      return pool.isShutdown();
    }

    @Override
    public boolean isTerminated() {
      return pool.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
      return pool.awaitTermination(timeout, unit);
    }
  }
}
