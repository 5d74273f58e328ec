package org.oscircular.node.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.ImagePinner;
import org.oscircular.node.archive.OriginFixture;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.testing.ChildJvm;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.ImageTable;

/**
 * A child JVM pins, reads and unpins image versions in turn in a cache too small for them all, so blocks
 * are inserted, evicted, pinned and unpinned all the time (no write-ahead log, a 1 MiB write buffer, so
 * RocksDB flushes every few blocks); it is killed with SIGKILL at random moments, again and again. After
 * each kill the cache must open with byte totals equal to the blocks it holds, every block verifying, every
 * pin the child reported complete (and did not start to undo) still pinned with all its blocks, and every
 * unpin it reported (and did not undo) still in effect.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class PinChurnCrashTest {
  static final int BLOCK = 64 * 1024;
  static final int VERSIONS = 4;
  static final int IMAGE_BYTES = 8 << 20;
  static final long KEY_SEED = 23;
  @TempDir Path tmp;

  static CacheConfig config() {
    // Two pinned versions (16 MiB) and one read unpinned (8 MiB) cross the high watermark: eviction churns.
    return CacheConfig.withMaxBytes(28L << 20).withWriteBufferBytes(CacheConfig.MIN_WRITE_BUFFER_BYTES)
        .withDecodedDiskBytes(0);
  }

  static byte[] image(int v) {
    byte[] b = new byte[IMAGE_BYTES];
    new Random(300 + v).nextBytes(b); // incompressible: stored at full size
    return b;
  }

  @Test
  void killedRepeatedlyDuringPinAndEvictionChurnReopensConsistentWithEveryReportedPinComplete() throws Exception {
    Path originDir = tmp.resolve("origin");
    var origin = new OriginFixture(originDir, KEY_SEED);
    Map<String, ImageTable> tables = new TreeMap<>();
    Map<BlockName, BlockEntry.Stored> entries = new HashMap<>();
    for (int v = 1; v <= VERSIONS; v++) {
      ImageTable t = origin.publish("churnos", Integer.toString(v), image(v), BLOCK, Codec.ZSTD, List.of());
      tables.put("churnos:" + v, t);
      entries.putAll(CacheCrashTest.entries(t));
    }
    Path cache = tmp.resolve("cache");
    var rnd = new Random(5);
    // What the children reported, in order, across all runs: true = pin reported complete and not since
    // touched; false = unpin reported complete and no pin started since. Absent: in flight when killed.
    Map<String, Boolean> promised = new TreeMap<>();
    int checkedPins = 0;
    int checkedUnpins = 0;
    for (int kill = 0; kill < 5; kill++) {
      List<String> reported;
      try (var child = ChildJvm.startMain(tmp.resolve("logs"), Child.class.getName(), originDir.toString(),
          cache.toString(), Integer.toString(kill))) {
        int steps = 2 + rnd.nextInt(5);
        child.awaitOutput(o -> lines(o).stream().filter(l -> l.startsWith("pinned ") || l.startsWith("unpinned "))
            .count() >= steps, Duration.ofSeconds(60));
        Thread.sleep(rnd.nextInt(300)); // a random moment inside the next step: that is when SIGKILL lands
        child.kill();
        reported = lines(child.out());
      }
      for (String line : reported) {
        String[] w = line.split(" ");
        if (w.length != 2) {
          continue;
        }
        switch (w[0]) {
          case "pinned" -> promised.put(w[1], true);
          case "unpinned" -> promised.put(w[1], false);
          case "pinning", "unpinning" -> promised.remove(w[1]);
          default -> { }
        }
      }
      try (var store = RocksBlockStore.open(cache, config())) {
        var report = store.verifyAll(n -> Optional.ofNullable(entries.get(n)));
        assertThat(report.problems()).as("after kill %d", kill).isEmpty();
        assertThat(report.checkedAgainstTable()).isEqualTo(report.blocks());
        assertThat(store.stats().bytes()).isLessThanOrEqualTo(config().maxBytes());
        for (var p : promised.entrySet()) {
          if (p.getValue()) {
            assertThat(store.pinnedImages()).as("after kill %d", kill).contains(p.getKey());
            for (var b : CacheCrashTest.entries(tables.get(p.getKey())).values()) {
              assertThat(store.contains(b.name())).as("block %s of %s after kill %d", b.name(), p.getKey(), kill).isTrue();
              assertThat(store.isPinned(b.name())).isTrue();
            }
            checkedPins++;
          } else {
            assertThat(store.pinnedImages()).as("after kill %d", kill).doesNotContain(p.getKey());
            checkedUnpins++;
          }
        }
      }
    }
    assertThat(checkedPins).as("pins checked after kills").isGreaterThanOrEqualTo(3);
    assertThat(checkedUnpins).as("unpins checked after kills").isGreaterThanOrEqualTo(1);
  }

  /** The whole lines of a child's output (a line still being written is left out). */
  static List<String> lines(String out) {
    int end = out.lastIndexOf('\n');
    return end < 0 ? List.of() : out.substring(0, end).lines().toList();
  }

  static Archive archive(Path originDir, RocksBlockStore store, ExecutorService background) throws IOException {
    return new OriginFixture(originDir, KEY_SEED).archive(store, FetchConfig.defaults().withReadahead(0), background);
  }

  /**
   * The child: unpins what an earlier run left pinned, then forever pins version a, reads version b
   * (unpinned: evicts), unpins the version pinned a step earlier. Prints each step before and after.
   */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      Path originDir = Path.of(args[0]);
      int run = Integer.parseInt(args[2]);
      ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
      try (var store = RocksBlockStore.open(Path.of(args[1]), config())) {
        var archive = archive(originDir, store, background);
        for (String id : store.pinnedImages()) {
          say("unpinning " + id);
          store.unpin(id);
          say("unpinned " + id);
        }
        String previous = null;
        for (int step = run; ; step++) {
          String pin = "churnos:" + (step % VERSIONS + 1);
          say("pinning " + pin);
          ImagePinner.pin(archive, archive.catalog().require(pin), background, p -> { });
          say("pinned " + pin);
          var reader = archive.reader("churnos:" + ((step + 2) % VERSIONS + 1));
          for (long off = 0; off < reader.size(); off += BLOCK) {
            reader.read(off, ByteBuffer.allocate(BLOCK));
          }
          if (previous != null && !previous.equals(pin)) {
            say("unpinning " + previous);
            store.unpin(previous);
            say("unpinned " + previous);
          }
          previous = pin;
        }
      }
    }

    static void say(String line) {
      System.out.print(line + "\n");
      System.out.flush();
    }
  }
}
