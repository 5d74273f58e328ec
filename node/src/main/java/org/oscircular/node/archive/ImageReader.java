package org.oscircular.node.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.oscircular.node.cache.DecodedFile;
import org.oscircular.node.cache.LentBytes;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockEncoder;
import org.oscircular.protocol.format.FormatException;
import org.oscircular.protocol.format.ImageTable;

/**
 * Random-access reads of one image version. Each block is served from the cache or fetched, verified
 * (SHA1 and SHA-256 of its stored bytes against the signed table) and decoded before any byte of it is
 * handed out; a block that cannot be had fails the read with {@link BlockUnavailableException} and no
 * bytes. Zero blocks are never fetched. A sequential reader triggers readahead of the next blocks.
 * A few recently decoded blocks are kept in memory, since readers (the kernel, NBD clients) usually ask
 * for pieces smaller than a block. Thread-safe.
 */
public final class ImageReader {
  private static final byte[] ZEROS = new byte[64 * 1024];
  private final ImageTable table;
  private final BlockLoader loader;
  private final int readahead;
  private final int blockShift;
  private final Map<Integer, byte[]> decoded;
  private final AtomicInteger lastBlock = new AtomicInteger(-10);
  /** Calls of {@link #read} running now: decode-ahead only serves a lone sequential reader. */
  private final AtomicInteger reading = new AtomicInteger();
  /** Block indices being decoded ahead; guarded by {@code decoded}. */
  private final java.util.Set<Integer> decoding = new java.util.HashSet<>();
  /** Blocks a whole-block read is decoding straight into its caller's buffer; guarded by {@code decoded}. */
  private final java.util.Set<Integer> decodingDirect = new java.util.HashSet<>();
  /** Blocks being loaded and decoded right now; guarded by {@code decoded}. */
  private final Map<Integer, CompletableFuture<byte[]>> decodingNow = new java.util.HashMap<>();
  private static final int DECODE_AHEAD = 2;

  /** Plaintext bytes held in {@code decoded}; guarded by {@code decoded}. */
  private long decodedBytes;
  private final long maxDecodedBytes;
  /** This version's file in the decoded tier on disk, or null when the tier is off. */
  private final DecodedFile tier;
  /** One bit per block: read from or written to the tier by this process (see {@link #inPageCache}). */
  private final java.util.concurrent.atomic.AtomicLongArray tierTouched;

  /**
   * @param maxDecodedBytes bound of the decoded-block memory ({@code cache.decoded-bytes}); 0 keeps
   *     nothing (every partial read of a block reads it from the cache again)
   * @param tier the version's decoded file on disk (read first, filled with blocks decoded from the
   *     block cache), or null
   */
  ImageReader(ImageTable table, BlockLoader loader, int readahead, long maxDecodedBytes, DecodedFile tier) {
    this.tier = tier;
    this.table = table;
    this.loader = loader;
    this.readahead = readahead;
    this.blockShift = Integer.numberOfTrailingZeros(table.blockSize());
    this.maxDecodedBytes = maxDecodedBytes;
    this.decoded = new LinkedHashMap<>(64, 0.75f, true);
    this.tierTouched = new java.util.concurrent.atomic.AtomicLongArray((table.image().blocks().size() + 63) >>> 6);
  }

  /** The image length in bytes (exact). */
  public long size() {
    return table.image().length();
  }

  public int blockSize() {
    return table.blockSize();
  }

  /** "image:version". */
  public String id() {
    return table.id();
  }

  public ImageTable table() {
    return table;
  }

  /**
   * Reads {@code dst.remaining()} bytes starting at {@code offset} into {@code dst}. The range must lie
   * within the image. On failure {@code dst}'s position is left where the last complete block ended.
   */
  public void read(long offset, ByteBuffer dst) throws IOException {
    int len = dst.remaining();
    if (offset < 0 || offset + len > size()) {
      throw new IOException(id() + ": read of " + len + " bytes at offset " + offset
          + " is outside the image (" + size() + " bytes)");
    }
    reading.incrementAndGet();
    try {
      readBlocks(offset, dst);
    } finally {
      reading.decrementAndGet();
    }
  }

