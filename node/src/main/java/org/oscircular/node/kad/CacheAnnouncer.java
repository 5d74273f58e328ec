package org.oscircular.node.kad;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.kad.AnnounceBatcher;
import org.oscircular.protocol.kad.AnnounceScheduler;
import org.oscircular.protocol.kad.BlockKey;

/**
 * Announces in the DHT the blocks a node holds, clients and seeds alike, so others find it as a provider: drives
 * the sans-I/O {@link AnnounceBatcher} with real timers and {@link DhtNode#provide} sweeps.
 *
 * <p>Blocks newly stored in the cache ({@link #stored}) are announced together, {@code delayMillis} after a block
 * arrives in an empty queue, as one region sweep, never while the previous sweep still runs. A node booting an
 * image stores thousands of blocks a minute; they go out in a few sweeps, not one lookup per block. At
 * {@link #start} and then every {@code republishMillis}, every block still held is announced again, so records of
 * blocks cached in an earlier run are renewed and records of evicted blocks simply expire.
 */
public final class CacheAnnouncer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(CacheAnnouncer.class.getName());

  /** What was announced so far: sweeps, blocks (counted once per sweep) and the messages they cost. */
  public record Totals(long sweeps, long blocks, long lookups, long messages) {}

  private final DhtNode dht;
  private final Supplier<? extends Collection<BlockName>> held;
  private final ScheduledExecutorService timers;
  private final LongSupplier clock;
  private final long republishMillis;

  private final AnnounceBatcher<BlockName> batcher; // guarded by itself
  private Totals totals = new Totals(0, 0, 0, 0); // guarded by batcher
  private boolean closed; // guarded by batcher
  private ScheduledFuture<?> republish;

  /**
   * @param held the blocks the node holds now (e.g. the cache's names)
   * @param timers runs the timers; announcing itself runs on the DHT's own executor
   * @param clock milliseconds, e.g. {@code System::currentTimeMillis}
   */
  public CacheAnnouncer(DhtNode dht, Supplier<? extends Collection<BlockName>> held,
      ScheduledExecutorService timers, LongSupplier clock, long delayMillis, long republishMillis) {
    if (republishMillis <= 0) {
      throw new IllegalArgumentException("the republish interval must be positive, got " + republishMillis + " ms");
    }
    this.batcher = new AnnounceBatcher<>(delayMillis);
    this.dht = dht;
    this.held = held;
    this.timers = timers;
    this.clock = clock;
    this.republishMillis = republishMillis;
  }

  /** Announces everything held now, and again every republish interval. */
  public void start() {
    republish = timers.scheduleAtFixedRate(() -> {
      Collection<BlockName> names = held.get();
      synchronized (batcher) {
        perform(batcher.republish(names, clock.getAsLong()));
      }
    }, 0, republishMillis, TimeUnit.MILLISECONDS);
  }

  /** A block was stored: announce it with the next batch. Cheap and thread-safe (called on the cache's path). */
  public void stored(BlockName name) {
    synchronized (batcher) {
      perform(batcher.stored(name, clock.getAsLong()));
    }
  }

  public Totals totals() {
    synchronized (batcher) {
      return totals;
    }
  }

  /** Blocks waiting for the next sweep (0 once everything stored so far went out or is going out). */
  public int queued() {
    synchronized (batcher) {
      return batcher.queued();
    }
  }

  private void perform(List<AnnounceBatcher.Action<BlockName>> actions) { // holds the batcher's lock
    if (closed) {
      return;
    }
    for (AnnounceBatcher.Action<BlockName> a : actions) {
      switch (a) {
        case AnnounceBatcher.ArmTimer<BlockName> t -> timers.schedule(() -> {
          synchronized (batcher) {
            perform(batcher.onTimer(clock.getAsLong()));
          }
        }, Math.max(0, t.atMillis() - clock.getAsLong()), TimeUnit.MILLISECONDS);
        case AnnounceBatcher.Sweep<BlockName> sweep -> announce(sweep.keys());
      }
    }
  }

  private void announce(List<BlockName> batch) {
    List<BlockKey> keys = new ArrayList<>(batch.size());
    for (BlockName n : batch) {
      keys.add(new BlockKey(n.sha1()));
    }
    dht.provide(keys, AnnounceScheduler.Options.sweep()).whenComplete((report, error) -> {
      if (error != null) {
        LOG.log(Level.WARNING, "dht: announcing {0} cached blocks failed: {1}", batch.size(), error.toString());
      } else {
        LOG.log(Level.INFO, "dht: announced {0} cached blocks: {1} lookups, {2} messages, {3} ms",
            report.keys(), report.lookups(), report.rpcs(), report.elapsedMillis());
      }
      synchronized (batcher) {
        if (error == null) {
          totals = new Totals(totals.sweeps() + 1, totals.blocks() + report.keys(),
              totals.lookups() + report.lookups(), totals.messages() + report.rpcs());
        }
        // nothing is lost: a failed sweep's blocks go with the next one
        perform(batcher.sweepFinished(error == null ? List.of() : batch, clock.getAsLong()));
      }
    });
  }

  @Override
  public void close() {
    synchronized (batcher) {
      closed = true;
    }
    if (republish != null) {
      republish.cancel(false);
    }
  }
}
