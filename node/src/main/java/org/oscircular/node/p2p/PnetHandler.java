package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.security.SecureRandom;
import org.oscircular.protocol.p2p.PnetCipher;
import org.oscircular.protocol.p2p.PreSharedKey;

/**
 * The private-network layer, first in the pipeline: sends a random 24-byte nonce as soon as the TCP
 * connection is up, reads the peer's, and from then on XORs every byte each way with the XSalsa20 key
 * stream of the pre-shared key and that direction's nonce. Everything above (multistream, noise,
 * yamux) runs unchanged on top; with a different key the peer's multistream header decrypts to
 * garbage and the upgrade fails there.
 */
final class PnetHandler extends ChannelDuplexHandler {
  private final PreSharedKey psk;
  private final SecureRandom random;
  private PnetCipher out;
  private PnetCipher in;
  private final byte[] remoteNonce = new byte[PnetCipher.NONCE_SIZE];
  private int remoteNonceRead;

  PnetHandler(PreSharedKey psk, SecureRandom random) {
    this.psk = psk;
    this.random = random;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      start(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    start(ctx);
    ctx.fireChannelActive();
  }

  private void start(ChannelHandlerContext ctx) {
    if (out != null) {
      return;
    }
    byte[] nonce = new byte[PnetCipher.NONCE_SIZE];
    random.nextBytes(nonce);
    out = new PnetCipher(psk, nonce);
    ctx.writeAndFlush(ctx.alloc().buffer(nonce.length).writeBytes(nonce), ctx.voidPromise());
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!(msg instanceof ByteBuf buf) || !buf.isReadable()) {
      ctx.write(msg, promise);
      return;
    }
    int n = buf.readableBytes();
    ByteBuf enc = ctx.alloc().heapBuffer(n);
    try {
      xor(out, buf, enc, n);
    } finally {
      buf.release();
    }
    ctx.write(enc, promise);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    try {
      if (in == null) {
        int k = Math.min(buf.readableBytes(), remoteNonce.length - remoteNonceRead);
        buf.readBytes(remoteNonce, remoteNonceRead, k);
        remoteNonceRead += k;
        if (remoteNonceRead < remoteNonce.length) {
          return;
        }
        in = new PnetCipher(psk, remoteNonce);
      }
      int n = buf.readableBytes();
      if (n == 0) {
        return;
      }
      ByteBuf dec = ctx.alloc().heapBuffer(n);
      xor(in, buf, dec, n);
      ctx.fireChannelRead(dec);
    } finally {
      buf.release();
    }
  }

  /** XORs {@code n} readable bytes of {@code src} into {@code dst} (a heap buffer). */
  private static void xor(PnetCipher cipher, ByteBuf src, ByteBuf dst, int n) {
    byte[] out = dst.array();
    int outOff = dst.arrayOffset() + dst.writerIndex();
    if (src.hasArray()) {
      cipher.apply(src.array(), src.arrayOffset() + src.readerIndex(), n, out, outOff);
    } else {
      src.getBytes(src.readerIndex(), out, outOff, n);
      cipher.apply(out, outOff, n, out, outOff);
    }
    src.skipBytes(n);
    dst.writerIndex(dst.writerIndex() + n);
  }
}
