package org.oscircular.protocol.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class VarintTest {
  @Test
  void encodesTheSpecExamples() {
    assertArrayEquals(hex("01"), Varint.encode(1));
    assertArrayEquals(hex("7f"), Varint.encode(127));
    assertArrayEquals(hex("8001"), Varint.encode(128));
    assertArrayEquals(hex("ff01"), Varint.encode(255));
    assertArrayEquals(hex("ac02"), Varint.encode(300));
    assertArrayEquals(hex("808001"), Varint.encode(16384));
  }

  @Property
  void decodeInvertsEncode(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long v) {
    byte[] enc = Varint.encode(v);
    assertEquals(Varint.size(v), enc.length);
    ByteBuffer in = ByteBuffer.wrap(enc);
    assertEquals(v, Varint.read(in));
    assertEquals(0, in.remaining());
  }

  @Test
  void reportsATruncatedVarintWithoutConsumingIt() {
    ByteBuffer in = ByteBuffer.wrap(hex("ac"));
    assertEquals(Varint.INCOMPLETE, Varint.read(in));
    assertEquals(0, in.position());
  }

  @Test
  void rejectsNonMinimalAndOverlongEncodings() {
    assertThrows(WireFormatException.class, () -> Varint.read(ByteBuffer.wrap(hex("8000"))));
    assertThrows(WireFormatException.class, () -> Varint.read(ByteBuffer.wrap(hex("ffffffffffffffffff01"))));
  }

  static byte[] hex(String s) {
    return HexFormat.of().parseHex(s);
  }
}
