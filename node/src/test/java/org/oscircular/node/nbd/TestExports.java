package org.oscircular.node.nbd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.oscircular.node.cache.LentBytes;

/** Exports with known content and scripted failures, for server tests. */
final class TestExports {
  private TestExports() {}

  /** Waits for a test to open {@code gate}; 30 s at most. */
  private static void awaitGate(CountDownLatch gate) throws IOException {
    try {
      if (!gate.await(30, TimeUnit.SECONDS)) {
        throw new IOException("gate never opened");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }

  /** {@code inner.read} for the at-hand calls, which declare no IOException. */
  private static void readUnchecked(NbdExport inner, long offset, ByteBuffer dst) {
    try {
      inner.read(offset, dst);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

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

  /** Holds every read that starts at offset 0 until {@link #release} (or 30 s pass); counts them in {@code held}. */
  record Gated(String name, NbdExport inner, CountDownLatch gate, AtomicInteger held) implements NbdExport {
    Gated(String name, NbdExport inner) {
      this(name, inner, new CountDownLatch(1), new AtomicInteger());
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
        held.incrementAndGet();
        awaitGate(gate);
      }
      inner.read(offset, dst);
    }
  }

  /**
   * Has the bytes below {@code atHandBelow} at hand ({@link NbdExport#readNow} serves them), except a
   * range whose at-hand copy is damaged: readNow scribbles over the buffer there and refuses, as a tier
   * copy that fails its check does. Counts the calls and the threads they ran on.
   */
  record AtHand(String name, NbdExport inner, long atHandBelow, long damagedFrom, long damagedTo,
      AtomicInteger servedNow, AtomicInteger read, Set<Thread> nowThreads, Set<Thread> readThreads)
      implements NbdExport {
    AtHand(String name, NbdExport inner, long atHandBelow, long damagedFrom, long damagedTo) {
      this(name, inner, atHandBelow, damagedFrom, damagedTo, new AtomicInteger(), new AtomicInteger(),
          ConcurrentHashMap.newKeySet(), ConcurrentHashMap.newKeySet());
    }

    @Override
    public long size() {
      return inner.size();
    }

    @Override
    public boolean readNow(long offset, ByteBuffer dst) {
      nowThreads.add(Thread.currentThread());
      long end = offset + dst.remaining();
      if (offset < damagedTo && end > damagedFrom) {
        for (int i = dst.position(); i < dst.limit(); i++) {
          dst.put(i, (byte) 0x5a);
        }
        return false;
      }
      if (end > atHandBelow) {
        return false;
      }
      readUnchecked(inner, offset, dst);
      servedNow.incrementAndGet();
      return true;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
      readThreads.add(Thread.currentThread());
      read.incrementAndGet();
      inner.read(offset, dst);
    }
  }

  /**
   * Lends the bytes below {@code lentBelow} ({@link NbdExport#viewNow}) as three read-only direct buffers
   * per read, cut at uneven places; everything else goes to the pool. Counts the calls and their threads.
   */
  record Lent(String name, NbdExport inner, long lentBelow, AtomicInteger lent, AtomicInteger givenBack,
      AtomicInteger read, Set<Thread> lentThreads) implements NbdExport {
    Lent(String name, NbdExport inner, long lentBelow) {
      this(name, inner, lentBelow, new AtomicInteger(), new AtomicInteger(), new AtomicInteger(),
          ConcurrentHashMap.newKeySet());
    }

    @Override
    public long size() {
      return inner.size();
    }

    @Override
    public LentBytes viewNow(long offset, int length) {
      lentThreads.add(Thread.currentThread());
      if (offset + length > lentBelow) {
        return null;
      }
      ByteBuffer all = ByteBuffer.allocateDirect(length);
      readUnchecked(inner, offset, all);
      all.flip();
      int a = length / 3;
      int b = length / 3 + length / 5;
      lent.incrementAndGet();
      ByteBuffer[] views = length == 0 ? new ByteBuffer[0] : new ByteBuffer[] {all.slice(0, a).asReadOnlyBuffer(),
          all.slice(a, b - a).asReadOnlyBuffer(), all.slice(b, length - b).asReadOnlyBuffer()};
      return new LentBytes(views, givenBack::incrementAndGet);
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
      read.incrementAndGet();
      inner.read(offset, dst);
    }
  }

  /**
   * Knows its preferred block size only once it has loaded it, as an image version knows its block size
   * once its table is loaded: {@link #preferredBlockSizeNow} says 0 until then. A load waits for
   * {@link #release}, then gives {@code blockSize}, or fails when {@code blockSize} is 0. Counts the loads
   * and the threads they ran on.
   */
  static final class LoadsBlockSize implements NbdExport {
    private final String name;
    private final NbdExport inner;
    private final int blockSize;
    private final CountDownLatch gate = new CountDownLatch(1);
    private volatile int loaded;
    final AtomicInteger loads = new AtomicInteger();
    final Set<Thread> loadThreads = ConcurrentHashMap.newKeySet();

    LoadsBlockSize(String name, NbdExport inner, int blockSize) {
      this.name = name;
      this.inner = inner;
      this.blockSize = blockSize;
    }

    void release() {
      gate.countDown();
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public long size() {
      return inner.size();
    }

    @Override
    public int preferredBlockSizeNow() {
      return loaded;
    }

    @Override
    public int preferredBlockSize() throws IOException {
      loads.incrementAndGet();
      loadThreads.add(Thread.currentThread());
      awaitGate(gate);
      if (blockSize == 0) {
        throw new IOException("what the block size comes from cannot be had (test)");
      }
      loaded = blockSize;
      return blockSize;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
      inner.read(offset, dst);
    }
  }
}
