package org.oscircular.node.fuse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.InstantSource;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.cryptomator.jfuse.api.DirFiller;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.FuseConfig;
import org.cryptomator.jfuse.api.FuseConnInfo;
import org.cryptomator.jfuse.api.FuseOperations;
import org.cryptomator.jfuse.api.Stat;
import org.cryptomator.jfuse.api.Statvfs;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.BootPrefetcher;
import org.oscircular.node.archive.ImageReader;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.protocol.format.Catalog;

/**
 * The read-only file tree of an archive: {@code /<image>/<version>.img}, one regular file per image
 * version listed in the catalog, with its exact length. Reads go through {@link ImageReader}; a block
 * that cannot be delivered fails the read with EIO and one log line naming image, block, offset and
 * sources. Opening a version for the first time starts its boot-profile prefetch in the background.
 * Versions published after the mount appear when the archive takes a newer catalog ({@link #reload});
 * versions only come, never go (retired ones stay readable).
 *
 * <p>The mount keeps file pages across opens ({@code kernel_cache}: libfuse opens every file with
 * {@code FOPEN_KEEP_CACHE}), so a second read of the same bytes never reaches this process. That is right
 * because a path's bytes are those of one signed table: retiring or re-signing a catalog leaves a version's
 * table as it is. The one way a path can change bytes is a version replaced on the origin
 * ({@code publish --force}: same name, another table). {@link #reload} then waits for the reads that
 * resolved the path to the old table and invalidates the kernel's pages and attributes of that path, so no
 * page of the old bytes outlives the switch.
 */
final class ArchiveFileSystem implements FuseOperations {
  private static final System.Logger LOG = System.getLogger(ArchiveFileSystem.class.getName());
  static final String SUFFIX = ".img";

  private final Archive archive;
  private final Errno errno;
  private final Executor background;
  private final InstantSource clock;
  private final Sleeper sleeper;
  /** The current tree; replaced by {@link #reload}. */
  private volatile Tree tree;
  private final KernelCacheInvalidator invalidator;
  /** READ requests this filesystem answered (tests: pages kept by the kernel never get here). */
  private final java.util.concurrent.atomic.LongAdder readRequests = new java.util.concurrent.atomic.LongAdder();
  private final Map<String, BootPrefetcher> prefetchers = new ConcurrentHashMap<>();
  private final Instant mountTime;

  /**
   * image name → version → catalog entry (immutable), when it last changed (the directories' modification
   * time), and the READ requests in progress that resolved their path in it.
   */
  private static final class Tree {
    final Map<String, Map<String, Catalog.Entry>> versions;
    final Instant time;
    final java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();

    Tree(Map<String, Map<String, Catalog.Entry>> versions, Instant time) {
      this.versions = versions;
      this.time = time;
    }

    /** Blocks until no READ that resolved its path in this tree is in progress. */
    synchronized void awaitNoReads() throws InterruptedException {
      while (reads.get() > 0) {
        wait(1000);
      }
    }

    void readDone() {
      if (reads.decrementAndGet() == 0) {
        synchronized (this) {
          notifyAll();
        }
      }
    }
  }

  ArchiveFileSystem(Archive archive, Errno errno, Executor background, InstantSource clock, Sleeper sleeper,
      KernelCacheInvalidator invalidator) {
    this.archive = archive;
    this.errno = errno;
    this.background = background;
    this.clock = clock;
    this.sleeper = sleeper;
    this.invalidator = invalidator;
    this.mountTime = clock.instant();
    this.tree = new Tree(snapshot(archive.versions()), mountTime);
  }

  private static Map<String, Map<String, Catalog.Entry>> snapshot(List<Catalog.Entry> versions) {
    Map<String, Map<String, Catalog.Entry>> t = new TreeMap<>();
    for (Catalog.Entry e : versions) {
      t.computeIfAbsent(e.name(), n -> new TreeMap<>()).put(e.version(), e);
    }
    t.replaceAll((name, v) -> java.util.Collections.unmodifiableMap(v));
    return java.util.Collections.unmodifiableMap(t);
  }

