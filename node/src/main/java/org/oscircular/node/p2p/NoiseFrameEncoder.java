package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CoalescingBufferQueue;
import java.nio.channels.ClosedChannelException;
import org.oscircular.protocol.p2p.NoiseCipherState;

/**
 * Encrypts outbound bytes into noise transport frames. Writes are queued and, on flush, coalesced into
 * frames of up to 65519 plaintext bytes (the largest a 2-byte length allows with the 16-byte tag), so
 * that many small yamux frames cost one AEAD operation.
 */
final class NoiseFrameEncoder extends ChannelOutboundHandlerAdapter {
  /** Largest plaintext in one noise transport message. */
  static final int MAX_PLAINTEXT = 65535 - NoiseCipherState.TAG;

  private final NoiseCipherState cipher;
  private CoalescingBufferQueue queue;

  NoiseFrameEncoder(NoiseCipherState cipher) {
    this.cipher = cipher;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    queue = new CoalescingBufferQueue(ctx.channel(), 4, false);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    queue.releaseAndFailAll(new ClosedChannelException());
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf buf) {
      queue.add(buf, promise);
    } else {
      ctx.write(msg, promise);
    }
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    while (!queue.isEmpty()) {
      ChannelPromise framePromise = ctx.newPromise();
      ByteBuf plain = queue.remove(ctx.alloc(), MAX_PLAINTEXT, framePromise);
      int n = plain.readableBytes();
      ByteBuf frame = ctx.alloc().heapBuffer(2 + n + NoiseCipherState.TAG);
      try {
        frame.writeShort(n + NoiseCipherState.TAG);
        cipher.encrypt(null, plain.nioBuffer(), frame.internalNioBuffer(2, n + NoiseCipherState.TAG));
        frame.writerIndex(2 + n + NoiseCipherState.TAG);
      } catch (RuntimeException e) {
        frame.release();
        framePromise.setFailure(e);
        throw e;
      } finally {
        plain.release();
      }
      ctx.write(frame, framePromise);
    }
    ctx.flush();
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    flush(ctx);
    ctx.close(promise);
  }
}
