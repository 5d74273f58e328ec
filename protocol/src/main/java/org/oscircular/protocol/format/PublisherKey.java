package org.oscircular.protocol.format;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.random.RandomGenerator;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * Ed25519 keys of a publisher. Text forms (one line each, see docs/format.md):
 * {@code circular-ed25519-private <base64 seed>} and {@code circular-ed25519-public <base64 key> [comment]}.
 */
public final class PublisherKey {
  public static final String PRIVATE_TAG = "circular-ed25519-private";
  public static final String PUBLIC_TAG = "circular-ed25519-public";

  private PublisherKey() {}

  /** A public key: 32 raw Ed25519 bytes. */
  public record Public(byte[] raw) {
    public Public {
      if (raw.length != 32) {
        throw new IllegalArgumentException("an Ed25519 public key is 32 bytes, got " + raw.length);
      }
      raw = raw.clone();
    }

    @Override
    public byte[] raw() {
      return raw.clone();
    }

    /** Short, stable identifier: the first 8 bytes of SHA-256(key) in hex. Names key files on origins. */
    public String keyId() {
      return HexFormat.of().formatHex(sha256(raw), 0, 8);
    }

    public boolean verify(byte[] message, byte[] signature) {
      if (signature.length != 64) {
        return false;
      }
      var v = new Ed25519Signer();
      v.init(false, new Ed25519PublicKeyParameters(raw, 0));
      v.update(message, 0, message.length);
      return v.verifySignature(signature);
    }

    public String toText(String comment) {
      return PUBLIC_TAG + " " + Base64.getEncoder().encodeToString(raw)
          + (comment == null || comment.isBlank() ? "" : " " + comment.strip());
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Public p && Arrays.equals(raw, p.raw);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(raw);
    }

    @Override
    public String toString() {
      return "ed25519:" + keyId();
    }
  }

  /** A private key (its 32-byte seed) together with its public key. */
  public static final class Private {
    private final Ed25519PrivateKeyParameters key;
    private final Public pub;

    private Private(byte[] seed) {
      this.key = new Ed25519PrivateKeyParameters(seed, 0);
      this.pub = new Public(key.generatePublicKey().getEncoded());
    }

    public static Private fromSeed(byte[] seed) {
      if (seed.length != 32) {
        throw new IllegalArgumentException("an Ed25519 seed is 32 bytes, got " + seed.length);
      }
      return new Private(seed);
    }

    public static Private generate(RandomGenerator random) {
      byte[] seed = new byte[32];
      random.nextBytes(seed);
      return new Private(seed);
    }

    public Public publicKey() {
      return pub;
    }

    public byte[] sign(byte[] message) {
      var s = new Ed25519Signer();
      s.init(true, key);
      s.update(message, 0, message.length);
      return s.generateSignature();
    }

    public String toText() {
      return PRIVATE_TAG + " " + Base64.getEncoder().encodeToString(key.getEncoded());
    }
  }

  public static Private parsePrivate(String text, String source) throws FormatException {
    byte[] b = parseLine(text, PRIVATE_TAG, source);
    if (b.length != 32) {
      throw new FormatException(source + ": private key must be 32 bytes, got " + b.length);
    }
    return Private.fromSeed(b);
  }

  public static Public parsePublic(String text, String source) throws FormatException {
    byte[] b = parseLine(text, PUBLIC_TAG, source);
    if (b.length != 32) {
      throw new FormatException(source + ": public key must be 32 bytes, got " + b.length);
    }
    return new Public(b);
  }

  private static byte[] parseLine(String text, String tag, String source) throws FormatException {
    for (String line : text.split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      String[] parts = l.split("\\s+");
      if (parts.length < 2 || !parts[0].equals(tag)) {
        throw new FormatException(source + ": expected a line starting with '" + tag + "'");
      }
      try {
        return Base64.getDecoder().decode(parts[1]);
      } catch (IllegalArgumentException e) {
        throw new FormatException(source + ": key is not valid base64");
      }
    }
    throw new FormatException(source + ": no '" + tag + "' line found");
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
