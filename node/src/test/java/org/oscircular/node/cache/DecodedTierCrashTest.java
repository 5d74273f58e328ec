package org.oscircular.node.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.OriginFixture;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.testing.ChildJvm;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.Codec;

/**
 * A child JVM reads three versions warm in turn with a decoded tier that holds only two, so it writes,
 * evicts and recreates decoded files all the time; it is killed with SIGKILL at random moments, again and
 * again. Afterwards every block the tier still claims must match the image byte for byte (none may fail its
 * CRC-32C: a kill loses no written bytes, so a failing one would mean an entry written before its bytes),
 * and the tier must be within its bound.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DecodedTierCrashTest {
  static final int BLOCK = 65536;
  static final int VERSIONS = 3;
  static final long KEY_SEED = 7;
  static final long BOUND = 13L * BLOCK; // two versions (6 stored blocks each) and a block
  @TempDir Path tmp;

  static byte[] image(int v) {
    return OriginFixture.image(BLOCK * 8, BLOCK, 100 + v);
  }

  static CacheConfig config() {
    return CacheConfig.withMaxBytes(256L << 20).withDecodedDiskBytes(BOUND);
  }

  @Test
  void killedRepeatedlyWhileFillingAndEvictingItKeepsOnlyBlocksThatMatchTheImage() throws Exception {
    Path originDir = tmp.resolve("origin");
    var origin = new OriginFixture(originDir, KEY_SEED);
    for (int v = 1; v <= VERSIONS; v++) {
      origin.publish("testos", Integer.toString(v), image(v), BLOCK, Codec.ZSTD, List.of());
    }
    Path cache = tmp.resolve("cache");
    var rnd = new Random(11);
    for (int kill = 0; kill < 4; kill++) {
      try (var child = ChildJvm.startMain(tmp.resolve("logs"), Child.class.getName(), originDir.toString(),
          cache.toString())) {
        int rounds = 2 + rnd.nextInt(6);
        child.awaitOutput(o -> o.contains("round " + rounds + "\n"), Duration.ofSeconds(60));
        Thread.sleep(rnd.nextInt(30)); // a random moment inside the next round: that is when SIGKILL lands
        child.kill();
      }
    }
    var background = Executors.newVirtualThreadPerTaskExecutor();
    try (var store = RocksBlockStore.open(cache, config())) {
      long claimed = store.decoded().bytes();
      assertThat(claimed).isPositive().isLessThanOrEqualTo(BOUND);
      List<Catalog.Entry> versions = archive(originDir, store, background).versions();
      long checked = 0;
      for (int v = 1; v <= VERSIONS; v++) {
        byte[] image = image(v);
        Catalog.Entry e = versions.get(v - 1);
        DecodedFile f = store.decoded().file(e.tableDigest(), BLOCK, image.length);
        for (int i = 0; i < image.length / BLOCK; i++) {
          if (f.contains(i)) {
            byte[] got = f.read(i);
            assertThat(got).as("version %d block %d passes its CRC-32C", v, i).isNotNull();
            assertThat(got).isEqualTo(Arrays.copyOfRange(image, i * BLOCK, (i + 1) * BLOCK));
            checked += got.length;
          }
        }
      }
      assertThat(checked).as("every byte the tier claimed was checked").isEqualTo(claimed);
    } finally {
      background.shutdownNow();
    }
  }

  static Archive archive(Path originDir, RocksBlockStore store, ExecutorService background) throws IOException {
    return new OriginFixture(originDir, KEY_SEED).archive(store, FetchConfig.defaults().withReadahead(0), background);
  }

  /** The child: reads the versions warm in turn, forever, printing "round N" after each pass. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      Path originDir = Path.of(args[0]);
      ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
      try (var store = RocksBlockStore.open(Path.of(args[1]), config())) {
        for (int round = 1; ; round++) {
          for (int v = 1; v <= VERSIONS; v++) {
            var reader = archive(originDir, store, background).reader("testos:" + v);
            for (long off = 0; off < reader.size(); off += BLOCK) {
              reader.read(off, ByteBuffer.allocateDirect(BLOCK));
            }
          }
          System.out.print("round " + round + "\n");
          System.out.flush();
        }
      }
    }
  }
}
