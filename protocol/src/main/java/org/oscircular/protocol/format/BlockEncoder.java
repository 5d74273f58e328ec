package org.oscircular.protocol.format;

/** Turns one block of plaintext into its table entry and stored bytes. Pure and thread-safe. */
public final class BlockEncoder {
  private final Codec codec;

  public BlockEncoder(Codec codec) {
    this.codec = codec;
  }

  /** The result of encoding one block: a zero block has no stored bytes. */
  public record Encoded(BlockEntry entry, byte[] stored) {}

  public Encoded encode(byte[] plain, int off, int len) {
    if (isZero(plain, off, len)) {
      return new Encoded(BlockEntry.Zero.INSTANCE, null);
    }
    byte[] stored = codec.encode(plain, off, len);
    var name = new BlockName(Digests.sha1(stored));
    return new Encoded(new BlockEntry.Stored(name, Digests.sha256(stored), stored.length), stored);
  }

  /** Decodes verified stored bytes to the block's plaintext. */
  public static byte[] decode(Codec codec, byte[] stored, int plainLength) throws FormatException {
    return codec.decode(stored, plainLength);
  }

  static boolean isZero(byte[] b, int off, int len) {
    int i = off;
    int end = off + len;
    // Compare 8 bytes at a time; the JIT vectorises this loop.
    for (; i + 8 <= end; i += 8) {
      if ((b[i] | b[i + 1] | b[i + 2] | b[i + 3] | b[i + 4] | b[i + 5] | b[i + 6] | b[i + 7]) != 0) {
        return false;
      }
    }
    for (; i < end; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
