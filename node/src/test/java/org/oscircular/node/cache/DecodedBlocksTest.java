package org.oscircular.node.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.ImageReader;
import org.oscircular.node.archive.OriginFixture;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.testing.Root;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.Codec;

class DecodedBlocksTest {
  static final int BLOCK = 65536;
  @TempDir Path tmp;
  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    background.shutdownNow();
    assertThat(background.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
    for (var c : closing.reversed()) {
      c.close();
    }
  }

  private RocksBlockStore store(long tierBytes) throws IOException {
    var s = RocksBlockStore.open(tmp.resolve("cache"), CacheConfig.withMaxBytes(256L << 20).withDecodedDiskBytes(tierBytes));
    closing.add(s);
    return s;
  }

  /** A fresh archive (fresh readers: nothing in decoded memory), no readahead. */
  private Archive archive(OriginFixture origin, RocksBlockStore store) throws IOException {
    return origin.archive(store, FetchConfig.defaults().withReadahead(0), background);
  }

  /** Reads testos:1 through two fresh readers: the second decode of each stored block keeps it in the tier. */
  private void keepInTier(OriginFixture origin, RocksBlockStore store) throws IOException {
    readAll(archive(origin, store).reader("testos:1"), true);
    readAll(archive(origin, store).reader("testos:1"), true);
  }

  /** testos:1 (8 blocks), its tier entry, and a reader that has read it all from the tier. */
  private record FromTier(byte[] image, RocksBlockStore store, Catalog.Entry entry, ImageReader reader) {}

  /**
   * Publishes testos:1, keeps it in the tier, then reads it once more through a fresh reader, from the
   * tier: that reader has its blocks at hand ({@code viewNow}) as long as their pages stay in memory.
   */
  private FromTier readFromTier() throws IOException {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(BLOCK * 8, BLOCK, 6);
    origin.publish("testos", "1", image, BLOCK, Codec.ZSTD, List.of());
    var store = store(64L << 20);
    keepInTier(origin, store);
    var archive = archive(origin, store);
    var reader = archive.reader("testos:1");
    readAll(reader, true);
    return new FromTier(image, store, archive.versions().getFirst(), reader);
  }

  /** Reads the whole version block by block (whole-block reads into a direct buffer, or heap pieces). */
  private static byte[] readAll(ImageReader reader, boolean direct) throws IOException {
    byte[] out = new byte[(int) reader.size()];
    for (int off = 0; off < out.length; off += BLOCK) {
      int n = Math.min(BLOCK, out.length - off);
      ByteBuffer dst = direct ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
      reader.read(off, dst);
      dst.flip().get(out, off, n);
    }
    return out;
  }

  static Path dataFile(RocksBlockStore store, Catalog.Entry e) {
    return store.decoded().directory().resolve(HexFormat.of().formatHex(e.tableDigest()) + DecodedFile.DATA_SUFFIX);
  }

  static Path indexFile(RocksBlockStore store, Catalog.Entry e) {
    return store.decoded().directory().resolve(HexFormat.of().formatHex(e.tableDigest()) + DecodedFile.INDEX_SUFFIX);
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aBlockDecodedASecondTimeIsKeptDecodedAndLaterReadsTakeItFromTheTierNotTheBlockCache(boolean direct) throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(BLOCK * 12 + 4096, BLOCK, 3); // every 4th block is zeros
    origin.publish("testos", "1", image, BLOCK, Codec.ZSTD, List.of());
    var store = store(64L << 20);
    assertThat(readAll(archive(origin, store).reader("testos:1"), direct)).as("cold").isEqualTo(image);
    assertThat(store.decoded().bytes()).as("blocks decoded once (here: freshly fetched) are not kept").isZero();
    assertThat(readAll(archive(origin, store).reader("testos:1"), direct)).as("warm").isEqualTo(image);
    long stored = 10L * BLOCK; // 13 blocks, 3 of them zeros (never stored); the last one is 4096 bytes
    assertThat(store.decoded().bytes()).isEqualTo(stored - BLOCK + 4096);
    long hits = store.stats().hits();
    assertThat(readAll(archive(origin, store).reader("testos:1"), direct)).as("from the tier").isEqualTo(image);
    assertThat(store.stats().hits() - hits).as("block cache reads").isZero();
  }

