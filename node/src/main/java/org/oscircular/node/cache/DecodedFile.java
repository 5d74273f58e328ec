package org.oscircular.node.cache;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.zip.CRC32C;

/**
 * One image version's files in the decoded tier ({@link DecodedBlocks}): {@code <digest>.data}, a sparse
 * file as long as the image holding the plaintext of the blocks kept, and {@code <digest>.index}, a
 * 64-byte header then 8 bytes per block: the CRC-32C of the block's plaintext and a check word,
 * CRC-32C(table digest ‖ block index ‖ CRC), both little-endian. An entry whose check does not hold
 * (never written, torn) means "not here".
 *
 * <p>A block is written data first, entry second, and counts only once both returned; a reader checks the
 * CRC-32C of the bytes it read against the entry, so bytes left half written by a crash or a power loss, or
 * changed on disk later, are dropped and never handed out. Only plaintext decoded from bytes that verified
 * against the signed table is ever written here (callers: the image reader, when it decodes a block for
 * the second time in this process, see {@link #decodedBefore}).
 */
public final class DecodedFile {
  private static final System.Logger LOG = System.getLogger(DecodedFile.class.getName());
  static final String INDEX_SUFFIX = ".index";
  static final String DATA_SUFFIX = ".data";
  static final int HEADER = 64;
  static final int ENTRY = 8;
  private static final byte[] MAGIC = "CIRCDEC1".getBytes(StandardCharsets.US_ASCII);
  private static final int FORMAT = 1;
  private static final int ABSENT = 0;
  private static final int WRITING = 1;
  private static final int PRESENT = 2;

  private final DecodedBlocks tier;
  private final byte[] digest;
  private final String hex;
  private final int blockSize;
  private final long imageLength;
  private final int blockCount;
  private volatile Generation gen;
  /** Blocks this process has decoded at least once (a bit per block); only the second decode keeps one. */
  private final java.util.concurrent.atomic.AtomicLongArray decoded;
  private volatile long lastUse;
  private volatile boolean removed;

  /** Open files of this version and what they hold; replaced when the version is evicted and refilled. */
  static final class Generation {
    final FileChannel data;
    final FileChannel index;
    final AtomicIntegerArray state;
    final int[] crc;
    /** Bytes of blocks present or being written; guarded by the tier. */
    long bytes;
    /** Evicted or lost: its bytes are no longer counted; guarded by the tier. */
    boolean dead;
    /** A write failed (a full disk, most likely): no more writes to these files, and one log line. */
    volatile boolean writeFailed;
    /**
     * The data file mapped read-only, made on the first {@link DecodedFile#view}, so blocks can be checked
     * and sent without being copied. Unmapped when this generation is closed (evicted, lost, the tier
     * closed) and no view of it is out any more ({@link #leases}): a view handed to a socket must stay
     * mapped until it is sent, and a deleted file's disk space comes back only once it is unmapped.
     */
    private volatile MemorySegment map;
    private Arena arena; // guarded by this
    private boolean mapFailed; // guarded by this
    /** Views of the mapping lent and not given back yet. */
    private final AtomicInteger leases = new AtomicInteger();
    /** Closed: nothing new is lent; the mapping goes once the last lease is given back. */
    private volatile boolean retired;

    /** The mapping, made on first use; null once retired or when it cannot be made. Call with a lease. */
    MemorySegment map(long length) {
      MemorySegment m = map;
      if (m != null) {
        return m;
      }
      synchronized (this) {
        if (map == null && !mapFailed && !retired) {
          Arena a = Arena.ofShared();
          try {
            map = data.map(FileChannel.MapMode.READ_ONLY, 0, length, a);
            arena = a;
          } catch (IOException | RuntimeException e) {
            a.close();
            mapFailed = true; // closed under us, or no address space left: nothing is lent, reads copy
          }
        }
        return map;
      }
    }

    /** Takes a lease on the mapping; false (none taken) once retired. */
    boolean lease() {
      leases.incrementAndGet();
      if (retired) {
        unlease();
        return false;
      }
      return true;
    }

