package org.oscircular.node.origin;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.OriginLayout;
import org.oscircular.protocol.format.PublisherKey;

/**
 * The writable side of a directory origin, used by publish, retire and gc. Every file is written to a
 * temporary name and renamed, so a web server serving the tree never hands out a half-written file and
 * a crash never damages what was already published. Blocks are written without fsync and forced in one
 * batch ({@link #forceAll}) before a table refers to them.
 */
public final class OriginStore {
  private static final String LOCK_FILE = ".lock";
  private final Path root;

  private OriginStore(Path root) {
    this.root = root;
  }

  /** Opens (and with {@code create}, makes) the origin directory. */
  public static OriginStore open(Path root, boolean create) throws IOException {
    if (root.toString().matches("(?i)^(https?|ftp):/.*")) { // a Path keeps one slash of "http://"
      throw new IOException("this command writes the origin directory on the publishing machine, not a URL: got '"
          + root.toString().replaceFirst(":/", "://") + "'");
    }
    if (create) {
      if (Files.exists(root) && !Files.isDirectory(root)) {
        throw new IOException("origin " + root + " is not a directory");
      }
      Files.createDirectories(root);
    } else if (!Files.isDirectory(root)) {
      throw new IOException("origin directory " + root + " does not exist");
    }
    if (!Files.isDirectory(root)) {
      throw new IOException("origin " + root + " is not a directory");
    }
    return new OriginStore(root);
  }

  public Path root() {
    return root;
  }

  /** An exclusive lock held by one publish, retire or gc at a time. */
  public Lock lock() throws IOException {
    FileChannel ch = FileChannel.open(root.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      ch.close();
      throw new IOException("origin " + root + " is locked by another publish, retire or gc; try again when it is done");
    }
    return new Lock(ch);
  }

  /** Releases the origin lock when closed. */
  public static final class Lock implements AutoCloseable {
    private final FileChannel channel;

    private Lock(FileChannel channel) {
      this.channel = channel;
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  public Optional<byte[]> readCatalog() throws IOException {
    return readIfExists(root.resolve(OriginLayout.CATALOG));
  }

  public Optional<byte[]> readTable(String image, String version) throws IOException {
    return readIfExists(root.resolve(OriginLayout.table(image, version)));
  }

  private static Optional<byte[]> readIfExists(Path p) throws IOException {
    try {
      return Optional.of(Files.readAllBytes(p));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  public Path blockPath(BlockName name) {
    return root.resolve(OriginLayout.block(name));
  }

  /** True when the block is present with the expected size (a short file left by a crash counts as absent). */
  public boolean hasBlock(BlockName name, int storedLength) {
    try {
      return Files.size(blockPath(name)) == storedLength;
    } catch (IOException e) {
      return false;
    }
  }

  /** Writes a block under its name (atomically, not yet durable); returns its path for {@link #forceAll}. */
  public Path writeBlock(BlockName name, byte[] stored, int off, int len) throws IOException {
    Path p = blockPath(name);
    AtomicFiles.write(p, stored, off, len, false);
    return p;
  }

  /** Forces written blocks and their directories to disk. */
  public void forceAll(List<Path> files) throws IOException {
    for (Path f : files) {
      AtomicFiles.force(f);
    }
    forceDirectories(files);
  }

  /** Makes the directory entries of written blocks durable (their data was forced already). */
  public void forceDirectories(List<Path> files) throws IOException {
    var dirs = new TreeSet<Path>();
    for (Path f : files) {
      dirs.add(f.getParent());
    }
    if (dirs.isEmpty()) {
      return; // nothing written (an all-zero image, or every block already there): blocks/ may not even exist
    }
    for (Path d : dirs) {
      AtomicFiles.forceDirectory(d);
    }
    AtomicFiles.forceDirectory(root.resolve("blocks"));
  }

  public void writeTable(String image, String version, byte[] signed) throws IOException {
    AtomicFiles.write(root.resolve(OriginLayout.table(image, version)), signed, true);
  }

  public void writeCatalog(byte[] signed) throws IOException {
    AtomicFiles.write(root.resolve(OriginLayout.CATALOG), signed, true);
  }

  public void writePublicKey(PublisherKey.Public key) throws IOException {
    Path p = root.resolve(OriginLayout.publicKey(key));
    if (!Files.exists(p)) {
      AtomicFiles.write(p, (key.toText("publisher key " + key.keyId()) + "\n").getBytes(), true);
    }
  }

  /** Public keys published in keys/ (used by gc to read the origin's own documents). */
  public List<PublisherKey.Public> publicKeys() throws IOException {
    List<PublisherKey.Public> keys = new ArrayList<>();
    Path dir = root.resolve("keys");
    if (!Files.isDirectory(dir)) {
      return keys;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.pub")) {
      for (Path p : ds) {
        keys.add(PublisherKey.parsePublic(Files.readString(p), p.toString()));
      }
    }
    return keys;
  }

  /** One file found under blocks/: a block by name, or a stray file (temporary or misnamed). */
  public record BlockFile(Path path, Optional<BlockName> name, long size) {}

  /** Every file under blocks/. */
  public List<BlockFile> listBlocks() throws IOException {
    List<BlockFile> out = new ArrayList<>();
    Path blocks = root.resolve("blocks");
    if (!Files.isDirectory(blocks)) {
      return out;
    }
    try (DirectoryStream<Path> prefixes = Files.newDirectoryStream(blocks)) {
      for (Path prefix : prefixes) {
        if (!Files.isDirectory(prefix)) {
          continue;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(prefix)) {
          for (Path f : files) {
            String fn = f.getFileName().toString();
            Optional<BlockName> name;
            try {
              BlockName n = BlockName.parse(fn);
              name = n.hex().substring(0, 2).equals(prefix.getFileName().toString()) ? Optional.of(n) : Optional.empty();
            } catch (IllegalArgumentException e) {
              name = Optional.empty();
            }
            out.add(new BlockFile(f, name, Files.size(f)));
          }
        }
      }
    }
    return out;
  }
}
