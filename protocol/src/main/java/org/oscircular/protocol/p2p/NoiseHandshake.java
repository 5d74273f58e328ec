package org.oscircular.protocol.p2p;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.oscircular.protocol.p2p.proto.NoiseProto;

/**
 * The libp2p Noise handshake (noise/README.md): {@code Noise_XX_25519_ChaChaPoly_SHA256}, empty
 * prologue, with a signed {@code NoiseHandshakePayload} in messages 2 and 3 binding the Noise static
 * key to the libp2p identity key. Sans I/O: {@link #writeMessage()} returns the next message to send
 * (without the 2-byte length frame) and {@link #readMessage(byte[])} consumes a received one.
 *
 * <pre>
 * initiator                          responder
 *   -> e                          (msg 1: 32 B)
 *   <- e, ee, s, es, payload      (msg 2: 32 + 48 + payload + 16)
 *   -> s, se, payload             (msg 3: 48 + payload + 16)
 * </pre>
 *
 * No extensions are sent, so the muxer is negotiated with multistream-select after the handshake.
 */
public final class NoiseHandshake {
  public static final String PROTOCOL_ID = "/noise";
  /** Largest Noise message (the 2-byte frame length). */
  public static final int MAX_MESSAGE = 65535;

  private static final byte[] PROTOCOL_NAME =
      "Noise_XX_25519_ChaChaPoly_SHA256".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SIGNATURE_PREFIX =
      "noise-libp2p-static-key:".getBytes(StandardCharsets.US_ASCII);

  /** What a completed handshake yields. */
  public record Result(
      NoiseCipherState sender, NoiseCipherState receiver, PeerId remotePeer, byte[] remoteIdentityKey) {}

  private final boolean initiator;
  private final IdentityKey identity;
  private final X25519 s;
  private final X25519 e;
  private final PeerId expectedRemote;
  private byte[] signedStaticKey;

  private byte[] ck;
  private byte[] h;
  private NoiseCipherState k;
  private byte[] re;
  private byte[] rs;
  private int step;
  private Result result;

  private NoiseHandshake(
      boolean initiator, IdentityKey identity, X25519 staticKey, X25519 ephemeral, PeerId expectedRemote) {
    this.initiator = initiator;
    this.identity = identity;
    this.s = staticKey;
    this.e = ephemeral;
    this.expectedRemote = expectedRemote;
    this.signedStaticKey = staticKey.publicKey();
    this.h = PROTOCOL_NAME.clone(); // exactly 32 bytes: used as is, not hashed
    this.ck = h.clone();
    mixHash(new byte[0]); // empty prologue
  }

  /**
   * The dialling side. {@code expectedRemote} is the peer id that was dialled, or null to accept any
   * authenticated peer.
   */
  public static NoiseHandshake initiator(
      IdentityKey identity, X25519 staticKey, X25519 ephemeral, PeerId expectedRemote) {
    return new NoiseHandshake(true, identity, staticKey, ephemeral, expectedRemote);
  }

  public static NoiseHandshake responder(IdentityKey identity, X25519 staticKey, X25519 ephemeral) {
    return new NoiseHandshake(false, identity, staticKey, ephemeral, null);
  }

  /**
   * A side that signs {@code signedKey} instead of its static key: a misbehaving peer, for tests that
   * check the other side refuses it.
   */
  public static NoiseHandshake signingOtherKey(
      boolean initiator, IdentityKey identity, X25519 staticKey, X25519 ephemeral, byte[] signedKey) {
    NoiseHandshake hs = new NoiseHandshake(initiator, identity, staticKey, ephemeral, null);
    hs.signedStaticKey = signedKey.clone();
    return hs;
  }

  /** True when it is this side's turn to write. */
  public boolean needsToWrite() {
    return result == null && (initiator ? step == 0 || step == 2 : step == 1);
  }

  public boolean isComplete() {
    return result != null;
  }

  public Result result() {
    if (result == null) {
      throw new IllegalStateException("handshake not complete");
    }
    return result;
  }

  /** Produces the next outgoing message. */
  public byte[] writeMessage() {
    if (!needsToWrite()) {
      throw new IllegalStateException("not this side's turn to write (step " + step + ")");
    }
    byte[] out;
    if (step == 0) { // -> e
      byte[] epub = e.publicKey();
      mixHash(epub);
      out = concat(epub, encryptAndHash(new byte[0]));
    } else if (step == 1) { // <- e, ee, s, es, payload
      byte[] epub = e.publicKey();
      mixHash(epub);
      mixKey(e.dh(re));
      byte[] encS = encryptAndHash(s.publicKey());
      mixKey(s.dh(re));
      out = concat(epub, concat(encS, encryptAndHash(payload())));
    } else { // -> s, se, payload
      byte[] encS = encryptAndHash(s.publicKey());
      mixKey(s.dh(re));
      out = concat(encS, encryptAndHash(payload()));
    }
    step++;
    if (step == 3) {
      finish();
    }
    return out;
  }

