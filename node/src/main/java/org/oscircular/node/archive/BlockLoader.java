package org.oscircular.node.archive;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;

/**
 * Verified stored bytes of a block: from the cache, or fetched from the origins and cached. Concurrent
 * loads of the same missing block share one fetch (single flight). Background loads (readahead,
 * prefetch, pinning) run on the injected executor and are bounded so they never crowd out demand reads.
 */
public final class BlockLoader {
  private static final System.Logger LOG = System.getLogger(BlockLoader.class.getName());

  private final RocksBlockStore store;
  private final BlockSource source;
  private final Executor background;
  private final int maxBackground;
  private final ConcurrentHashMap<BlockName, CompletableFuture<Loaded>> inflight = new ConcurrentHashMap<>();
  private final AtomicInteger backgroundInFlight = new AtomicInteger();
  private final java.util.concurrent.ConcurrentLinkedDeque<BlockEntry.Stored> pending =
      new java.util.concurrent.ConcurrentLinkedDeque<>();
  /** Names of the blocks in {@code pending}, so each is queued once. */
  private final java.util.Set<BlockName> queued = ConcurrentHashMap.newKeySet();
  private final AtomicLong fetches = new AtomicLong();
  private final AtomicLong fetchedBytes = new AtomicLong();

  /** Stored bytes (verified against the entry) and where they came from: "cache" or an origin. */
  public record Loaded(byte[] stored, String source) {}

  public BlockLoader(RocksBlockStore store, BlockSource source, Executor background, int maxBackground) {
    this.store = store;
    this.source = source;
    this.background = background;
    this.maxBackground = maxBackground;
  }

  public Loaded load(BlockEntry.Stored entry) throws IOException {
    var cached = store.get(entry);
    if (cached.isPresent()) {
      return new Loaded(cached.get(), "cache");
    }
    BlockName name = entry.name();
    var mine = new CompletableFuture<Loaded>();
    CompletableFuture<Loaded> theirs = inflight.putIfAbsent(name, mine);
    if (theirs != null) {
      try {
        return theirs.join();
      } catch (CompletionException e) {
        if (e.getCause() instanceof IOException io) {
          throw io;
        }
        throw e;
      }
    }
    try {
      Loaded loaded;
      // Another thread may have cached it between our miss and taking the flight.
      var again = store.contains(name) ? store.get(entry) : java.util.Optional.<byte[]>empty();
      if (again.isPresent()) {
        loaded = new Loaded(again.get(), "cache");
      } else {
        BlockSource.Fetched f = source.fetch(entry);
        fetches.incrementAndGet();
        fetchedBytes.addAndGet(f.stored().length);
        // Every BlockSource returns only bytes it verified against the entry: no second hash here.
        store.putVerified(entry, f.stored());
        loaded = new Loaded(f.stored(), f.source());
      }
      mine.complete(loaded);
      return loaded;
    } catch (IOException | RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      inflight.remove(name, mine);
    }
  }

  /**
   * Loads a block in the background unless it is cached, in flight or already queued. At most
   * {@code maxBackground} background loads run at once; further requests wait in a bounded queue, each
   * block once, and start in the order asked (for a sequential reader: nearest first) as running ones
   * finish; a queued block that has meanwhile been cached or fetched by a reader is skipped for the next.
   * When the queue overflows the oldest requests are dropped. Failures are only logged: a demand read of
   * that block will report them.
   */
  public void prefetch(BlockEntry.Stored entry) {
    if (!wanted(entry.name()) || !queued.add(entry.name())) {
      return;
    }
    pending.addLast(entry);
    while (queued.size() > 4 * maxBackground + 64) {
      BlockEntry.Stored dropped = pending.pollFirst();
      if (dropped == null) {
        break;
      }
      queued.remove(dropped.name());
    }
    drain();
  }

  private boolean wanted(BlockName name) {
    return !store.contains(name) && !inflight.containsKey(name);
  }

  /** Starts queued loads while fewer than {@code maxBackground} run. */
  private void drain() {
    while (true) {
      int running = backgroundInFlight.get();
      if (running >= maxBackground) {
        return; // a running load drains again when it ends
      }
      if (!backgroundInFlight.compareAndSet(running, running + 1)) {
        continue;
      }
      BlockEntry.Stored next;
      while ((next = pending.pollFirst()) != null) {
        queued.remove(next.name());
        if (wanted(next.name())) {
          break;
        }
      }
      if (next == null) {
        backgroundInFlight.decrementAndGet();
        if (pending.isEmpty()) {
          return; // else a request came in while we held the slot: look again
        }
        continue;
      }
      start(next);
    }
  }

  private void start(BlockEntry.Stored entry) {
    try {
      background.execute(() -> {
        try {
          load(entry);
        } catch (IOException | RuntimeException e) {
          LOG.log(System.Logger.Level.DEBUG, "background load of " + entry.name() + " failed: " + e.getMessage());
        } finally {
          backgroundInFlight.decrementAndGet();
          drain();
        }
      });
    } catch (RuntimeException rejected) {
      backgroundInFlight.decrementAndGet(); // executor shut down: the mount is closing
    }
  }

  /** The executor background loads and decode-ahead run on. */
  public Executor background() {
    return background;
  }

  public boolean isCached(BlockName name) {
    return store.contains(name);
  }

  /** Blocks fetched from origins by this loader (each miss shared by concurrent readers counts once). */
  public long fetches() {
    return fetches.get();
  }

  public long fetchedBytes() {
    return fetchedBytes.get();
  }

  public RocksBlockStore store() {
    return store;
  }

  public BlockSource source() {
    return source;
  }
}
