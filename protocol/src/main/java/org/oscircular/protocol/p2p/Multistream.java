package org.oscircular.protocol.p2p;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Predicate;

/**
 * multistream-select 1.0 (connections/README.md): messages are {@code uvarint(n) || utf8 || '\n'} where
 * {@code n} counts the newline. Both sides open with {@code /multistream/1.0.0}; the dialer proposes a
 * protocol, the listener echoes it to accept or answers {@code na}.
 *
 * <p>This class is one side of one negotiation, sans I/O: feed it received bytes, send what it
 * returns, and read {@link #outcome()}. Bytes after the final message stay in the input buffer for the
 * selected protocol.
 */
public final class Multistream {
  public static final String PROTOCOL_ID = "/multistream/1.0.0";
  public static final String NA = "na";
  /** Longest message (without newline) accepted, as js-libp2p's MAX_PROTOCOL_LENGTH. */
  public static final int MAX_MESSAGE = 1024;

  /** Where the negotiation stands. */
  public sealed interface Outcome {}

  public record Pending() implements Outcome {}

  public record Selected(String protocol) implements Outcome {}

  public record Failed(String reason) implements Outcome {}

  private static final Pending PENDING = new Pending();
  private static final int HEADER_LENGTH = PROTOCOL_ID.length() + 1;

  private final boolean dialer;
  private final List<String> proposals;
  private final Predicate<String> supported;
  private int proposalIndex;
  private boolean headerSeen;
  private Outcome outcome = PENDING;

  private Multistream(boolean dialer, List<String> proposals, Predicate<String> supported) {
    this.dialer = dialer;
    this.proposals = proposals;
    this.supported = supported;
  }

  /** The side that proposes {@code protocols}, in order of preference. */
  public static Multistream dialer(List<String> protocols) {
    if (protocols.isEmpty()) {
      throw new IllegalArgumentException("a dialer needs at least one protocol to propose");
    }
    return new Multistream(true, List.copyOf(protocols), p -> false);
  }

  /** The side that accepts the first proposal for which {@code supported} is true. */
  public static Multistream listener(Predicate<String> supported) {
    return new Multistream(false, List.of(), supported);
  }

  /** Bytes to send first: the header, and for a dialer its first proposal in the same write. */
  public byte[] start() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(encode(PROTOCOL_ID));
    if (dialer) {
      out.writeBytes(encode(proposals.getFirst()));
    }
    return out.toByteArray();
  }

  public Outcome outcome() {
    return outcome;
  }

  /**
   * Consumes complete messages from {@code in} until the negotiation ends or the input runs out.
   * Returns bytes to send (possibly empty). Once the outcome is no longer pending, stops reading so
   * that later bytes belong to the selected protocol.
   */
  public byte[] onInput(ByteBuffer in) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (outcome instanceof Pending) {
      if (!headerSeen && in.hasRemaining() && in.get(in.position()) != HEADER_LENGTH) {
        // The first message must be the header; don't wait for a garbage "length" to fill up.
        outcome = new Failed("expected " + PROTOCOL_ID + ", got bytes starting 0x"
            + Integer.toHexString(in.get(in.position()) & 0xFF));
        break;
      }
      String msg;
      try {
        msg = read(in);
      } catch (WireFormatException e) {
        outcome = new Failed(e.getMessage());
        break;
      }
      if (msg == null) {
        break;
      }
      if (!headerSeen) {
        if (!msg.equals(PROTOCOL_ID)) {
          outcome = new Failed("expected " + PROTOCOL_ID + ", got '" + printable(msg) + "'");
          break;
        }
        headerSeen = true;
        continue;
      }
      if (dialer) {
        String proposed = proposals.get(proposalIndex);
        if (msg.equals(proposed)) {
          outcome = new Selected(proposed);
        } else if (msg.equals(NA)) {
          proposalIndex++;
          if (proposalIndex == proposals.size()) {
            outcome = new Failed("peer supports none of " + proposals);
          } else {
            out.writeBytes(encode(proposals.get(proposalIndex)));
          }
        } else {
          outcome = new Failed("peer answered '" + printable(msg) + "' to proposal " + proposed);
        }
      } else if (!msg.equals("ls") && supported.test(msg)) {
        out.writeBytes(encode(msg));
        outcome = new Selected(msg);
      } else {
        out.writeBytes(encode(NA));
      }
    }
    return out.toByteArray();
  }

  /** Encodes one message: {@code uvarint(len+1) || utf8 || '\n'}. */
  public static byte[] encode(String message) {
    byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
    if (utf8.length > MAX_MESSAGE) {
      throw new IllegalArgumentException("multistream message longer than " + MAX_MESSAGE + " bytes");
    }
    byte[] out = new byte[Varint.size(utf8.length + 1) + utf8.length + 1];
    int o = Varint.write(utf8.length + 1, out, 0);
    System.arraycopy(utf8, 0, out, o, utf8.length);
    out[out.length - 1] = '\n';
    return out;
  }

  /**
   * Reads one message, without its newline. Returns null (position unchanged) if it is incomplete.
   *
   * @throws WireFormatException on a bad length, a missing newline or invalid UTF-8
   */
  public static String read(ByteBuffer in) {
    int start = in.position();
    long len = Varint.read(in);
    if (len == Varint.INCOMPLETE) {
      return null;
    }
    if (len < 1 || len > MAX_MESSAGE + 1) {
      throw new WireFormatException("multistream message length " + len + " outside 1.." + (MAX_MESSAGE + 1));
    }
    if (in.remaining() < len) {
      in.position(start);
      return null;
    }
    ByteBuffer body = in.slice(in.position(), (int) len - 1);
    in.position(in.position() + (int) len);
    if (in.get(in.position() - 1) != '\n') {
      throw new WireFormatException("multistream message does not end with a newline");
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(body)
          .toString();
    } catch (CharacterCodingException e) {
      throw new WireFormatException("multistream message is not valid UTF-8");
    }
  }

  private static String printable(String s) {
    String t = s.length() > 64 ? s.substring(0, 64) + "…" : s;
    return t.replaceAll("\\p{Cntrl}", "?");
  }
}