  /**
   * Consumes the peer's next message.
   *
   * @throws WireFormatException if the message is malformed or fails authentication
   * @throws PeerAuthenticationException if the payload signature is wrong or the peer is not the
   *     dialled one
   */
  public void readMessage(byte[] msg) {
    if (needsToWrite() || result != null) {
      throw new WireFormatException("unexpected noise handshake message at step " + step);
    }
    if (msg.length > MAX_MESSAGE) {
      throw new WireFormatException("noise handshake message of " + msg.length + " bytes");
    }
    if (step == 0) { // responder reads -> e
      if (msg.length < 32) {
        throw new WireFormatException("noise message 1 is " + msg.length + " bytes, needs 32");
      }
      re = Arrays.copyOf(msg, 32);
      mixHash(re);
      decryptAndHash(Arrays.copyOfRange(msg, 32, msg.length)); // empty payload (no key yet: plaintext)
    } else if (step == 1) { // initiator reads <- e, ee, s, es, payload
      if (msg.length < 32 + 48 + NoiseCipherState.TAG) {
        throw new WireFormatException("noise message 2 is " + msg.length + " bytes, needs at least 96");
      }
      re = Arrays.copyOf(msg, 32);
      mixHash(re);
      mixKey(e.dh(re));
      rs = decryptAndHash(Arrays.copyOfRange(msg, 32, 80));
      mixKey(e.dh(rs));
      verifyPayload(decryptAndHash(Arrays.copyOfRange(msg, 80, msg.length)));
    } else { // responder reads -> s, se, payload
      if (msg.length < 48 + NoiseCipherState.TAG) {
        throw new WireFormatException("noise message 3 is " + msg.length + " bytes, needs at least 64");
      }
      rs = decryptAndHash(Arrays.copyOf(msg, 48));
      mixKey(e.dh(rs));
      verifyPayload(decryptAndHash(Arrays.copyOfRange(msg, 48, msg.length)));
    }
    step++;
    if (step == 3) {
      finish();
    }
  }

  private PeerId remotePeer;
  private byte[] remoteIdentityKey;

  private byte[] payload() {
    return NoiseProto.NoiseHandshakePayload.newBuilder()
        .setIdentityKey(ByteString.copyFrom(identity.publicKeyProto()))
        .setIdentitySig(ByteString.copyFrom(identity.sign(concat(SIGNATURE_PREFIX, signedStaticKey))))
        .build()
        .toByteArray();
  }

  private void verifyPayload(byte[] bytes) {
    NoiseProto.NoiseHandshakePayload p;
    try {
      p = NoiseProto.NoiseHandshakePayload.parseFrom(bytes);
    } catch (InvalidProtocolBufferException ex) {
      throw new WireFormatException("malformed noise handshake payload", ex);
    }
    if (!p.hasIdentityKey() || !p.hasIdentitySig()) {
      throw new WireFormatException("noise handshake payload lacks identity_key or identity_sig");
    }
    byte[] key = p.getIdentityKey().toByteArray();
    if (!IdentityKey.verify(key, concat(SIGNATURE_PREFIX, rs), p.getIdentitySig().toByteArray())) {
      throw new PeerAuthenticationException("noise handshake: identity signature over the static key is invalid");
    }
    PeerId id = PeerId.fromPublicKey(key);
    if (expectedRemote != null && !expectedRemote.equals(id)) {
      throw new PeerAuthenticationException("dialled " + expectedRemote + " but the peer is " + id);
    }
    remotePeer = id;
    remoteIdentityKey = key;
  }

  private void finish() {
    byte[][] keys = hkdf(ck, new byte[0]);
    NoiseCipherState c1 = new NoiseCipherState(keys[0]);
    NoiseCipherState c2 = new NoiseCipherState(keys[1]);
    result =
        initiator
            ? new Result(c1, c2, remotePeer, remoteIdentityKey)
            : new Result(c2, c1, remotePeer, remoteIdentityKey);
  }

  private void mixHash(byte[] data) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(h);
      sha.update(data);
      h = sha.digest();
    } catch (GeneralSecurityException ex) {
      throw new IllegalStateException(ex);
    }
  }

  private void mixKey(byte[] ikm) {
    byte[][] out = hkdf(ck, ikm);
    ck = out[0];
    k = new NoiseCipherState(out[1]);
  }

  private byte[] encryptAndHash(byte[] plaintext) {
    byte[] c = k == null ? plaintext : k.encrypt(h, plaintext);
    mixHash(c);
    return c;
  }

  private byte[] decryptAndHash(byte[] ciphertext) {
    byte[] p = k == null ? ciphertext : k.decrypt(h, ciphertext);
    mixHash(ciphertext);
    return p;
  }

  private static byte[][] hkdf(byte[] chainingKey, byte[] ikm) {
    byte[] t = hmac(chainingKey, ikm);
    byte[] o1 = hmac(t, new byte[] {1});
    byte[] o2 = hmac(t, concat(o1, new byte[] {2}));
    return new byte[][] {o1, o2};
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException ex) {
      throw new IllegalStateException(ex);
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    return X25519.concat(a, b);
  }
}