  @Test
  void decodedBytesChangedOnDiskAreDroppedAndTheReadFallsBackToTheBlockCache() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(BLOCK * 8, BLOCK, 5);
    origin.publish("testos", "1", image, BLOCK, Codec.ZSTD, List.of());
    var store = store(64L << 20);
    keepInTier(origin, store);
    long full = store.decoded().bytes();
    Catalog.Entry e = archive(origin, store).versions().getFirst();
    try (var ch = FileChannel.open(dataFile(store, e), StandardOpenOption.WRITE, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, 5L * BLOCK + 777);
      ch.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0x10)}), 5L * BLOCK + 777);
    }
    long hits = store.stats().hits();
    var reader = archive(origin, store).reader("testos:1");
    assertThat(readAll(reader, true)).isEqualTo(image);
    assertThat(store.stats().hits() - hits).as("only the damaged block came from the block cache").isEqualTo(1);
    // Dropped, then written again by that very read (it was decoded from the block cache).
    assertThat(store.decoded().bytes()).isEqualTo(full);
    hits = store.stats().hits();
    assertThat(readAll(archive(origin, store).reader("testos:1"), false)).isEqualTo(image);
    assertThat(store.stats().hits() - hits).isZero();
  }

  @Test
  void readNowTakesOnlyPlaintextAtHandAndLeavesTheBufferAloneOtherwise() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(BLOCK * 8, BLOCK, 5);
    origin.publish("testos", "1", image, BLOCK, Codec.ZSTD, List.of());
    var store = store(64L << 20);
    ByteBuffer dst = ByteBuffer.allocateDirect(2 * BLOCK);
    var cold = archive(origin, store).reader("testos:1");
    assertThat(cold.readNow(0, dst)).as("nothing decoded yet").isFalse();
    assertThat(dst.position()).isZero();
    readAll(cold, true);
    readAll(archive(origin, store).reader("testos:1"), true); // decoded a second time: now in the tier
    var warm = archive(origin, store).reader("testos:1");
    assertThat(warm.readNow(0, dst.clear())).as("in the tier, but not read by this process: maybe not in memory")
        .isFalse();
    assertThat(dst.position()).isZero();
    readAll(warm, true);
    long hits = store.stats().hits();
    for (int b = 0; b < 8; b += 2) {
      assertThat(warm.readNow((long) b * BLOCK, dst.clear())).as("blocks %d-%d", b, b + 1).isTrue();
      byte[] got = new byte[2 * BLOCK];
      dst.flip().get(got);
      assertThat(got).isEqualTo(Arrays.copyOfRange(image, b * BLOCK, (b + 2) * BLOCK));
    }
    assertThat(store.stats().hits() - hits).as("block cache reads").isZero();
    assertThat(warm.readNow(100, dst.clear().limit(BLOCK))).as("a piece of a block is not at hand").isFalse();
    assertThat(dst.position()).isZero();
    Catalog.Entry e = archive(origin, store).versions().getFirst();
    try (var ch = FileChannel.open(dataFile(store, e), StandardOpenOption.WRITE, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, 5L * BLOCK + 9);
      ch.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0x01)}), 5L * BLOCK + 9);
    }
    assertThat(warm.readNow(4L * BLOCK, dst.clear())).as("block 5's tier copy fails its check").isFalse();
    assertThat(dst.position()).isZero();
    warm.read(4L * BLOCK, dst.clear());
    byte[] got = new byte[2 * BLOCK];
    dst.flip().get(got);
    assertThat(got).isEqualTo(Arrays.copyOfRange(image, 4 * BLOCK, 6 * BLOCK));
    assertThat(warm.readNow(4L * BLOCK, dst.clear())).as("decoded again and kept again").isTrue();
  }

  /** The bytes lent, in order; then gives them back. */
  private static byte[] concat(LentBytes lent) {
    var out = new java.io.ByteArrayOutputStream();
    for (ByteBuffer v : lent.views()) {
      byte[] b = new byte[v.remaining()];
      v.duplicate().get(b);
      out.writeBytes(b);
    }
    lent.giveBack().run();
    return out.toByteArray();
  }

  /** Whether this process has {@code file} mapped (a deleted one shows as "… (deleted)"). */
  private static boolean mapped(Path file) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(l -> l.contains(file.toString()));
  }

  @Test
  void viewNowLendsCheckedTierBlocksAndZeroBlocksAndNothingThatFailsItsCheck() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(BLOCK * 12 + 4096, BLOCK, 6); // blocks 2, 6, 10 are zeros; a short last one
    origin.publish("testos", "1", image, BLOCK, Codec.ZSTD, List.of());
    var store = store(64L << 20);
    var cold = archive(origin, store).reader("testos:1");
    assertThat(cold.viewNow(0, BLOCK)).as("nothing decoded yet").isNull();
    assertThat(cold.viewNow(2L * BLOCK, BLOCK)).as("a zero block is always at hand").isNotNull();
    readAll(cold, true);
    readAll(archive(origin, store).reader("testos:1"), true); // decoded a second time: now in the tier
    var warm = archive(origin, store).reader("testos:1");
    assertThat(concat(warm.viewNow(0, BLOCK))).as("in the tier, its pages in memory: lent before this reader read it")
        .isEqualTo(Arrays.copyOf(image, BLOCK));
    long hits = store.stats().hits();
    LentBytes all = warm.viewNow(0, image.length);
    assertThat(all).isNotNull();
    assertThat(all.views()).allMatch(ByteBuffer::isReadOnly).allMatch(ByteBuffer::isDirect);
    assertThat(concat(all)).isEqualTo(image);
    for (int[] range : new int[][] {{100, 3 * BLOCK}, {BLOCK - 1, 2}, {2 * BLOCK + 5, BLOCK}, {12 * BLOCK + 1, 4095},
        {7 * BLOCK, 0}}) {
      LentBytes part = warm.viewNow(range[0], range[1]);
      assertThat(part).as("%d+%d", range[0], range[1]).isNotNull();
      assertThat(concat(part)).isEqualTo(Arrays.copyOfRange(image, range[0], range[0] + range[1]));
    }
    assertThat(warm.viewNow(image.length - 10, 11)).as("past the end").isNull();
    assertThat(store.stats().hits() - hits).as("block cache reads").isZero();

    Catalog.Entry e = archive(origin, store).versions().getFirst();
    try (var ch = FileChannel.open(dataFile(store, e), StandardOpenOption.WRITE, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, 5L * BLOCK + 9);
      ch.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0x01)}), 5L * BLOCK + 9);
    }
    assertThat(warm.viewNow(4L * BLOCK, 2 * BLOCK)).as("block 5's tier copy fails its check").isNull();
    assertThat(warm.viewNow(5L * BLOCK + 100, 10)).as("dropped: not lent again").isNull();
    assertThat(concat(warm.viewNow(3L * BLOCK, BLOCK))).as("other blocks still are")
        .isEqualTo(Arrays.copyOfRange(image, 3 * BLOCK, 4 * BLOCK));
    ByteBuffer dst = ByteBuffer.allocateDirect(2 * BLOCK);
    warm.read(4L * BLOCK, dst);
    assertThat(concat(warm.viewNow(4L * BLOCK, 2 * BLOCK))).as("decoded again and kept again")
        .isEqualTo(Arrays.copyOfRange(image, 4 * BLOCK, 6 * BLOCK));
  }

  @Test
  void viewNowLeavesABlockWhosePagesAreNotInMemoryToTheReadThatWaitsForTheDisk() throws Exception {
    var t = readFromTier();
    var image = t.image();
    var warm = t.reader();
    Path data = dataFile(t.store(), t.entry());
    // Write the tier file back and drop its pages from the page cache (GNU dd: fdatasync, then fadvise DONTNEED).
    var dd = new ProcessBuilder("dd", "of=" + data, "oflag=nocache", "conv=notrunc,fdatasync", "count=0")
        .redirectErrorStream(true).start();
    assertThat(dd.waitFor(30, TimeUnit.SECONDS) && dd.exitValue() == 0).as("dd drops the file's pages").isTrue();
    try (var ch = FileChannel.open(data, StandardOpenOption.READ)) {
      assertThat(ch.map(FileChannel.MapMode.READ_ONLY, 3L * BLOCK, BLOCK).isLoaded())
          .as("block 3's pages left the page cache (not on tmpfs, which keeps them)").isFalse();
    }
    assertThat(warm.viewNow(3L * BLOCK, BLOCK)).as("would wait for the disk").isNull();
    ByteBuffer dst = ByteBuffer.allocateDirect(BLOCK);
    warm.read(3L * BLOCK, dst); // reads the pages back in
    assertThat(concat(warm.viewNow(3L * BLOCK, BLOCK)))
        .isEqualTo(Arrays.copyOfRange(image, 3 * BLOCK, 4 * BLOCK));
  }

  @Test
  void anEvictedVersionStaysMappedWhileItsBytesAreLentAndIsUnmappedWhenTheyAreGivenBack() throws Exception {
    var t = readFromTier();
    var image = t.image();
    var warm = t.reader();
    Catalog.Entry e = t.entry();
    Path data = dataFile(t.store(), e);
    LentBytes first = warm.viewNow(0, 2 * BLOCK);
    LentBytes second = warm.viewNow(BLOCK, BLOCK);
    assertThat(first).isNotNull();
    assertThat(second).isNotNull();
    assertThat(mapped(data)).as("mapped while lent").isTrue();
    t.store().decoded().remove(e.tableDigest()); // as when a newer catalog drops the version: files deleted
    assertThat(Files.exists(data)).isFalse();
    assertThat(warm.viewNow(0, BLOCK)).as("nothing new is lent from a removed version").isNull();
    assertThat(concat(first)).as("lent bytes stay readable until given back")
        .isEqualTo(Arrays.copyOf(image, 2 * BLOCK));
    assertThat(mapped(data)).as("still lent once").isTrue();
    assertThat(concat(second)).isEqualTo(Arrays.copyOfRange(image, BLOCK, 2 * BLOCK));
    assertThat(mapped(data)).as("unmapped when the last lent bytes came back: the disk space is free").isFalse();
  }

  @Test
  void aReopenedCacheServesTheBlocksKeptBeforeAndIgnoresEntriesWhoseCheckFails() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(BLOCK * 8, BLOCK, 9); // blocks 2 and 6 are zeros
    origin.publish("testos", "1", image, BLOCK, Codec.ZSTD, List.of());
    Path dir = tmp.resolve("cache");
    CacheConfig config = CacheConfig.withMaxBytes(256L << 20).withDecodedDiskBytes(64L << 20);
    Catalog.Entry e;
    try (var store = RocksBlockStore.open(dir, config)) {
      keepInTier(origin, store);
      assertThat(store.decoded().bytes()).isEqualTo(6L * BLOCK);
      e = archive(origin, store).versions().getFirst();
      // A torn entry (as a power loss could leave it): block 3's check word no longer matches.
      try (var ch = FileChannel.open(indexFile(store, e), StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap(new byte[] {1, 2}), DecodedFile.HEADER + 3L * DecodedFile.ENTRY + 5);
      }
    }
    assertThat(DecodedBlocks.readUsage(dir)).as("what cache stats reports")
        .isEqualTo(new DecodedBlocks.Usage(5L * BLOCK, 1));
    var store = RocksBlockStore.open(dir, config);
    closing.add(store);
    assertThat(store.decoded().bytes()).isEqualTo(5L * BLOCK);
    long hits = store.stats().hits();
    assertThat(readAll(archive(origin, store).reader("testos:1"), true)).isEqualTo(image);
    assertThat(store.stats().hits() - hits).as("block 3 only").isEqualTo(1);
  }

  @Test
  void theTierStaysUnderItsBoundByEvictingTheLeastRecentlyUsedVersionWhole() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    List<byte[]> images = new ArrayList<>();
    for (int v = 1; v <= 3; v++) {
      byte[] image = OriginFixture.image(BLOCK * 8, BLOCK, 20 + v); // 6 stored blocks each
      images.add(image);
      origin.publish("testos", Integer.toString(v), image, BLOCK, Codec.ZSTD, List.of());
    }
    long bound = 13L * BLOCK; // two versions and a block
    var store = store(bound);
    for (int v = 1; v <= 3; v++) {
      readAll(archive(origin, store).reader("testos:" + v), true);
    }
    var versions = archive(origin, store).versions();
    for (int round = 0; round < 2; round++) {
      for (int v : new int[] {1, 2, 1, 3}) {
        assertThat(readAll(archive(origin, store).reader("testos:" + v), round == 0)).isEqualTo(images.get(v - 1));
        assertThat(store.decoded().bytes()).isLessThanOrEqualTo(bound);
      }
    }
    // Last used: 1 then 3; version 2 was evicted whole, files and all.
    assertThat(store.decoded().bytes()).isEqualTo(12L * BLOCK);
    assertThat(dataFile(store, versions.get(1))).doesNotExist();
    assertThat(indexFile(store, versions.get(1))).doesNotExist();
    assertThat(dataFile(store, versions.get(0))).exists();
    assertThat(dataFile(store, versions.get(2))).exists();
  }

  @Test
  void aVersionReplacedOnTheOriginTakesItsDecodedFilesWithIt() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(BLOCK * 8, BLOCK, 31);
    origin.publish("testos", "1", image, BLOCK, Codec.ZSTD, List.of());
    var store = store(64L << 20);
    var archive = archive(origin, store);
    readAll(archive.reader("testos:1"), true);
    readAll(archive(origin, store).reader("testos:1"), true);
    Catalog.Entry before = archive.versions().getFirst();
    assertThat(dataFile(store, before)).exists();
    byte[] replacement = OriginFixture.image(BLOCK * 8, BLOCK, 32);
    origin.publish("testos", "1", replacement, BLOCK, Codec.ZSTD, List.of());
    assertThat(archive.refresh()).isTrue();
    assertThat(dataFile(store, before)).doesNotExist();
    assertThat(store.decoded().bytes()).isZero();
    assertThat(readAll(archive.reader("testos:1"), true)).isEqualTo(replacement);
  }

  @Test
  void aFullDiskStopsKeepingBlocksButEveryReadStaysCorrect() throws Exception {
    Root.require("a small tmpfs under the decoded tier");
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(BLOCK * 16, BLOCK, 51); // 12 stored blocks, 768 KiB of plaintext
    origin.publish("testos", "1", image, BLOCK, Codec.ZSTD, List.of());
    Path dir = tmp.resolve("cache");
    Path tierDir = Files.createDirectories(dir.resolve(DecodedBlocks.DIR));
    Root.run("mount", "-t", "tmpfs", "-o", "size=256k", "decoded-full-test", tierDir.toString());
    try {
      try (var store = RocksBlockStore.open(dir, CacheConfig.withMaxBytes(256L << 20).withDecodedDiskBytes(64L << 20))) {
        readAll(archive(origin, store).reader("testos:1"), true);
        assertThat(readAll(archive(origin, store).reader("testos:1"), true)).isEqualTo(image);
        long kept = store.decoded().bytes();
        assertThat(kept).as("some blocks fit before the disk filled").isPositive().isLessThan(12L * BLOCK);
        assertThat(readAll(archive(origin, store).reader("testos:1"), false)).isEqualTo(image);
        assertThat(readAll(archive(origin, store).reader("testos:1"), true)).isEqualTo(image);
        assertThat(store.decoded().bytes()).isEqualTo(kept);
      }
    } finally {
      Root.unmount(tierDir);
    }
  }

  @Test
  void withTheTierOffNothingIsWrittenAndFilesLeftEarlierAreDeleted() throws Exception {
    var origin = new OriginFixture(tmp.resolve("origin"), 1);
    byte[] image = OriginFixture.image(BLOCK * 4, BLOCK, 41);
    origin.publish("testos", "1", image, BLOCK, Codec.ZSTD, List.of());
    Path dir = tmp.resolve("cache");
    try (var store = RocksBlockStore.open(dir, CacheConfig.withMaxBytes(256L << 20).withDecodedDiskBytes(64L << 20))) {
      keepInTier(origin, store);
    }
    try (var s = Files.list(dir.resolve(DecodedBlocks.DIR))) {
      assertThat(s.count()).isEqualTo(2);
    }
    try (var store = RocksBlockStore.open(dir, CacheConfig.withMaxBytes(256L << 20).withDecodedDiskBytes(0))) {
      assertThat(readAll(archive(origin, store).reader("testos:1"), true)).isEqualTo(image);
      assertThat(store.decoded().bytes()).isZero();
    }
    try (var s = Files.list(dir.resolve(DecodedBlocks.DIR))) {
      assertThat(s.toList()).isEmpty();
    }
  }
}
