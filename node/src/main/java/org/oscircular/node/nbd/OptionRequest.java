package org.oscircular.node.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** The meaning of one option a client sent, or why it has none. */
sealed interface OptionRequest {
  String BAD_NAME = "export name must be UTF-8 text of at most 4096 bytes without NUL";

  record ExportName(String name) implements OptionRequest {}

  record Abort() implements OptionRequest {}

  record ListExports() implements OptionRequest {}

  /** NBD_OPT_INFO ({@code go == false}) or NBD_OPT_GO; {@code infos} are NBD_INFO_* codes. */
  record Info(boolean go, String name, int[] infos) implements OptionRequest {
    boolean asked(int info) {
      for (int i : infos) {
        if (i == info) {
          return true;
        }
      }
      return false;
    }
  }

  /** An option this server does not implement: answered NBD_REP_ERR_UNSUP. */
  record Unsupported(int code) implements OptionRequest {}

  /** A known option with bad data: answered NBD_REP_ERR_INVALID with {@code reason}. */
  record Invalid(int code, String reason) implements OptionRequest {}

  /** Gives the option its meaning; never throws, whatever the bytes. */
  static OptionRequest parse(ClientMessage.Option option) {
    int code = option.code();
    byte[] data = option.data();
    return switch (code) {
      case NbdWire.OPT_EXPORT_NAME -> {
        String name = utf8(data, 0, data.length);
        yield name == null
            ? new Invalid(code, BAD_NAME)
            : new ExportName(name);
      }
      case NbdWire.OPT_ABORT -> new Abort(); // data, if any, is ignored (proto.md)
      case NbdWire.OPT_LIST ->
          data.length == 0 ? new ListExports() : new Invalid(code, "NBD_OPT_LIST takes no data");
      case NbdWire.OPT_INFO, NbdWire.OPT_GO -> parseInfo(code, data);
      default -> new Unsupported(code);
    };
  }

  private static OptionRequest parseInfo(int code, byte[] data) {
    ByteBuffer b = ByteBuffer.wrap(data);
    if (b.remaining() < 6) {
      return new Invalid(code, "option data of " + data.length + " bytes is shorter than 6");
    }
    long nameLength = Integer.toUnsignedLong(b.getInt());
    if (nameLength > data.length - 6L) {
      return new Invalid(code, "export name length " + nameLength + " overruns the option data");
    }
    String name = utf8(data, 4, (int) nameLength);
    if (name == null) {
      return new Invalid(code, BAD_NAME);
    }
    b.position(4 + (int) nameLength);
    int count = Short.toUnsignedInt(b.getShort());
    if (b.remaining() != 2L * count) {
      return new Invalid(
          code, count + " information requests do not fill the " + b.remaining() + " bytes left");
    }
    int[] infos = new int[count];
    for (int i = 0; i < count; i++) {
      infos[i] = Short.toUnsignedInt(b.getShort());
    }
    return new Info(code == NbdWire.OPT_GO, name, infos);
  }

  /** Decodes strict UTF-8 without NUL and at most {@link NbdWire#MAX_STRING} bytes, or null. */
  private static String utf8(byte[] data, int from, int length) {
    if (length > NbdWire.MAX_STRING) {
      return null;
    }
    for (int i = from; i < from + length; i++) {
      if (data[i] == 0) {
        return null;
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(data, from, length))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
