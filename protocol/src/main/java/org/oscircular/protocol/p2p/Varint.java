package org.oscircular.protocol.p2p;

import java.nio.ByteBuffer;

/**
 * Unsigned LEB128 varints as multiformats/unsigned-varint specifies them: 7 bits per byte, least
 * significant group first, high bit set on every byte but the last, minimal encoding, at most 9 bytes
 * (63 bits).
 */
public final class Varint {
  /** The longest encoding the spec allows. */
  public static final int MAX_BYTES = 9;

  /** Returned by {@link #read(ByteBuffer)} when the buffer ends before the varint does. */
  public static final long INCOMPLETE = -1;

  private Varint() {}

  /** Number of bytes {@code value} takes when encoded. */
  public static int size(long value) {
    requireEncodable(value);
    int n = 1;
    while ((value >>>= 7) != 0) {
      n++;
    }
    return n;
  }

  public static byte[] encode(long value) {
    byte[] out = new byte[size(value)];
    write(value, out, 0);
    return out;
  }

  /** Writes {@code value} at {@code offset}; returns the offset after it. */
  public static int write(long value, byte[] out, int offset) {
    requireEncodable(value);
    while ((value & ~0x7FL) != 0) {
      out[offset++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out[offset++] = (byte) value;
    return offset;
  }

  public static void write(long value, ByteBuffer out) {
    requireEncodable(value);
    while ((value & ~0x7FL) != 0) {
      out.put((byte) ((value & 0x7F) | 0x80));
      value >>>= 7;
    }
    out.put((byte) value);
  }

  /**
   * Reads one varint at the buffer's position and advances past it. If the buffer ends first, returns
   * {@link #INCOMPLETE} and leaves the position unchanged.
   *
   * @throws WireFormatException if the varint is longer than 9 bytes or not minimally encoded
   */
  public static long read(ByteBuffer in) {
    int start = in.position();
    long value = 0;
    for (int i = 0; i < MAX_BYTES; i++) {
      if (!in.hasRemaining()) {
        in.position(start);
        return INCOMPLETE;
      }
      int b = in.get() & 0xFF;
      value |= (long) (b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) {
        if (b == 0 && i > 0) {
          throw new WireFormatException("varint is not minimally encoded");
        }
        return value;
      }
    }
    throw new WireFormatException("varint longer than " + MAX_BYTES + " bytes");
  }

  /** Reads a varint that must be complete; a truncated one is a format error. */
  public static long readComplete(ByteBuffer in) {
    long v = read(in);
    if (v == INCOMPLETE) {
      throw new WireFormatException("truncated varint");
    }
    return v;
  }

  /** Reads a varint that must fit an int and be at most {@code max}. */
  public static int readLength(ByteBuffer in, int max) {
    long v = readComplete(in);
    if (v > max) {
      throw new WireFormatException("length " + v + " exceeds the limit of " + max);
    }
    return (int) v;
  }

  private static void requireEncodable(long value) {
    if (value < 0) {
      throw new IllegalArgumentException("unsigned varints hold 0..2^63-1, got " + value);
    }
  }
}
