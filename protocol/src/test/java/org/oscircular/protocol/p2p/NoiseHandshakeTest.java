package org.oscircular.protocol.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class NoiseHandshakeTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  static NoiseHandshake.Result[] run(NoiseHandshake i, NoiseHandshake r) {
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    r.readMessage(i.writeMessage());
    return new NoiseHandshake.Result[] {i.result(), r.result()};
  }

  @Test
  void bothSidesLearnEachOthersPeerIdAndShareTransportKeys() {
    IdentityKey a = IdentityKey.generate(RANDOM);
    IdentityKey b = IdentityKey.generate(RANDOM);
    NoiseHandshake.Result[] res = run(
        NoiseHandshake.initiator(a, X25519.generate(RANDOM), X25519.generate(RANDOM), b.peerId()),
        NoiseHandshake.responder(b, X25519.generate(RANDOM), X25519.generate(RANDOM)));
    assertEquals(b.peerId(), res[0].remotePeer());
    assertEquals(a.peerId(), res[1].remotePeer());
    byte[] msg = "hello over noise".getBytes();
    assertArrayEquals(msg, res[1].receiver().decrypt(null, res[0].sender().encrypt(null, msg)));
    assertArrayEquals(msg, res[0].receiver().decrypt(null, res[1].sender().encrypt(null, msg)));
  }

  @Property(tries = 20)
  void isDeterministicGivenTheKeys(@ForAll @Size(32) byte[] s1, @ForAll @Size(32) byte[] e1,
      @ForAll @Size(32) byte[] s2, @ForAll @Size(32) byte[] e2) {
    IdentityKey a = IdentityKey.fromSeed(s1);
    IdentityKey b = IdentityKey.fromSeed(s2);
    byte[][] first = transcript(a, b, s1, e1, s2, e2);
    byte[][] second = transcript(a, b, s1, e1, s2, e2);
    for (int k = 0; k < first.length; k++) {
      assertArrayEquals(first[k], second[k]);
    }
  }

  private static byte[][] transcript(IdentityKey a, IdentityKey b, byte[] s1, byte[] e1, byte[] s2, byte[] e2) {
    NoiseHandshake i = NoiseHandshake.initiator(a, X25519.fromPrivate(s1), X25519.fromPrivate(e1), null);
    NoiseHandshake r = NoiseHandshake.responder(b, X25519.fromPrivate(s2), X25519.fromPrivate(e2));
    byte[] m1 = i.writeMessage();
    r.readMessage(m1);
    byte[] m2 = r.writeMessage();
    i.readMessage(m2);
    byte[] m3 = i.writeMessage();
    r.readMessage(m3);
    return new byte[][] {m1, m2, m3, i.result().sender().encrypt(null, new byte[8])};
  }

  @Test
  void rejectsAResponderThatIsNotTheDialledPeer() {
    IdentityKey a = IdentityKey.generate(RANDOM);
    IdentityKey b = IdentityKey.generate(RANDOM);
    PeerId other = IdentityKey.generate(RANDOM).peerId();
    NoiseHandshake i = NoiseHandshake.initiator(a, X25519.generate(RANDOM), X25519.generate(RANDOM), other);
    NoiseHandshake r = NoiseHandshake.responder(b, X25519.generate(RANDOM), X25519.generate(RANDOM));
    r.readMessage(i.writeMessage());
    byte[] m2 = r.writeMessage();
    PeerAuthenticationException e = assertThrows(PeerAuthenticationException.class, () -> i.readMessage(m2));
    assertTrue(e.getMessage().contains(b.peerId().toString()));
  }

  @Test
  void rejectsAStaticKeySignedByAnotherIdentity() {
    // A responder whose payload carries its identity key but a signature over a different static key.
    IdentityKey a = IdentityKey.generate(RANDOM);
    IdentityKey b = IdentityKey.generate(RANDOM);
    X25519 realStatic = X25519.generate(RANDOM);
    NoiseHandshake i = NoiseHandshake.initiator(a, X25519.generate(RANDOM), X25519.generate(RANDOM), null);
    NoiseHandshake liar = NoiseHandshake.signingOtherKey(false, b, realStatic, X25519.generate(RANDOM),
        X25519.generate(RANDOM).publicKey());
    liar.readMessage(i.writeMessage());
    byte[] m2 = liar.writeMessage();
    assertThrows(PeerAuthenticationException.class, () -> i.readMessage(m2));
  }

  @Test
  void rejectsATamperedHandshakeMessage() {
    IdentityKey a = IdentityKey.generate(RANDOM);
    IdentityKey b = IdentityKey.generate(RANDOM);
    NoiseHandshake i = NoiseHandshake.initiator(a, X25519.generate(RANDOM), X25519.generate(RANDOM), null);
    NoiseHandshake r = NoiseHandshake.responder(b, X25519.generate(RANDOM), X25519.generate(RANDOM));
    r.readMessage(i.writeMessage());
    byte[] m2 = r.writeMessage();
    m2[50] ^= 1;
    assertThrows(WireFormatException.class, () -> i.readMessage(m2));
  }

  @Test
  void rejectsShortMessages() {
    NoiseHandshake r = NoiseHandshake.responder(IdentityKey.generate(RANDOM), X25519.generate(RANDOM), X25519.generate(RANDOM));
    assertThrows(WireFormatException.class, () -> r.readMessage(new byte[10]));
    NoiseHandshake i = NoiseHandshake.initiator(IdentityKey.generate(RANDOM), X25519.generate(RANDOM), X25519.generate(RANDOM), null);
    i.writeMessage();
    assertThrows(WireFormatException.class, () -> i.readMessage(new byte[95]));
  }

  @Test
  void transportCipherRejectsReplayedMessages() {
    NoiseHandshake.Result[] res = run(
        NoiseHandshake.initiator(IdentityKey.generate(RANDOM), X25519.generate(RANDOM), X25519.generate(RANDOM), null),
        NoiseHandshake.responder(IdentityKey.generate(RANDOM), X25519.generate(RANDOM), X25519.generate(RANDOM)));
    byte[] c = res[0].sender().encrypt(null, new byte[100]);
    res[1].receiver().decrypt(null, c);
    assertThrows(WireFormatException.class, () -> res[1].receiver().decrypt(null, Arrays.copyOf(c, c.length)));
  }
}