  /**
   * Reads like {@link #read}, but only when every byte is at hand without waiting: zero blocks, blocks in
   * decoded memory, and whole blocks in the decoded tier that this process has read or written before (one
   * positional read of plaintext, from the page cache unless memory pressure dropped it, checked against its
   * CRC-32C). It never fetches, never reads the block cache and never
   * decodes, so an NBD event loop may call it. Returns false with {@code dst}'s position unchanged when a
   * block is not at hand, or its tier copy fails its check (which drops that copy, as {@link #read} does);
   * the caller then reads through {@link #read}. Bytes returned are the same verified plaintext
   * {@link #read} returns.
   */
  public boolean readNow(long offset, ByteBuffer dst) {
    int len = dst.remaining();
    if (offset < 0 || offset + len > size()) {
      return false;
    }
    int start = dst.position();
    reading.incrementAndGet();
    try {
      long pos = offset;
      while (dst.hasRemaining()) {
        int index = (int) (pos >>> blockShift);
        int within = (int) (pos - ((long) index << blockShift));
        int plainLength = table.image().blockLength(index, table.blockSize());
        int n = Math.min(dst.remaining(), plainLength - within);
        if (!blockNow(index, within, n, plainLength, dst)) {
          dst.position(start);
          return false;
        }
        pos += n;
      }
      long end = offset + len;
      for (long p = offset; p < end; p = ((p >>> blockShift) + 1) << blockShift) {
        noteAccess((int) (p >>> blockShift)); // readahead as for any read (it only queues work)
      }
      return true;
    } finally {
      reading.decrementAndGet();
    }
  }

  /** Zero bytes that views of zero blocks share (read-only, never written). */
  private static final ByteBuffer ZERO_VIEW = ByteBuffer.allocateDirect(1024 * 1024).asReadOnlyBuffer();

  /**
   * The bytes of {@code [offset, offset + length)} as read-only buffers, in order, when every byte is at
   * hand without copying: zero blocks (views of shared zero memory) and blocks in the decoded tier whose pages
   * are in the page cache now, also right after a restart (views of the tier's file
   * mapped into memory, each block checked against its CRC-32C first, see {@link DecodedFile#view}); the
   * caller runs {@link LentBytes#giveBack} once nothing reads them any more. A range
   * may cover parts of blocks: the whole block is checked, its part is returned. Returns null when any block
   * is not at hand that way (the caller then tries {@link #readNow}, then {@link #read}), or when a tier
   * copy fails its check (which drops it, as {@link #read} does). Never fetches, never decodes, never waits
   * for a disk: an NBD event loop may call it, and hand the buffers to its socket.
   */
  public LentBytes viewNow(long offset, int length) {
    if (offset < 0 || length < 0 || offset + length > size()) {
      return null;
    }
    reading.incrementAndGet();
    List<DecodedFile.View> leases = new ArrayList<>();
    boolean lent = false;
    try {
      int blockSize = table.blockSize();
      int first = (int) (offset >>> blockShift);
      int last = length == 0 ? first - 1 : (int) ((offset + length - 1) >>> blockShift);
      List<ByteBuffer> views = new ArrayList<>(last - first + 1);
      long pos = offset;
      long end = offset + length;
      for (int index = first; index <= last; index++) {
        int within = (int) (pos - ((long) index << blockShift));
        int n = (int) Math.min(end - pos, table.image().blockLength(index, blockSize) - within);
        switch (table.image().blocks().get(index)) {
          case BlockEntry.Zero z -> {
            for (int left = n; left > 0; ) {
              int k = Math.min(left, ZERO_VIEW.capacity());
              views.add(ZERO_VIEW.slice(0, k));
              left -= k;
            }
          }
          case BlockEntry.Stored s -> {
            // No need for this process to have touched the block (inPageCache): view asks the kernel itself.
            DecodedFile.View block = tier != null ? tier.view(index) : null;
            if (block == null) {
              return null;
            }
            leases.add(block);
            views.add(block.bytes().slice(within, n));
          }
        }
        pos += n;
      }
      for (int index = first; index <= last; index++) {
        noteAccess(index); // readahead as for any read (it only queues work)
      }
      lent = true;
      if (leases.isEmpty()) {
        return LentBytes.of(views.toArray(ByteBuffer[]::new));
      }
      return new LentBytes(views.toArray(ByteBuffer[]::new), () -> leases.forEach(DecodedFile.View::close));
    } finally {
      if (!lent) {
        leases.forEach(DecodedFile.View::close);
      }
      reading.decrementAndGet();
    }
  }

