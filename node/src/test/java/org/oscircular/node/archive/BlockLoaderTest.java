package org.oscircular.node.archive;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.protocol.format.BlockEncoder;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.Codec;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BlockLoaderTest {
  @TempDir Path tmp;
  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
  private RocksBlockStore store;

  @AfterEach
  void close() throws Exception {
    background.shutdownNow();
    assertThat(background.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
    if (store != null) {
      store.close();
    }
  }

  /** A source whose fetches each wait for a permit, counting how many run at once and how often each block is asked. */
  private static final class GatedSource implements BlockSource {
    final Map<BlockName, byte[]> blocks = new ConcurrentHashMap<>();
    final Map<BlockName, AtomicInteger> asked = new ConcurrentHashMap<>();
    final Semaphore permits = new Semaphore(0);
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger mostRunning = new AtomicInteger();

    @Override
    public Fetched fetch(BlockEntry.Stored entry) throws java.io.IOException {
      asked.computeIfAbsent(entry.name(), k -> new AtomicInteger()).incrementAndGet();
      mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
      try {
        permits.acquire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException();
      } finally {
        running.decrementAndGet();
      }
      return new Fetched(blocks.get(entry.name()), "test");
    }
  }

  private List<BlockEntry.Stored> blocks(GatedSource source, int n) {
    var encoder = new BlockEncoder(Codec.NONE);
    var rnd = new Random(3);
    List<BlockEntry.Stored> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] plain = new byte[4096];
      rnd.nextBytes(plain);
      var enc = encoder.encode(plain, 0, plain.length);
      var s = (BlockEntry.Stored) enc.entry();
      source.blocks.put(s.name(), enc.stored());
      out.add(s);
    }
    return out;
  }

  @Test
  void keepsReadaheadGoingThroughRepeatedRequestsAndFetchesEachBlockOnce() throws Exception {
    store = RocksBlockStore.open(tmp.resolve("cache"), CacheConfig.withMaxBytes(256L << 20));
    var source = new GatedSource();
    var loader = new BlockLoader(store, source, background, 3);
    List<BlockEntry.Stored> all = blocks(source, 24);
    // A sequential reader asks for the window ahead again on every read: the first twelve twice, then more.
    all.subList(0, 12).forEach(loader::prefetch);
    all.subList(0, 12).forEach(loader::prefetch);
    all.subList(12, 24).forEach(loader::prefetch);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (source.running.get() < 3 && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
    assertThat(source.running.get()).as("background fetches running at once").isEqualTo(3);
    source.permits.release(all.size());
    while (!all.stream().allMatch(b -> store.contains(b.name())) && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
    }
    assertThat(all).allMatch(b -> store.contains(b.name()), "every requested block is cached");
    assertThat(source.asked.values()).allMatch(n -> n.get() == 1);
    assertThat(source.mostRunning.get()).isEqualTo(3);
  }
}
