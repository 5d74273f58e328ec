package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.oscircular.protocol.p2p.NoiseCipherState;

/**
 * Encrypts outbound bytes into noise transport frames. Writes are queued and, on flush, copied
 * straight into frames of up to 65519 plaintext bytes (the largest a 2-byte length allows with the
 * 16-byte tag) that are then encrypted in place: many small yamux frames cost one AEAD operation, and
 * each byte is copied once. A write's promise completes when the frame holding its last byte is written.
 */
final class NoiseFrameEncoder extends ChannelOutboundHandlerAdapter {
  /** Largest plaintext in one noise transport message. */
  static final int MAX_PLAINTEXT = 65535 - NoiseCipherState.TAG;

  private record Pending(ByteBuf data, ChannelPromise promise) {}

  private final NoiseCipherState cipher;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private long queuedBytes;

  NoiseFrameEncoder(NoiseCipherState cipher) {
    this.cipher = cipher;
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    ClosedChannelException cause = new ClosedChannelException();
    for (Pending p : queue) {
      p.data().release();
      p.promise().tryFailure(cause);
    }
    queue.clear();
    queuedBytes = 0;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf buf) {
      queue.add(new Pending(buf, promise));
      queuedBytes += buf.readableBytes();
    } else {
      ctx.write(msg, promise);
    }
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    while (queuedBytes > 0) {
      int n = (int) Math.min(queuedBytes, MAX_PLAINTEXT);
      ByteBuf frame = ctx.alloc().heapBuffer(2 + n + NoiseCipherState.TAG);
      List<ChannelPromise> completed = null;
      try {
        frame.writeShort(n + NoiseCipherState.TAG);
        int need = n;
        while (need > 0 || (!queue.isEmpty() && !queue.peek().data().isReadable())) {
          Pending p = queue.peek();
          int k = Math.min(need, p.data().readableBytes());
          frame.writeBytes(p.data(), k);
          need -= k;
          if (!p.data().isReadable()) {
            queue.poll();
            p.data().release();
            if (!p.promise().isVoid()) {
              if (completed == null) {
                completed = new ArrayList<>(4);
              }
              completed.add(p.promise());
            }
          }
        }
        queuedBytes -= n;
        cipher.encryptInPlace(frame.array(), frame.arrayOffset() + 2, n);
        frame.writerIndex(2 + n + NoiseCipherState.TAG);
      } catch (RuntimeException e) {
        frame.release();
        if (completed != null) {
          completed.forEach(p -> p.tryFailure(e));
        }
        throw e;
      }
      ctx.write(frame, completed == null ? ctx.voidPromise() : combined(ctx, completed));
    }
    while (!queue.isEmpty()) { // only empty buffers are left: pass them on in order
      Pending p = queue.poll();
      ctx.write(p.data(), p.promise());
    }
    ctx.flush();
  }

  private static ChannelPromise combined(ChannelHandlerContext ctx, List<ChannelPromise> promises) {
    if (promises.size() == 1) {
      return promises.getFirst();
    }
    ChannelPromise frame = ctx.newPromise();
    frame.addListener(f -> {
      for (ChannelPromise p : promises) {
        if (f.isSuccess()) {
          p.trySuccess();
        } else {
          p.tryFailure(f.cause());
        }
      }
    });
    return frame;
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    flush(ctx);
    ctx.close(promise);
  }
}
