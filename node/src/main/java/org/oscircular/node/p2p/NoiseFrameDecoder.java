package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import java.util.List;
import org.oscircular.protocol.p2p.NoiseCipherState;
import org.oscircular.protocol.p2p.WireFormatException;

/**
 * Splits {@code uint16 length || ciphertext} noise transport frames and decrypts them. Reads are
 * gathered without copying (composite cumulation); each frame is copied once into a heap buffer and
 * decrypted there in place, which is the fast path of the JDK's ChaCha20-Poly1305.
 */
final class NoiseFrameDecoder extends ByteToMessageDecoder {
  private final NoiseCipherState cipher;

  NoiseFrameDecoder(NoiseCipherState cipher) {
    this.cipher = cipher;
    setCumulator(COMPOSITE_CUMULATOR);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.readableBytes() >= 2) {
      int len = in.getUnsignedShort(in.readerIndex());
      if (in.readableBytes() < 2 + len) {
        return;
      }
      if (len < NoiseCipherState.TAG) {
        throw new DecoderException(new WireFormatException("noise frame of " + len + " bytes is shorter than its tag"));
      }
      ByteBuf plain = ctx.alloc().heapBuffer(len);
      try {
        in.getBytes(in.readerIndex() + 2, plain.array(), plain.arrayOffset(), len);
        plain.writerIndex(cipher.decryptInPlace(plain.array(), plain.arrayOffset(), len));
      } catch (WireFormatException e) {
        plain.release();
        throw new DecoderException(e);
      }
      in.skipBytes(2 + len);
      out.add(plain);
    }
  }
}
