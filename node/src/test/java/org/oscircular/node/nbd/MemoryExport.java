package org.oscircular.node.nbd;

import java.nio.ByteBuffer;

/** An export held in a byte array. */
record MemoryExport(String name, byte[] bytes) implements NbdExport {
  @Override
  public long size() {
    return bytes.length;
  }

  @Override
  public void read(long offset, ByteBuffer dst) {
    dst.put(bytes, (int) offset, dst.remaining());
  }
}
