package org.oscircular.node.fetch;

import java.time.Duration;

/**
 * How blocks are fetched from origins. Every field has a documented default (docs/cache.md) and the CLI
 * uses the same names.
 *
 * @param connections     {@code fetch.connections}: parallel keep-alive connections per origin (8)
 * @param timeout         {@code fetch.timeout}: a request that has not completed by then is abandoned and the
 *                        next mirror tried (10 s)
 * @param rounds          {@code fetch.rounds}: passes over all origins before giving up (3)
 * @param backoff         {@code fetch.backoff}: pause after the first failed pass, doubled after each (200 ms)
 * @param readahead       {@code fetch.readahead}: blocks fetched ahead of a sequential reader (8)
 * @param prefetchBytesPerSecond {@code fetch.prefetch-rate}: cap on background boot-profile prefetch
 *                        (16 MiB/s; 0 turns prefetch off)
 */
public record FetchConfig(int connections, Duration timeout, int rounds, Duration backoff, int readahead,
    long prefetchBytesPerSecond) {

  public FetchConfig {
    if (connections < 1 || connections > 256) {
      throw new IllegalArgumentException("fetch.connections must be 1-256, got " + connections);
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("fetch.timeout must be positive, got " + timeout);
    }
    if (rounds < 1) {
      throw new IllegalArgumentException("fetch.rounds must be at least 1, got " + rounds);
    }
    if (backoff.isNegative()) {
      throw new IllegalArgumentException("fetch.backoff must not be negative, got " + backoff);
    }
    if (readahead < 0 || readahead > 1024) {
      throw new IllegalArgumentException("fetch.readahead must be 0-1024 blocks, got " + readahead);
    }
    if (prefetchBytesPerSecond < 0) {
      throw new IllegalArgumentException("fetch.prefetch-rate must not be negative, got " + prefetchBytesPerSecond);
    }
  }

  public static FetchConfig defaults() {
    return new FetchConfig(8, Duration.ofSeconds(10), 3, Duration.ofMillis(200), 8, 16L << 20);
  }

  public FetchConfig withTimeout(Duration t) {
    return new FetchConfig(connections, t, rounds, backoff, readahead, prefetchBytesPerSecond);
  }

  public FetchConfig withRounds(int r, Duration b) {
    return new FetchConfig(connections, timeout, r, b, readahead, prefetchBytesPerSecond);
  }

  public FetchConfig withReadahead(int blocks) {
    return new FetchConfig(connections, timeout, rounds, backoff, blocks, prefetchBytesPerSecond);
  }

  public FetchConfig withPrefetchRate(long bytesPerSecond) {
    return new FetchConfig(connections, timeout, rounds, backoff, readahead, bytesPerSecond);
  }

  public FetchConfig withConnections(int n) {
    return new FetchConfig(n, timeout, rounds, backoff, readahead, prefetchBytesPerSecond);
  }
}
