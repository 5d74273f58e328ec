package org.oscircular.protocol.p2p;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Every parser of libp2p bytes from the network either returns a valid value or throws
 * {@link WireFormatException} (or {@link PeerAuthenticationException}): never another exception, never
 * a hang. Seeds live under src/test/resources/org/oscircular/protocol/p2p/P2pFuzzTestInputs/.
 */
class P2pFuzzTest {
  private static final IdentityKey KEY = IdentityKey.fromSeed(new byte[32]);
  private static final byte[] STATIC = new byte[32];
  private static final byte[] EPHEMERAL = new byte[32];

  static {
    Arrays.fill(STATIC, (byte) 7);
    Arrays.fill(EPHEMERAL, (byte) 9);
  }

  /** The swarm key file comes from disk: it parses to a key that writes back the same, or is rejected. */
  @FuzzTest(maxDuration = "10s")
  void swarmKeyFilesParseOrAreRejectedWithAReason(byte[] data) {
    try {
      PreSharedKey k = PreSharedKey.parse(data);
      if (!k.equals(PreSharedKey.parse(k.toFile()))) {
        throw new AssertionError("swarm key does not read back");
      }
    } catch (IllegalArgumentException expected) {
      if (expected.getMessage() == null || expected.getMessage().isBlank()) {
        throw new AssertionError("rejected without a reason", expected);
      }
    }
  }

  @FuzzTest(maxDuration = "10s")
  void varintReadOnlyThrowsWireFormatException(byte[] data) {
    ByteBuffer in = ByteBuffer.wrap(data);
    try {
      long v;
      while ((v = Varint.read(in)) != Varint.INCOMPLETE) {
        if (v < 0) {
          throw new AssertionError("negative varint");
        }
      }
    } catch (WireFormatException expected) {
      // rejected with a message
    }
  }

  @FuzzTest(maxDuration = "10s")
  void multiaddrBytesAreCanonicalWhenTheyParse(byte[] data) {
    try {
      Multiaddr m = Multiaddr.fromBytes(data);
      if (!Arrays.equals(m.toBytes(), data)) {
        throw new AssertionError("multiaddr parsed from non-canonical bytes: " + m);
      }
      m.toString();
    } catch (WireFormatException expected) {
      // rejected with a message
    }
  }

  @FuzzTest(maxDuration = "10s")
  void multiaddrTextRoundTripsWhenItParses(byte[] data) {
    try {
      Multiaddr m = Multiaddr.parse(new String(data, StandardCharsets.UTF_8));
      if (!Multiaddr.fromBytes(m.toBytes()).equals(m)) {
        throw new AssertionError("multiaddr does not round-trip: " + m);
      }
    } catch (WireFormatException expected) {
      // rejected with a message
    }
  }

  @FuzzTest(maxDuration = "10s")
  void peerIdParsersOnlyThrowWireFormatException(byte[] data) {
    try {
      PeerId id = PeerId.fromBytes(data);
      if (!PeerId.parse(id.toString()).equals(id) || !PeerId.parse(id.toCidString()).equals(id)) {
        throw new AssertionError("peer id text forms do not round-trip");
      }
    } catch (WireFormatException expected) {
      // rejected with a message
    }
    try {
      PeerId.parse(new String(data, StandardCharsets.UTF_8));
    } catch (WireFormatException expected) {
      // rejected with a message
    }
  }

  @FuzzTest(maxDuration = "10s")
  void multistreamNegotiationNeverThrows(byte[] data) {
    Multistream listener = Multistream.listener("/noise"::equals);
    listener.onInput(ByteBuffer.wrap(data));
    Multistream dialer = Multistream.dialer(List.of("/noise", "/tls/1.0.0"));
    dialer.onInput(ByteBuffer.wrap(data));
  }

  @FuzzTest(maxDuration = "10s")
  void noiseHandshakeRejectsForgedMessages(byte[] data) {
    // As responder: the fuzz input is message 1, then (if accepted) message 3.
    NoiseHandshake r = NoiseHandshake.responder(KEY, X25519.fromPrivate(STATIC), X25519.fromPrivate(EPHEMERAL));
    try {
      r.readMessage(data);
      r.writeMessage();
      r.readMessage(data);
      throw new AssertionError("a forged message 3 completed the handshake");
    } catch (WireFormatException | PeerAuthenticationException expected) {
      // rejected with a message
    }
    // As initiator: the fuzz input is message 2.
    NoiseHandshake i = NoiseHandshake.initiator(KEY, X25519.fromPrivate(STATIC), X25519.fromPrivate(EPHEMERAL), null);
    i.writeMessage();
    try {
      i.readMessage(data);
      throw new AssertionError("a forged message 2 was accepted");
    } catch (WireFormatException | PeerAuthenticationException expected) {
      // rejected with a message
    }
  }

  @FuzzTest(maxDuration = "10s")
  void yamuxHeaderReadOnlyThrowsWireFormatException(byte[] data) {
    ByteBuffer in = ByteBuffer.wrap(data);
    try {
      YamuxHeader h;
      while ((h = YamuxHeader.read(in)) != null) {
        if (!Arrays.equals(h.toBytes(), Arrays.copyOfRange(data, in.position() - 12, in.position()))) {
          throw new AssertionError("yamux header does not round-trip: " + h);
        }
      }
    } catch (WireFormatException expected) {
      // rejected with a message
    }
  }
}
