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
 * versions only come, never go (retired ones stay readable), and a listed file's bytes never change.
 */
final class ArchiveFileSystem implements FuseOperations {
  private static final System.Logger LOG = System.getLogger(ArchiveFileSystem.class.getName());
  static final String SUFFIX = ".img";

  private final Archive archive;
  private final Errno errno;
  private final Executor background;
  private final InstantSource clock;
  private final Sleeper sleeper;
  /** image name → version → catalog entry; an immutable snapshot, replaced by {@link #reload}. */
  private volatile Map<String, Map<String, Catalog.Entry>> tree;
  /** When the tree last changed: the directories' modification time. */
  private volatile Instant treeTime;
  private final Map<String, BootPrefetcher> prefetchers = new ConcurrentHashMap<>();
  private final Instant mountTime;

  ArchiveFileSystem(Archive archive, Errno errno, Executor background, InstantSource clock, Sleeper sleeper) {
    this.archive = archive;
    this.errno = errno;
    this.background = background;
    this.clock = clock;
    this.sleeper = sleeper;
    this.mountTime = clock.instant();
    this.tree = snapshot(archive.versions());
    this.treeTime = mountTime;
  }

  private static Map<String, Map<String, Catalog.Entry>> snapshot(List<Catalog.Entry> versions) {
    Map<String, Map<String, Catalog.Entry>> t = new TreeMap<>();
    for (Catalog.Entry e : versions) {
      t.computeIfAbsent(e.name(), n -> new TreeMap<>()).put(e.version(), e);
    }
    t.replaceAll((name, v) -> java.util.Collections.unmodifiableMap(v));
    return java.util.Collections.unmodifiableMap(t);
  }

  /** Takes the archive's current catalog: new versions appear in the tree. Returns whether anything changed. */
  boolean reload() {
    var next = snapshot(archive.versions());
    if (next.equals(tree)) {
      return false;
    }
    tree = next;
    treeTime = clock.instant();
    return true;
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
    if (path.equals("/")) {
      return new Root();
    }
    String[] parts = path.substring(1).split("/", -1);
    Map<String, Catalog.Entry> versions = tree.get(parts[0]);
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
    LOG.log(System.Logger.Level.DEBUG, "FUSE protocol " + conn.protoMajor() + "." + conn.protoMinor());
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
    switch (n) {
      case Root r -> {
        stat.setMode(Stat.S_IFDIR | 0555);
        stat.setNLink((short) (2 + tree.size()));
        stat.mTime().set(treeTime);
      }
      case ImageDir d -> {
        stat.setMode(Stat.S_IFDIR | 0555);
        stat.setNLink((short) 2);
        stat.mTime().set(treeTime);
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
          for (String name : tree.keySet()) {
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
    Node n = resolve(path);
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
    prefetchers.values().forEach(BootPrefetcher::stop);
  }
}
