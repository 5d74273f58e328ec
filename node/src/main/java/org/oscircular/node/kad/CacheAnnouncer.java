package org.oscircular.node.kad;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.kad.AnnounceReport;
import org.oscircular.protocol.kad.AnnounceScheduler;
import org.oscircular.protocol.kad.BlockKey;

/**
 * Announces in the DHT the blocks a node holds, clients and seeds alike, so others find it as a provider.
 *
 * <p>Blocks newly stored in the cache are queued ({@link #stored}) and announced together: the queue is flushed
 * {@code delayMillis} after a block arrives in an empty queue, as one region sweep ({@link DhtNode#provide}), and
 * never while the previous sweep still runs (what arrives meanwhile waits for the next one). A node booting an
 * image stores thousands of blocks a minute; they go out in a few sweeps, not one lookup per block. At
 * {@link #start} and then every {@code republishMillis}, every block still held is queued again, so records of
 * blocks cached in an earlier run are renewed and records of evicted blocks simply expire.
 */
public final class CacheAnnouncer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(CacheAnnouncer.class.getName());

  /** What was announced so far: sweeps, blocks (counted once per sweep) and the messages they cost. */
  public record Totals(long sweeps, long blocks, long lookups, long messages) {}

  private final DhtNode dht;
  private final Supplier<? extends Collection<BlockName>> held;
  private final ScheduledExecutorService timers;
  private final long delayMillis;
  private final long republishMillis;

  private final Object lock = new Object();
  private Set<BlockName> queue = new LinkedHashSet<>(); // guarded by lock
  private boolean flushScheduled; // guarded by lock
  private boolean sweeping; // guarded by lock
  private boolean closed; // guarded by lock
  private Totals totals = new Totals(0, 0, 0, 0); // guarded by lock
  private ScheduledFuture<?> republish;

  /**
   * @param held the blocks the node holds now (e.g. the cache's names)
   * @param timers runs the flushes; announcing itself runs on the DHT's own executor
   */
  public CacheAnnouncer(DhtNode dht, Supplier<? extends Collection<BlockName>> held,
      ScheduledExecutorService timers, long delayMillis, long republishMillis) {
    if (delayMillis <= 0 || republishMillis <= 0) {
      throw new IllegalArgumentException("announce delay and republish interval must be positive, got "
          + delayMillis + " ms and " + republishMillis + " ms");
    }
    this.dht = dht;
    this.held = held;
    this.timers = timers;
    this.delayMillis = delayMillis;
    this.republishMillis = republishMillis;
  }

  /** Announces everything held now, and again every republish interval. */
  public void start() {
    republish = timers.scheduleAtFixedRate(this::announceAllHeld, 0, republishMillis, TimeUnit.MILLISECONDS);
  }

  /** A block was stored: announce it with the next batch. Cheap and thread-safe (called on the cache's path). */
  public void stored(BlockName name) {
    synchronized (lock) {
      queue.add(name);
      scheduleFlush(delayMillis);
    }
  }

  public Totals totals() {
    synchronized (lock) {
      return totals;
    }
  }

  /** Blocks waiting for the next sweep (0 once everything stored so far went out or is going out). */
  public int queued() {
    synchronized (lock) {
      return queue.size();
    }
  }

  private void announceAllHeld() {
    Collection<BlockName> names = held.get();
    synchronized (lock) {
      queue.addAll(names);
      scheduleFlush(0);
    }
  }

  private void scheduleFlush(long delay) { // holds lock
    if (!flushScheduled && !sweeping && !closed && !queue.isEmpty()) {
      flushScheduled = true;
      timers.schedule(this::flush, delay, TimeUnit.MILLISECONDS);
    }
  }

  private void flush() {
    List<BlockKey> batch = new ArrayList<>();
    synchronized (lock) {
      flushScheduled = false;
      if (closed || sweeping || queue.isEmpty()) {
        return;
      }
      for (BlockName n : queue) {
        batch.add(new BlockKey(n.sha1()));
      }
      queue = new LinkedHashSet<>();
      sweeping = true;
    }
    dht.provide(batch, AnnounceScheduler.Options.sweep()).whenComplete((report, error) -> {
      if (error != null) {
        LOG.log(Level.WARNING, "dht: announcing {0} cached blocks failed: {1}", batch.size(), error.toString());
      } else {
        LOG.log(Level.INFO, "dht: announced {0} cached blocks: {1} lookups, {2} messages, {3} ms",
            report.keys(), report.lookups(), report.rpcs(), report.elapsedMillis());
      }
      synchronized (lock) {
        sweeping = false;
        if (error == null) {
          totals = add(totals, report);
        } else {
          for (BlockKey k : batch) {
            queue.add(new BlockName(k.sha1())); // nothing is lost: try again with the next batch
          }
        }
        scheduleFlush(delayMillis);
      }
    });
  }

  private static Totals add(Totals t, AnnounceReport r) {
    return new Totals(t.sweeps() + 1, t.blocks() + r.keys(), t.lookups() + r.lookups(), t.messages() + r.rpcs());
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
    }
    if (republish != null) {
      republish.cancel(false);
    }
  }
}
