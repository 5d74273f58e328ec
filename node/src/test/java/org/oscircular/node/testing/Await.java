package org.oscircular.node.testing;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Waits for a condition by polling it until it holds or a deadline passes. A timeout fails with an
 * {@link AssertionError} naming what was awaited, the time allowed and the last value observed:
 *
 * <pre>{@code
 * String list = Await.atMost(Duration.ofSeconds(30)).every(Duration.ofMillis(200))
 *     .until("the NBD export list to name testos:2", () -> Exec.ok(...), l -> l.contains("testos:2"));
 * }</pre>
 *
 * <p>A long value is shown by its last 2,000 characters. A probe may throw to stop waiting at once (a process it
 * watches has exited, say): the exception passes through. The condition is always observed at least once, and once
 * more after the last pause.
 */
public final class Await {
  private static final Duration DEFAULT_INTERVAL = Duration.ofMillis(50);
  private static final int MAX_SHOWN = 2_000;

  private final Duration timeout;
  private final Duration interval;

  private Await(Duration timeout, Duration interval) {
    if (timeout.isNegative() || interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("timeout must be >= 0 and interval > 0, got " + timeout + ", " + interval);
    }
    this.timeout = timeout;
    this.interval = interval;
  }

  /** Waits at most {@code timeout}, observing every 50 ms. */
  public static Await atMost(Duration timeout) {
    return new Await(timeout, DEFAULT_INTERVAL);
  }

  /** The same deadline, observing every {@code interval} (for probes that cost something, such as a process). */
  public Await every(Duration interval) {
    return new Await(timeout, interval);
  }

  /** Observes a value. */
  @FunctionalInterface
  public interface Probe<T, E extends Exception> {
    T observe() throws E, InterruptedException;
  }

  /** Observes whether a condition holds. */
  @FunctionalInterface
  public interface Condition<E extends Exception> {
    boolean holds() throws E, InterruptedException;
  }

  /**
   * Observes {@code probe} until its value satisfies {@code done} and returns that value.
   *
   * @param what what is awaited, for the failure message ("the seed to list 3 peers")
   * @throws AssertionError when the deadline passes first, naming {@code what} and the last value observed
   */
  public <T, E extends Exception> T until(String what, Probe<T, E> probe, Predicate<? super T> done)
      throws E, InterruptedException {
    return poll(what, probe, done, true);
  }

  /**
   * Observes {@code condition} until it holds.
   *
   * @throws AssertionError when the deadline passes first, naming {@code what}
   */
  public <E extends Exception> void until(String what, Condition<E> condition) throws E, InterruptedException {
    poll(what, condition::holds, Boolean::booleanValue, false);
  }

  private <T, E extends Exception> T poll(String what, Probe<T, E> probe, Predicate<? super T> done,
      boolean showValue) throws E, InterruptedException {
    Objects.requireNonNull(what);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value = probe.observe();
      if (done.test(value)) {
        return value;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("timed out after " + format(timeout) + " waiting for " + what
            + (showValue ? "; last observed: " + shorten(String.valueOf(value)) : ""));
      }
      Thread.sleep(Math.max(1, Math.min(interval.toMillis(), left / 1_000_000 + 1)));
    }
  }

  /** The end of a long value (a log, say), where what happened last is. */
  private static String shorten(String value) {
    return value.length() <= MAX_SHOWN ? value : "..." + value.substring(value.length() - MAX_SHOWN);
  }

  private static String format(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
