package org.oscircular.node.exchange;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.function.LongSupplier;
import org.oscircular.node.fetch.Sleeper;

/**
 * Caps what a node gives to peers: at most {@code maxUploads} blocks being served at once, and on
 * average at most {@code bytesPerSecond} (0: unlimited), paced with a token bucket of one second's
 * worth. Callers that cannot start an upload answer Busy instead of queueing.
 */
final class UploadLimiter {
  private final Semaphore slots;
  private final long bytesPerSecond;
  private final LongSupplier nanoTime;
  private final Sleeper sleeper;
  private long tokens;
  private long lastRefill;

  UploadLimiter(int maxUploads, long bytesPerSecond, LongSupplier nanoTime, Sleeper sleeper) {
    this.slots = new Semaphore(maxUploads);
    this.bytesPerSecond = bytesPerSecond;
    this.nanoTime = nanoTime;
    this.sleeper = sleeper;
    this.tokens = bytesPerSecond;
    this.lastRefill = nanoTime.getAsLong();
  }

  boolean tryStart() {
    return slots.tryAcquire();
  }

  void finish() {
    slots.release();
  }

  /** Waits until {@code bytes} may be sent under the bandwidth cap. */
  void pace(int bytes) throws InterruptedException {
    if (bytesPerSecond <= 0) {
      return;
    }
    long waitNanos;
    synchronized (this) {
      long now = nanoTime.getAsLong();
      tokens = Math.min(bytesPerSecond, tokens + (now - lastRefill) * bytesPerSecond / 1_000_000_000L);
      lastRefill = now;
      tokens -= bytes;
      waitNanos = tokens >= 0 ? 0 : -tokens * 1_000_000_000L / bytesPerSecond;
    }
    sleeper.sleep(Duration.ofNanos(waitNanos));
  }
}
