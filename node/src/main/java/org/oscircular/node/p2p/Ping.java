package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.random.RandomGenerator;

/**
 * Ping ({@code /ipfs/ping/1.0.0}, ping/ping.md): the client sends 32 random bytes, the server echoes
 * them, repeatedly on one stream, until the client closes its side.
 */
public final class Ping {
  public static final String PROTOCOL_ID = "/ipfs/ping/1.0.0";
  static final int SIZE = 32;

  private Ping() {}

  static void serve(P2pStream stream) {
    stream.setListener(new StreamListener() {
      @Override
      public void onData(P2pStream s, ByteBuf data) {
        s.write(data.retain());
      }

      @Override
      public void onReadClosed(P2pStream s) {
        s.closeWrite();
      }
    });
  }

  /**
   * Pings {@code connection}'s peer {@code count} times on one stream and returns the round-trip
   * times. {@code random} supplies the payloads.
   */
  public static CompletableFuture<List<Duration>> ping(Connection connection, int count, RandomGenerator random) {
    return connection.openStream(PROTOCOL_ID).thenCompose(stream -> {
      CompletableFuture<List<Duration>> result = new CompletableFuture<>();
      List<Duration> rtts = new ArrayList<>();
      ByteBuf received = Unpooled.buffer(SIZE);
      byte[][] sent = new byte[1][];
      long[] start = new long[1];
      Runnable sendOne = () -> {
        sent[0] = new byte[SIZE];
        random.nextBytes(sent[0]);
        start[0] = System.nanoTime();
        stream.write(Unpooled.wrappedBuffer(sent[0].clone()));
      };
      stream.setListener(new StreamListener() {
        @Override
        public void onData(P2pStream s, ByteBuf data) {
          received.writeBytes(data);
          if (received.readableBytes() < SIZE) {
            return;
          }
          long rtt = System.nanoTime() - start[0];
          byte[] echo = new byte[SIZE];
          received.readBytes(echo);
          received.discardReadBytes();
          if (!Arrays.equals(echo, sent[0]) || received.isReadable()) {
            result.completeExceptionally(new IOException("ping answer from " + s.remotePeer() + " does not match"));
            s.reset();
            return;
          }
          rtts.add(Duration.ofNanos(rtt));
          if (rtts.size() == count) {
            result.complete(List.copyOf(rtts));
            s.closeWrite();
          } else {
            sendOne.run();
          }
        }

        @Override
        public void onReadClosed(P2pStream s) {
          if (!result.isDone()) {
            result.completeExceptionally(new IOException("peer closed the ping stream early"));
          }
        }

        @Override
        public void onReset(P2pStream s, Throwable cause) {
          result.completeExceptionally(cause);
        }
      });
      sendOne.run();
      return result;
    });
  }
}