  /**
   * Whether this process has read or written block {@code index} of the decoded tier: only then are its
   * pages likely in the page cache, so that {@link #readNow} does not wait for a disk (after a reboot the
   * first read of each block takes the ordinary path).
   */
  private boolean inPageCache(int index) {
    return (tierTouched.get(index >>> 6) & (1L << index)) != 0;
  }

  private void touched(int index) {
    long bit = 1L << index;
    if ((tierTouched.get(index >>> 6) & bit) == 0) {
      tierTouched.getAndAccumulate(index >>> 6, bit, (a, b) -> a | b);
    }
  }

  /** {@code n} bytes of block {@code index} from {@code within} into {@code dst}, if at hand now. */
  private boolean blockNow(int index, int within, int n, int plainLength, ByteBuffer dst) {
    switch (table.image().blocks().get(index)) {
      case BlockEntry.Zero z -> {
        putZeros(dst, n);
        return true;
      }
      case BlockEntry.Stored s -> {
        byte[] ready;
        synchronized (decoded) {
          ready = decoded.get(index);
        }
        if (ready != null) {
          dst.put(ready, within, n);
          return true;
        }
        return within == 0 && n == plainLength && tier != null && inPageCache(index)
            && tier.contains(index) && tier.readInto(index, dst);
      }
    }
  }

  private static void putZeros(ByteBuffer dst, int n) {
    for (int left = n; left > 0; ) {
      int k = Math.min(left, ZEROS.length);
      dst.put(ZEROS, 0, k);
      left -= k;
    }
  }

  private void readBlocks(long offset, ByteBuffer dst) throws IOException {
    long pos = offset;
    while (dst.hasRemaining()) {
      int index = (int) (pos >>> blockShift);
      int within = (int) (pos - ((long) index << blockShift));
      int plainLength = table.image().blockLength(index, table.blockSize());
      int n = Math.min(dst.remaining(), plainLength - within);
      BlockEntry entry = table.image().blocks().get(index);
      switch (entry) {
        case BlockEntry.Zero z -> putZeros(dst, n);
        case BlockEntry.Stored s -> {
          if (within == 0 && n == plainLength && dst.isDirect()) {
            readWholeBlock(index, s, plainLength, dst);
          } else {
            dst.put(plaintext(index, s, plainLength), within, n);
          }
        }
      }
      noteAccess(index);
      pos += n;
    }
  }

  /**
   * A read that covers block {@code index} whole (NBD clients and the kernel often read exactly one block):
   * from decoded memory if it is there, else decoded straight from the cache's copy into {@code dst}, with
   * no array in between and without taking room in decoded memory (a whole-block reader does not come back
   * for pieces). A block that is not cached is loaded (fetched, single flight with readahead and other
   * readers) and its verified stored bytes decoded straight into {@code dst} as well: one decode, no plaintext
   * array.
   */
  private void readWholeBlock(int index, BlockEntry.Stored entry, int plainLength, ByteBuffer dst)
      throws IOException {
    CompletableFuture<byte[]> theirs;
    byte[] ready;
    boolean marked = false; // keeps decode-ahead off this block while we decode it
    synchronized (decoded) {
      ready = decoded.get(index);
      theirs = ready == null ? decodingNow.get(index) : null;
      if (ready == null && theirs == null) {
        marked = decodingDirect.add(index); // false: another whole-block read decodes it too
      }
    }
    if (ready == null && theirs != null) {
      ready = waitFor(theirs);
    }
    if (ready != null) {
      dst.put(ready, 0, plainLength);
      return;
    }
    long offset = (long) index << blockShift;
    try {
      // The decoded tier: one positional read straight into dst, checked against the block's CRC-32C.
      if (tier != null && tier.readInto(index, dst)) {
        touched(index);
        return;
      }
      // A block known not to be cached skips the cache read: one RocksDB lookup fewer, one miss counted, not two.
      if (loader.isCached(entry.name()) && decodeCached(index, entry, plainLength, dst)) {
        return;
      }
      // Not cached: fetched (or taken from the readahead already fetching it) and decoded once, straight
      // into dst. Decoded memory is for readers of pieces; a whole-block reader does not come back for more.
      BlockLoader.Loaded loaded;
      try {
        loaded = loader.load(entry);
      } catch (IOException e) {
        throw new BlockUnavailableException(id(), index, offset, e.getMessage(), e);
      }
      decodeInto(index, entry, ByteBuffer.wrap(loaded.stored()), loaded.source(), dst, plainLength);
    } finally {
      if (marked) {
        synchronized (decoded) {
          decodingDirect.remove(index);
        }
      }
    }
  }

