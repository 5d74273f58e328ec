package org.oscircular.protocol.p2p;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import javax.crypto.KeyAgreement;

/** An X25519 key pair for Noise, with raw 32-byte keys, on the JDK's XDH provider. */
public final class X25519 {
  private static final byte[] PKCS8_PREFIX = hex("302e020100300506032b656e04220420");
  private static final byte[] SPKI_PREFIX = hex("302a300506032b656e032100");

  private final PrivateKey privateKey;
  private final byte[] publicKey;

  private X25519(byte[] privateBytes) {
    try {
      KeyFactory kf = KeyFactory.getInstance("XDH");
      this.privateKey = kf.generatePrivate(new PKCS8EncodedKeySpec(concat(PKCS8_PREFIX, privateBytes)));
      // The public key is the scalar multiplication of the base point u = 9.
      PublicKey base = kf.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, BigInteger.valueOf(9)));
      KeyAgreement ka = KeyAgreement.getInstance("X25519");
      ka.init(privateKey);
      ka.doPhase(base, true);
      this.publicKey = ka.generateSecret();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("X25519 is not available in this JDK", e);
    }
  }

  public static X25519 fromPrivate(byte[] privateBytes) {
    if (privateBytes.length != 32) {
      throw new IllegalArgumentException("X25519 private key must be 32 bytes");
    }
    return new X25519(privateBytes.clone());
  }

  public static X25519 generate(SecureRandom random) {
    byte[] k = new byte[32];
    random.nextBytes(k);
    return new X25519(k);
  }

  public byte[] publicKey() {
    return publicKey.clone();
  }

  /**
   * Diffie-Hellman with a peer's raw public key.
   *
   * @throws WireFormatException if the peer's key is invalid (e.g. a low-order point)
   */
  public byte[] dh(byte[] remotePublic) {
    try {
      PublicKey pub =
          KeyFactory.getInstance("XDH").generatePublic(new X509EncodedKeySpec(concat(SPKI_PREFIX, remotePublic)));
      KeyAgreement ka = KeyAgreement.getInstance("X25519");
      ka.init(privateKey);
      ka.doPhase(pub, true);
      return ka.generateSecret();
    } catch (GeneralSecurityException e) {
      throw new WireFormatException("invalid X25519 public key from peer: " + e.getMessage());
    }
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] hex(String s) {
    return java.util.HexFormat.of().parseHex(s);
  }
}
