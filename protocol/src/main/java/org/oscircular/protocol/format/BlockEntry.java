package org.oscircular.protocol.format;

import java.util.Arrays;
import java.util.HexFormat;

/** One block of a blob in a table: either all zeros (never stored or fetched) or a stored block. */
public sealed interface BlockEntry permits BlockEntry.Zero, BlockEntry.Stored {

  /** A block whose plaintext is all zeros. */
  record Zero() implements BlockEntry {
    public static final Zero INSTANCE = new Zero();
  }

  /**
   * A stored block: its SHA1 name, the SHA-256 of the same stored bytes, and the stored length. A
   * reader accepts stored bytes only when length, SHA1 and SHA-256 all match.
   */
  record Stored(BlockName name, byte[] sha256, int storedLength) implements BlockEntry {
    public Stored {
      if (sha256.length != 32) {
        throw new IllegalArgumentException("sha256 must be 32 bytes, got " + sha256.length);
      }
      if (storedLength <= 0) {
        throw new IllegalArgumentException("stored length must be positive, got " + storedLength);
      }
      sha256 = sha256.clone();
    }

    @Override
    public byte[] sha256() {
      return sha256.clone();
    }

    byte[] sha256Raw() {
      return sha256;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Stored s
          && name.equals(s.name)
          && storedLength == s.storedLength
          && Arrays.equals(sha256, s.sha256);
    }

    @Override
    public int hashCode() {
      return name.hashCode();
    }

    @Override
    public String toString() {
      return "Stored[" + name + ", sha256=" + HexFormat.of().formatHex(sha256) + ", " + storedLength + " B]";
    }
  }
}
