package org.oscircular.protocol.p2p;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A multihash: {@code uvarint(code) || uvarint(length) || digest}. Codes used here: identity (0x00),
 * sha1 (0x11), sha2-256 (0x12).
 */
public record Multihash(int code, byte[] digest) {
  public static final int IDENTITY = 0x00;
  public static final int SHA1 = 0x11;
  public static final int SHA2_256 = 0x12;

  /** Largest digest accepted from the wire (identity multihashes of big keys stay well below). */
  public static final int MAX_DIGEST = 1024;

  public Multihash {
    if (code < 0) {
      throw new IllegalArgumentException("negative multihash code " + code);
    }
    if (digest.length > MAX_DIGEST) {
      throw new IllegalArgumentException("digest of " + digest.length + " bytes exceeds " + MAX_DIGEST);
    }
    digest = digest.clone();
  }

  public static Multihash identity(byte[] data) {
    return new Multihash(IDENTITY, data);
  }

  public static Multihash sha256(byte[] data) {
    try {
      return new Multihash(SHA2_256, MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public byte[] digest() {
    return digest.clone();
  }

  public byte[] toBytes() {
    byte[] out = new byte[Varint.size(code) + Varint.size(digest.length) + digest.length];
    int o = Varint.write(code, out, 0);
    o = Varint.write(digest.length, out, o);
    System.arraycopy(digest, 0, out, o, digest.length);
    return out;
  }

  /** Parses exactly one multihash occupying all of {@code bytes}. */
  public static Multihash fromBytes(byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    Multihash mh = read(in);
    if (in.hasRemaining()) {
      throw new WireFormatException(in.remaining() + " bytes after the multihash");
    }
    return mh;
  }

  /** Reads one multihash at the buffer's position. */
  public static Multihash read(ByteBuffer in) {
    long code = Varint.readComplete(in);
    if (code > Integer.MAX_VALUE) {
      throw new WireFormatException("multihash code " + code + " out of range");
    }
    int len = Varint.readLength(in, MAX_DIGEST);
    if (in.remaining() < len) {
      throw new WireFormatException("multihash digest truncated: " + in.remaining() + " of " + len);
    }
    byte[] digest = new byte[len];
    in.get(digest);
    return new Multihash((int) code, digest);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Multihash m && m.code == code && Arrays.equals(m.digest, digest);
  }

  @Override
  public int hashCode() {
    return 31 * code + Arrays.hashCode(digest);
  }

  @Override
  public String toString() {
    return "Multihash[0x" + Integer.toHexString(code) + ", " + HexFormat.of().formatHex(digest) + "]";
  }
}
