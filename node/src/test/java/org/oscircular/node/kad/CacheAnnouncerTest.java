package org.oscircular.node.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.testing.Await;
import org.oscircular.protocol.format.BlockEncoder;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.kad.BlockKey;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.kad.LookupResult;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;

/** A node's cache and the DHT: what a node stores, others find it providing, announced in batches. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CacheAnnouncerTest {
  private static final long WAIT_SECONDS = 20;

  @TempDir Path tmp;
  private final SecureRandom random = new SecureRandom();
  private final LoopbackDht dht = new LoopbackDht(random);
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stopEverything() throws Exception {
    for (AutoCloseable c : closeables.reversed()) c.close();
    dht.close();
    timers.shutdownNow();
  }

  /** Eight DHT servers joined through node 0. */
  private void startDht() throws Exception {
    for (int i = 0; i < 8; i++) dht.start(KadConfig.DEFAULTS.withQueryTimeoutMillis(5_000), true);
    Multiaddr seed = dht.address(0);
    for (int i = 1; i < 8; i++) dht.node(i).bootstrap(List.of(seed)).get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  private RocksBlockStore openStore(String name) throws Exception {
    RocksBlockStore store = RocksBlockStore.open(tmp.resolve(name), CacheConfig.withMaxBytes(64L << 20));
    closeables.add(store);
    return store;
  }

  private List<BlockEntry.Stored> cache(RocksBlockStore store, int count) throws Exception {
    BlockEncoder encoder = new BlockEncoder(Codec.NONE);
    List<BlockEntry.Stored> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] data = new byte[1024];
      random.nextBytes(data);
      var e = encoder.encode(data, 0, data.length);
      var entry = (BlockEntry.Stored) e.entry();
      assertEquals(RocksBlockStore.PutResult.STORED, store.put(entry, e.stored()));
      out.add(entry);
    }
    return out;
  }

  private void assertFoundAsProvider(List<BlockEntry.Stored> blocks, PeerId provider, DhtNode finder)
      throws Exception {
    for (int i = 0; i < blocks.size(); i += Math.max(1, blocks.size() / 10)) {
      BlockKey key = new BlockKey(blocks.get(i).name().sha1());
      LookupResult<KadContact> r = finder.findProviders(key, 1).get(WAIT_SECONDS, TimeUnit.SECONDS);
      assertEquals(List.of(provider), r.providers().stream().map(KadContact::id).toList(), "provider of " + key);
      assertTrue(!r.providers().getFirst().addresses().isEmpty(), "with an address to fetch from");
    }
  }

  /** What the announcer has done and what it still holds, as one observation. */
  private record Progress(CacheAnnouncer.Totals totals, int queued) {}

  private static Await waiting() {
    return Await.atMost(Duration.ofSeconds(WAIT_SECONDS)).every(Duration.ofMillis(20));
  }

  @Test
  void blocksANodeCachesAreFoundWithItAsProviderAnnouncedInFewSweeps() throws Exception {
    startDht();
    RocksBlockStore store = openStore("b");
    CacheAnnouncer announcer = new CacheAnnouncer(dht.node(3), store::cachedNames, timers,
        System::currentTimeMillis, 300, 3_600_000);
    closeables.add(announcer);
    store.onStored(announcer::stored);
    announcer.start();

    List<BlockEntry.Stored> blocks = cache(store, 400); // a burst, as when a machine boots an image
    waiting().until("announcement of 400 blocks with none queued",
        () -> new Progress(announcer.totals(), announcer.queued()), p -> p.totals().blocks() >= 400 && p.queued() == 0);
    CacheAnnouncer.Totals t = announcer.totals();
    assertEquals(400, t.blocks(), "each block announced once: " + t);
    assertTrue(t.sweeps() <= 4, "batched into a few sweeps, not one per block: " + t);
    assertTrue(t.lookups() <= 40, "at most one lookup per sweep lane (16), not one per block: " + t);
    assertTrue(t.messages() < 400, "fewer messages than blocks: " + t);

    assertFoundAsProvider(blocks, dht.id(3), dht.node(6));
  }

  @Test
  void blocksCachedBeforeStartAreAnnouncedAtStart() throws Exception {
    startDht();
    RocksBlockStore store = openStore("c");
    List<BlockEntry.Stored> blocks = cache(store, 50); // e.g. from an earlier run
    CacheAnnouncer announcer = new CacheAnnouncer(dht.node(5), store::cachedNames, timers,
        System::currentTimeMillis, 300, 3_600_000);
    closeables.add(announcer);
    store.onStored(announcer::stored);
    announcer.start();

    waiting().until("announcement of the 50 blocks the cache held", announcer::totals, t -> t.blocks() >= 50);
    assertEquals(1, announcer.totals().sweeps(), "one sweep for the whole cache: " + announcer.totals());
    assertFoundAsProvider(blocks, dht.id(5), dht.node(1));
  }
}
