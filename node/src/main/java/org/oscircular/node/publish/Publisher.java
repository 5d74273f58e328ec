package org.oscircular.node.publish;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.LongConsumer;
import org.oscircular.node.origin.AtomicFiles;
import org.oscircular.node.origin.OriginStore;
import org.oscircular.protocol.format.Blob;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.Digests;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.FormatException;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.PublisherKey;
import org.oscircular.protocol.format.TrustedKeys;

/**
 * Cuts an image (and its attachments) into blocks, encodes and hashes them on a thread pool, writes the
 * blocks the origin lacks, then the signed table, then the re-signed catalog. Memory is bounded: at
 * most {@code 2 × threads + 2} blocks are in flight. Blocks are made durable before the table that
 * names them, and the table before the catalog, so a crash at any point leaves the origin as it was
 * (plus, at worst, unreferenced blocks that gc removes).
 */
public final class Publisher {
  private final OriginStore store;
  private final PublisherKey.Private key;
  private final Clock clock;
  private final ExecutorService pool;
  private final int threads;

  /** What to publish. Attachments map names (kernel, initrd) to files; properties hold e.g. cmdline. */
  public record Request(Path image, String name, String version, int blockSize, Codec codec,
      Map<String, Path> attachments, Map<String, String> properties, Path bootProfile, boolean force,
      Duration tableValidity, Duration catalogValidity) {
    public Request {
      Objects.requireNonNull(image, "image");
      ImageTable.checkName("image name", name);
      ImageTable.checkName("version", version);
      ImageTable.checkBlockSize(blockSize);
      attachments = Map.copyOf(attachments);
      properties = Map.copyOf(properties);
      for (String a : attachments.keySet()) {
        ImageTable.checkName("attachment name", a);
        if (a.equals("image")) {
          throw new IllegalArgumentException("an attachment cannot be called 'image'");
        }
      }
    }
  }

  /** What a publish did. {@code unchanged} means the same version was already published with this content. */
  public record Summary(String id, int blocksTotal, int zeroBlocks, int newBlocks, int presentBlocks,
      long bytesRead, long bytesWritten, Duration elapsed, boolean unchanged, long catalogSequence) {
    /** Share of non-zero blocks that were already present (0-100). */
    public double dedupPercent() {
      int nonZero = newBlocks + presentBlocks;
      return nonZero == 0 ? 100.0 : 100.0 * presentBlocks / nonZero;
    }
  }

  public Publisher(OriginStore store, PublisherKey.Private key, Clock clock, ExecutorService pool, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    this.store = store;
    this.key = key;
    this.clock = clock;
    this.pool = pool;
    this.threads = threads;
  }

  /** Publishes; {@code progress} receives the number of image bytes processed as they are processed. */
  public Summary publish(Request req, LongConsumer progress) throws IOException {
    long imageLength = checkImage(req.image());
    for (var a : req.attachments().entrySet()) {
      if (!Files.isRegularFile(a.getValue())) {
        throw new IOException(a.getKey() + " file " + a.getValue() + " does not exist");
      }
    }
    List<Integer> profile = req.bootProfile() == null ? List.of()
        : BootProfile.parse(Files.readString(req.bootProfile()), req.bootProfile().toString(), imageLength,
            req.blockSize());
    long started = System.nanoTime();
    try (var lock = store.lock(); var syncPool = Executors.newVirtualThreadPerTaskExecutor()) {
      var editor = new CatalogEditor(store, key, clock, req.catalogValidity());
      Catalog catalog = editor.current();
      var existing = catalog.find(req.name(), req.version());
      // Without --force an existing version is only compared, never written to.
      boolean write = existing.isEmpty() || req.force();
      var counts = new Counts();
      var run = new Run(req.codec(), write, syncPool);
      Blob image = cut(req.image(), imageLength, req.blockSize(), run, counts, progress);
      Map<String, Blob> attachments = new LinkedHashMap<>();
      for (var a : new TreeMap<>(req.attachments()).entrySet()) {
        attachments.put(a.getKey(), cut(a.getValue(), Files.size(a.getValue()), req.blockSize(), run, counts, n -> {}));
      }
      Instant now = clock.instant();
      var table = new ImageTable(req.name(), req.version(), req.blockSize(), req.codec(), now,
          now.plus(req.tableValidity()), image, attachments, req.properties(), profile);
      if (existing.isPresent()) {
        ImageTable old = openOwnTable(existing.get());
        if (sameContent(old, table)) {
          if (existing.get().retired() && !req.force()) {
            throw new IOException(table.id() + " is retired; make it live again with 'circular retire --undo' "
                + "(nothing was changed)");
          }
          if (!existing.get().retired()) {
            return counts.summary(table.id(), 0, elapsed(started), true, catalog.sequence());
          }
        }
        if (!req.force()) {
          throw new IOException(table.id() + " is already published with different content; publish a new version "
              + "or use --force to replace it (nothing was changed)");
        }
      }
      run.awaitDurable();
      byte[] signedTable = Documents.signTable(table, key);
      store.writeTable(req.name(), req.version(), signedTable);
      List<Catalog.Entry> entries = new ArrayList<>(catalog.entries());
      entries.removeIf(e -> e.name().equals(req.name()) && e.version().equals(req.version()));
      entries.add(new Catalog.Entry(req.name(), req.version(), Digests.sha256(signedTable), imageLength, now, false));
      Catalog next = editor.write(catalog, entries);
      return counts.summary(table.id(), signedTable.length, elapsed(started), false, next.sequence());
    }
  }

