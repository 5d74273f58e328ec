package org.oscircular.node.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/** Encoders for what the server sends. Each method returns one complete message. */
final class NbdReplies {
  private NbdReplies() {}

  static final int SIMPLE_HEADER = 16;
  static final int STRUCTURED_HEADER = 20;

  static ByteBuf greeting(ByteBufAllocator alloc) {
    ByteBuf b = alloc.buffer(18);
    b.writeLong(NbdWire.NBDMAGIC);
    b.writeLong(NbdWire.IHAVEOPT);
    b.writeShort(NbdWire.FLAG_FIXED_NEWSTYLE | NbdWire.FLAG_NO_ZEROES);
    return b;
  }

  static ByteBuf option(ByteBufAllocator alloc, int option, int type, byte[] data) {
    ByteBuf b = alloc.buffer(20 + data.length);
    b.writeLong(NbdWire.OPTION_REPLY_MAGIC);
    b.writeInt(option);
    b.writeInt(type);
    b.writeInt(data.length);
    b.writeBytes(data);
    return b;
  }

  static ByteBuf optionAck(ByteBufAllocator alloc, int option) {
    return option(alloc, option, NbdWire.REP_ACK, new byte[0]);
  }

  static ByteBuf optionError(ByteBufAllocator alloc, int option, int type, String message) {
    return option(alloc, option, type, message.getBytes(StandardCharsets.UTF_8));
  }

  static ByteBuf server(ByteBufAllocator alloc, int option, String name, String description) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    byte[] d = description.getBytes(StandardCharsets.UTF_8);
    byte[] data = new byte[4 + n.length + d.length];
    java.nio.ByteBuffer.wrap(data).putInt(n.length).put(n).put(d);
    return option(alloc, option, NbdWire.REP_SERVER, data);
  }

  static ByteBuf infoExport(ByteBufAllocator alloc, int option, long size, int flags) {
    byte[] data = new byte[12];
    java.nio.ByteBuffer.wrap(data).putShort((short) NbdWire.INFO_EXPORT).putLong(size)
        .putShort((short) flags);
    return option(alloc, option, NbdWire.REP_INFO, data);
  }

  static ByteBuf infoString(ByteBufAllocator alloc, int option, int info, String text) {
    byte[] t = text.getBytes(StandardCharsets.UTF_8);
    byte[] data = new byte[2 + t.length];
    java.nio.ByteBuffer.wrap(data).putShort((short) info).put(t);
    return option(alloc, option, NbdWire.REP_INFO, data);
  }

  static ByteBuf infoBlockSize(
      ByteBufAllocator alloc, int option, int min, int preferred, int max) {
    byte[] data = new byte[14];
    java.nio.ByteBuffer.wrap(data).putShort((short) NbdWire.INFO_BLOCK_SIZE).putInt(min)
        .putInt(preferred).putInt(max);
    return option(alloc, option, NbdWire.REP_INFO, data);
  }

  /** An NBD_REP_META_CONTEXT reply: the context's id (0 when listing) and its name. */
  static ByteBuf metaContext(ByteBufAllocator alloc, int option, int id, String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    byte[] data = new byte[4 + n.length];
    java.nio.ByteBuffer.wrap(data).putInt(id).put(n);
    return option(alloc, option, NbdWire.REP_META_CONTEXT, data);
  }

  /**
   * A final NBD_REPLY_TYPE_BLOCK_STATUS chunk: the context id, then one (length, status flags)
   * descriptor per extent. Each extent's length must fit in 32 bits unsigned and be nonzero.
   */
  static ByteBuf blockStatus(
      ByteBufAllocator alloc, long cookie, int contextId, java.util.List<NbdExport.Extent> extents) {
    int payload = 4 + 8 * extents.size();
    ByteBuf b = alloc.buffer(STRUCTURED_HEADER + payload);
    b.writeInt(NbdWire.STRUCTURED_REPLY_MAGIC);
    b.writeShort(NbdWire.REPLY_FLAG_DONE);
    b.writeShort(NbdWire.REPLY_TYPE_BLOCK_STATUS);
    b.writeLong(cookie);
    b.writeInt(payload);
    b.writeInt(contextId);
    for (NbdExport.Extent e : extents) {
      b.writeInt((int) e.length());
      b.writeInt(e.flags());
    }
    return b;
  }

  /** The reply to NBD_OPT_EXPORT_NAME: size, flags and (unless NO_ZEROES) 124 zero bytes. */
  static ByteBuf exportName(ByteBufAllocator alloc, long size, int flags, boolean noZeroes) {
    ByteBuf b = alloc.buffer(noZeroes ? 10 : 134);
    b.writeLong(size);
    b.writeShort(flags);
    if (!noZeroes) {
      b.writeZero(124);
    }
    return b;
  }

  /** A simple reply without payload (any error, or success of a data-less command). */
  static ByteBuf simple(ByteBufAllocator alloc, long cookie, int error) {
    ByteBuf b = alloc.buffer(SIMPLE_HEADER);
    writeSimpleHeader(b, cookie, error);
    return b;
  }

  static void writeSimpleHeader(ByteBuf b, long cookie, int error) {
    b.writeInt(NbdWire.SIMPLE_REPLY_MAGIC);
    b.writeInt(error);
    b.writeLong(cookie);
  }

  /** Header of a final NBD_REPLY_TYPE_OFFSET_DATA chunk carrying {@code length} bytes. */
  static void writeOffsetDataHeader(ByteBuf b, long cookie, long offset, int length) {
    b.writeInt(NbdWire.STRUCTURED_REPLY_MAGIC);
    b.writeShort(NbdWire.REPLY_FLAG_DONE);
    b.writeShort(NbdWire.REPLY_TYPE_OFFSET_DATA);
    b.writeLong(cookie);
    b.writeInt(8 + length);
    b.writeLong(offset);
  }

  /** A final NBD_REPLY_TYPE_NONE chunk (success without data). */
  static ByteBuf structuredDone(ByteBufAllocator alloc, long cookie) {
    ByteBuf b = alloc.buffer(STRUCTURED_HEADER);
    b.writeInt(NbdWire.STRUCTURED_REPLY_MAGIC);
    b.writeShort(NbdWire.REPLY_FLAG_DONE);
    b.writeShort(NbdWire.REPLY_TYPE_NONE);
    b.writeLong(cookie);
    b.writeInt(0);
    return b;
  }

  /** A final NBD_REPLY_TYPE_ERROR chunk with a human-readable message. */
  static ByteBuf structuredError(ByteBufAllocator alloc, long cookie, int error, String message) {
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    if (m.length > NbdWire.MAX_STRING) {
      m = java.util.Arrays.copyOf(m, NbdWire.MAX_STRING);
    }
    ByteBuf b = alloc.buffer(STRUCTURED_HEADER + 6 + m.length);
    b.writeInt(NbdWire.STRUCTURED_REPLY_MAGIC);
    b.writeShort(NbdWire.REPLY_FLAG_DONE);
    b.writeShort(NbdWire.REPLY_TYPE_ERROR);
    b.writeLong(cookie);
    b.writeInt(6 + m.length);
    b.writeInt(error);
    b.writeShort(m.length);
    b.writeBytes(m);
    return b;
  }
}
