package org.oscircular.protocol.format;

import java.util.List;

/**
 * A byte stream of {@code length} bytes cut into blocks of the table's block size; the last block may
 * be short. The image itself is a blob, and so are attachments such as a kernel or an initrd.
 */
public record Blob(long length, List<BlockEntry> blocks) {
  public Blob {
    if (length < 0) {
      throw new IllegalArgumentException("negative blob length " + length);
    }
    blocks = List.copyOf(blocks);
  }

  /** Plaintext length of block {@code index} for a given block size. */
  public int blockLength(int index, int blockSize) {
    long start = (long) index * blockSize;
    return (int) Math.min(blockSize, length - start);
  }

  /** Number of blocks a blob of {@code length} bytes has at {@code blockSize}. */
  public static int blockCount(long length, int blockSize) {
    long n = (length + blockSize - 1) / blockSize;
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("too many blocks: " + n);
    }
    return (int) n;
  }

  /** Sum of stored lengths of the non-zero blocks. */
  public long storedBytes() {
    long sum = 0;
    for (BlockEntry b : blocks) {
      if (b instanceof BlockEntry.Stored s) {
        sum += s.storedLength();
      }
    }
    return sum;
  }
}
