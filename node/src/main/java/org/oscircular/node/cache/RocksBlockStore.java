package org.oscircular.node.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.zip.CRC32C;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.BlockVerifier;
import org.oscircular.protocol.format.Digests;
import org.oscircular.protocol.format.FormatException;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.MutableColumnFamilyOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The node's block cache: stored block bytes by SHA1 name in RocksDB, with what eviction and pinning
 * need. See docs/cache.md.
 *
 * <p>Column families: {@code blocks} (SHA1 → stored bytes), {@code meta} (SHA1 → u32 stored length,
 * u64 recency tick), {@code pins} (image id, 0x00, SHA1 → u32 stored length) and {@code default}
 * (signed documents and counters). A block and its meta row are written and deleted in one atomic
 * write batch. No write goes through the write-ahead log (a cold read would write every block twice):
 * with {@code atomic_flush} all column families reach the disk together, up to one point in the sequence
 * of batches, so a process killed at any moment reopens to a consistent, possibly older, store: no
 * block without its meta row, byte totals that match, pins as they were at that point. What callers are
 * promised is made durable with {@link #flush} (a pinned image, an unpin, a document, close). A block enters only when its length and SHA-256 match its signed table entry (fetchers have
 * checked SHA1 too), and the first {@link #get} of a block after open checks length and SHA-256 again:
 * bytes damaged or tampered with while the cache was closed are dropped and reported as a miss, never
 * returned. Later reads compare a CRC-32C of the bytes with the one taken of the bytes that verified
 * (kept in memory, not on disk), instead of RocksDB's own per-read checksum (see docs/cache.md).
 *
 * <p>Thread-safe. The LRU order lives in memory (rebuilt from the recency ticks on open); ticks of
 * touched blocks are written back in batches, so after a crash recency may be slightly stale, which
 * only affects which block is evicted first.
 */
public final class RocksBlockStore implements AutoCloseable {
  private static final byte[] STATS_KEY = "stats".getBytes(StandardCharsets.US_ASCII);
  private static final String DOC_PREFIX = "doc:";
  private static final int TOUCH_FLUSH_EVERY = 512;
  private static final System.Logger LOG = System.getLogger(RocksBlockStore.class.getName());

  static {
    RocksDB.loadLibrary();
  }

  private final Path dir;
  private final CacheConfig config;
  private final RocksDB db;
  private final DBOptions dbOptions;
  private final List<ColumnFamilyOptions> cfOptions;
  private final ColumnFamilyHandle defaultCf;
  private final ColumnFamilyHandle blocks;
  private final ColumnFamilyHandle meta;
  private final ColumnFamilyHandle pins;
  /** The decoded tier beside the blocks (DIR/decoded); set once at open. */
  private volatile DecodedBlocks decoded;
  /** Every write skips the WAL; see the class comment and docs/cache.md, "Crash safety". */
  private final WriteOptions writeOptions = new WriteOptions().setDisableWAL(true);
  /**
   * Block reads skip RocksDB's blob checksum (a table-driven CRC in the shipped library, which cost more
   * CPU than everything else on a warm read): every block read is checked against SHA-256 or the
   * in-memory CRC-32C of verified bytes instead, which covers the same damage and more.
   */
  /** Native calls hold the read side; {@link #close} takes the write side, so it never frees RocksDB under a call. */
  private final ReentrantReadWriteLock guard = new ReentrantReadWriteLock();
  private volatile boolean closed;
  private final ReadOptions blockReads = new ReadOptions().setVerifyChecksums(false);

  /** Guarded by {@code this}: LRU order (eldest first), pins, byte totals. */
  private final LinkedHashMap<BlockName, Slot> lru = new LinkedHashMap<>(1024, 0.75f, true);
  private final Map<BlockName, Pin> pinned = new HashMap<>();
  private final Set<String> pinnedImages = new TreeSet<>();
  private final Set<BlockName> dirtyTicks = new HashSet<>();
  /**
   * Blocks this process has verified (put, or a verified get since open): the SHA-256 they matched and
   * the CRC-32C of those bytes. A later read of the same name for an entry with the same SHA-256 and
   * length returns the bytes only if their CRC-32C still matches (a hardware-assisted check, some 50 times
   * cheaper than SHA-256); otherwise the bytes are hashed in full. The first read of each block after
   * open always hashes.
   */
  private final Map<BlockName, Verified> verified = new ConcurrentHashMap<>();
  /**
   * The keys of {@code lru}, readable without the lock (readahead asks for every block it passes). A name
   * is added only after its block's batch is written, so a name missing here is a block that {@link #get}
   * need not look up: a miss costs no RocksDB lookup (without bloom filters, one reaches into every level's
   * files). A block whose insert is finishing this moment may be reported missing; the loader then finds it
   * in flight or fetches it again.
   */
  private final Set<BlockName> present = ConcurrentHashMap.newKeySet();
  /** Told the name of every block newly stored (e.g. to announce it in the DHT); called outside the lock. */
  private final List<Consumer<BlockName>> storedListeners = new CopyOnWriteArrayList<>();
  private long totalBytes;
  private long tick;
  /** Whether compactions collect blob garbage now; guarded by {@code this} (see {@link #checkBlobGarbage}). */
  private boolean blobGc;
  /** Inserts since the last {@link #checkBlobGarbage}; guarded by {@code this}. */
  private int insertsSinceGarbageCheck;
  private static final int GARBAGE_CHECK_EVERY = 64;

  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();

  /** What a verification established about a block's bytes, kept to check later reads cheaply. */
  private record Verified(byte[] sha256, int length, int crc) {
    static Verified of(BlockEntry.Stored entry, byte[] stored) {
      return new Verified(entry.sha256(), stored.length, crc32c(stored));
    }

    boolean matches(BlockEntry.Stored entry, byte[] stored) {
      return stored.length == length && entry.storedLength() == length
          && MessageDigest.isEqual(sha256, entry.sha256()) && crc32c(stored) == crc;
    }

    boolean matches(BlockEntry.Stored entry, ByteBuffer stored) {
      return stored.remaining() == length && entry.storedLength() == length
          && MessageDigest.isEqual(sha256, entry.sha256()) && crc32c(stored) == crc;
    }
  }

  static int crc32c(byte[] b) {
    var crc = new CRC32C();
    crc.update(b, 0, b.length);
    return (int) crc.getValue();
  }

  /** CRC-32C of the bytes between position and limit; the position does not move. */
  static int crc32c(ByteBuffer b) {
    var crc = new CRC32C();
    crc.update(b.duplicate());
    return (int) crc.getValue();
  }

  private static final class Slot {
    final int size;
    long tick;

    Slot(int size, long tick) {
      this.size = size;
      this.tick = tick;
    }
  }

  private static final class Pin {
    final int size;
    int images;

    Pin(int size) {
      this.size = size;
    }
  }

  /** What {@link #put} did with a block. */
  public enum PutResult {
    STORED,
    ALREADY_PRESENT,
    /** The bytes do not verify against the entry; nothing was written. */
    REJECTED_UNVERIFIED,
    /** Every cached block is pinned and the cap is reached; the block was not cached. */
    NO_ROOM
  }

  private RocksBlockStore(Path dir, CacheConfig config, RocksDB db, DBOptions dbOptions,
      List<ColumnFamilyOptions> cfOptions, List<ColumnFamilyHandle> handles) {
    this.dir = dir;
    this.config = config;
    this.db = db;
    this.dbOptions = dbOptions;
    this.cfOptions = cfOptions;
    this.defaultCf = handles.get(0);
    this.blocks = handles.get(1);
    this.meta = handles.get(2);
    this.pins = handles.get(3);
  }

  /** Opens (or creates) the cache in {@code dir}. Fails with a clear message if another process holds it. */
  public static RocksBlockStore open(Path dir, CacheConfig config) throws IOException {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new IOException("cache " + dir + " is not a directory");
    }
    try {
      Files.createDirectories(dir);
    } catch (FileSystemException e) {
      String why = e instanceof AccessDeniedException ? "permission denied"
          : e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
      throw new IOException("cannot create cache directory " + dir + ": " + why, e);
    }
    var dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
        .setAtomicFlush(true).setMaxBackgroundJobs(2).setKeepLogFileNum(3)
        .setAllowMmapReads(config.mmapReads());
    List<ColumnFamilyOptions> cfOptions = new ArrayList<>();
    List<ColumnFamilyDescriptor> descriptors = descriptors(cfOptions, config);
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try {
      RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
      var store = new RocksBlockStore(dir, config, db, dbOptions, cfOptions, handles);
      store.load();
      try {
        synchronized (store) {
          store.checkBlobGarbage();
        }
      } catch (IOException e) {
        store.close();
        throw e;
      }
      try {
        store.decoded = DecodedBlocks.open(dir, config.decodedDiskBytes(), InstantSource.system());
      } catch (IOException e) {
        store.close();
        throw new IOException("cannot open the decoded tier of cache " + dir + ": " + e.getMessage(), e);
      }
      return store;
    } catch (RocksDBException e) {
      handles.forEach(ColumnFamilyHandle::close);
      cfOptions.forEach(ColumnFamilyOptions::close);
      dbOptions.close();
      String msg = String.valueOf(e.getMessage());
      if (msg.contains("/LOCK") || msg.contains("lock hold")) {
        throw new IOException("cache " + dir + " is in use by another circular process (stop it or pass another --cache)", e);
      }
      if (msg.contains("Permission denied")) {
        String owner;
        try {
          owner = Files.getOwner(dir).getName();
        } catch (IOException | UnsupportedOperationException unknown) {
          owner = "another user";
        }
        throw new IOException("cannot open cache " + dir + ": permission denied (it belongs to " + owner
            + "; run as that user or pass another --cache)", e);
      }
      throw new IOException("cannot open cache " + dir + ": " + msg, e);
    }
  }

  /** Reads the statistics of a cache without taking its lock, so it works while a mount is running. */
  public static CacheStats readStats(Path dir, CacheConfig config) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException("no cache at " + dir);
    }
    List<ColumnFamilyOptions> cfOptions = new ArrayList<>();
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (var dbOptions = new DBOptions();
        RocksDB db = RocksDB.openReadOnly(dbOptions, dir.toString(), descriptors(cfOptions, config), handles)) {
      long bytes = 0;
      long count = 0;
      try (RocksIterator it = db.newIterator(handles.get(2))) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          try {
            bytes += CacheRows.Meta.decode(it.value()).size();
            count++;
          } catch (FormatException damaged) {
            // counted out; the next read-write open repairs it
          }
        }
      }
      Set<String> images = new TreeSet<>();
      Map<BlockName, Integer> pinnedSizes = new HashMap<>();
      try (RocksIterator it = db.newIterator(handles.get(3))) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          try {
            var k = CacheRows.PinKey.decode(it.key());
            pinnedSizes.put(k.name(), CacheRows.pinValue(it.value()));
            images.add(k.imageId());
          } catch (FormatException damaged) {
            // skipped; the next read-write open repairs it
          }
        }
      }
      long pinnedBytes = 0;
      try (RocksIterator it = db.newIterator(handles.get(2))) {
        for (var e : pinnedSizes.entrySet()) {
          it.seek(e.getKey().sha1());
          if (it.isValid() && Arrays.equals(it.key(), e.getKey().sha1())) {
            pinnedBytes += e.getValue();
          }
        }
      }
      long[] counters = decodeCounters(db.get(handles.get(0), STATS_KEY));
      return new CacheStats(bytes, count, config.maxBytes(), counters[0], counters[1], counters[2],
          List.copyOf(images), pinnedBytes);
    } catch (RocksDBException e) {
      throw new IOException("cannot read cache " + dir + ": " + e.getMessage(), e);
    } finally {
      handles.forEach(ColumnFamilyHandle::close);
      cfOptions.forEach(ColumnFamilyOptions::close);
    }
  }

  private static List<ColumnFamilyDescriptor> descriptors(List<ColumnFamilyOptions> opened, CacheConfig config) {
    var small = new ColumnFamilyOptions();
    // Stored blocks are already compressed (or incompressible); large values go to blob files so
    // compaction does not rewrite them.
    var blockOpts = new ColumnFamilyOptions().setCompressionType(CompressionType.NO_COMPRESSION)
        .setEnableBlobFiles(true).setMinBlobSize(4096).setBlobCompressionType(CompressionType.NO_COMPRESSION)
        // Off until blob files hold dead bytes (see checkBlobGarbage): with random keys every compaction
        // touches every blob reference, and collection would rewrite the oldest blobs each time.
        .setEnableBlobGarbageCollection(false)
        // Without a WAL this bounds what a crash loses; with atomic_flush, filling it flushes every family.
        .setWriteBufferSize(config.writeBufferBytes());
    var metaOpts = new ColumnFamilyOptions();
    var pinOpts = new ColumnFamilyOptions();
    opened.addAll(List.of(small, blockOpts, metaOpts, pinOpts));
    return List.of(
        new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, small),
        new ColumnFamilyDescriptor("blocks".getBytes(StandardCharsets.US_ASCII), blockOpts),
        new ColumnFamilyDescriptor("meta".getBytes(StandardCharsets.US_ASCII), metaOpts),
        new ColumnFamilyDescriptor("pins".getBytes(StandardCharsets.US_ASCII), pinOpts));
  }

  private synchronized void load() throws RocksDBException {
    record Row(BlockName name, int size, long tick) {}
    List<Row> rows = new ArrayList<>();
    List<byte[]> damaged = new ArrayList<>();
    try (RocksIterator it = db.newIterator(meta)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        try {
          var m = CacheRows.Meta.decode(it.value());
          rows.add(new Row(CacheRows.blockKey(it.key()), m.size(), m.tick()));
        } catch (FormatException e) {
          LOG.log(System.Logger.Level.WARNING, "cache " + dir + ": dropping a damaged meta row (" + e.getMessage() + ")");
          damaged.add(it.key());
        }
      }
    }
    List<byte[]> damagedPins = new ArrayList<>();
    try (RocksIterator it = db.newIterator(pins)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        try {
          var k = CacheRows.PinKey.decode(it.key());
          int size = CacheRows.pinValue(it.value());
          pinnedImages.add(k.imageId());
          pinned.computeIfAbsent(k.name(), n -> new Pin(size)).images++;
        } catch (FormatException e) {
          LOG.log(System.Logger.Level.WARNING, "cache " + dir + ": dropping a damaged pin row (" + e.getMessage() + ")");
          damagedPins.add(it.key());
        }
      }
    }
    if (!damaged.isEmpty() || !damagedPins.isEmpty()) {
      try (var batch = new WriteBatch()) {
        for (byte[] k : damaged) {
          batch.delete(meta, k);
          batch.delete(blocks, k);
        }
        for (byte[] k : damagedPins) {
          batch.delete(pins, k);
        }
        db.write(writeOptions, batch);
      }
    }
    rows.sort((a, b) -> Long.compare(a.tick, b.tick));
    for (Row r : rows) {
      lru.put(r.name, new Slot(r.size, r.tick));
      present.add(r.name);
      totalBytes += r.size;
      tick = Math.max(tick, r.tick);
    }
    long[] c = decodeCounters(db.get(defaultCf, STATS_KEY));
    hits.set(c[0]);
    misses.set(c[1]);
    evictions.set(c[2]);
  }

  /**
   * The verified stored bytes of {@code entry}, or empty on a miss. Bytes that no longer verify are
   * deleted and reported as a miss.
   */
  public Optional<byte[]> get(BlockEntry.Stored entry) throws IOException {
    return guarded(() -> get0(entry, true));
  }

  /**
   * Like {@link #get}, for serving a peer: the same checks, but not counted in the hit rate, which
   * describes this machine's own reads ({@code cache stats}). Uploads still count as use for eviction.
   */
  public Optional<byte[]> getForUpload(BlockEntry.Stored entry) throws IOException {
    return guarded(() -> get0(entry, false));
  }

  private Optional<byte[]> get0(BlockEntry.Stored entry, boolean counted) throws IOException {
    BlockName name = entry.name();
    if (!present.contains(name)) { // a known miss: no RocksDB lookup (see present)
      if (counted) {
        misses.incrementAndGet();
      }
      return Optional.empty();
    }
    byte[] key = name.sha1();
    byte[] stored;
    try {
      stored = db.get(blocks, blockReads, key);
    } catch (RocksDBException e) {
      throw new IOException("cache read of block " + name + " failed: " + e.getMessage(), e);
    }
    if (stored == null) {
      if (counted) {
        misses.incrementAndGet();
      }
      return Optional.empty();
    }
    if (!verifiedBefore(entry, stored)) {
      if (!verifies(entry, stored)) {
        LOG.log(System.Logger.Level.WARNING, "cached block " + name + " in " + dir + " does not verify ("
            + BlockVerifier.verify(entry, stored).describe() + "); dropping it");
        remove(name);
        if (counted) {
          misses.incrementAndGet();
        }
        return Optional.empty();
      }
      verified.put(name, Verified.of(entry, stored));
    }
    if (counted) {
      hits.incrementAndGet();
    }
    touch(name);
    return Optional.of(stored);
  }

  /**
   * Like {@link #get}, into {@code scratch} instead of a new array: on a hit returns true with the verified
   * stored bytes between position 0 and the limit of {@code scratch}; on a miss (or bytes that no longer
   * verify, which are deleted) returns false with nothing usable in it. {@code scratch} must be direct and
   * hold at least the entry's stored length. The read path uses it to decode straight from RocksDB's copy.
   */
  public boolean getInto(BlockEntry.Stored entry, ByteBuffer scratch) throws IOException {
    return guarded(() -> getInto0(entry, scratch));
  }

  private boolean getInto0(BlockEntry.Stored entry, ByteBuffer scratch) throws IOException {
    if (!scratch.isDirect() || scratch.capacity() < entry.storedLength()) {
      throw new IllegalArgumentException("scratch must be direct with room for " + entry.storedLength() + " bytes");
    }
    BlockName name = entry.name();
    int size;
    scratch.clear();
    if (!present.contains(name)) { // a known miss: no RocksDB lookup (see present)
      scratch.limit(0);
      misses.incrementAndGet();
      return false;
    }
    try {
      size = db.get(blocks, blockReads, directKey(name), scratch);
    } catch (RocksDBException e) {
      throw new IOException("cache read of block " + name + " failed: " + e.getMessage(), e);
    }
    if (size == RocksDB.NOT_FOUND) {
      scratch.clear().limit(0);
      misses.incrementAndGet();
      return false;
    }
    scratch.position(0).limit(Math.min(size, scratch.capacity()));
    Verified v = verified.get(name);
    if (v == null || size != entry.storedLength() || !v.matches(entry, scratch)) {
      if (size != entry.storedLength() || !verifies(entry, scratch)) {
        LOG.log(System.Logger.Level.WARNING, "cached block " + name + " in " + dir + " does not verify ("
            + size + " bytes, expected " + entry.storedLength() + ", or its SHA-256 differs); dropping it");
        remove(name);
        scratch.clear().limit(0);
        misses.incrementAndGet();
        return false;
      }
      verified.put(name, new Verified(entry.sha256(), size, crc32c(scratch)));
    }
    hits.incrementAndGet();
    touch(name);
    return true;
  }

  private static final ThreadLocal<ByteBuffer> KEY = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(20));

  private static ByteBuffer directKey(BlockName name) {
    ByteBuffer k = KEY.get().clear();
    k.put(name.sha1()).flip();
    return k;
  }

  private static boolean verifies(BlockEntry.Stored entry, ByteBuffer stored) {
    if (stored.remaining() != entry.storedLength()) {
      return false;
    }
    return MessageDigest.isEqual(Digests.sha256(stored), entry.sha256());
  }

  /**
   * Length and SHA-256 against the signed table entry: bytes with that SHA-256 are the published bytes,
   * whose SHA1 is the name, so recomputing SHA1 adds nothing. (Fetchers check SHA1 as well, since they
   * must reject bytes before anything else looks at them.)
   */
  private static boolean verifies(BlockEntry.Stored entry, byte[] stored) {
    return stored.length == entry.storedLength()
        && MessageDigest.isEqual(Digests.sha256(stored), entry.sha256());
  }

  private boolean verifiedBefore(BlockEntry.Stored entry, byte[] stored) {
    Verified v = verified.get(entry.name());
    return v != null && v.matches(entry, stored);
  }

  /** Whether a block is cached (without verifying or counting a hit). */
  public boolean contains(BlockName name) {
    return present.contains(name);
  }

  /** Verifies {@code stored} against {@code entry} and caches it, evicting LRU unpinned blocks if needed. */
  public PutResult put(BlockEntry.Stored entry, byte[] stored) throws IOException {
    return guarded(() -> put0(entry, stored));
  }

  private PutResult put0(BlockEntry.Stored entry, byte[] stored) throws IOException {
    if (!verifies(entry, stored)) {
      return PutResult.REJECTED_UNVERIFIED;
    }
    return stored(entry, insert(entry, stored));
  }

  /** Calls {@code listener} with the name of every block stored from now on (not for blocks already present). */
  public void onStored(Consumer<BlockName> listener) {
    storedListeners.add(listener);
  }

  /** A snapshot of the names of all cached blocks. */
  public List<BlockName> cachedNames() {
    return List.copyOf(present);
  }

  private PutResult stored(BlockEntry.Stored entry, PutResult result) {
    if (result == PutResult.STORED) {
      for (var l : storedListeners) {
        l.accept(entry.name());
      }
    }
    return result;
  }

  /**
   * Caches bytes the caller has just checked with {@link BlockVerifier#verify} against {@code entry}
   * (length, SHA1 and SHA-256), as every block source of the read path must before returning them, so
   * the cache does not hash the same bytes a second time. Anything else must use {@link #put}.
   */
  public PutResult putVerified(BlockEntry.Stored entry, byte[] stored) throws IOException {
    return guarded(() -> putVerified0(entry, stored));
  }

  private PutResult putVerified0(BlockEntry.Stored entry, byte[] stored) throws IOException {
    if (stored.length != entry.storedLength()) {
      return PutResult.REJECTED_UNVERIFIED;
    }
    return stored(entry, insert(entry, stored));
  }

  private PutResult insert(BlockEntry.Stored entry, byte[] stored) throws IOException {
    BlockName name = entry.name();
    int size = stored.length;
    synchronized (this) {
      if (lru.containsKey(name)) {
        return PutResult.ALREADY_PRESENT;
      }
      List<BlockName> victims = new ArrayList<>();
      long freed = 0;
      if (totalBytes + size > config.highBytes()) {
        long target = config.lowBytes() - size;
        for (var e : lru.entrySet()) {
          if (totalBytes - freed <= target) {
            break;
          }
          if (!pinned.containsKey(e.getKey())) {
            victims.add(e.getKey());
            freed += e.getValue().size;
          }
        }
        if (totalBytes - freed + size > config.highBytes()) {
          return PutResult.NO_ROOM;
        }
      }
      long t = ++tick;
      try (var batch = new WriteBatch()) {
        for (BlockName v : victims) {
          batch.delete(blocks, v.sha1());
          batch.delete(meta, v.sha1());
        }
        batch.put(blocks, name.sha1(), stored);
        batch.put(meta, name.sha1(), metaValue(size, t));
        batch.put(defaultCf, STATS_KEY, counters(evictions.get() + victims.size()));
        db.write(writeOptions, batch);
      } catch (RocksDBException e) {
        throw new IOException("cache write of block " + name + " failed: " + e.getMessage(), e);
      }
      for (BlockName v : victims) {
        lru.remove(v);
        present.remove(v);
        verified.remove(v);
        dirtyTicks.remove(v);
      }
      evictions.addAndGet(victims.size());
      totalBytes += size - freed;
      lru.put(name, new Slot(size, t));
      present.add(name);
      verified.put(name, Verified.of(entry, stored));
      if (!victims.isEmpty() || ++insertsSinceGarbageCheck >= GARBAGE_CHECK_EVERY) {
        checkBlobGarbage();
      }
      return PutResult.STORED;
    }
  }

  /**
   * Turns RocksDB's blob garbage collection on while the blob files hold more dead bytes (blocks evicted
   * or removed, whose space only compaction gives back) than {@code max-bytes − high-watermark × max-bytes},
   * and off again once they hold less than half that. Collection relocates the live blobs of the oldest blob
   * files whenever a compaction passes their references; block keys are SHA1 names, spread over the whole
   * key range, so every compaction passes every reference, and with collection always on a cache that never
   * evicted rewrote its oldest quarter of blobs on every compaction (about 0.4 CPU-s per 264 MiB cold read).
   * Dead bytes are estimated as blob file bytes on disk minus the cached bytes already flushed to them (the
   * cached total minus the blocks memtables still hold); the estimate errs high by memtable overhead, which
   * only turns collection on early. Guarded by {@code this}.
   */
  private void checkBlobGarbage() throws IOException {
    insertsSinceGarbageCheck = 0;
    long dead;
    try {
      dead = db.getLongProperty(blocks, "rocksdb.total-blob-file-size")
          + db.getLongProperty(blocks, "rocksdb.size-all-mem-tables") - totalBytes;
    } catch (RocksDBException e) {
      throw new IOException("cache " + dir + ": cannot read blob file sizes: " + e.getMessage(), e);
    }
    long slack = config.maxBytes() - config.highBytes();
    boolean want = blobGc ? dead > slack / 2 : dead > slack;
    if (want == blobGc) {
      return;
    }
    try {
      db.setOptions(blocks, MutableColumnFamilyOptions.builder().setEnableBlobGarbageCollection(want).build());
    } catch (RocksDBException e) {
      throw new IOException("cache " + dir + ": cannot switch blob garbage collection: " + e.getMessage(), e);
    }
    blobGc = want;
  }

  /** Whether compactions collect blob garbage now (tests). */
  synchronized boolean collectsBlobGarbage() {
    return blobGc;
  }

  /** Compacts the blocks column family now and waits for it (tests: what a background compaction does). */
  void compactBlocks() throws IOException {
    guarded(() -> {
      try {
        db.compactRange(blocks);
      } catch (RocksDBException e) {
        throw new IOException("cache " + dir + ": compaction failed: " + e.getMessage(), e);
      }
      return null;
    });
  }

  private synchronized void touch(BlockName name) throws IOException {
    Slot s = lru.get(name); // access-ordered: moves it to the young end
    if (s == null) {
      return;
    }
    s.tick = ++tick;
    dirtyTicks.add(name);
    if (dirtyTicks.size() >= TOUCH_FLUSH_EVERY) {
      flushTicks();
    }
  }

  private void flushTicks() throws IOException {
    try (var batch = new WriteBatch()) {
      for (BlockName n : dirtyTicks) {
        Slot s = lru.get(n);
        if (s != null) {
          batch.put(meta, n.sha1(), metaValue(s.size, s.tick));
        }
      }
      batch.put(defaultCf, STATS_KEY, counters(evictions.get()));
      db.write(writeOptions, batch);
      dirtyTicks.clear();
    } catch (RocksDBException e) {
      throw new IOException("cache write of recency failed: " + e.getMessage(), e);
    }
  }

  private synchronized void remove(BlockName name) throws IOException {
    Slot s = lru.remove(name);
    present.remove(name);
    verified.remove(name);
    try (var batch = new WriteBatch()) {
      batch.delete(blocks, name.sha1());
      batch.delete(meta, name.sha1());
      db.write(writeOptions, batch);
    } catch (RocksDBException e) {
      throw new IOException("cache delete of block " + name + " failed: " + e.getMessage(), e);
    }
    if (s != null) {
      totalBytes -= s.size;
    }
  }

  /**
   * Pins an image: its blocks (cached now or later) are never evicted. Refuses when the pinned bytes
   * would exceed the low watermark, since the cache could then not make room for them.
   */
  public void pin(String imageId, Collection<BlockEntry.Stored> imageBlocks) throws IOException {
    guarded(() -> {
      pin0(imageId, imageBlocks);
      return null;
    });
  }

  private void pin0(String imageId, Collection<BlockEntry.Stored> imageBlocks) throws IOException {
    synchronized (this) {
      Map<BlockName, Integer> fresh = new LinkedHashMap<>();
      for (var b : imageBlocks) {
        fresh.put(b.name(), b.storedLength());
      }
      long pinnedAfter = 0;
      for (var e : pinned.entrySet()) {
        pinnedAfter += e.getValue().size;
      }
      for (var e : fresh.entrySet()) {
        if (!pinned.containsKey(e.getKey())) {
          pinnedAfter += e.getValue();
        }
      }
      if (pinnedImages.contains(imageId)) {
        return;
      }
      if (pinnedAfter > config.lowBytes()) {
        throw new IOException("cannot pin " + imageId + ": pinned images would need " + mib(pinnedAfter)
            + " but cache.max-bytes is " + mib(config.maxBytes()) + " (pinned data may use at most "
            + mib(config.lowBytes()) + "; raise cache.max-bytes or unpin something)");
      }
      try (var batch = new WriteBatch()) {
        for (var e : fresh.entrySet()) {
          batch.put(pins, new CacheRows.PinKey(imageId, e.getKey()).encode(), CacheRows.pinValue(e.getValue()));
        }
        db.write(writeOptions, batch);
      } catch (RocksDBException e) {
        throw new IOException("cache write of pin " + imageId + " failed: " + e.getMessage(), e);
      }
      for (var e : fresh.entrySet()) {
        pinned.computeIfAbsent(e.getKey(), n -> new Pin(e.getValue())).images++;
      }
      pinnedImages.add(imageId);
    }
  }

  /** Removes an image's pin; its blocks become evictable unless another pinned image uses them. */
  public boolean unpin(String imageId) throws IOException {
    return guarded(() -> unpin0(imageId) && flushed(true));
  }

  private boolean flushed(boolean result) throws IOException {
    flush0();
    return result;
  }

  private synchronized boolean unpin0(String imageId) throws IOException {
    if (!pinnedImages.contains(imageId)) {
      return false;
    }
    byte[] prefix = CacheRows.PinKey.prefix(imageId);
    List<BlockName> names = new ArrayList<>();
    try (RocksIterator it = db.newIterator(pins); var batch = new WriteBatch()) {
      for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
        try {
          names.add(CacheRows.PinKey.decode(it.key()).name());
        } catch (FormatException damaged) {
          // dropped below all the same
        }
        batch.delete(pins, it.key());
      }
      db.write(writeOptions, batch);
    } catch (RocksDBException e) {
      throw new IOException("cache write of unpin " + imageId + " failed: " + e.getMessage(), e);
    }
    for (BlockName n : names) {
      Pin p = pinned.get(n);
      if (p != null && --p.images == 0) {
        pinned.remove(n);
      }
    }
    pinnedImages.remove(imageId);
    return true;
  }

  public synchronized boolean isPinned(BlockName name) {
    return pinned.containsKey(name);
  }

  public synchronized List<String> pinnedImages() {
    return List.copyOf(pinnedImages);
  }

  public synchronized CacheStats stats() {
    long pinnedBytes = 0;
    for (var e : pinned.entrySet()) {
      if (lru.containsKey(e.getKey())) {
        pinnedBytes += e.getValue().size;
      }
    }
    return new CacheStats(totalBytes, lru.size(), config.maxBytes(), hits.get(), misses.get(), evictions.get(),
        List.copyOf(pinnedImages), pinnedBytes);
  }

  /**
   * The outcome of {@link #verifyAll}: blocks held, how many were checked against a table entry, and
   * every inconsistency found (bytes that do not verify, a block without its meta row or the reverse,
   * byte totals that disagree).
   */
  public record VerifyReport(long blocks, long checkedAgainstTable, List<String> problems) {
    public VerifyReport {
      problems = List.copyOf(problems);
    }
  }

  /**
   * Checks every cached block: its bytes hash to its SHA1 name, and when {@code entries} knows the block,
   * its length and SHA-256 match the table too; every block has its meta row and the reverse. Read-only.
   */
  public VerifyReport verifyAll(Function<BlockName, Optional<BlockEntry.Stored>> entries)
      throws IOException {
    return guarded(() -> verifyAll0(entries));
  }

  private synchronized VerifyReport verifyAll0(Function<BlockName, Optional<BlockEntry.Stored>> entries)
      throws IOException {
    List<String> problems = new ArrayList<>();
    long count = 0;
    long checked = 0;
    long bytes = 0;
    Set<BlockName> seen = new HashSet<>();
    try (RocksIterator it = db.newIterator(blocks)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        BlockName name;
        try {
          name = CacheRows.blockKey(it.key());
        } catch (FormatException e) {
          problems.add("blocks row: " + e.getMessage());
          continue;
        }
        byte[] stored = it.value();
        count++;
        bytes += stored.length;
        seen.add(name);
        Optional<BlockEntry.Stored> e = entries.apply(name);
        if (e.isPresent()) {
          checked++;
          var r = BlockVerifier.verify(e.get(), stored);
          if (!r.ok()) {
            problems.add("block " + name + ": " + r.describe());
          }
        } else if (!BlockVerifier.matchesName(name, stored)) {
          problems.add("block " + name + ": SHA1 does not match its name");
        }
        byte[] m = db.get(meta, it.key());
        if (m == null) {
          problems.add("block " + name + " has no meta row");
        } else {
          try {
            int size = CacheRows.Meta.decode(m).size();
            if (size != stored.length) {
              problems.add("block " + name + " meta row says " + size + " bytes, holds " + stored.length);
            }
          } catch (FormatException bad) {
            problems.add("block " + name + ": " + bad.getMessage());
          }
        }
      }
    } catch (RocksDBException e) {
      throw new IOException("cache verify failed: " + e.getMessage(), e);
    }
    try (RocksIterator it = db.newIterator(meta)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        try {
          BlockName name = CacheRows.blockKey(it.key());
          if (!seen.contains(name)) {
            problems.add("meta row of " + name + " has no block");
          }
        } catch (FormatException e) {
          problems.add("meta row: " + e.getMessage());
        }
      }
    }
    if (bytes != totalBytes) {
      problems.add("blocks hold " + bytes + " bytes, accounted " + totalBytes);
    }
    return new VerifyReport(count, checked, problems);
  }

  /** A cached document (signed catalog, table, client state) by key, as stored by {@link #putDocument}. */
  public Optional<byte[]> document(String key) throws IOException {
    return guarded(() -> document0(key));
  }

  private Optional<byte[]> document0(String key) throws IOException {
    try {
      return Optional.ofNullable(db.get(defaultCf, (DOC_PREFIX + key).getBytes(StandardCharsets.UTF_8)));
    } catch (RocksDBException e) {
      throw new IOException("cache read of " + key + " failed: " + e.getMessage(), e);
    }
  }

  public void putDocument(String key, byte[] value) throws IOException {
    guarded(() -> {
      putDocument0(key, value);
      return null;
    });
  }

  /**
   * Writes a document and makes it durable before returning (a catalog's sequence guards against
   * rollback, so it must not be lost to a crash); an unchanged document is not written again.
   */
  private void putDocument0(String key, byte[] value) throws IOException {
    byte[] k = (DOC_PREFIX + key).getBytes(StandardCharsets.UTF_8);
    try {
      if (Arrays.equals(db.get(defaultCf, k), value)) {
        return;
      }
      db.put(defaultCf, writeOptions, k, value);
    } catch (RocksDBException e) {
      throw new IOException("cache write of " + key + " failed: " + e.getMessage(), e);
    }
    flush0();
  }

  public Path directory() {
    return dir;
  }

  public CacheConfig config() {
    return config;
  }

  /** The decoded tier of this cache ({@code cache.decoded-disk-bytes}; hands out no files when that is 0). */
  public DecodedBlocks decoded() {
    return decoded;
  }

  /**
   * Makes every write that returned before this call survive a crash: writes the recency ticks and then
   * all column families' memtables to files, atomically, and waits for that. The cache writes without a
   * WAL, so this is the durability point for what a caller reports done (a pinned image).
   */
  public void flush() throws IOException {
    guarded(() -> {
      synchronized (this) {
        flushTicks();
      }
      flush0();
      return null;
    });
  }

  /** Not under the store's lock: inserts go on while RocksDB writes the files. */
  private void flush0() throws IOException {
    try (var options = new FlushOptions().setWaitForFlush(true)) {
      db.flush(options, List.of(defaultCf, blocks, meta, pins));
    } catch (RocksDBException e) {
      throw new IOException("cache flush failed: " + e.getMessage(), e);
    }
  }

  /**
   * Closes the store. Waits for reads and writes in progress (a background load may still be running
   * when a mount shuts down: closing RocksDB under it would crash the process); later calls fail with
   * {@link CacheClosedException}. Idempotent.
   */
  @Override
  public void close() throws IOException {
    var write = guard.writeLock();
    write.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      if (decoded != null) {
        decoded.close();
      }
      synchronized (this) {
        try {
          flushTicks();
          flush0();
        } finally {
          writeOptions.close();
          blockReads.close();
          defaultCf.close();
          blocks.close();
          meta.close();
          pins.close();
          db.close();
          cfOptions.forEach(ColumnFamilyOptions::close);
          dbOptions.close();
        }
      }
    } finally {
      write.unlock();
    }
  }

  /** An operation on a closed store: the caller's work is abandoned, nothing is read from freed memory. */
  public static final class CacheClosedException extends IOException {
    CacheClosedException(Path dir) {
      super("block cache " + dir + " is closed");
    }
  }

  private interface IoCall<T> {
    T call() throws IOException;
  }

  /** Runs {@code op} with the store held open: {@link #close} waits until it returns. */
  private <T> T guarded(IoCall<T> op) throws IOException {
    var read = guard.readLock();
    read.lock();
    try {
      if (closed) {
        throw new CacheClosedException(dir);
      }
      return op.call();
    } finally {
      read.unlock();
    }
  }


  private byte[] counters(long evicted) {
    return ByteBuffer.allocate(24).putLong(hits.get()).putLong(misses.get()).putLong(evicted).array();
  }

  private static long[] decodeCounters(byte[] v) {
    if (v == null || v.length != 24) {
      return new long[3];
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    return new long[] {b.getLong(), b.getLong(), b.getLong()};
  }

  private static byte[] metaValue(int size, long tick) {
    return new CacheRows.Meta(size, tick).encode();
  }

  private static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  private static String mib(long bytes) {
    return String.format("%.1f MiB", bytes / 1048576.0);
  }
}
