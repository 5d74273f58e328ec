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

  /**
   * NBD_OPT_LIST_META_CONTEXT ({@code set == false}) or NBD_OPT_SET_META_CONTEXT for export {@code name};
   * every query starts with a namespace and a colon.
   */
  record MetaContext(boolean set, String name, java.util.List<String> queries) implements OptionRequest {
    public MetaContext {
      queries = java.util.List.copyOf(queries);
    }

    /**
     * Whether the answer includes {@code base:allocation}, the only context this server has. LIST: no
     * query lists every context; {@code base:} (the namespace's wildcard) or {@code base:allocation}
     * lists it. SET: only the exact name selects it ({@code base:} and no queries select nothing).
     * Queries in other namespaces and unknown {@code base:} leaf names are ignored, as the document says.
     */
    boolean matchesAllocation() {
      if (!set && queries.isEmpty()) {
        return true;
      }
      for (String q : queries) {
        if (q.equals(NbdWire.BASE_ALLOCATION) || (!set && q.equals("base:"))) {
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
      case NbdWire.OPT_LIST_META_CONTEXT, NbdWire.OPT_SET_META_CONTEXT -> parseMetaContext(code, data);
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

  /** Export name (32-bit length + string), 32-bit query count, queries (32-bit length + string each). */
  private static OptionRequest parseMetaContext(int code, byte[] data) {
    ByteBuffer b = ByteBuffer.wrap(data);
    if (b.remaining() < 8) {
      return new Invalid(code, "option data of " + data.length + " bytes is shorter than 8");
    }
    long nameLength = Integer.toUnsignedLong(b.getInt());
    if (nameLength > data.length - 8L) {
      return new Invalid(code, "export name length " + nameLength + " overruns the option data");
    }
    String name = utf8(data, 4, (int) nameLength);
    if (name == null) {
      return new Invalid(code, BAD_NAME);
    }
    b.position(4 + (int) nameLength);
    long count = Integer.toUnsignedLong(b.getInt());
    java.util.List<String> queries = new java.util.ArrayList<>();
    for (long i = 0; i < count; i++) {
      if (b.remaining() < 4) {
        return new Invalid(code, "query " + (i + 1) + " of " + count + " is missing");
      }
      long length = Integer.toUnsignedLong(b.getInt());
      if (length > b.remaining()) {
        return new Invalid(code, "query length " + length + " overruns the option data");
      }
      String query = utf8(data, b.position(), (int) length);
      if (query == null) {
        return new Invalid(code, "query must be UTF-8 text of at most 4096 bytes without NUL");
      }
      int colon = query.indexOf(':');
      if (colon <= 0) {
        return new Invalid(code, "query \"" + query + "\" does not start with a namespace and a colon");
      }
      b.position(b.position() + (int) length);
      queries.add(query);
    }
    if (b.hasRemaining()) {
      return new Invalid(code, b.remaining() + " bytes follow the last query");
    }
    return new MetaContext(code == NbdWire.OPT_SET_META_CONTEXT, name, queries);
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
