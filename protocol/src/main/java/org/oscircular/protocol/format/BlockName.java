package org.oscircular.protocol.format;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * The name of a stored block: the SHA1 of its stored (compressed) bytes. Used for file names on the
 * origin, cache keys and DHT keys. SHA1 alone is not trusted: the signed table also carries a SHA-256.
 */
public record BlockName(byte[] sha1) implements Comparable<BlockName> {
  public static final int LENGTH = 20;
  private static final HexFormat HEX = HexFormat.of();

  public BlockName {
    if (sha1.length != LENGTH) {
      throw new IllegalArgumentException("a block name is 20 bytes, got " + sha1.length);
    }
    sha1 = sha1.clone();
  }

  /** Parses 40 hex digits; throws {@link IllegalArgumentException} naming the bad text. */
  public static BlockName parse(String hex) {
    if (hex.length() != 2 * LENGTH) {
      throw new IllegalArgumentException("not a SHA1 block name (40 hex digits): " + hex);
    }
    try {
      return new BlockName(HEX.parseHex(hex));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a SHA1 block name (40 hex digits): " + hex);
    }
  }

  @Override
  public byte[] sha1() {
    return sha1.clone();
  }

  /** The name's bytes without a defensive copy; callers must not modify them. */
  byte[] raw() {
    return sha1;
  }

  public String hex() {
    return HEX.formatHex(sha1);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BlockName other && Arrays.equals(sha1, other.sha1);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(sha1);
  }

  @Override
  public int compareTo(BlockName o) {
    return Arrays.compareUnsigned(sha1, o.sha1);
  }

  @Override
  public String toString() {
    return hex();
  }
}
