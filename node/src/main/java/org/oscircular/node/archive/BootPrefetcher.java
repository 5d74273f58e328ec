package org.oscircular.node.archive;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicBoolean;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.ImageTable;

/**
 * Loads the blocks of an image's boot profile (block indices in first-access order, from the signed
 * table) into the cache in the background, at most {@code bytesPerSecond} of stored bytes on average,
 * so a boot that follows reads mostly from the cache without the prefetch starving other traffic.
 * Failures are logged and skipped: a demand read will report them.
 */
public final class BootPrefetcher implements Runnable {
  private static final System.Logger LOG = System.getLogger(BootPrefetcher.class.getName());
  private final ImageTable table;
  private final BlockLoader loader;
  private final long bytesPerSecond;
  private final InstantSource clock;
  private final Sleeper sleeper;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private volatile int loaded;

  public BootPrefetcher(ImageTable table, BlockLoader loader, long bytesPerSecond, InstantSource clock, Sleeper sleeper) {
    if (bytesPerSecond <= 0) {
      throw new IllegalArgumentException("prefetch rate must be positive, got " + bytesPerSecond);
    }
    this.table = table;
    this.loader = loader;
    this.bytesPerSecond = bytesPerSecond;
    this.clock = clock;
    this.sleeper = sleeper;
  }

  @Override
  public void run() {
    Instant start = clock.instant();
    long bytes = 0;
    for (int index : table.bootProfile()) {
      if (stopped.get() || Thread.currentThread().isInterrupted()) {
        return;
      }
      if (!(table.image().blocks().get(index) instanceof BlockEntry.Stored s) || loader.isCached(s.name())) {
        continue;
      }
      try {
        loader.load(s);
        loaded++;
      } catch (IOException e) {
        LOG.log(System.Logger.Level.INFO, "prefetch of " + table.id() + " block " + index + " failed: " + e.getMessage());
        continue;
      }
      bytes += s.storedLength();
      Duration due = Duration.ofNanos((long) (bytes * 1e9 / bytesPerSecond));
      Duration spent = Duration.between(start, clock.instant());
      if (due.compareTo(spent) > 0) {
        try {
          sleeper.sleep(due.minus(spent));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  public void stop() {
    stopped.set(true);
  }

  /** Blocks this prefetcher loaded so far. */
  public int loaded() {
    return loaded;
  }
}