  private static Duration elapsed(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  static long checkImage(Path image) throws IOException {
    if (!Files.isRegularFile(image)) {
      throw new IOException("image " + image + " does not exist or is not a regular file");
    }
    long len = Files.size(image);
    if (len == 0) {
      throw new IOException("image " + image + " is empty");
    }
    if (len % 512 != 0) {
      throw new IOException("image " + image + " is " + len + " bytes, not a multiple of 512 (a disk image is whole sectors)");
    }
    return len;
  }

  private ImageTable openOwnTable(Catalog.Entry e) throws IOException {
    byte[] bytes = store.readTable(e.name(), e.version())
        .orElseThrow(() -> new IOException("the catalog lists " + e.id() + " but its table is missing from "
            + store.root() + "; run verify (nothing was changed)"));
    try {
      return Documents.openTable(bytes, e, TrustedKeys.of(key.publicKey()));
    } catch (FormatException ex) {
      throw new FormatException(ex.getMessage() + " (nothing was changed)", ex);
    }
  }

  static boolean sameContent(ImageTable a, ImageTable b) {
    return a.blockSize() == b.blockSize() && a.codec() == b.codec() && a.image().equals(b.image())
        && a.attachments().equals(b.attachments()) && a.properties().equals(b.properties())
        && a.bootProfile().equals(b.bootProfile());
  }

  /** State of one publish shared by the encoding tasks. */
  private final class Run {
    final Codec codec;
    final boolean write;
    final ExecutorService syncPool;
    /** Names written or found by this publish, so a block repeated in the image is written once. */
    final Set<BlockName> claimed = ConcurrentHashMap.newKeySet();
    final Queue<Path> written = new ConcurrentLinkedQueue<>();
    final Queue<Future<Void>> syncs = new ConcurrentLinkedQueue<>();
    /** fsyncs in flight; many at once let the file system commit them together. */
    final Semaphore syncSlots = new Semaphore(64);

    Run(Codec codec, boolean write, ExecutorService syncPool) {
      this.codec = codec;
      this.write = write;
      this.syncPool = syncPool;
    }

    /** Starts fsyncing a written block on a virtual thread while encoding goes on. */
    void syncLater(Path block) {
      written.add(block);
      syncs.add(syncPool.submit(() -> {
        syncSlots.acquireUninterruptibly();
        try {
          AtomicFiles.force(block);
        } finally {
          syncSlots.release();
        }
        return null;
      }));
    }

    /** Waits until every written block and its directory entry is on disk. */
    void awaitDurable() throws IOException {
      for (Future<Void> f : syncs) {
        await(f);
      }
      store.forceDirectories(List.copyOf(written));
    }
  }

  private enum Outcome { ZERO, NEW, PRESENT }

  private record Done(BlockEntry entry, Outcome outcome, int storedLength) {}

  private static final class Counts {
    int total;
    int zero;
    int fresh;
    int present;
    long read;
    long written;

    void add(Done d, int plainLength) {
      total++;
      read += plainLength;
      switch (d.outcome()) {
        case ZERO -> zero++;
        case NEW -> {
          fresh++;
          written += d.storedLength();
        }
        case PRESENT -> present++;
      }
    }

    Summary summary(String id, long tableBytes, Duration elapsed, boolean unchanged, long seq) {
      return new Summary(id, total, zero, fresh, present, read, unchanged ? 0 : written + tableBytes, elapsed,
          unchanged, seq);
    }
  }

  /** Streams one file through the encoders; returns its blob in block order. */
  private Blob cut(Path file, long length, int bs, Run run, Counts counts, LongConsumer progress)
      throws IOException {
    int count = Blob.blockCount(length, bs);
    int inFlight = 2 * threads + 2;
    BlockingQueue<byte[]> buffers = new ArrayBlockingQueue<>(inFlight);
    for (int i = 0; i < inFlight; i++) {
      buffers.add(new byte[bs]);
    }
    var pending = new ArrayDeque<Future<Done>>();
    var pendingLen = new ArrayDeque<Integer>();
    List<BlockEntry> entries = new ArrayList<>(count);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      for (int i = 0; i < count; i++) {
        int len = (int) Math.min(bs, length - (long) i * bs);
        byte[] buf;
        // Drain finished blocks in order while waiting for a free buffer; this bounds memory.
        while ((buf = buffers.poll()) == null) {
          collect(pending, pendingLen, entries, counts, progress);
        }
        readFully(ch, buf, len, (long) i * bs, file);
        byte[] b = buf;
        pending.add(pool.submit(() -> {
          try {
            return encode(b, len, run);
          } finally {
            buffers.add(b);
          }
        }));
        pendingLen.add(len);
      }
      while (!pending.isEmpty()) {
        collect(pending, pendingLen, entries, counts, progress);
      }
    } finally {
      for (Future<Done> f : pending) {
        f.cancel(false);
      }
    }
    return new Blob(length, entries);
  }