  /**
   * Takes the archive's current catalog: new versions appear in the tree; a path whose version now has
   * another table is invalidated in the kernel once the reads of its old bytes are done. Returns whether
   * anything changed.
   */
  synchronized boolean reload() {
    Tree old = tree;
    var next = snapshot(archive.versions());
    if (next.equals(old.versions)) {
      return false;
    }
    List<String> replaced = new java.util.ArrayList<>();
    next.forEach((name, versions) -> versions.forEach((version, e) -> {
      Catalog.Entry before = old.versions.getOrDefault(name, Map.of()).get(version);
      if (before != null && !java.util.Arrays.equals(before.tableDigest(), e.tableDigest())) {
        replaced.add("/" + name + "/" + version + SUFFIX);
      }
    }));
    tree = new Tree(next, clock.instant());
    if (!replaced.isEmpty()) {
      try {
        old.awaitNoReads();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      for (String path : replaced) {
        int rc = invalidator.invalidate(path);
        LOG.log(System.Logger.Level.WARNING, path + " was replaced on the origin (another table for the same "
            + "version); the kernel's cached pages of it are dropped" + (rc == 0 ? "" : " (none were cached: " + rc + ")"));
      }
    }
    return true;
  }

  /** READ requests answered so far. */
  long readRequests() {
    return readRequests.sum();
  }

  @Override
  public Errno errno() {
    return errno;
  }

  @Override
  public Set<Operation> supportedOperations() {
    return EnumSet.of(Operation.INIT, Operation.DESTROY, Operation.GET_ATTR, Operation.OPEN, Operation.READ,
        Operation.RELEASE, Operation.OPEN_DIR, Operation.READ_DIR, Operation.RELEASE_DIR, Operation.STATFS,
        Operation.ACCESS);
  }

  /** A path of the tree: the root, an image directory or a version file. */
  private sealed interface Node permits Root, ImageDir, VersionFile {}

  private record Root() implements Node {}

  private record ImageDir(String name, Map<String, Catalog.Entry> versions) implements Node {}

  private record VersionFile(Catalog.Entry entry) implements Node {}

  private Node resolve(String path) {
    return resolve(tree, path);
  }

  private static Node resolve(Tree tree, String path) {
    if (path.equals("/")) {
      return new Root();
    }
    String[] parts = path.substring(1).split("/", -1);
    Map<String, Catalog.Entry> versions = tree.versions.get(parts[0]);
    if (versions != null && parts.length == 1) {
      return new ImageDir(parts[0], versions);
    }
    if (versions == null || parts.length > 2) {
      return null;
    }
    if (!parts[1].endsWith(SUFFIX)) {
      return null;
    }
    Catalog.Entry e = versions.get(parts[1].substring(0, parts[1].length() - SUFFIX.length()));
    return e == null ? null : new VersionFile(e);
  }

  @Override
  public void init(FuseConnInfo conn, FuseConfig cfg) {
    LOG.log(System.Logger.Level.DEBUG, "FUSE protocol " + conn.protoMajor() + "." + conn.protoMinor()
        + ", kernel_cache " + cfg.kernelCache());
    if (cfg.kernelCache() == 0) {
      LOG.log(System.Logger.Level.WARNING, "kernel_cache is off: every open drops the file's cached pages");
    }
    invalidator.captureFromContext();
  }

  @Override
  public int access(String path, int mask) {
    if (resolve(path) == null) {
      return -errno.enoent();
    }
    return (mask & 2) != 0 ? -errno.erofs() : 0; // W_OK
  }

  @Override
  public int getattr(String path, Stat stat, FileInfo fi) {
    Node n = resolve(path);
    if (n == null) {
      return -errno.enoent();
    }
    Tree t = tree;
    switch (n) {
      case Root r -> {
        stat.setMode(Stat.S_IFDIR | 0555);
        stat.setNLink((short) (2 + t.versions.size()));
        stat.mTime().set(t.time);
      }
      case ImageDir d -> {
        stat.setMode(Stat.S_IFDIR | 0555);
        stat.setNLink((short) 2);
        stat.mTime().set(t.time);
      }
      case VersionFile f -> fileStat(f.entry(), stat);
    }
    stat.aTime().set(mountTime);
    stat.cTime().set(mountTime);
    return 0;
  }

  private static void fileStat(Catalog.Entry e, Stat stat) {
    stat.setMode(Stat.S_IFREG | 0444);
    stat.setNLink((short) 1);
    stat.setSize(e.imageLength());
    stat.mTime().set(e.created());
  }

  @Override
  public int opendir(String path, FileInfo fi) {
    Node n = resolve(path);
    return n == null ? -errno.enoent() : n instanceof VersionFile ? -errno.enotdir() : 0;
  }

  @Override
  public int readdir(String path, DirFiller filler, long offset, FileInfo fi, int flags) {
    Node n = resolve(path);
    if (n == null) {
      return -errno.enoent();
    }
    try {
      switch (n) {
        case Root r -> {
          filler.fill(".");
          filler.fill("..");
          for (String name : tree.versions.keySet()) {
            filler.fill(name);
          }
        }
        case ImageDir d -> {
          filler.fill(".");
          filler.fill("..");
          for (Catalog.Entry e : d.versions().values()) {
            filler.fill(e.version() + SUFFIX, s -> fileStat(e, s));
          }
        }
        case VersionFile f -> {
          return -errno.enotdir();
        }
      }
      return 0;
    } catch (IOException e) {
      return -errno.eio();
    }
  }

  @Override
  public int releasedir(String path, FileInfo fi) {
    return 0;
  }

  @Override
  public int open(String path, FileInfo fi) {
    Node n = resolve(path);
    if (n == null) {
      return -errno.enoent();
    }
    if (!(n instanceof VersionFile f)) {
      return -errno.eisdir();
    }
    Set<StandardOpenOption> flags = fi.getOpenFlags();
    if (flags.contains(StandardOpenOption.WRITE) || flags.contains(StandardOpenOption.APPEND)
        || flags.contains(StandardOpenOption.TRUNCATE_EXISTING)) {
      return -errno.erofs();
    }
    try {
      ImageReader reader = archive.reader(f.entry());
      startPrefetch(reader);
      return 0;
    } catch (IOException e) {
      LOG.log(System.Logger.Level.ERROR, "cannot open " + path + ": " + e.getMessage());
      return -errno.eio();
    }
  }

  private void startPrefetch(ImageReader reader) {
    long rate = archive.fetchConfig().prefetchBytesPerSecond();
    if (rate <= 0 || reader.table().bootProfile().isEmpty()) {
      return;
    }
    prefetchers.computeIfAbsent(reader.id(), id -> {
      var p = new BootPrefetcher(reader.table(), archive.blocks(), rate, clock, sleeper);
      background.execute(p);
      return p;
    });
  }

  @Override
  public int read(String path, ByteBuffer buf, long count, long offset, FileInfo fi) {
    readRequests.increment();
    Tree t;
    while (true) { // register with the current tree, so reload can wait for the reads that resolved in it
      t = tree;
      t.reads.incrementAndGet();
      if (t == tree) {
        break;
      }
      t.readDone();
    }
    try {
      return read(t, path, buf, count, offset);
    } finally {
      t.readDone();
    }
  }

  private int read(Tree t, String path, ByteBuffer buf, long count, long offset) {
    Node n = resolve(t, path);
    if (!(n instanceof VersionFile f)) {
      return -errno.enoent();
    }
    try {
      ImageReader reader = archive.reader(f.entry());
      long size = reader.size();
      if (offset >= size) {
        return 0;
      }
      int len = (int) Math.min(Math.min(count, buf.remaining()), size - offset);
      reader.read(offset, buf.slice(buf.position(), len));
      buf.position(buf.position() + len);
      return len;
    } catch (IOException e) {
      // BlockUnavailableException names image, block, offset and every source tried.
      LOG.log(System.Logger.Level.ERROR, "EIO reading " + path + " at " + offset + ": " + e.getMessage());
      return -errno.eio();
    }
  }

  @Override
  public int release(String path, FileInfo fi) {
    return 0;
  }

  @Override
  public int statfs(String path, Statvfs statvfs) {
    long total = 0;
    for (Catalog.Entry e : archive.versions()) {
      total += e.imageLength();
    }
    statvfs.setBsize(4096);
    statvfs.setFrsize(4096);
    statvfs.setBlocks((total + 4095) / 4096);
    statvfs.setBfree(0);
    statvfs.setBavail(0);
    statvfs.setNameMax(255);
    return 0;
  }

  @Override
  public void destroy() {
    synchronized (this) { // not while reload invalidates: the struct fuse goes away after this
      invalidator.forget();
    }
    prefetchers.values().forEach(BootPrefetcher::stop);
  }
}
