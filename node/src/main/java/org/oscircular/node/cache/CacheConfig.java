package org.oscircular.node.cache;

import org.oscircular.node.config.NodeConfig;

/**
 * Limits of the block cache, from the {@code cache.*} keys of the node configuration. {@code maxBytes}
 * ({@code cache.max-bytes}) bounds the stored bytes of cached blocks. When an insert would take the cache
 * above {@code highWatermark} × {@code maxBytes}, least-recently-used unpinned blocks are evicted until
 * it holds at most {@code lowWatermark} × {@code maxBytes} (block included), so eviction runs in batches
 * and the cap is never crossed. Only bytes of blocks this cache holds count, not the disk's free space.
 * {@code mmapReads} ({@code cache.mmap-reads}) reads the cache's files through memory maps.
 * {@code decodedBytes} ({@code cache.decoded-bytes}) bounds the decoded plaintext each open image version
 * keeps in memory. {@code decodedDiskBytes} ({@code cache.decoded-disk-bytes}) bounds the decoded tier on
 * disk ({@link DecodedBlocks}); 0 turns it off. {@code writeBufferBytes} ({@code cache.write-buffer-bytes})
 * is how many bytes of newly cached blocks RocksDB holds in memory before it writes them to a file: the
 * cache writes without a write-ahead log, so this (about twice it, while a flush runs) bounds what a crash
 * loses of recently cached, unpinned blocks (see docs/cache.md, "Crash safety").
 */
public record CacheConfig(long maxBytes, double highWatermark, double lowWatermark, boolean mmapReads,
    long decodedBytes, long decodedDiskBytes, long writeBufferBytes) {
  /** The smallest {@code writeBufferBytes} accepted. */
  public static final long MIN_WRITE_BUFFER_BYTES = 1L << 20;

  /** The smallest cap accepted here (the node configuration demands at least 64 MiB; tests go lower). */
  public static final long MIN_MAX_BYTES = 1L << 20;

  public CacheConfig {
    if (maxBytes < MIN_MAX_BYTES) {
      throw new IllegalArgumentException("cache.max-bytes must be at least 1 MiB, got " + maxBytes + " bytes");
    }
    if (decodedBytes < 0) {
      throw new IllegalArgumentException("cache.decoded-bytes must not be negative, got " + decodedBytes);
    }
    if (decodedDiskBytes < 0) {
      throw new IllegalArgumentException("cache.decoded-disk-bytes must not be negative, got " + decodedDiskBytes);
    }
    if (writeBufferBytes < MIN_WRITE_BUFFER_BYTES) {
      throw new IllegalArgumentException("cache.write-buffer-bytes must be at least 1 MiB, got " + writeBufferBytes + " bytes");
    }
    if (!(lowWatermark > 0.0 && lowWatermark < highWatermark && highWatermark <= 1.0)) {
      throw new IllegalArgumentException("cache watermarks must satisfy 0 < low < high <= 1, got low "
          + lowWatermark + ", high " + highWatermark);
    }
  }

  /**
   * The cache keys of {@code config}: cache.max-bytes, cache.high-watermark, cache.low-watermark,
   * cache.mmap-reads, cache.decoded-bytes, cache.decoded-disk-bytes, cache.write-buffer-bytes.
   */
  public static CacheConfig from(NodeConfig config) throws NodeConfig.ConfigException {
    return new CacheConfig(config.size("cache.max-bytes"), config.ratio("cache.high-watermark"),
        config.ratio("cache.low-watermark"), config.bool("cache.mmap-reads"), config.size("cache.decoded-bytes"),
        config.size("cache.decoded-disk-bytes"), config.size("cache.write-buffer-bytes"));
  }

  /** The defaults of reference.conf. */
  public static CacheConfig defaults() {
    try {
      return from(NodeConfig.defaults());
    } catch (NodeConfig.ConfigException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The default watermarks with another cap. */
  public static CacheConfig withMaxBytes(long maxBytes) {
    var d = defaults();
    return new CacheConfig(maxBytes, d.highWatermark, d.lowWatermark, d.mmapReads, d.decodedBytes, d.decodedDiskBytes,
        d.writeBufferBytes);
  }

  /** The same limits with another bound of decoded memory per image version. */
  public CacheConfig withDecodedBytes(long bytes) {
    return new CacheConfig(maxBytes, highWatermark, lowWatermark, mmapReads, bytes, decodedDiskBytes, writeBufferBytes);
  }

  /** The same limits with another bound of the decoded tier on disk (0: off). */
  public CacheConfig withDecodedDiskBytes(long bytes) {
    return new CacheConfig(maxBytes, highWatermark, lowWatermark, mmapReads, decodedBytes, bytes, writeBufferBytes);
  }

  /** The same limits with another write buffer (tests use a small one, so a crash lands between flushes). */
  public CacheConfig withWriteBufferBytes(long bytes) {
    return new CacheConfig(maxBytes, highWatermark, lowWatermark, mmapReads, decodedBytes, decodedDiskBytes, bytes);
  }

  long highBytes() {
    return (long) (maxBytes * highWatermark);
  }

  long lowBytes() {
    return (long) (maxBytes * lowWatermark);
  }
}
