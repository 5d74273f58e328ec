package org.oscircular.node.archive;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Asks an archive's origins for a newer signed catalog every {@code interval} and calls {@code onNewCatalog}
 * when one verified (a larger sequence, signed by a trusted key). The front ends use it to show versions
 * published after they started: the FUSE tree and the NBD export list. A failed poll (origins down, a
 * catalog that does not verify) keeps the catalog in hand and logs one line; the next poll tries again.
 */
public final class CatalogPoller implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(CatalogPoller.class.getName());
  private final ScheduledFuture<?> task;

  private CatalogPoller(ScheduledFuture<?> task) {
    this.task = task;
  }

  /** Starts polling on {@code timer}; a zero interval polls never (the returned poller does nothing). */
  public static CatalogPoller start(Archive archive, Duration interval, ScheduledExecutorService timer,
      Runnable onNewCatalog) {
    if (interval.isZero()) {
      return new CatalogPoller(null);
    }
    long ms = Math.max(1, interval.toMillis());
    return new CatalogPoller(timer.scheduleWithFixedDelay(() -> poll(archive, onNewCatalog), ms, ms,
        TimeUnit.MILLISECONDS));
  }

  /** One poll: runs {@code onNewCatalog} if a newer catalog was taken; a failure is logged, never thrown. */
  private static void poll(Archive archive, Runnable onNewCatalog) {
    try {
      if (archive.refresh()) {
        onNewCatalog.run();
      }
    } catch (Exception e) {
      LOG.log(System.Logger.Level.WARNING, "catalog refresh: " + e.getMessage());
    }
  }

  @Override
  public void close() {
    if (task != null) {
      task.cancel(false);
    }
  }
}