    /** Gives a lease back; the last one out of a retired generation unmaps it. */
    void unlease() {
      if (leases.decrementAndGet() == 0 && retired) {
        unmap();
      }
    }

    private synchronized void unmap() {
      if (arena != null && leases.get() == 0) {
        map = null;
        arena.close();
        arena = null;
      }
    }

    Generation(FileChannel data, FileChannel index, int blocks) {
      this.data = data;
      this.index = index;
      this.state = new AtomicIntegerArray(blocks);
      this.crc = new int[blocks];
    }

    void close() {
      retired = true;
      if (leases.get() == 0) {
        unmap();
      }
      for (FileChannel c : new FileChannel[] {data, index}) {
        try {
          c.close();
        } catch (IOException e) {
          // closing a read-mostly file: nothing to lose
        }
      }
    }
  }

  DecodedFile(DecodedBlocks tier, byte[] digest, int blockSize, long imageLength) {
    if (blockSize <= 0 || imageLength <= 0 || (imageLength + blockSize - 1) / blockSize > Integer.MAX_VALUE / ENTRY) {
      throw new IllegalArgumentException("decoded file: bad geometry " + blockSize + " / " + imageLength);
    }
    this.tier = tier;
    this.digest = digest.clone();
    this.hex = HexFormat.of().formatHex(digest);
    this.blockSize = blockSize;
    this.imageLength = imageLength;
    this.blockCount = (int) ((imageLength + blockSize - 1) / blockSize);
    this.decoded = new java.util.concurrent.atomic.AtomicLongArray((blockCount + 63) / 64);
  }

  /**
   * Notes that block {@code index} was decoded once more and says whether it had been decoded before in
   * this process. Callers keep a block in the tier only then: a block read once (a cold read, a readahead
   * that fetched it a moment ago, a boot read once) costs no disk and no write.
   */
  public boolean decodedBefore(int index) {
    int w = index >>> 6;
    long bit = 1L << index;
    while (true) {
      long old = decoded.get(w);
      if ((old & bit) != 0) {
        return true;
      }
      if (decoded.compareAndSet(w, old, old | bit)) {
        return false;
      }
    }
  }

