package org.oscircular.protocol.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class MultistreamTest {
  @Test
  void encodesNaWithTheNewlineCounted() {
    assertArrayEquals(new byte[] {3, 'n', 'a', '\n'}, Multistream.encode("na"));
  }

  @Property
  void readInvertsEncode(@ForAll @StringLength(max = 300) String msg) {
    byte[] enc = Multistream.encode(msg.replace('\n', ' '));
    ByteBuffer in = ByteBuffer.wrap(enc);
    assertEquals(msg.replace('\n', ' '), Multistream.read(in));
    assertEquals(0, in.remaining());
  }

  @Test
  void dialerAndListenerAgreeAfterARefusal() {
    Multistream dialer = Multistream.dialer(List.of("/a", "/b"));
    Multistream listener = Multistream.listener(Set.of("/b")::contains);
    byte[] toListener = dialer.start();
    byte[] toDialer = concat(listener.start(), listener.onInput(ByteBuffer.wrap(toListener)));
    byte[] next = dialer.onInput(ByteBuffer.wrap(toDialer));
    assertInstanceOf(Multistream.Pending.class, dialer.outcome());
    byte[] accept = listener.onInput(ByteBuffer.wrap(next));
    assertEquals(new Multistream.Selected("/b"), listener.outcome());
    dialer.onInput(ByteBuffer.wrap(accept));
    assertEquals(new Multistream.Selected("/b"), dialer.outcome());
  }

  @Test
  void leavesBytesAfterTheFinalMessageForTheSelectedProtocol() {
    Multistream listener = Multistream.listener("/x"::equals);
    byte[] in = concat(concat(Multistream.encode(Multistream.PROTOCOL_ID), Multistream.encode("/x")), new byte[] {9, 9});
    ByteBuffer buf = ByteBuffer.wrap(in);
    listener.onInput(buf);
    assertEquals(new Multistream.Selected("/x"), listener.outcome());
    assertEquals(2, buf.remaining());
  }

  @Test
  void failsOnGarbageBeforeTheHeader() {
    Multistream listener = Multistream.listener(p -> true);
    listener.onInput(ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".getBytes()));
    assertInstanceOf(Multistream.Failed.class, listener.outcome());
  }

  @Test
  void failsOnAMessageWithoutNewline() {
    Multistream listener = Multistream.listener(p -> true);
    listener.onInput(ByteBuffer.wrap(new byte[] {3, 'a', 'b', 'c'}));
    assertInstanceOf(Multistream.Failed.class, listener.outcome());
  }

  static byte[] concat(byte[] a, byte[] b) {
    return X25519.concat(a, b);
  }
}