  /**
   * Decodes block {@code index} from the cache's copy straight into {@code dst} (through a reused direct
   * buffer, no Java array); false when the cache does not have it (or dropped it: it did not verify).
   */
  private boolean decodeCached(int index, BlockEntry.Stored entry, int plainLength, ByteBuffer dst)
      throws IOException {
    long offset = (long) index << blockShift;
    ByteBuffer scratch = takeScratch(entry.storedLength());
    try {
      boolean hit;
      try {
        hit = loader.store().getInto(entry, scratch);
      } catch (IOException e) {
        throw new BlockUnavailableException(id(), index, offset, e.getMessage(), e);
      }
      if (!hit) {
        return false;
      }
      decodeInto(index, entry, scratch, "cache", dst, plainLength);
      return true;
    } finally {
      giveScratch(scratch);
    }
  }

  /**
   * Decodes block {@code index}'s verified stored bytes (from {@code source}, for the error) into {@code dst};
   * a block decoded a second time is kept in the decoded tier.
   */
  private void decodeInto(int index, BlockEntry.Stored entry, ByteBuffer stored, String source, ByteBuffer dst,
      int plainLength) throws BlockUnavailableException {
    int start = dst.position();
    try {
      table.codec().decodeInto(stored, dst, plainLength);
    } catch (FormatException e) {
      throw new BlockUnavailableException(id(), index, (long) index << blockShift,
          "block " + entry.name() + " from " + source + " verifies but does not decode: " + e.getMessage(), e);
    }
    if (tier != null && tier.decodedBefore(index)) {
      tier.write(index, dst.slice(start, plainLength)); // decoded a second time: keep it decoded
      touched(index);
    }
  }

  /** Direct buffers that hold a block's stored bytes for one {@link #readWholeBlock} call. */
  private static final java.util.concurrent.ConcurrentLinkedQueue<ByteBuffer> SCRATCH =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private static final int SCRATCH_KEPT = 16;

  private static ByteBuffer takeScratch(int bytes) {
    ByteBuffer b = SCRATCH.poll();
    if (b == null || b.capacity() < bytes) {
      b = ByteBuffer.allocateDirect(Math.max(64 * 1024, Integer.highestOneBit(bytes - 1) << 1));
    }
    return b;
  }

  private static void giveScratch(ByteBuffer b) {
    if (SCRATCH.size() < SCRATCH_KEPT) {
      SCRATCH.offer(b);
    }
  }

  /**
   * The decoded block {@code index}: from memory, or loaded and decoded once however many threads ask
   * at the same time (the kernel reads a block's pieces from several threads at once).
   */
  private byte[] plaintext(int index, BlockEntry.Stored entry, int plainLength) throws IOException {
    return plaintext(index, entry, plainLength, false);
  }

  /**
   * {@link #plaintext}; with {@code ahead} (decode-ahead) returns null instead when the block is no longer
   * ahead of the reader: a whole-block read is decoding it into its caller's buffer (checked together with
   * taking the decode, so the two never both decode it), or the reader has already passed it (a whole-block
   * read keeps nothing in decoded memory, so decoding it now would only decode it a second time, and write
   * it to the decoded tier, during a cold read).
   */
  private byte[] plaintext(int index, BlockEntry.Stored entry, int plainLength, boolean ahead) throws IOException {
    CompletableFuture<byte[]> mine = null;
    CompletableFuture<byte[]> theirs;
    synchronized (decoded) {
      byte[] p = decoded.get(index);
      if (p != null) {
        return p;
      }
      if (ahead && (decodingDirect.contains(index) || index <= lastBlock.get())) {
        return null;
      }
      theirs = decodingNow.get(index);
      if (theirs == null) {
        mine = new CompletableFuture<>();
        decodingNow.put(index, mine);
      }
    }
    if (theirs != null) {
      return waitFor(theirs);
    }
    try {
      byte[] plain = tier == null ? null : tier.read(index);
      if (plain != null) {
        touched(index);
      } else {
        plain = decode(index, entry, plainLength);
      }
      synchronized (decoded) {
        remember(index, plain);
        decodingNow.remove(index);
      }
      mine.complete(plain);
      return plain;
    } catch (IOException | RuntimeException e) {
      synchronized (decoded) {
        decodingNow.remove(index);
      }
      mine.completeExceptionally(e);
      throw e;
    }
  }