  /** A version found on disk at open, with its files attached; null if its index is not a valid one. */
  static DecodedFile fromDisk(DecodedBlocks tier, byte[] digest) {
    String hex = HexFormat.of().formatHex(digest);
    try {
      Index idx = parseIndex(digest, readIndexFile(tier.directory().resolve(hex + INDEX_SUFFIX)));
      if (idx == null) {
        return null;
      }
      var f = new DecodedFile(tier, digest, idx.blockSize(), idx.imageLength());
      f.gen = f.openFiles();
      f.touch();
      return f;
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "decoded tier: dropping " + hex + ": " + e.getMessage());
      return null;
    }
  }

  /**
   * An index file's contents: the geometry from its header, and for each block whose entry's check word
   * holds, its CRC-32C ({@code kept[i]}). Entries past the end of a short file count as absent.
   */
  record Index(int blockSize, long imageLength, int blocks, boolean[] kept, int[] crc) {
    long keptBytes() {
      long n = 0;
      for (int i = 0; i < blocks; i++) {
        if (kept[i]) {
          n += (int) Math.min(blockSize, imageLength - (long) i * blockSize);
        }
      }
      return n;
    }
  }

  /** Reads a whole index file (header and entries: 8 bytes per block, so small next to the image). */
  static ByteBuffer readIndexFile(Path index) throws IOException {
    try (FileChannel ch = FileChannel.open(index, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size > HEADER + (long) (Integer.MAX_VALUE / ENTRY) * ENTRY) {
        throw new IOException("index file of " + size + " bytes");
      }
      ByteBuffer b = ByteBuffer.allocate((int) size);
      readFully(ch, b, 0);
      return b.flip();
    }
  }

  /**
   * Parses the bytes of the index file of the table with SHA-256 {@code digest}; null when the header is
   * not a valid one for that table (wrong magic, format, digest or geometry, or too short). Never throws.
   */
  static Index parseIndex(byte[] digest, ByteBuffer file) {
    ByteBuffer h = file.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (h.remaining() < HEADER) {
      return null;
    }
    byte[] magic = new byte[8];
    h.get(magic);
    int format = h.getInt();
    int blockSize = h.getInt();
    int blocks = h.getInt();
    h.getInt();
    long length = h.getLong();
    byte[] d = new byte[32];
    h.get(d);
    if (!Arrays.equals(magic, MAGIC) || format != FORMAT || !Arrays.equals(d, digest) || blockSize <= 0
        || length <= 0 || blocks <= 0 || blocks > Integer.MAX_VALUE / ENTRY
        || (length - 1) / blockSize + 1 != blocks) {
      return null;
    }
    boolean[] kept = new boolean[blocks];
    int[] crc = new int[blocks];
    for (int i = 0; i < blocks && h.remaining() >= ENTRY; i++) {
      int c = h.getInt();
      if (h.getInt() == check(digest, i, c)) {
        kept[i] = true;
        crc[i] = c;
      }
    }
    return new Index(blockSize, length, blocks, kept, crc);
  }

  /** Plaintext bytes of the blocks an index file lists with a valid check, or -1 if it is not one of ours. */
  static long keptBytes(Path index) {
    String name = index.getFileName().toString();
    try {
      byte[] digest = HexFormat.of().parseHex(name.substring(0, name.length() - INDEX_SUFFIX.length()));
      Index idx = parseIndex(digest, readIndexFile(index));
      return idx == null ? -1 : idx.keptBytes();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  static void delete(Path dir, String hex) {
    try {
      Files.deleteIfExists(dir.resolve(hex + INDEX_SUFFIX));
      Files.deleteIfExists(dir.resolve(hex + DATA_SUFFIX));
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "decoded tier: cannot delete the files of " + hex + ": " + e.getMessage());
    }
  }

  /**
   * Opens this version's files, creating them if missing or of another geometry, and loads the entries
   * whose check holds. Called under the tier's lock.
   */
  Generation openFiles() throws IOException {
    Path dir = tier.directory();
    Path indexPath = dir.resolve(hex + INDEX_SUFFIX);
    Path dataPath = dir.resolve(hex + DATA_SUFFIX);
    Index onDisk = null;
    if (Files.exists(indexPath) && Files.exists(dataPath) && Files.size(dataPath) == imageLength) {
      onDisk = parseIndex(digest, readIndexFile(indexPath));
      if (onDisk != null && (onDisk.blockSize() != blockSize || onDisk.imageLength() != imageLength)) {
        onDisk = null;
      }
    }
    if (onDisk == null) {
      delete(dir, hex);
      // Data file first, header last: an index file without a valid header is discarded at the next open.
      try (FileChannel d = FileChannel.open(dataPath, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        d.write(ByteBuffer.allocate(1), imageLength - 1); // the image's length, sparse: only the last page is allocated
      }
      try (FileChannel i = FileChannel.open(indexPath, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer h = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        h.put(MAGIC).putInt(FORMAT).putInt(blockSize).putInt(blockCount).putInt(0).putLong(imageLength).put(digest);
        h.flip();
        writeFully(i, h, 0);
      }
    }
    FileChannel data = FileChannel.open(dataPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileChannel index;
    try {
      index = FileChannel.open(indexPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      data.close();
      throw e;
    }
    var g = new Generation(data, index, blockCount);
    for (int i = 0; onDisk != null && i < blockCount; i++) {
      if (onDisk.kept()[i]) {
        g.crc[i] = onDisk.crc()[i];
        g.state.set(i, PRESENT);
        g.bytes += plainLength(i);
      }
    }
    return g;
  }

  private int check(int index, int crc) {
    return check(digest, index, crc);
  }

  private static int check(byte[] digest, int index, int crc) {
    var c = new CRC32C();
    c.update(digest);
    c.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(index).putInt(crc).flip());
    return (int) c.getValue();
  }

  /** Plaintext length of block {@code index} (the last block may be short). */
  public int plainLength(int index) {
    return (int) Math.min(blockSize, imageLength - (long) index * blockSize);
  }

  boolean sameGeometry(int blockSize, long imageLength) {
    return this.blockSize == blockSize && this.imageLength == imageLength;
  }

  String hex() {
    return hex;
  }

  Generation generation() {
    return gen;
  }

  Generation detach() {
    Generation g = gen;
    gen = null;
    return g;
  }

  boolean attached() {
    return gen != null;
  }

  /** Bytes counted for the attached files (0 when detached); read under the tier's lock. */
  long attachedBytes() {
    Generation g = gen;
    return g == null || g.dead ? 0 : g.bytes;
  }

  long lastUse() {
    return lastUse;
  }

  void touch() {
    lastUse = tier.nextTick();
  }

  void removed() {
    removed = true;
  }

  /** Records that a reader opened this version now (the eviction order after a restart). */
  void markOpened(InstantSource clock) {
    try {
      Files.setLastModifiedTime(tier.directory().resolve(hex + INDEX_SUFFIX), FileTime.from(clock.instant()));
    } catch (IOException e) {
      // not created yet: the order among fresh files does not matter
    }
  }

  private Generation current(boolean create) {
    Generation g = gen;
    if (g == null && create && !removed) {
      g = tier.attach(this);
      if (g != null) {
        gen = g;
      }
    }
    return g;
  }

  /** Whether block {@code index} is in the tier now (it may still turn out damaged when read). */
  public boolean contains(int index) {
    Generation g = gen;
    return g != null && g.state.get(index) == PRESENT;
  }

  /**
   * Reads block {@code index}'s plaintext into {@code dst} at its position and advances it, if the block
   * is here and its bytes match their CRC-32C. Otherwise returns false with {@code dst}'s position
   * unchanged (the bytes after it may have been overwritten with bytes that must not be used).
   */
  public boolean readInto(int index, ByteBuffer dst) {
    Generation g = current(true);
    if (g == null || g.state.get(index) != PRESENT) {
      return false;
    }
    int n = plainLength(index);
    int start = dst.position();
    ByteBuffer window = dst.slice(start, n);
    try {
      readFully(g.data, window, (long) index * blockSize);
    } catch (ClosedChannelException e) {
      tier.lost(this, g);
      return false;
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "decoded tier: reading " + this + " block " + index + ": " + e.getMessage());
      drop(g, index, n);
      return false;
    }
    if (!matchesCrc(g, index, window.flip())) {
      return false;
    }
    dst.position(start + n);
    lastUse = tier.nextTick();
    return true;
  }

  /**
   * Whether {@code bytes} (all remaining; consumed) match block {@code index}'s CRC-32C. A mismatch is logged
   * and drops the block, so the caller reads it from the block cache instead.
   */
  private boolean matchesCrc(Generation g, int index, ByteBuffer bytes) {
    int n = bytes.remaining();
    var c = new CRC32C();
    c.update(bytes);
    if ((int) c.getValue() == g.crc[index]) {
      return true;
    }
    LOG.log(System.Logger.Level.WARNING, "decoded tier: " + this + " block " + index
        + " does not match its CRC-32C; dropped, read from the block cache instead");
    drop(g, index, n);
    return false;
  }

  /**
   * Block {@code index}'s plaintext as a read-only view of the data file mapped into memory, if the block
   * is here, its pages are in the page cache now, and their bytes match the block's CRC-32C; otherwise
   * null (a mismatch drops the block, as {@link #readInto} does). Nothing is copied: the caller (the NBD
   * event loop) hands the view to the socket, which copies it once, from the page cache, and then closes
   * the view: until then the mapping stays, also if the version is evicted meanwhile.
   *
   * <p>Only pages in the page cache are touched ({@code mincore}): a page that would have to come from
   * the disk is left to {@link #readInto}, so this never waits for a disk and never meets a disk error
   * inside the mapping (which would be a SIGBUS, not an {@link IOException}). The bytes sent are those the
   * check just read; only if the kernel dropped a page and read it back from the disk in the moment
   * between check and send could they differ.
   */
  public View view(int index) {
    Generation g = gen;
    if (g == null || g.state.get(index) != PRESENT || !g.lease()) {
      return null;
    }
    View v = null;
    try {
      MemorySegment m = g.map(imageLength);
      if (m == null) {
        return null;
      }
      int n = plainLength(index);
      MemorySegment block = m.asSlice((long) index * blockSize, n);
      if (!block.isLoaded()) {
        return null;
      }
      ByteBuffer bytes = block.asByteBuffer();
      if (!matchesCrc(g, index, bytes.duplicate())) {
        return null;
      }
      lastUse = tier.nextTick();
      v = new View(bytes, g);
      return v;
    } finally {
      if (v == null) {
        g.unlease();
      }
    }
  }

  /**
   * A block's checked plaintext in the mapped tier file ({@link #bytes}, read-only). The mapping stays for
   * as long as the view is not closed, even if the version is evicted meanwhile; close it once nothing
   * reads the bytes any more (for a reply: once the socket has sent it or failed), and not before.
   */
  public static final class View implements AutoCloseable {
    private final ByteBuffer bytes;
    private final Generation g;
    private final AtomicBoolean closed = new AtomicBoolean();

    View(ByteBuffer bytes, Generation g) {
      this.bytes = bytes;
      this.g = g;
    }

    public ByteBuffer bytes() {
      return bytes;
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        g.unlease();
      }
    }
  }

  /** Block {@code index}'s plaintext, or null (see {@link #readInto}). */
  public byte[] read(int index) {
    byte[] b = new byte[plainLength(index)];
    return readInto(index, ByteBuffer.wrap(b)) ? b : null;
  }

  /**
   * Keeps {@code plain} (remaining bytes: the whole plaintext of block {@code index}, decoded from verified
   * stored bytes) unless the block is here already or the bound leaves no room. {@code plain}'s position
   * is not moved. Failures are logged and only cost the speed-up.
   */
  public void write(int index, ByteBuffer plain) {
    int n = plainLength(index);
    if (plain.remaining() != n) {
      throw new IllegalArgumentException("block " + index + " of " + this + " is " + n + " bytes, got " + plain.remaining());
    }
    Generation g = current(true);
    if (g == null || g.writeFailed || !g.state.compareAndSet(index, ABSENT, WRITING)) {
      return;
    }
    if (!tier.reserve(this, g, n)) {
      g.state.set(index, ABSENT);
      return;
    }
    try {
      ByteBuffer bytes = plain.duplicate();
      var c = new CRC32C();
      c.update(bytes.duplicate());
      int crc = (int) c.getValue();
      writeFully(g.data, bytes, (long) index * blockSize);
      ByteBuffer entry = ByteBuffer.allocate(ENTRY).order(ByteOrder.LITTLE_ENDIAN).putInt(crc).putInt(check(index, crc)).flip();
      writeFully(g.index, entry, HEADER + (long) index * ENTRY);
      g.crc[index] = crc;
      g.state.set(index, PRESENT);
    } catch (ClosedChannelException e) {
      g.state.set(index, ABSENT);
      tier.release(g, n);
      tier.lost(this, g);
    } catch (IOException e) {
      if (!g.writeFailed) {
        g.writeFailed = true;
        LOG.log(System.Logger.Level.WARNING, "decoded tier: writing " + this + " block " + index + " failed ("
            + e.getMessage() + "); no more blocks of it are kept until it is evicted or the process restarts");
      }
      g.state.set(index, ABSENT);
      tier.release(g, n);
    }
  }

  public void write(int index, byte[] plain) {
    write(index, ByteBuffer.wrap(plain));
  }

  /** Forgets block {@code index}: its entry is cleared on disk too, so the next process does not trust it. */
  private void drop(Generation g, int index, int n) {
    if (!g.state.compareAndSet(index, PRESENT, WRITING)) {
      return;
    }
    try {
      writeFully(g.index, ByteBuffer.allocate(ENTRY), HEADER + (long) index * ENTRY);
    } catch (IOException e) {
      // the check word is what matters; a stale entry fails its CRC again next time
    }
    tier.release(g, n);
    g.state.set(index, ABSENT);
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int r = ch.read(b, pos);
      if (r < 0) {
        throw new IOException("file ends at " + pos);
      }
      pos += r;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      pos += ch.write(b, pos);
    }
  }

  @Override
  public String toString() {
    return "decoded version " + hex.substring(0, 16) + "…";
  }
}
