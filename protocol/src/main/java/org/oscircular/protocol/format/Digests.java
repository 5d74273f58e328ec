package org.oscircular.protocol.format;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA1 and SHA-256 with per-thread digest instances (hashing is on every block's hot path). */
public final class Digests {
  private static final ThreadLocal<MessageDigest> SHA1 = ThreadLocal.withInitial(() -> get("SHA-1"));
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> get("SHA-256"));

  private Digests() {}

  private static MessageDigest get(String alg) {
    try {
      return MessageDigest.getInstance(alg);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(alg + " is missing from this JDK", e);
    }
  }

  public static byte[] sha1(byte[] data) {
    return sha1(data, 0, data.length);
  }

  public static byte[] sha1(byte[] data, int off, int len) {
    MessageDigest d = SHA1.get();
    d.update(data, off, len);
    return d.digest();
  }

  public static byte[] sha256(byte[] data) {
    return sha256(data, 0, data.length);
  }

  public static byte[] sha256(byte[] data, int off, int len) {
    MessageDigest d = SHA256.get();
    d.update(data, off, len);
    return d.digest();
  }

  /** SHA-256 of {@code data}'s remaining bytes; its position is left as it was. */
  public static byte[] sha256(ByteBuffer data) {
    MessageDigest d = SHA256.get();
    d.update(data.duplicate());
    return d.digest();
  }
}
