package org.oscircular.node.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.oscircular.node.cache.LentBytes;

/**
 * A read-only block device served over NBD: one image version, or a plain file.
 *
 * <p>Implementations are shared by every connection to the export and are called from many
 * threads at once. {@link #read} may block (it may fetch blocks from the network); the server
 * never calls it on an event-loop thread. {@link #readNow} must not block beyond a positional read
 * of bytes at hand; the server calls it on the event loop first.
 */
public interface NbdExport {

  /** {@code base:allocation} status flag: the extent is not allocated (NBD_STATE_HOLE). */
  int HOLE = 1;

  /** {@code base:allocation} status flag: the extent reads as zeroes (NBD_STATE_ZERO). */
  int ZERO = 2;

  /** {@code length} bytes with the same {@code base:allocation} status ({@link #HOLE}, {@link #ZERO}, or 0 for data). */
  record Extent(long length, int flags) {
    public Extent {
      if (length <= 0) {
        throw new IllegalArgumentException("extent length must be positive, got " + length);
      }
    }
  }

  /** The export name clients ask for, e.g. {@code debian:12.8}. */
  String name();

  /** Exact size in bytes; constant for the lifetime of the export. */
  long size();

  /** A one-line human description (shown by {@code nbdinfo --list}); empty for none. */
  default String description() {
    return "";
  }

  /**
   * The smallest aligned read that the export serves efficiently (a power of two, 512 to
   * 32 MiB); the archive's block size for an image version. May block (an image version fetches its
   * table on first use, as its first read would); the server calls it off the event loop, only when
   * {@link #preferredBlockSizeNow} does not know.
   *
   * @throws IOException if what the size comes from cannot be had (the server then advertises 4096)
   */
  default int preferredBlockSize() throws IOException {
    return preferredBlockSizeNow();
  }

  /**
   * {@link #preferredBlockSize} when that needs no waiting, otherwise 0. The server calls this on an
   * event-loop thread for every NBD_OPT_INFO and NBD_OPT_GO. By default 4096.
   */
  default int preferredBlockSizeNow() {
    return 4096;
  }

  /**
   * Fills {@code dst} (from its position to its limit) with the export's bytes starting at
   * {@code offset}, or throws. Never delivers bytes that were not verified: a block that cannot
   * be fetched or verified fails the whole read with an {@link IOException}.
   *
   * @throws IOException if any byte of the range cannot be read or verified
   */
  void read(long offset, ByteBuffer dst) throws IOException;

  /**
   * Fills {@code dst} as {@link #read} does, but only when that needs no waiting on the network, the block
   * cache or a decoder (the bytes are at hand as verified plaintext: at most a positional read, usually
   * from the page cache); otherwise returns false with {@code dst}'s position unchanged and the server
   * calls {@link #read} on a worker. The server calls this on an event-loop thread, for reads of a few MiB
   * at most. Never delivers bytes that were not verified. By default nothing is at hand.
   */
  default boolean readNow(long offset, ByteBuffer dst) {
    return false;
  }

  /**
   * The bytes of {@code [offset, offset + length)} as read-only buffers to send as they are, in order, when
   * the export has them at hand, verified, in memory it can lend without copying (for an image version:
   * zero blocks and blocks of the decoded tier whose pages are in the page cache, mapped and checked);
   * otherwise null, and the server tries {@link #readNow}, then {@link #read}. The server runs
   * {@link LentBytes#giveBack} once the reply is sent or has failed; until then the buffers must keep their
   * bytes. Called on an event-loop thread, for reads of a few MiB at most; must not block beyond what
   * {@link #readNow} may. Never lends bytes that were not verified. By default nothing is at hand.
   */
  default LentBytes viewNow(long offset, int length) {
    return null;
  }

  /**
   * The {@code base:allocation} map of {@code [offset, offset + length)} (a range within the export,
   * {@code length} at least 1): consecutive extents starting at {@code offset}, at most
   * {@code maxExtents} of them, whose lengths add up to at most {@code length} (less only when
   * {@code maxExtents} ran out). Reporting data (flags 0) is always correct; {@link #HOLE} and
   * {@link #ZERO} let clients skip reading. May block (an image version fetches its table on first
   * use); the server calls it off the event loop. By default the whole range is data.
   *
   * @throws IOException if the map cannot be had (the request then fails with NBD_EIO)
   */
  default List<Extent> allocation(long offset, long length, int maxExtents) throws IOException {
    return List.of(new Extent(length, 0));
  }

  /**
   * The map as {@link #allocation} gives it, when that needs no waiting (nothing to fetch or read from
   * disk); otherwise null and the server calls {@link #allocation} on a worker. The server calls this on
   * an event-loop thread. By default nothing is at hand.
   */
  default List<Extent> allocationNow(long offset, long length, int maxExtents) {
    return null;
  }
}
