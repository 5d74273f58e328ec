package org.oscircular.node.origin;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes that never leave a half-written file under its final name: bytes go to a temporary file in the
 * same directory (named {@code .tmp-*}, which readers and gc ignore), are optionally forced to disk, and
 * the file is renamed over its final name.
 */
public final class AtomicFiles {
  public static final String TEMP_PREFIX = ".tmp-";

  private AtomicFiles() {}

  /** Writes {@code data} to {@code target} atomically; with {@code durable} the data and the rename are fsynced. */
  public static void write(Path target, byte[] data, boolean durable) throws IOException {
    write(target, data, 0, data.length, durable);
  }

  /** Writes {@code data[off, off+len)} to {@code target} atomically. */
  public static void write(Path target, byte[] data, int off, int len, boolean durable) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve(TEMP_PREFIX + target.getFileName() + "-"
        + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(data, off, len);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        if (durable) {
          ch.force(true);
        }
      }
      move(tmp, target);
      if (durable) {
        forceDirectory(dir);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void move(Path tmp, Path target) throws IOException {
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
      throw new IOException("cannot rename " + tmp + " to " + target + " atomically: " + e.getMessage(), e);
    }
  }

  /** Forces a file's data to disk (used after a batch of block writes, before the table refers to them). */
  public static void force(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** Makes renames and creations inside {@code dir} durable. */
  public static void forceDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
