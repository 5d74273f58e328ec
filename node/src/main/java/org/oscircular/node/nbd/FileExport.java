package org.oscircular.node.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A regular file (a raw disk image) served read-only; positional reads, shared by all clients. */
public final class FileExport implements NbdExport, AutoCloseable {
  private final String name;
  private final Path file;
  private final FileChannel channel;
  private final long size;
  private final FileHoles holes; // null where lseek(SEEK_DATA/SEEK_HOLE) is not available

  private FileExport(String name, Path file, FileChannel channel, long size) {
    this.name = name;
    this.file = file;
    this.channel = channel;
    this.size = size;
    this.holes = FileHoles.open(file);
  }

  /** Opens {@code file} read-only; its size is fixed at this moment. */
  public static FileExport open(String name, Path file) throws IOException {
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "no such image file");
    }
    try {
      return new FileExport(name, file, ch, ch.size());
    } catch (RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public String description() {
    return "file " + file;
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    long pos = offset;
    while (dst.hasRemaining()) {
      int n = channel.read(dst, pos);
      if (n < 0) {
        throw new EOFException(file + ": end of file at offset " + pos + " (file shrank?)");
      }
      pos += n;
    }
  }

  /**
   * The file's holes (hole and zero) and data, from {@code lseek(SEEK_DATA/SEEK_HOLE)}; on a worker,
   * since the file system may read its extent tree from disk.
   */
  @Override
  public java.util.List<Extent> allocation(long offset, long length, int maxExtents) throws IOException {
    return holes == null ? java.util.List.of(new Extent(length, 0))
        : holes.map(offset, length, size, maxExtents);
  }

  /** Without hole lookups everything is data (flags 0), which the protocol allows, answered at once. */
  @Override
  public java.util.List<Extent> allocationNow(long offset, long length, int maxExtents) {
    return holes == null ? java.util.List.of(new Extent(length, 0)) : null;
  }

  @Override
  public void close() throws IOException {
    channel.close();
    if (holes != null) {
      holes.close();
    }
  }
}
