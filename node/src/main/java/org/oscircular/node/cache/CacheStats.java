package org.oscircular.node.cache;

import java.util.List;

/**
 * A snapshot of the cache: stored bytes and blocks held, the cap, lifetime hits and misses, pinned
 * images and the stored bytes of their cached blocks.
 */
public record CacheStats(long bytes, long blocks, long maxBytes, long hits, long misses, long evictions,
    List<String> pinnedImages, long pinnedBytes) {
  public CacheStats {
    pinnedImages = List.copyOf(pinnedImages);
  }

  /** Hits over lookups, or 0 when nothing was looked up yet. */
  public double hitRate() {
    long total = hits + misses;
    return total == 0 ? 0.0 : (double) hits / total;
  }
}
