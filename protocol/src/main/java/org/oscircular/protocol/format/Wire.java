package org.oscircular.protocol.format;

import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Big-endian primitives shared by the table, catalog and envelope codecs. */
final class Wire {
  private Wire() {}

  static final class Out {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(1024);

    Out u8(int v) {
      out.write(v);
      return this;
    }

    Out u16(int v) {
      if (v < 0 || v > 0xFFFF) {
        throw new IllegalArgumentException("value does not fit 16 bits: " + v);
      }
      out.write(v >>> 8);
      out.write(v);
      return this;
    }

    Out u32(long v) {
      for (int s = 24; s >= 0; s -= 8) {
        out.write((int) (v >>> s));
      }
      return this;
    }

    Out i64(long v) {
      for (int s = 56; s >= 0; s -= 8) {
        out.write((int) (v >>> s));
      }
      return this;
    }

    Out varint(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
      return this;
    }

    Out bytes(byte[] b) {
      out.write(b, 0, b.length);
      return this;
    }

    Out str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      u16(b.length);
      return bytes(b);
    }

    byte[] toByteArray() {
      return out.toByteArray();
    }
  }

  /** A reader whose every failure is a {@link FormatException} naming the document and field. */
  static final class In {
    private final ByteBuffer buf;
    private final String what;

    In(byte[] data, String what) {
      this.buf = ByteBuffer.wrap(data);
      this.what = what;
    }

    private FormatException truncated(String field) {
      return new FormatException(what + " is truncated (reading " + field + " at byte " + buf.position() + ")");
    }

    int u8(String field) throws FormatException {
      try {
        return buf.get() & 0xFF;
      } catch (BufferUnderflowException e) {
        throw truncated(field);
      }
    }

    int u16(String field) throws FormatException {
      try {
        return buf.getShort() & 0xFFFF;
      } catch (BufferUnderflowException e) {
        throw truncated(field);
      }
    }

    long u32(String field) throws FormatException {
      try {
        return buf.getInt() & 0xFFFFFFFFL;
      } catch (BufferUnderflowException e) {
        throw truncated(field);
      }
    }

    long i64(String field) throws FormatException {
      try {
        return buf.getLong();
      } catch (BufferUnderflowException e) {
        throw truncated(field);
      }
    }

    long varint(String field) throws FormatException {
      long v = 0;
      for (int shift = 0; shift < 63; shift += 7) {
        int b = u8(field);
        v |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          if (b == 0 && shift > 0) {
            throw new FormatException(what + " has a non-minimal varint in " + field);
          }
          return v;
        }
      }
      throw new FormatException(what + " has an overlong varint in " + field);
    }

    byte[] bytes(int n, String field) throws FormatException {
      if (n < 0 || n > buf.remaining()) {
        throw truncated(field);
      }
      byte[] b = new byte[n];
      buf.get(b);
      return b;
    }

    String str(String field) throws FormatException {
      byte[] b = bytes(u16(field), field);
      try {
        return StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(b))
            .toString();
      } catch (CharacterCodingException e) {
        throw new FormatException(what + " has invalid UTF-8 in " + field);
      }
    }

    int remaining() {
      return buf.remaining();
    }

    void expectEnd() throws FormatException {
      if (buf.hasRemaining()) {
        throw new FormatException(what + " has " + buf.remaining() + " unexpected trailing bytes");
      }
    }

    FormatException error(String message) {
      return new FormatException(what + ": " + message);
    }
  }
}
