package org.oscircular.node.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
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
import org.oscircular.node.fetch.DirectoryOrigin;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.Sleeper;
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
      Path out = tmp.resolve("child-" + kill + ".out");
      Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
          "-cp", System.getProperty("java.class.path"), Child.class.getName(), originDir.toString(), cache.toString())
          .redirectErrorStream(true).redirectOutput(out.toFile()).start();
      try {
        int rounds = 2 + rnd.nextInt(6);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!(Files.exists(out) && Files.readString(out).contains("round " + rounds + "\n"))) {
          assertThat(child.isAlive()).as("child running; output: %s", Files.readString(out)).isTrue();
          assertThat(System.nanoTime()).as("child reached round %d", rounds).isLessThan(deadline);
          Thread.sleep(5); // polling the child's output with a deadline
        }
        Thread.sleep(rnd.nextInt(30)); // somewhere inside the next round
      } finally {
        child.destroyForcibly(); // SIGKILL
        assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
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
    var origin = new OriginFixture(originDir, KEY_SEED);
    return Archive.open(List.of(new DirectoryOrigin(originDir)), store, origin.trust(),
        FetchConfig.defaults().withReadahead(0), InstantSource.fixed(OriginFixture.NOW), Sleeper.SYSTEM, background);
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
