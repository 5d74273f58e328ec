package org.oscircular.node.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayDeque;

/**
 * Direct buffers for read replies, reused by one connection. Reads of a few hundred KiB arrive
 * by the thousand; taking fresh memory for each makes the allocator map and unmap chunks (page
 * faults cost more than the copy itself). Confined to the connection's event loop.
 */
final class ReplyBuffers {
  private static final int MIN_CLASS = 12; // 4 KiB
  private static final int MAX_CLASS = 26; // 64 MiB, > MAX_PAYLOAD + header

  private final ByteBufAllocator alloc;
  private final long keepBytes;
  @SuppressWarnings("unchecked")
  private final ArrayDeque<ByteBuf>[] free = new ArrayDeque[MAX_CLASS + 1];
  private long keptBytes;
  private boolean closed;

  ReplyBuffers(ByteBufAllocator alloc, long keepBytes) {
    this.alloc = alloc;
    this.keepBytes = keepBytes;
  }

  /** An empty direct buffer of at least {@code capacity} bytes. */
  ByteBuf take(int capacity) {
    int cls = Math.max(MIN_CLASS, 32 - Integer.numberOfLeadingZeros(capacity - 1));
    ArrayDeque<ByteBuf> q = free[cls];
    if (q != null && !q.isEmpty()) {
      ByteBuf b = q.pop();
      keptBytes -= b.capacity();
      return b;
    }
    return alloc.directBuffer(1 << cls, 1 << cls);
  }

  /** Returns a buffer no one else holds; kept for reuse while under the byte budget. */
  void give(ByteBuf b) {
    int cls = 31 - Integer.numberOfLeadingZeros(b.capacity());
    if (closed || b.refCnt() != 1 || (1 << cls) != b.capacity() || cls < MIN_CLASS
        || keptBytes + b.capacity() > keepBytes) {
      b.release();
      return;
    }
    if (free[cls] == null) {
      free[cls] = new ArrayDeque<>();
    }
    b.clear();
    free[cls].push(b);
    keptBytes += b.capacity();
  }

  /** Frees everything kept; buffers given back later are freed at once. */
  void close() {
    closed = true;
    for (ArrayDeque<ByteBuf> q : free) {
      if (q != null) {
        q.forEach(ByteBuf::release);
        q.clear();
      }
    }
    keptBytes = 0;
  }
}
