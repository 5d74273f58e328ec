package org.oscircular.protocol.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class YamuxTest {
  @Test
  void encodesAWindowUpdateWithSynAsTheSpecLaysItOut() {
    YamuxHeader h = new YamuxHeader(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_SYN, 1, 0);
    assertEquals("000100010000000100000000", HexFormat.of().formatHex(h.toBytes()));
  }

  @Property
  void headerReadInvertsWrite(@ForAll @IntRange(min = 0, max = 3) int type, @ForAll @IntRange(min = 0, max = 15) int flags,
      @ForAll int streamId, @ForAll @LongRange(min = 0, max = 0xFFFFFFFFL) long length) {
    YamuxHeader h = new YamuxHeader(type, flags, streamId, length);
    assertEquals(h, YamuxHeader.read(ByteBuffer.wrap(h.toBytes())));
  }

  @Test
  void readsCombinedFlagsIndependently() {
    YamuxHeader h = YamuxHeader.read(ByteBuffer.wrap(HexFormat.of().parseHex("000000050000000300000004")));
    assertTrue(h.has(YamuxHeader.FLAG_SYN));
    assertTrue(h.has(YamuxHeader.FLAG_FIN));
    assertFalse(h.has(YamuxHeader.FLAG_ACK));
  }

  @Test
  void rejectsUnknownVersionsAndTypes() {
    assertThrows(WireFormatException.class, () -> YamuxHeader.read(ByteBuffer.wrap(HexFormat.of().parseHex("010000000000000000000000"))));
    assertThrows(WireFormatException.class, () -> YamuxHeader.read(ByteBuffer.wrap(HexFormat.of().parseHex("000400000000000000000000"))));
    assertNull(YamuxHeader.read(ByteBuffer.wrap(new byte[11])));
  }

  @Test
  void flowControlDetectsAWindowViolation() {
    YamuxFlowControl f = new YamuxFlowControl(YamuxFlowControl.INITIAL_WINDOW);
    assertTrue(f.onReceived(YamuxFlowControl.INITIAL_WINDOW));
    assertFalse(f.onReceived(1));
  }

  @Test
  void flowControlReturnsCreditAfterHalfTheWindowIsConsumed() {
    YamuxFlowControl f = new YamuxFlowControl(YamuxFlowControl.INITIAL_WINDOW);
    f.onReceived(200_000);
    assertEquals(0, f.onConsumed(100_000));
    assertEquals(140_000, f.onConsumed(40_000));
    assertEquals(YamuxFlowControl.INITIAL_WINDOW - 200_000 + 140_000, f.receiveWindow());
  }

  @Test
  void aLargerTargetWindowIsGrantedWhenTheStreamOpens() {
    YamuxFlowControl f = new YamuxFlowControl(1 << 20);
    assertEquals((1 << 20) - YamuxFlowControl.INITIAL_WINDOW, f.initialWindowGrant());
    assertTrue(f.onReceived(1 << 20));
  }

  @Property
  void theSenderNeverExceedsTheGrantedWindow(@ForAll @IntRange(min = 1, max = 100_000) int chunk,
      @ForAll @IntRange(min = 0, max = 1_000_000) int grant) {
    YamuxFlowControl f = new YamuxFlowControl(YamuxFlowControl.INITIAL_WINDOW);
    f.onWindowUpdate(grant);
    long sent = 0;
    while (f.sendWindow() > 0) {
      int n = (int) Math.min(chunk, f.sendWindow());
      f.onSent(n);
      sent += n;
    }
    assertEquals(YamuxFlowControl.INITIAL_WINDOW + grant, sent);
  }
}
