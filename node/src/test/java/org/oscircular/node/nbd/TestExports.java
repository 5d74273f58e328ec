package org.oscircular.node.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Exports with known content and scripted failures, for server tests. */
final class TestExports {
  private TestExports() {}

  /** Writes {@code size} seeded pseudo-random bytes to {@code file} and returns them. */
  static byte[] writeImage(Path file, int size, long seed) throws IOException {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    Files.write(file, bytes);
    return bytes;
  }

  /** Fails every read that touches [badFrom, badTo), like a block that does not verify. */
  record Flaky(String name, NbdExport inner, long badFrom, long badTo) implements NbdExport {
    @Override
    public long size() {
      return inner.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
      long end = offset + dst.remaining();
      if (offset < badTo && end > badFrom) {
        throw new IOException("block at " + badFrom + " does not verify (test)");
      }
      inner.read(offset, dst);
    }
  }

  /** Holds every read that starts at offset 0 until {@link #release} (or 30 s pass). */
  record Gated(String name, NbdExport inner, CountDownLatch gate) implements NbdExport {
    Gated(String name, NbdExport inner) {
      this(name, inner, new CountDownLatch(1));
    }

    void release() {
      gate.countDown();
    }

    @Override
    public long size() {
      return inner.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
      if (offset == 0) {
        try {
          if (!gate.await(30, TimeUnit.SECONDS)) {
            throw new IOException("gate never opened");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted");
        }
      }
      inner.read(offset, dst);
    }
  }
}
