package org.oscircular.node.kad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.oscircular.protocol.kad.KadCodec;
import org.oscircular.protocol.kad.KadMessageException;
import org.oscircular.protocol.p2p.Varint;

/** Kad frames come back whole and in order however a stream splits their bytes. */
class KadFrameReaderProperties {

  @Property
  void framesSurviveAnyFragmentation(@ForAll @Size(max = 12) List<@Size(max = 300) byte[]> messages,
      @ForAll @IntRange(min = 1, max = 700) int chunk) throws KadMessageException {
    ByteBuf wire = Unpooled.buffer();
    for (byte[] m : messages) wire.writeBytes(KadFrameReader.frame(m));
    KadFrameReader reader = new KadFrameReader();
    List<byte[]> got = new ArrayList<>();
    while (wire.isReadable()) got.addAll(reader.feed(wire.readRetainedSlice(Math.min(chunk, wire.readableBytes()))));
    assertEquals(messages.size(), got.size());
    for (int i = 0; i < messages.size(); i++) assertArrayEquals(messages.get(i), got.get(i), "message " + i);
    assertFalse(reader.hasPartial());
  }

  @Example
  void aMessageDrippedOneByteAtATimeCostsLinearCopying() throws KadMessageException {
    byte[] big = new byte[1 << 20];
    ByteBuf wire = KadFrameReader.frame(big);
    KadFrameReader reader = new KadFrameReader();
    List<byte[]> got = new ArrayList<>();
    long t0 = System.nanoTime();
    while (wire.isReadable()) got.addAll(reader.feed(wire.readSlice(1)));
    assertEquals(1, got.size());
    assertArrayEquals(big, got.getFirst());
    // quadratic copying (1 MiB per byte fed) would take minutes; linear takes milliseconds
    assertFalse(System.nanoTime() - t0 > 20_000_000_000L, "feeding 1 MiB byte by byte took over 20 s");
  }

  @Example
  void aFrameAboveTheLimitIsRefusedBeforeItsBytesArrive() {
    byte[] header = Varint.encode(KadCodec.MAX_MESSAGE_BYTES + 1L);
    var e = assertThrows(KadMessageException.class, () -> new KadFrameReader().feed(Unpooled.wrappedBuffer(header)));
    assertEquals("kad frame of " + (KadCodec.MAX_MESSAGE_BYTES + 1L) + " bytes exceeds " + KadCodec.MAX_MESSAGE_BYTES,
        e.getMessage());
  }
}
