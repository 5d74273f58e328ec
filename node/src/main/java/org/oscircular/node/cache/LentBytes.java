package org.oscircular.node.cache;

import java.nio.ByteBuffer;

/**
 * Verified bytes lent without being copied ({@code ImageReader.viewNow}): {@link #views}, read-only and in
 * order, and {@link #giveBack}, to run exactly once when nothing reads them any more (for a reply: once the
 * socket has sent it or failed to). Until then the memory behind the views stays mapped.
 */
public record LentBytes(ByteBuffer[] views, Runnable giveBack) {

  /** Views of memory that is never unmapped (zero blocks): nothing to give back. */
  public static LentBytes of(ByteBuffer... views) {
    return new LentBytes(views, () -> {});
  }
}