  /** Keeps {@code plain} in decoded memory, evicting least recently used blocks above the byte bound. */
  private void remember(int index, byte[] plain) {
    byte[] old = decoded.put(index, plain);
    decodedBytes += plain.length - (old == null ? 0 : old.length);
    var it = decoded.entrySet().iterator();
    while (decodedBytes > maxDecodedBytes && it.hasNext()) {
      decodedBytes -= it.next().getValue().length;
      it.remove();
    }
  }

  /** Plaintext bytes in decoded memory now (tests). */
  long decodedBytes() {
    synchronized (decoded) {
      return decodedBytes;
    }
  }

  private static byte[] waitFor(CompletableFuture<byte[]> f) throws IOException {
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw e;
    }
  }

  private byte[] decode(int index, BlockEntry.Stored entry, int plainLength) throws IOException {
    long offset = (long) index << blockShift;
    BlockLoader.Loaded loaded;
    try {
      loaded = loader.load(entry);
    } catch (IOException e) {
      throw new BlockUnavailableException(id(), index, offset, e.getMessage(), e);
    }
    try {
      byte[] plain = BlockEncoder.decode(table.codec(), loaded.stored(), plainLength);
      if (tier != null && tier.decodedBefore(index)) {
        tier.write(index, plain); // decoded a second time: keep it decoded
        touched(index);
      }
      return plain;
    } catch (FormatException e) {
      throw new BlockUnavailableException(id(), index, offset,
          "block " + entry.name() + " from " + loaded.source() + " verifies but does not decode: " + e.getMessage(), e);
    }
  }

  /**
   * Readahead: when a reader moves to a block next to (or just behind) the one it read before, the
   * following {@code readahead} blocks are fetched in the background if missing, and the next cached
   * ones are decoded ahead into memory, so sequential reads use both the network and spare cores.
   * Decode-ahead runs only while this is the only read in progress: concurrent readers (an NBD client
   * with many requests in flight) keep the cores busy themselves, and decoding ahead for them would
   * only add a copy through decoded memory. The window is near-sequential rather than strictly sequential because the kernel may issue
   * adjacent reads out of order from several threads.
   */
  private void noteAccess(int index) {
    int prev = lastBlock.getAndSet(index);
    if (readahead <= 0 || index == prev || index < prev - 2 || index > prev + 2) {
      return;
    }
    var blocks = table.image().blocks();
    int end = Math.min(blocks.size(), index + 1 + readahead);
    int decodeAhead = 0;
    for (int i = index + 1; i < end; i++) {
      if (blocks.get(i) instanceof BlockEntry.Stored s) {
        if (!loader.isCached(s.name())) {
          loader.prefetch(s);
        } else if (decodeAhead < DECODE_AHEAD && reading.get() <= 1 && (tier == null || !tier.contains(i))) {
          decodeAhead++;
          decodeInBackground(i, s);
        }
      }
    }
  }

  private void decodeInBackground(int index, BlockEntry.Stored entry) {
    synchronized (decoded) {
      if (decoded.containsKey(index) || decoding.contains(index) || decodingDirect.contains(index)
          || decoding.size() >= DECODE_AHEAD) {
        return;
      }
      decoding.add(index);
    }
    try {
      loader.background().execute(() -> {
        try {
          plaintext(index, entry, table.image().blockLength(index, table.blockSize()), true);
        } catch (IOException e) {
          // A demand read of this block will report it.
        } finally {
          synchronized (decoded) {
            decoding.remove(index);
          }
        }
      });
    } catch (RuntimeException rejected) {
      synchronized (decoded) {
        decoding.remove(index);
      }
    }
  }
}
