package org.oscircular.node.cache;

/**
 * Limits of the block cache. {@code maxBytes} ({@code cache.max-bytes}) is a hard cap on the stored
 * bytes of cached blocks; when an insert would cross it, least-recently-used unpinned blocks are evicted
 * until the cache holds at most {@code lowWatermark} × {@code maxBytes}, so eviction runs in batches
 * rather than on every insert. Only bytes of blocks this cache holds count, not the disk's free space.
 */
public record CacheConfig(long maxBytes, double lowWatermark) {
  /** {@code cache.max-bytes} default: 4 GiB. */
  public static final long DEFAULT_MAX_BYTES = 4L << 30;
  /** {@code cache.low-watermark} default: evict down to 90 % of the cap. */
  public static final double DEFAULT_LOW_WATERMARK = 0.9;
  /** The smallest cap that still holds a few of the largest (4 MiB) blocks. */
  public static final long MIN_MAX_BYTES = 1L << 20;

  public CacheConfig {
    if (maxBytes < MIN_MAX_BYTES) {
      throw new IllegalArgumentException("cache.max-bytes must be at least 1 MiB, got " + maxBytes + " bytes");
    }
    if (!(lowWatermark > 0.0 && lowWatermark < 1.0)) {
      throw new IllegalArgumentException("cache.low-watermark must be between 0 and 1 (exclusive), got " + lowWatermark);
    }
  }

  public static CacheConfig defaults() {
    return new CacheConfig(DEFAULT_MAX_BYTES, DEFAULT_LOW_WATERMARK);
  }

  public static CacheConfig withMaxBytes(long maxBytes) {
    return new CacheConfig(maxBytes, DEFAULT_LOW_WATERMARK);
  }

  long lowBytes() {
    return (long) (maxBytes * lowWatermark);
  }
}