  private static void collect(ArrayDeque<Future<Done>> pending, ArrayDeque<Integer> lens,
      List<BlockEntry> entries, Counts counts, LongConsumer progress) throws IOException {
    Done d = await(pending.peek());
    pending.poll();
    int len = lens.poll();
    entries.add(d.entry());
    counts.add(d, len);
    progress.accept(len);
  }

  private static final byte[] ZEROS = new byte[ImageTable.MAX_BLOCK_SIZE];

  private Done encode(byte[] buf, int len, Run run) throws IOException {
    Codec codec = run.codec;
    if (Arrays.mismatch(buf, 0, len, ZEROS, 0, len) < 0) {
      return new Done(BlockEntry.Zero.INSTANCE, Outcome.ZERO, 0);
    }
    // Codec NONE stores the plaintext as is: hash and write the read buffer without a copy.
    byte[] stored = codec == Codec.NONE ? buf : codec.encode(buf, 0, len);
    int storedLen = codec == Codec.NONE ? len : stored.length;
    var name = new BlockName(Digests.sha1(stored, 0, storedLen));
    var entry = new BlockEntry.Stored(name, Digests.sha256(stored, 0, storedLen), storedLen);
    if (!run.claimed.add(name) || store.hasBlock(name, storedLen)) {
      return new Done(entry, Outcome.PRESENT, storedLen);
    }
    if (run.write) {
      run.syncLater(store.writeBlock(name, stored, 0, storedLen));
    }
    return new Done(entry, Outcome.NEW, storedLen);
  }

  private static void readFully(FileChannel ch, byte[] buf, int len, long pos, Path file) throws IOException {
    ByteBuffer bb = ByteBuffer.wrap(buf, 0, len);
    while (bb.hasRemaining()) {
      int n = ch.read(bb, pos + bb.position());
      if (n < 0) {
        throw new EOFException(file + " shrank while it was being published (at byte " + (pos + bb.position()) + ")");
      }
    }
  }

  private static <T> T await(Future<T> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("publish interrupted");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException io) {
        throw io;
      }
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new IOException(c);
    }
  }

  private static void await(List<Future<Void>> fs) throws IOException {
    for (Future<Void> f : fs) {
      await(f);
    }
  }

}
