package org.oscircular.node.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.oscircular.protocol.format.BlockEncoder;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Codec;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RocksBlockStoreTest {
  @TempDir Path tmp;

  record Block(BlockEntry.Stored entry, byte[] stored) {}

  static List<Block> blocks(int count, int size, long seed) {
    var rnd = new Random(seed);
    var enc = new BlockEncoder(Codec.NONE);
    List<Block> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] b = new byte[size];
      rnd.nextBytes(b);
      var e = enc.encode(b, 0, size);
      out.add(new Block((BlockEntry.Stored) e.entry(), e.stored()));
    }
    return out;
  }

  @Test
  void returnsOnlyBlocksThatVerifyAgainstTheirEntry() throws IOException {
    var bs = blocks(2, 4096, 1);
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(1 << 20))) {
      byte[] forged = bs.get(0).stored().clone();
      forged[0] ^= 1;
      assertThat(store.put(bs.get(0).entry(), forged)).isEqualTo(RocksBlockStore.PutResult.REJECTED_UNVERIFIED);
      assertThat(store.get(bs.get(0).entry())).isEmpty();
      assertThat(store.put(bs.get(0).entry(), bs.get(0).stored())).isEqualTo(RocksBlockStore.PutResult.STORED);
      assertThat(store.put(bs.get(0).entry(), bs.get(0).stored())).isEqualTo(RocksBlockStore.PutResult.ALREADY_PRESENT);
      assertThat(store.get(bs.get(0).entry())).hasValueSatisfying(v -> assertThat(v).isEqualTo(bs.get(0).stored()));
      // Same SHA1 name, but the table entry claims another SHA-256: the cached bytes are not handed out.
      var liar = new BlockEntry.Stored(bs.get(0).entry().name(), new byte[32], 4096);
      assertThat(store.get(liar)).isEmpty();
      assertThat(store.contains(bs.get(0).entry().name())).isFalse();
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {4096, 65536, 262144})
  void evictionKeepsUnderTheByteCapAndNeverDropsPinnedBlocks(int blockSize) throws IOException {
    long cap = Math.max(1 << 20, 24L * blockSize);
    int count = (int) (cap / blockSize) * 3;
    var bs = blocks(count, blockSize, blockSize);
    var pinned = bs.subList(0, (int) (cap / blockSize / 3));
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(cap))) {
      store.pin("debian:12.8", pinned.stream().map(Block::entry).toList());
      for (var b : bs) {
        assertThat(store.put(b.entry(), b.stored())).isEqualTo(RocksBlockStore.PutResult.STORED);
        assertThat(store.stats().bytes()).isLessThanOrEqualTo(cap);
      }
      for (var p : pinned) {
        assertThat(store.get(p.entry())).as("pinned block %s", p.entry().name()).isPresent();
      }
      assertThat(store.stats().evictions()).isPositive();
      assertThat(store.get(bs.get(pinned.size()).entry())).as("oldest unpinned block").isEmpty();
      assertThat(store.get(bs.getLast().entry())).as("newest block").isPresent();
      assertThat(store.stats().pinnedImages()).containsExactly("debian:12.8");
      assertThat(store.stats().pinnedBytes()).isEqualTo((long) pinned.size() * blockSize);
    }
  }

  @Test
  void evictsTheLeastRecentlyUsedBlockFirst() throws IOException {
    var bs = blocks(300, 4096, 2);
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(1 << 20))) {
      for (int i = 0; i < 200; i++) {
        store.put(bs.get(i).entry(), bs.get(i).stored());
      }
      assertThat(store.stats().evictions()).isZero();
      assertThat(store.get(bs.get(0).entry())).isPresent(); // block 0 is now the most recently used
      for (int i = 200; i < 300; i++) {
        store.put(bs.get(i).entry(), bs.get(i).stored());
      }
      assertThat(store.get(bs.get(0).entry())).isPresent();
      assertThat(store.get(bs.get(1).entry())).isEmpty();
      assertThat(store.stats().evictions()).isPositive();
    }
  }

  @Test
  void refusesToPinMoreThanTheCacheCanHold() throws IOException {
    var bs = blocks(300, 4096, 3);
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(1 << 20))) {
      assertThatThrownBy(() -> store.pin("big:1", bs.stream().map(Block::entry).toList()))
          .hasMessageContaining("cannot pin big:1").hasMessageContaining("cache.max-bytes");
      assertThat(store.pinnedImages()).isEmpty();
    }
  }

  @Test
  void keepsBlocksPinsAndCountersAcrossReopen() throws IOException {
    var bs = blocks(10, 4096, 4);
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(1 << 20))) {
      for (var b : bs) {
        store.put(b.entry(), b.stored());
      }
      store.pin("debian:12.8", List.of(bs.get(0).entry()));
      store.get(bs.get(1).entry());
      store.putDocument("catalog", new byte[] {1, 2, 3});
    }
    var stats = RocksBlockStore.readStats(tmp, CacheConfig.withMaxBytes(1 << 20));
    assertThat(stats.blocks()).isEqualTo(10);
    assertThat(stats.bytes()).isEqualTo(10 * 4096);
    assertThat(stats.hits()).isEqualTo(1);
    assertThat(stats.pinnedImages()).containsExactly("debian:12.8");
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(1 << 20))) {
      assertThat(store.stats().blocks()).isEqualTo(10);
      assertThat(store.isPinned(bs.get(0).entry().name())).isTrue();
      assertThat(store.document("catalog")).hasValueSatisfying(v -> assertThat(v).containsExactly(1, 2, 3));
      assertThat(store.unpin("debian:12.8")).isTrue();
      assertThat(store.isPinned(bs.get(0).entry().name())).isFalse();
    }
  }

  @Test
  void refusesASecondWriterWithAClearMessage() throws IOException {
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(1 << 20))) {
      assertThatThrownBy(() -> RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(1 << 20)))
          .hasMessageContaining("in use by another circular process");
    }
  }

  @Test
  void dropsABlockWhoseBytesChangeOnDiskAfterItVerified() throws IOException {
    var bs = blocks(3, 16384, 5);
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(1 << 20))) {
      for (var b : bs) {
        store.put(b.entry(), b.stored());
      }
      store.flush(); // the blocks now live in a blob file, read from disk on every get
      for (var b : bs) {
        assertThat(store.get(b.entry())).hasValueSatisfying(v -> assertThat(v).isEqualTo(b.stored()));
      }
      // Rot one byte in the middle of block 1 on disk while the store is open: RocksDB's own checksum is
      // not checked on block reads, so only the CRC-32C taken when the block verified can catch it.
      var scratch = java.nio.ByteBuffer.allocateDirect(16384);
      assertThat(store.getInto(bs.get(1).entry(), scratch)).isTrue();
      byte[] copy = new byte[scratch.remaining()];
      scratch.get(copy);
      assertThat(copy).isEqualTo(bs.get(1).stored());
      flipByteOnDisk(bs.get(1).stored(), 9000);
      assertThat(store.getInto(bs.get(1).entry(), scratch)).isFalse();
      assertThat(scratch.remaining()).isZero();
      assertThat(store.get(bs.get(1).entry())).isEmpty();
      assertThat(store.contains(bs.get(1).entry().name())).isFalse();
      assertThat(store.get(bs.get(0).entry())).hasValueSatisfying(v -> assertThat(v).isEqualTo(bs.get(0).stored()));
      assertThat(store.get(bs.get(2).entry())).hasValueSatisfying(v -> assertThat(v).isEqualTo(bs.get(2).stored()));
    }
  }

  @Test
  void getIntoVerifiesTheFirstReadAfterOpenInFull() throws IOException {
    var bs = blocks(2, 8192, 6);
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(1 << 20))) {
      for (var b : bs) {
        store.put(b.entry(), b.stored());
      }
      store.flush();
    }
    // Rot while closed: nothing in memory knows the block; the first read hashes it and drops it.
    flipByteOnDisk(bs.get(0).stored(), 100);
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(1 << 20))) {
      var scratch = java.nio.ByteBuffer.allocateDirect(8192);
      assertThat(store.getInto(bs.get(0).entry(), scratch)).isFalse();
      assertThat(store.contains(bs.get(0).entry().name())).isFalse();
      assertThat(store.getInto(bs.get(1).entry(), scratch)).isTrue();
      assertThat(scratch.remaining()).isEqualTo(8192);
      assertThatThrownBy(() -> store.getInto(bs.get(1).entry(), java.nio.ByteBuffer.allocate(8192)))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void leavesBlobFilesAloneWhileNothingWasEvicted() throws IOException {
    var bs = blocks(128, 65536, 7); // 8 MiB in 1 MiB write buffers: about eight blob files
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(64L << 20).withWriteBufferBytes(1 << 20))) {
      for (var b : bs) {
        store.put(b.entry(), b.stored());
      }
      store.flush();
      var before = blobFiles();
      assertThat(before).hasSizeGreaterThan(4);
      store.compactBlocks();
      // Collection would have moved the blobs of the oldest files into new ones: nothing is dead here.
      assertThat(blobFiles()).isEqualTo(before);
      assertThat(store.collectsBlobGarbage()).isFalse();
      for (var b : bs) {
        assertThat(store.get(b.entry())).hasValueSatisfying(v -> assertThat(v).isEqualTo(b.stored()));
      }
    }
  }

  @Test
  void diskSpaceOfEvictedBlocksComesBack() throws IOException {
    long cap = 4L << 20;
    var bs = blocks(640, 65536, 8); // ten times the cap
    // Every 8th of the first 256 blocks stays in use, so each of the first blob files keeps a live block
    // and is only freed by moving that block elsewhere (blob garbage collection).
    List<Block> hot = new ArrayList<>();
    boolean collected = false;
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(cap).withWriteBufferBytes(1 << 20))) {
      for (int i = 0; i < bs.size(); i++) {
        var b = bs.get(i);
        assertThat(store.put(b.entry(), b.stored())).isEqualTo(RocksBlockStore.PutResult.STORED);
        if (i < 256 && i % 8 == 0) {
          hot.add(b);
        }
        for (var h : hot) {
          assertThat(store.get(h.entry())).as("block in use").isPresent();
        }
        collected |= store.collectsBlobGarbage();
      }
      store.flush();
      // Each compaction with collection on moves the live blobs of the oldest files; background compactions
      // may have done that already, or not yet (a loaded machine): a few rounds, as more inserts would bring.
      long onDisk = blobBytes();
      for (int round = 0; round < 8 && onDisk > 2 * cap; round++) {
        store.compactBlocks();
        onDisk = blobBytes();
      }
      // Without collection the first 16 blob files (16 MiB) would stay for their one live block in eight
      // (about 18 MiB of blob files in all).
      assertThat(onDisk).as("blob file bytes on disk, cap %d", cap).isLessThanOrEqualTo(2 * cap);
      assertThat(collected).as("garbage collection turned on after evictions").isTrue();
      for (var h : hot) {
        assertThat(store.get(h.entry())).hasValueSatisfying(v -> assertThat(v).isEqualTo(h.stored()));
      }
    }
  }

  private long blobBytes() throws IOException {
    return blobFiles().values().stream().mapToLong(Long::longValue).sum();
  }

  /** The cache's blob files by name, with their sizes. */
  private java.util.Map<String, Long> blobFiles() throws IOException {
    var out = new java.util.TreeMap<String, Long>();
    try (var files = java.nio.file.Files.list(tmp)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".blob")).toList()) {
        try {
          out.put(f.getFileName().toString(), java.nio.file.Files.size(f));
        } catch (java.nio.file.NoSuchFileException deletedMeanwhile) {
          // a background compaction removed it
        }
      }
    }
    return out;
  }

  /** Flips the byte at {@code at} of the only copy of {@code content} in the cache's blob files. */
  private void flipByteOnDisk(byte[] content, int at) throws IOException {
    List<Path> blobs;
    try (var files = java.nio.file.Files.list(tmp)) {
      blobs = files.filter(f -> f.toString().endsWith(".blob")).toList();
    }
    byte[] needle = java.util.Arrays.copyOf(content, 64);
    for (Path f : blobs) {
      byte[] all = java.nio.file.Files.readAllBytes(f);
      for (int i = 0; i + content.length <= all.length; i++) {
        if (java.util.Arrays.equals(all, i, i + needle.length, needle, 0, needle.length)) {
          try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) (all[i + at] ^ 0x10)}), i + at);
          }
          return;
        }
      }
    }
    throw new AssertionError("block bytes not found in blob files " + blobs);
  }

  @Test
  void closingUnderConcurrentReadersAndWritersWaitsForThemAndThenRefusesCalls() throws Exception {
    var bs = blocks(64, 65536, 7);
    var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(64L << 20));
    for (int i = 0; i < 32; i++) {
      store.put(bs.get(i).entry(), bs.get(i).stored());
    }
    var failures = new java.util.concurrent.ConcurrentLinkedQueue<Throwable>();
    var closedSeen = new java.util.concurrent.atomic.AtomicInteger();
    var calls = new java.util.concurrent.atomic.AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int id = t;
      threads.add(Thread.ofPlatform().start(() -> {
        var scratch = java.nio.ByteBuffer.allocateDirect(65536);
        for (int n = 0; ; n++, calls.incrementAndGet()) {
          var b = bs.get((n * 7 + id) % bs.size());
          try {
            switch (n % 3) {
              case 0 -> store.get(b.entry()).ifPresent(v -> assertThat(v).isEqualTo(b.stored()));
              case 1 -> store.getInto(b.entry(), scratch);
              default -> store.put(b.entry(), b.stored());
            }
          } catch (RocksBlockStore.CacheClosedException e) {
            closedSeen.incrementAndGet();
            return;
          } catch (Throwable e) {
            failures.add(e);
            return;
          }
        }
      }));
    }
    // close once the workers are well under way: it must not free RocksDB under any of them
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (calls.get() < 400 && failures.isEmpty() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(calls.get()).as("store calls made before closing").isGreaterThanOrEqualTo(400);
    store.close();
    for (Thread th : threads) {
      th.join(TimeUnit.SECONDS.toMillis(30));
    }
    assertThat(failures).isEmpty();
    assertThat(closedSeen).hasValue(4);
    assertThatThrownBy(() -> store.get(bs.get(0).entry())).isInstanceOf(RocksBlockStore.CacheClosedException.class)
        .hasMessageContaining("is closed");
    store.close(); // a second close is harmless
    try (var reopened = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(64L << 20))) {
      assertThat(reopened.get(bs.get(0).entry())).hasValueSatisfying(v -> assertThat(v).isEqualTo(bs.get(0).stored()));
    }
  }

  @Test
  void uploadsToPeersAreNotCountedInTheLocalHitRate() throws IOException {
    var bs = blocks(2, 4096, 3);
    try (var store = RocksBlockStore.open(tmp, CacheConfig.withMaxBytes(1 << 20))) {
      store.put(bs.get(0).entry(), bs.get(0).stored());
      assertThat(store.getForUpload(bs.get(0).entry())).hasValueSatisfying(v -> assertThat(v).isEqualTo(bs.get(0).stored()));
      assertThat(store.getForUpload(bs.get(1).entry())).isEmpty();
      assertThat(store.stats().hits()).isZero();
      assertThat(store.stats().misses()).isZero();
      store.get(bs.get(0).entry());
      store.get(bs.get(1).entry());
      assertThat(store.stats().hits()).isEqualTo(1);
      assertThat(store.stats().misses()).isEqualTo(1);
    }
  }

  @Test
  void rejectsACapBelowOneMebibyte() {
    assertThatThrownBy(() -> CacheConfig.withMaxBytes(1000))
        .hasMessage("cache.max-bytes must be at least 1 MiB, got 1000 bytes");
  }
}
