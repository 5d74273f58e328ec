package org.oscircular.node.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.NoiseCipherState;
import org.oscircular.protocol.p2p.NoiseHandshake;
import org.oscircular.protocol.p2p.X25519;

/** The noise transport codec: how writes become frames, and back. */
class NoiseFrameCodecTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Sender and receiver cipher states of one direction of a fresh session. */
  private static NoiseCipherState[] cipherPair() {
    NoiseHandshake i = NoiseHandshake.initiator(IdentityKey.generate(RANDOM), X25519.generate(RANDOM), X25519.generate(RANDOM), null);
    NoiseHandshake r = NoiseHandshake.responder(IdentityKey.generate(RANDOM), X25519.generate(RANDOM), X25519.generate(RANDOM));
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    r.readMessage(i.writeMessage());
    return new NoiseCipherState[] {i.result().sender(), r.result().receiver()};
  }

  private static List<ByteBuf> outbound(EmbeddedChannel ch) {
    List<ByteBuf> frames = new ArrayList<>();
    for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
      frames.add(b);
    }
    return frames;
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  @Test
  void coalescesSmallWritesIntoOneNoiseFrame() {
    NoiseCipherState[] keys = cipherPair();
    EmbeddedChannel ch = new EmbeddedChannel(new NoiseFrameEncoder(keys[0]));
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int i = 0; i < 100; i++) {
      byte[] b = bytes(12 + i, i);
      all.writeBytes(b);
      ch.write(Unpooled.wrappedBuffer(b));
    }
    assertTrue(outbound(ch).isEmpty(), "nothing leaves before the flush");
    ch.flush();

    List<ByteBuf> frames = outbound(ch);
    assertEquals(1, frames.size());
    ByteBuf f = frames.getFirst();
    assertEquals(all.size() + NoiseCipherState.TAG, f.readUnsignedShort());
    byte[] sealed = new byte[f.readableBytes()];
    f.readBytes(sealed);
    f.release();
    assertArrayEquals(all.toByteArray(), keys[1].decrypt(null, sealed));
  }

  @Test
  void cutsLargeWritesIntoFullFramesThatTheDecoderReassembles() {
    NoiseCipherState[] keys = cipherPair();
    EmbeddedChannel out = new EmbeddedChannel(new NoiseFrameEncoder(keys[0]));
    byte[] data = bytes(3 * NoiseFrameEncoder.MAX_PLAINTEXT + 1234, 7);
    out.writeAndFlush(Unpooled.wrappedBuffer(data, 0, 100_000));
    out.writeAndFlush(Unpooled.wrappedBuffer(data, 100_000, data.length - 100_000));
    List<ByteBuf> frames = outbound(out);
    assertEquals(65535, frames.get(0).getUnsignedShort(0), "the first frame is full");

    // the receiver gets the ciphertext in arbitrary TCP-sized pieces
    EmbeddedChannel in = new EmbeddedChannel(new NoiseFrameDecoder(keys[1]));
    ByteBuf wire = Unpooled.wrappedBuffer(frames.toArray(ByteBuf[]::new));
    SplittableRandom cut = new SplittableRandom(3);
    while (wire.isReadable()) {
      in.writeInbound(wire.readRetainedSlice(Math.min(wire.readableBytes(), 1 + cut.nextInt(70_000))));
    }
    wire.release();
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    int plainFrames = 0;
    for (ByteBuf b; (b = in.readInbound()) != null; plainFrames++) {
      byte[] x = new byte[b.readableBytes()];
      b.readBytes(x);
      b.release();
      received.writeBytes(x);
    }
    assertArrayEquals(data, received.toByteArray());
    assertEquals(4, plainFrames, "three full frames and the rest");
  }

  @Test
  void aWritePromiseCompletesWithTheFrameThatCarriesItsLastByte() {
    NoiseCipherState[] keys = cipherPair();
    EmbeddedChannel ch = new EmbeddedChannel(new NoiseFrameEncoder(keys[0]));
    ChannelFuture small = ch.write(Unpooled.wrappedBuffer(bytes(10, 1)));
    ChannelFuture big = ch.write(Unpooled.wrappedBuffer(bytes(2 * NoiseFrameEncoder.MAX_PLAINTEXT, 2)));
    ChannelFuture empty = ch.write(Unpooled.EMPTY_BUFFER);
    assertFalse(small.isDone());
    ch.flush();
    assertTrue(small.isSuccess() && big.isSuccess() && empty.isSuccess());
    assertEquals(3, outbound(ch).size());
    assertNull(ch.readOutbound());
  }

  @Test
  void aTamperedFrameFailsTheChannel() {
    NoiseCipherState[] keys = cipherPair();
    EmbeddedChannel out = new EmbeddedChannel(new NoiseFrameEncoder(keys[0]));
    out.writeAndFlush(Unpooled.wrappedBuffer(bytes(500, 4)));
    ByteBuf frame = out.readOutbound();
    frame.setByte(100, frame.getByte(100) ^ 1);
    EmbeddedChannel in = new EmbeddedChannel(new NoiseFrameDecoder(keys[1]));
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> in.writeInbound(frame));
    assertTrue(YamuxSession.rootMessage(e).contains("failed authentication"), e.toString());
  }
}
