package org.oscircular.protocol.format;

import java.security.MessageDigest;

/**
 * Checks stored bytes against a table entry before anything else touches them. Hot path: returns a
 * status instead of throwing.
 */
public final class BlockVerifier {
  private BlockVerifier() {}

  public enum Result {
    OK,
    WRONG_LENGTH,
    SHA1_MISMATCH,
    SHA256_MISMATCH;

    public boolean ok() {
      return this == OK;
    }

    public String describe() {
      return switch (this) {
        case OK -> "verified";
        case WRONG_LENGTH -> "wrong length";
        case SHA1_MISMATCH -> "SHA1 does not match its name";
        case SHA256_MISMATCH -> "SHA-256 does not match the signed table";
      };
    }
  }

  public static Result verify(BlockEntry.Stored expected, byte[] stored) {
    return verify(expected, stored, 0, stored.length);
  }

  public static Result verify(BlockEntry.Stored expected, byte[] stored, int off, int len) {
    if (len != expected.storedLength()) {
      return Result.WRONG_LENGTH;
    }
    if (!MessageDigest.isEqual(Digests.sha1(stored, off, len), expected.name().raw())) {
      return Result.SHA1_MISMATCH;
    }
    if (!MessageDigest.isEqual(Digests.sha256(stored, off, len), expected.sha256Raw())) {
      return Result.SHA256_MISMATCH;
    }
    return Result.OK;
  }

  /** Checks only that stored bytes hash to their SHA1 name (when no table entry is at hand, e.g. gc). */
  public static boolean matchesName(BlockName name, byte[] stored) {
    return MessageDigest.isEqual(Digests.sha1(stored), name.raw());
  }
}
