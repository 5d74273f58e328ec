package org.oscircular.node.fuse;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.InstantSource;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import org.cryptomator.jfuse.api.Fuse;
import org.cryptomator.jfuse.api.FuseMountFailedException;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.fetch.Sleeper;

/**
 * A FUSE mount of an archive's file tree (see {@link ArchiveFileSystem}). Mounted read-only, with the
 * kernel page cache kept across opens (image versions never change). {@link #close()} unmounts.
 */
public final class ArchiveMount implements AutoCloseable {
  /** Where Debian's libfuse3 lives; override with the {@code circular.libfuse} system property. */
  public static final String DEFAULT_LIBFUSE = "/usr/lib/x86_64-linux-gnu/libfuse3.so.3";
  private static final System.Logger LOG = System.getLogger(ArchiveMount.class.getName());
  /**
   * Kernel read-ahead of the mount, in KiB. FUSE starts at 128 KiB, so a sequential reader costs one
   * request (a round trip through this process) per 128–256 KiB; at 1 MiB the kernel asks for four
   * 256 KiB blocks at once, which cut the mount's CPU per warm pass by about a fifth in bench/mount.sh.
   */
  static final int READ_AHEAD_KIB = 1024;

  private final Fuse fuse;
  private final Path mountPoint;

  private final ArchiveFileSystem fs;

  private ArchiveMount(Fuse fuse, Path mountPoint, ArchiveFileSystem fs) {
    this.fuse = fuse;
    this.mountPoint = mountPoint;
    this.fs = fs;
  }

  /**
   * Call after the archive took a newer catalog: its new versions appear in the tree (listings at once;
   * a name looked up before it existed is not cached as missing, so it resolves at once too).
   */
  public void catalogChanged() {
    if (fs.reload()) {
      LOG.log(System.Logger.Level.INFO, "mount " + mountPoint + " now lists new image versions");
    }
  }

  /**
   * Fails with one line saying what to do unless {@code mountPoint} is an existing, readable, empty
   * directory. A non-empty one is refused: the mount would hide its files, and a directory that already
   * holds a mount (another {@code circular mount} there) is not empty either.
   */
  public static void checkMountPoint(Path mountPoint) throws IOException {
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(mountPoint, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new IOException("mount point " + mountPoint + " does not exist (create an empty directory)", e);
    } catch (FileSystemException e) {
      throw unreadable(mountPoint, e);
    }
    if (!attrs.isDirectory()) {
      throw new IOException("mount point " + mountPoint + " is not a directory");
    }
    try (var entries = Files.list(mountPoint)) {
      if (entries.findAny().isPresent()) {
        throw new IOException("mount point " + mountPoint
            + " is not empty (something is mounted there, or it holds files the mount would hide)");
      }
    } catch (FileSystemException e) {
      throw unreadable(mountPoint, e);
    }
  }

  private static IOException unreadable(Path mountPoint, FileSystemException e) {
    return new IOException("mount point " + mountPoint + " cannot be read (" + e.getReason()
        + "): a mount whose process died is removed with umount -l " + mountPoint, e);
  }

  public static ArchiveMount mount(Archive archive, Path mountPoint, Executor background, InstantSource clock,
      Sleeper sleeper) throws IOException {
    checkMountPoint(mountPoint);
    String lib = System.getProperty("circular.libfuse", DEFAULT_LIBFUSE);
    if (!Files.exists(Path.of(lib))) {
      throw new IOException("libfuse3 not found at " + lib + " (install Debian's libfuse3-3 and fuse3)");
    }
    var builder = Fuse.builder();
    builder.setLibraryPath(lib);
    var fs = new ArchiveFileSystem(archive, builder.errno(), background, clock, sleeper,
        new KernelCacheInvalidator(lib));
    Fuse fuse = builder.build(fs);
    // A listed file's name, size and bytes do not change while mounted (a version replaced on the origin is
    // invalidated explicitly, see ArchiveFileSystem.reload): the kernel may keep pages across opens
    // (kernel_cache: libfuse sets keep_cache on every open) and names and attributes for an hour instead of
    // asking again every second. Names that do not exist are not cached as missing: a version published
    // later must appear.
    String options = "ro,kernel_cache,entry_timeout=3600,attr_timeout=3600,negative_timeout=0"
        + ",fsname=circular,subtype=circular,default_permissions" + (isRoot() ? ",allow_other" : "");
    try {
      fuse.mount("circular", mountPoint, "-o", options);
    } catch (FuseMountFailedException | IllegalArgumentException e) {
      closeQuietly(fuse);
      throw new IOException("cannot mount " + mountPoint + ": " + e.getMessage()
          + (isRoot() ? "" : " (FUSE mounts need root or fusermount3 from Debian's fuse3)"), e);
    }
    LOG.log(System.Logger.Level.INFO, "mounted " + archive.versions().size() + " image versions at " + mountPoint);
    raiseReadAhead(mountPoint);
    return new ArchiveMount(fuse, mountPoint, fs);
  }

  /**
   * Sets the mount's read-ahead ({@code /sys/class/bdi/0:MINOR/read_ahead_kb}, which lives and dies with
   * the mount) to {@link #READ_AHEAD_KIB}. Needs root; without it the kernel's default stays, and reads
   * only take more round trips.
   */
  private static void raiseReadAhead(Path mountPoint) {
    try {
      long dev = (Long) Files.getAttribute(mountPoint, "unix:dev");
      long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
      long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
      Path knob = Path.of("/sys/class/bdi", major + ":" + minor, "read_ahead_kb");
      Files.writeString(knob, Integer.toString(READ_AHEAD_KIB));
      LOG.log(System.Logger.Level.DEBUG, "read-ahead of " + mountPoint + " set to " + READ_AHEAD_KIB + " KiB (" + knob + ")");
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "read-ahead of " + mountPoint + " left at the kernel's default: " + e);
    }
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static void closeQuietly(Fuse fuse) {
    try {
      fuse.close();
    } catch (TimeoutException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cleanup after a failed mount: " + e.getMessage());
    }
  }

  /** READ requests that reached this process (pages the kernel kept are served without one). */
  long readRequests() {
    return fs.readRequests();
  }

  public Path mountPoint() {
    return mountPoint;
  }

  /**
   * Unmounts; waits up to 10 s for the FUSE loop to end. libfuse unmounts lazily (as {@code umount -l}): a mount
   * still in use (a loop device, an open file) leaves the tree at once but its loop runs on; then this fails.
   */
  @Override
  public void close() throws IOException {
    try {
      fuse.close();
    } catch (TimeoutException e) {
      throw new IOException(mountPoint + " was still in use (a loop device or an open file): it is detached from the"
          + " directory tree, and whatever still uses it gets I/O errors from now on (losetup -d it, close the files)",
          e);
    }
  }
}
