package org.oscircular.node.cache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The decoded tier of the block cache: per image version (named by its table's SHA-256), a sparse file of
 * the image's plaintext holding the blocks that were decoded from verified cached bytes, so a warm read is
 * one positional read and a CRC-32C instead of a RocksDB read and a zstd decode. Each block's CRC-32C is
 * recorded in a sidecar index after its bytes are written and checked on every read; a block whose bytes
 * do not match is dropped and read the slow way. Bounded by {@code cache.decoded-disk-bytes}: when a write
 * would cross it, whole versions are evicted, least recently used first. Formats and the crash argument
 * are in docs/cache.md ("The decoded tier").
 *
 * <p>Thread-safe. Accounting, eviction and opening of files run under this object's lock; reads and writes
 * of blocks do not take it.
 */
public final class DecodedBlocks implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(DecodedBlocks.class.getName());
  static final String DIR = "decoded";

  private final Path dir;
  private final long maxBytes;
  private final InstantSource clock;
  private final AtomicLong ticks = new AtomicLong();
  /** Versions with files on disk or a reader, by table digest (hex); guarded by this. */
  private final Map<String, DecodedFile> files = new HashMap<>();
  /** Plaintext bytes of blocks present or being written, all versions; guarded by this. */
  private long bytes;
  private boolean closed;

  private DecodedBlocks(Path dir, long maxBytes, InstantSource clock) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.clock = clock;
  }

  /**
   * Opens the tier under {@code cacheDir}: finds the versions left by earlier processes, counts their
   * blocks (only entries whose check holds) and orders them for eviction by when they were last opened.
   * With {@code maxBytes} 0 the tier is off: every version's files are deleted and nothing is written.
   */
  public static DecodedBlocks open(Path cacheDir, long maxBytes, InstantSource clock) throws IOException {
    Path dir = cacheDir.resolve(DIR);
    Files.createDirectories(dir);
    var tier = new DecodedBlocks(dir, maxBytes, clock);
    List<Path> indexes = new ArrayList<>();
    try (var s = Files.list(dir)) {
      s.filter(p -> p.getFileName().toString().endsWith(DecodedFile.INDEX_SUFFIX)).forEach(indexes::add);
    }
    indexes.sort((a, b) -> lastModified(a).compareTo(lastModified(b)));
    synchronized (tier) {
      for (Path index : indexes) {
        String name = index.getFileName().toString();
        String hex = name.substring(0, name.length() - DecodedFile.INDEX_SUFFIX.length());
        byte[] digest;
        try {
          digest = HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
          continue; // not ours
        }
        if (digest.length != 32) {
          continue;
        }
        var f = DecodedFile.fromDisk(tier, digest);
        if (f == null || maxBytes == 0) {
          DecodedFile.delete(dir, hex);
          continue;
        }
        tier.files.put(hex, f);
        tier.bytes += f.attachedBytes();
      }
      if (tier.bytes > maxBytes) {
        tier.evictFor(null, 0);
      }
    }
    return tier;
  }

  /** What the tier holds on disk: plaintext bytes of kept blocks, and versions with files. */
  public record Usage(long bytes, int versions) {}

  /**
   * Reads what the tier under {@code cacheDir} holds without opening it for writing (works while a mount
   * runs; a block being written at that moment may or may not be counted).
   */
  public static Usage readUsage(Path cacheDir) throws IOException {
    Path dir = cacheDir.resolve(DIR);
    if (!Files.isDirectory(dir)) {
      return new Usage(0, 0);
    }
    long total = 0;
    int versions = 0;
    try (var s = Files.list(dir)) {
      for (Path index : s.filter(p -> p.getFileName().toString().endsWith(DecodedFile.INDEX_SUFFIX)).toList()) {
        long kept = DecodedFile.keptBytes(index);
        if (kept >= 0) {
          total += kept;
          versions++;
        }
      }
    }
    return new Usage(total, versions);
  }

  private static FileTime lastModified(Path p) {
    try {
      return Files.getLastModifiedTime(p);
    } catch (IOException e) {
      return FileTime.fromMillis(0);
    }
  }

  /**
   * The decoded file of the version whose table has SHA-256 {@code tableDigest}, for reading and filling;
   * {@code null} when the tier is off. Files left with other geometry under that name are replaced.
   */
  public synchronized DecodedFile file(byte[] tableDigest, int blockSize, long imageLength) {
    if (maxBytes == 0 || closed) {
      return null;
    }
    String hex = HexFormat.of().formatHex(tableDigest);
    DecodedFile f = files.get(hex);
    if (f != null && !f.sameGeometry(blockSize, imageLength)) {
      drop(f);
      DecodedFile.delete(dir, hex);
      files.remove(hex);
      f = null;
    }
    if (f == null) {
      try {
        f = new DecodedFile(this, tableDigest, blockSize, imageLength);
      } catch (IllegalArgumentException tooManyBlocks) {
        return null;
      }
      files.put(hex, f);
    }
    f.touch();
    f.markOpened(clock);
    return f;
  }

  /** Deletes the files of a version that left the archive. */
  public synchronized void remove(byte[] tableDigest) {
    String hex = HexFormat.of().formatHex(tableDigest);
    DecodedFile f = files.remove(hex);
    if (f != null) {
      drop(f);
      f.removed();
    }
    DecodedFile.delete(dir, hex);
  }

  /** Plaintext bytes held (blocks present or being written), all versions. */
  public synchronized long bytes() {
    return bytes;
  }

  public long maxBytes() {
    return maxBytes;
  }

  /** Versions with files in the tier. */
  public synchronized int versions() {
    return (int) files.values().stream().filter(DecodedFile::attached).count();
  }

  Path directory() {
    return dir;
  }

  long nextTick() {
    return ticks.incrementAndGet();
  }

  synchronized boolean isClosed() {
    return closed;
  }

  /**
   * Takes room for {@code n} bytes of {@code f}'s current files, evicting other versions least recently
   * used first. False when {@code f} alone would cross the bound (the block is then not kept).
   */
  synchronized boolean reserve(DecodedFile f, DecodedFile.Generation g, int n) {
    if (closed || g.dead) {
      return false;
    }
    if (bytes + n > maxBytes && !evictFor(f, n)) {
      return false;
    }
    bytes += n;
    g.bytes += n;
    return true;
  }

  /** Gives back {@code n} bytes of {@code g} (a block dropped or a write that failed). */
  synchronized void release(DecodedFile.Generation g, int n) {
    if (!g.dead) {
      g.bytes -= n;
      bytes -= n;
    }
  }

  /** Evicts whole versions other than {@code keep}, least recently used first, until {@code n} more fit. */
  private boolean evictFor(DecodedFile keep, long n) {
    while (bytes + n > maxBytes) {
      DecodedFile victim = null;
      for (DecodedFile f : files.values()) {
        if (f != keep && f.attachedBytes() > 0 && (victim == null || f.lastUse() < victim.lastUse())) {
          victim = f;
        }
      }
      if (victim == null) {
        return false;
      }
      LOG.log(System.Logger.Level.DEBUG, "decoded tier: evicting " + victim + " (" + victim.attachedBytes() + " bytes)");
      drop(victim);
      DecodedFile.delete(dir, victim.hex());
    }
    return true;
  }

  /** Closes {@code f}'s files and takes its bytes out of the count; its reader may attach new files later. */
  private void drop(DecodedFile f) {
    DecodedFile.Generation g = f.detach();
    if (g != null && !g.dead) {
      g.dead = true;
      bytes -= g.bytes;
      g.close();
    }
  }

  /** Opens (or creates) the files of {@code f}; null when the tier is closed or off. */
  synchronized DecodedFile.Generation attach(DecodedFile f) {
    if (closed || files.get(f.hex()) != f) {
      return null;
    }
    DecodedFile.Generation g = f.generation();
    if (g != null) {
      return g;
    }
    try {
      g = f.openFiles();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "decoded tier: cannot open the files of " + f + ": " + e.getMessage());
      return null;
    }
    bytes += g.bytes;
    if (bytes > maxBytes) {
      evictFor(f, 0);
    }
    return g;
  }

  /** A generation whose channel was closed under it (an interrupted reader): forget it, reopen from disk later. */
  synchronized void lost(DecodedFile f, DecodedFile.Generation g) {
    if (f.generation() == g) {
      drop(f);
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (DecodedFile f : files.values()) {
      drop(f);
    }
    files.clear();
  }
}
