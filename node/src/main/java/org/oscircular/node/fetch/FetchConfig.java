package org.oscircular.node.fetch;

import java.time.Duration;
import org.oscircular.node.config.NodeConfig;

/**
 * How blocks are fetched from origins; the defaults are those of reference.conf (docs/configuration.md).
 *
 * @param connections     {@code fetch.origin-connections}: parallel keep-alive connections per origin
 * @param timeout         {@code fetch.timeout}: a request that has not completed by then is abandoned and the
 *                        next mirror tried
 * @param rounds          {@code fetch.retries}: passes over all origins before giving up
 * @param backoff         {@code fetch.backoff}: pause after the first failed pass, doubled after each
 * @param readahead       {@code fetch.readahead-blocks}: blocks fetched ahead of a sequential reader
 * @param prefetchBytesPerSecond {@code prefetch.bandwidth}: cap on background boot-profile prefetch
 *                        (0 turns prefetch off)
 */
public record FetchConfig(int connections, Duration timeout, int rounds, Duration backoff, int readahead,
    long prefetchBytesPerSecond) {

  public FetchConfig {
    if (connections < 1 || connections > 256) {
      throw new IllegalArgumentException("fetch.origin-connections must be 1-256, got " + connections);
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("fetch.timeout must be positive, got " + timeout);
    }
    if (rounds < 1) {
      throw new IllegalArgumentException("fetch.retries must be at least 1, got " + rounds);
    }
    if (backoff.isNegative()) {
      throw new IllegalArgumentException("fetch.backoff must not be negative, got " + backoff);
    }
    if (readahead < 0 || readahead > 1024) {
      throw new IllegalArgumentException("fetch.readahead-blocks must be 0-1024 blocks, got " + readahead);
    }
    if (prefetchBytesPerSecond < 0) {
      throw new IllegalArgumentException("prefetch.bandwidth must not be negative, got " + prefetchBytesPerSecond);
    }
  }

  /** The fetch keys of {@code config}. */
  public static FetchConfig from(NodeConfig config) throws NodeConfig.ConfigException {
    return new FetchConfig(config.integer("fetch.origin-connections", 1, 256), config.duration("fetch.timeout"),
        config.integer("fetch.retries", 1, 100), config.duration("fetch.backoff"),
        config.integer("fetch.readahead-blocks", 0, 1024), config.size("prefetch.bandwidth"));
  }

  /** The defaults of reference.conf. */
  public static FetchConfig defaults() {
    try {
      return from(NodeConfig.defaults());
    } catch (NodeConfig.ConfigException e) {
      throw new IllegalStateException(e);
    }
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
