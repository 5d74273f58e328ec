package org.oscircular.protocol.p2p;

import java.nio.ByteBuffer;

/**
 * The 12-byte yamux frame header (yamux/README.md), big-endian:
 * {@code version(u8)=0 | type(u8) | flags(u16) | streamId(u32) | length(u32)}. For DATA frames
 * {@code length} body bytes follow; for WINDOW_UPDATE it is a window delta, for PING an opaque value,
 * for GO_AWAY an error code, and no body follows.
 */
public record YamuxHeader(int type, int flags, int streamId, long length) {
  public static final int SIZE = 12;

  public static final int TYPE_DATA = 0;
  public static final int TYPE_WINDOW_UPDATE = 1;
  public static final int TYPE_PING = 2;
  public static final int TYPE_GO_AWAY = 3;

  public static final int FLAG_SYN = 1;
  public static final int FLAG_ACK = 2;
  public static final int FLAG_FIN = 4;
  public static final int FLAG_RST = 8;

  public static final int GO_AWAY_NORMAL = 0;
  public static final int GO_AWAY_PROTOCOL_ERROR = 1;
  public static final int GO_AWAY_INTERNAL_ERROR = 2;

  public YamuxHeader {
    if (type < 0 || type > 3) {
      throw new IllegalArgumentException("yamux type " + type);
    }
    if (flags < 0 || flags > 0xFFFF || length < 0 || length > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("yamux header field out of range");
    }
  }

  public boolean has(int flag) {
    return (flags & flag) != 0;
  }

  /** The stream id as the unsigned 32-bit number it is on the wire. */
  public long streamIdUnsigned() {
    return Integer.toUnsignedLong(streamId);
  }

  public void write(ByteBuffer out) {
    out.put((byte) 0).put((byte) type).putShort((short) flags).putInt(streamId).putInt((int) length);
  }

  public byte[] toBytes() {
    ByteBuffer b = ByteBuffer.allocate(SIZE);
    write(b);
    return b.array();
  }

  /**
   * Reads a header at the buffer's position, or returns null (position unchanged) if fewer than 12
   * bytes remain.
   *
   * @throws WireFormatException on an unknown version or type
   */
  public static YamuxHeader read(ByteBuffer in) {
    if (in.remaining() < SIZE) {
      return null;
    }
    int version = in.get() & 0xFF;
    int type = in.get() & 0xFF;
    if (version != 0) {
      throw new WireFormatException("yamux version " + version + " (expected 0)");
    }
    if (type > TYPE_GO_AWAY) {
      throw new WireFormatException("unknown yamux frame type " + type);
    }
    int flags = in.getShort() & 0xFFFF;
    int streamId = in.getInt();
    long length = Integer.toUnsignedLong(in.getInt());
    return new YamuxHeader(type, flags, streamId, length);
  }

  @Override
  public String toString() {
    String[] types = {"DATA", "WINDOW_UPDATE", "PING", "GO_AWAY"};
    return types[type] + "(flags=" + flags + ", stream=" + streamIdUnsigned() + ", length=" + length + ")";
  }
}
