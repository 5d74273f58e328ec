package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/** A test protocol that echoes every byte back, with backpressure, and a client that checks the echo. */
final class Echo {
  static final String PROTOCOL_ID = "/circular/test/echo/1.0.0";
  static final int CHUNK = 64 * 1024;

  private Echo() {}

  /** Serves echo: pauses reading while a write waits for window, closes when the peer does. */
  static void serve(P2pStream stream) {
    stream.setListener(new StreamListener() {
      @Override
      public void onData(P2pStream s, ByteBuf data) {
        CompletableFuture<Void> w = s.write(data.retain());
        if (!w.isDone()) {
          s.setAutoRead(false);
          w.whenComplete((v, t) -> s.setAutoRead(true));
        }
      }

      @Override
      public void onReadClosed(P2pStream s) {
        s.closeWrite();
      }
    });
  }

  /** SHA-256 of {@code total} pseudo-random bytes from {@code seed}, as {@link #exchange} sends them. */
  static byte[] expectedDigest(long seed, long total) {
    MessageDigest md = sha256();
    SplittableRandom r = new SplittableRandom(seed);
    byte[] buf = new byte[CHUNK];
    for (long sent = 0; sent < total; sent += CHUNK) {
      int n = (int) Math.min(CHUNK, total - sent);
      fill(r, buf, n);
      md.update(buf, 0, n);
    }
    return md.digest();
  }

  /**
   * Sends {@code total} seeded pseudo-random bytes on {@code stream} (at most 8 chunks in flight),
   * half-closes, and completes with the SHA-256 of everything echoed back once the peer closes.
   */
  static CompletableFuture<byte[]> exchange(P2pStream stream, long seed, long total) {
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    MessageDigest md = sha256();
    long[] received = {0};
    stream.setListener(new StreamListener() {
      @Override
      public void onData(P2pStream s, ByteBuf data) {
        received[0] += data.readableBytes();
        md.update(data.nioBuffer());
      }

      @Override
      public void onReadClosed(P2pStream s) {
        if (received[0] != total) {
          result.completeExceptionally(new AssertionError("echoed " + received[0] + " of " + total + " bytes"));
        } else {
          result.complete(md.digest());
        }
        s.closeWrite();
      }

      @Override
      public void onReset(P2pStream s, Throwable cause) {
        result.completeExceptionally(cause);
      }
    });
    Thread.ofVirtual().start(() -> {
      try {
        Semaphore inFlight = new Semaphore(8);
        SplittableRandom r = new SplittableRandom(seed);
        for (long sent = 0; sent < total; sent += CHUNK) {
          int n = (int) Math.min(CHUNK, total - sent);
          byte[] buf = new byte[n];
          fill(r, buf, n);
          inFlight.acquire();
          stream.write(Unpooled.wrappedBuffer(buf)).whenComplete((v, t) -> inFlight.release());
        }
        stream.closeWrite();
      } catch (InterruptedException e) {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  /** Like {@link #exchange} but sends one reused buffer and only counts: for throughput measurements. */
  static CompletableFuture<byte[]> exchangeFast(P2pStream stream, long total) {
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    long[] received = {0};
    stream.setListener(new StreamListener() {
      @Override
      public void onData(P2pStream s, ByteBuf data) {
        received[0] += data.readableBytes();
      }

      @Override
      public void onReadClosed(P2pStream s) {
        result.complete(new byte[0]);
        s.closeWrite();
      }

      @Override
      public void onReset(P2pStream s, Throwable cause) {
        result.completeExceptionally(cause);
      }
    });
    byte[] chunk = new byte[CHUNK];
    new SplittableRandom(1).nextBytes(chunk);
    Thread.ofVirtual().start(() -> {
      try {
        Semaphore inFlight = new Semaphore(16);
        for (long sent = 0; sent < total; sent += CHUNK) {
          int n = (int) Math.min(CHUNK, total - sent);
          inFlight.acquire();
          stream.write(Unpooled.wrappedBuffer(chunk, 0, n)).whenComplete((v, t) -> inFlight.release());
        }
        stream.closeWrite();
      } catch (InterruptedException e) {
        result.completeExceptionally(e);
      }
    });
    return result.thenApply(b -> {
      if (received[0] != total) {
        throw new AssertionError("echoed " + received[0] + " of " + total);
      }
      return b;
    });
  }

  private static void fill(SplittableRandom r, byte[] buf, int n) {
    for (int i = 0; i < n; i += 8) {
      long v = r.nextLong();
      for (int j = 0; j < 8 && i + j < n; j++) {
        buf[i + j] = (byte) (v >>> (8 * j));
      }
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
