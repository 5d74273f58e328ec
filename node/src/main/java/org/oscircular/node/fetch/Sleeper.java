package org.oscircular.node.fetch;

import java.time.Duration;

/** Waits; injected so tests and the simulator can run backoff and rate limits on a virtual clock. */
@FunctionalInterface
public interface Sleeper {
  void sleep(Duration d) throws InterruptedException;

  Sleeper SYSTEM = d -> {
    if (d.isPositive()) {
      Thread.sleep(d);
    }
  };
}
