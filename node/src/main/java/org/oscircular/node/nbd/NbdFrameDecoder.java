package org.oscircular.node.nbd;

import io.netty.buffer.ByteBuf;

/**
 * Splits the bytes a client sends into {@link ClientMessage}s: the client flags, then options,
 * then (after the server has entered transmission) requests. Pure: no channel, no threads; it
 * consumes exactly the bytes of the messages it returns.
 *
 * <p>It rejects, with {@link NbdProtocolException}, what no correct client sends: unknown client
 * flags, a wrong magic, an option longer than {@link #MAX_OPTION_LENGTH}, a write payload larger
 * than {@link NbdWire#MAX_PAYLOAD}. Everything else (unknown options, unknown commands, bad
 * ranges) is the handler's business and gets an error reply.
 */
final class NbdFrameDecoder {
  /** No option this server understands needs more: a 4 KiB name plus a few info requests. */
  static final int MAX_OPTION_LENGTH = 16 * 1024;

  static final int OPTION_HEADER = 16;
  static final int REQUEST_HEADER = 28;

  enum Phase {
    CLIENT_FLAGS,
    OPTIONS,
    TRANSMISSION
  }

  private Phase phase = Phase.CLIENT_FLAGS;
  private long discard;

  Phase phase() {
    return phase;
  }

  /** Called once the server has accepted NBD_OPT_GO or NBD_OPT_EXPORT_NAME. */
  void enterTransmission() {
    phase = Phase.TRANSMISSION;
  }

  /**
   * Returns the next complete message, consuming its bytes, or {@code null} when {@code in} does
   * not hold one yet (nothing is consumed then, except write payload being discarded).
   */
  ClientMessage decode(ByteBuf in) throws NbdProtocolException {
    return switch (phase) {
      case CLIENT_FLAGS -> decodeFlags(in);
      case OPTIONS -> decodeOption(in);
      case TRANSMISSION -> decodeRequest(in);
    };
  }

  private ClientMessage decodeFlags(ByteBuf in) throws NbdProtocolException {
    if (in.readableBytes() < 4) {
      return null;
    }
    int flags = in.readInt();
    int known = NbdWire.CLIENT_FLAG_FIXED_NEWSTYLE | NbdWire.CLIENT_FLAG_NO_ZEROES;
    if ((flags & ~known) != 0) {
      throw new NbdProtocolException(
          "unknown client flags 0x" + Integer.toHexString(flags) + " (is this an NBD client?)");
    }
    phase = Phase.OPTIONS;
    return new ClientMessage.Flags(flags);
  }

  private ClientMessage decodeOption(ByteBuf in) throws NbdProtocolException {
    if (in.readableBytes() < OPTION_HEADER) {
      return null;
    }
    int start = in.readerIndex();
    long magic = in.getLong(start);
    if (magic != NbdWire.IHAVEOPT) {
      throw new NbdProtocolException("bad option magic 0x" + Long.toHexString(magic));
    }
    int code = in.getInt(start + 8);
    long length = in.getUnsignedInt(start + 12);
    if (length > MAX_OPTION_LENGTH) {
      throw new NbdProtocolException(
          "option " + code + " carries " + length + " bytes, more than " + MAX_OPTION_LENGTH);
    }
    if (in.readableBytes() < OPTION_HEADER + length) {
      return null;
    }
    in.skipBytes(OPTION_HEADER);
    byte[] data = new byte[(int) length];
    in.readBytes(data);
    return new ClientMessage.Option(code, data);
  }

  private ClientMessage decodeRequest(ByteBuf in) throws NbdProtocolException {
    if (discard > 0) {
      int n = (int) Math.min(discard, in.readableBytes());
      in.skipBytes(n);
      discard -= n;
      if (discard > 0) {
        return null;
      }
    }
    if (in.readableBytes() < REQUEST_HEADER) {
      return null;
    }
    int magic = in.readInt();
    if (magic != NbdWire.REQUEST_MAGIC) {
      throw new NbdProtocolException("bad request magic 0x" + Integer.toHexString(magic));
    }
    int flags = in.readUnsignedShort();
    int type = in.readUnsignedShort();
    long cookie = in.readLong();
    long offset = in.readLong();
    long length = in.readUnsignedInt();
    if (type == NbdWire.CMD_WRITE) {
      if (length > NbdWire.MAX_PAYLOAD) {
        throw new NbdProtocolException(
            "write payload of " + length + " bytes exceeds the maximum " + NbdWire.MAX_PAYLOAD);
      }
      discard = length;
    }
    return new ClientMessage.Request(flags, type, cookie, offset, length);
  }
}
