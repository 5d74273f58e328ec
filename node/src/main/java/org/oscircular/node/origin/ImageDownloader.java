package org.oscircular.node.origin;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import org.oscircular.protocol.format.Blob;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.FormatException;
import org.oscircular.protocol.format.ImageTable;

/**
 * Reassembles a whole blob (the image or an attachment) into a file: fetches the stored blocks in
 * parallel (with the client's failover and retries), verifies and decodes each block before
 * writing it, leaves zero blocks as holes, and renames the finished file into place.
 */
public final class ImageDownloader {
  private final OriginClient client;
  private final ExecutorService pool;
  private final int parallel;

  /**
   * {@code pool} must have at least {@code parallel} threads (virtual threads are fine); failover and
   * retries of each block are the client's.
   */
  public ImageDownloader(OriginClient client, ExecutorService pool, int parallel) {
    this.client = client;
    this.pool = pool;
    this.parallel = parallel;
  }

  /** Where {@link #download} writes before the rename: beside {@code out}, hidden ({@code .tmp-NAME}). */
  public static Path tempFileOf(Path out) {
    return out.toAbsolutePath().resolveSibling(AtomicFiles.TEMP_PREFIX + out.getFileName());
  }

  /** Writes blob {@code blobName} of {@code table} to {@code out}; {@code progress} gets plaintext bytes done. */
  public void download(ImageTable table, String blobName, Path out, LongConsumer progress) throws IOException {
    Blob blob = table.blob(blobName);
    if (blob == null) {
      throw new IOException(table.id() + " has no '" + blobName + "'");
    }
    Path tmp = tempFileOf(out);
    Files.deleteIfExists(tmp);
    try {
      try (var raf = openForWriting(tmp, out)) {
        raf.setLength(blob.length());
        FileChannel ch = raf.getChannel();
        List<BlockEntry> blocks = blob.blocks();
        var next = new AtomicInteger();
        List<Future<Void>> workers = new ArrayList<>();
        for (int w = 0; w < parallel; w++) {
          workers.add(pool.submit(() -> {
            for (int i; (i = next.getAndIncrement()) < blocks.size(); ) {
              int plainLen = blob.blockLength(i, table.blockSize());
              if (blocks.get(i) instanceof BlockEntry.Stored s) {
                byte[] plain = fetchPlain(table, s, i, plainLen);
                ByteBuffer bb = ByteBuffer.wrap(plain);
                long pos = (long) i * table.blockSize();
                try {
                  while (bb.hasRemaining()) {
                    ch.write(bb, pos + bb.position());
                  }
                } catch (ClosedByInterruptException stopped) {
                  throw stopped;
                } catch (IOException e) { // a full disk, most likely: say which file, not only the errno text
                  throw new IOException("cannot write " + out + ": " + e.getMessage(), e);
                }
              }
              progress.accept(plainLen);
            }
            return null;
          }));
        }
        try {
          for (Future<Void> f : workers) {
            await(f);
          }
        } finally {
          next.set(blocks.size());
          for (Future<Void> f : workers) {
            f.cancel(true);
          }
        }
        ch.force(true);
      }
      Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** The partial file, or one line naming OUT and why it cannot be written (no such directory, read-only, …). */
  private static RandomAccessFile openForWriting(Path tmp, Path out) throws IOException {
    Path dir = tmp.getParent();
    if (!Files.isDirectory(dir)) {
      throw new IOException("cannot write " + out + ": directory " + dir + " does not exist");
    }
    try {
      return new RandomAccessFile(tmp.toFile(), "rw");
    } catch (FileNotFoundException e) { // its message is "PATH (reason)", PATH being the hidden temp file
      String m = String.valueOf(e.getMessage());
      int open = m.lastIndexOf(" (");
      String reason = open >= 0 && m.endsWith(")") ? m.substring(open + 2, m.length() - 1) : m;
      throw new IOException("cannot write " + out + ": " + reason, e);
    }
  }

  private byte[] fetchPlain(ImageTable table, BlockEntry.Stored s, int index, int plainLen) throws IOException {
    byte[] stored = client.block(s);
    try {
      return table.codec().decode(stored, plainLen);
    } catch (FormatException e) {
      // Verified bytes that do not decode: the publisher made a bad block, fetching again cannot help.
      throw new FormatException("block " + index + " (" + s.name() + ") of " + table.id()
          + " does not decode: " + e.getMessage());
    }
  }

  private static void await(Future<Void> f) throws IOException {
    try {
      f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("download interrupted");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IOException(e.getCause());
    }
  }
}
