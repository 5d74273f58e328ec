package org.oscircular.protocol.p2p;

import java.math.BigInteger;
import java.util.Arrays;

/**
 * The two multibase alphabets libp2p text forms use: base58btc (bare peer ids, prefix {@code z} in
 * multibase strings) and RFC 4648 base32 lower case without padding (prefix {@code b}, CIDv1 default).
 */
public final class Multibase {
  private static final String B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  private static final String B32 = "abcdefghijklmnopqrstuvwxyz234567";
  private static final int[] B58_INDEX = index(B58);
  private static final int[] B32_INDEX = index(B32);
  private static final BigInteger FIFTY_EIGHT = BigInteger.valueOf(58);

  private Multibase() {}

  public static String base58btc(byte[] data) {
    int zeros = 0;
    while (zeros < data.length && data[zeros] == 0) {
      zeros++;
    }
    StringBuilder sb = new StringBuilder();
    BigInteger n = new BigInteger(1, data);
    while (n.signum() > 0) {
      BigInteger[] qr = n.divideAndRemainder(FIFTY_EIGHT);
      sb.append(B58.charAt(qr[1].intValue()));
      n = qr[0];
    }
    sb.append("1".repeat(zeros));
    return sb.reverse().toString();
  }

  public static byte[] decodeBase58btc(String text) {
    int zeros = 0;
    while (zeros < text.length() && text.charAt(zeros) == '1') {
      zeros++;
    }
    BigInteger n = BigInteger.ZERO;
    for (int i = zeros; i < text.length(); i++) {
      char c = text.charAt(i);
      int d = c < 128 ? B58_INDEX[c] : -1;
      if (d < 0) {
        throw new WireFormatException("invalid base58btc character '" + c + "' at " + i);
      }
      n = n.multiply(FIFTY_EIGHT).add(BigInteger.valueOf(d));
    }
    byte[] mag = n.signum() == 0 ? new byte[0] : n.toByteArray();
    int skip = mag.length > 0 && mag[0] == 0 ? 1 : 0;
    byte[] out = new byte[zeros + mag.length - skip];
    System.arraycopy(mag, skip, out, zeros, mag.length - skip);
    return out;
  }

  public static String base32(byte[] data) {
    StringBuilder sb = new StringBuilder((data.length * 8 + 4) / 5);
    int buffer = 0;
    int bits = 0;
    for (byte b : data) {
      buffer = (buffer << 8) | (b & 0xFF);
      bits += 8;
      while (bits >= 5) {
        sb.append(B32.charAt((buffer >>> (bits - 5)) & 31));
        bits -= 5;
      }
    }
    if (bits > 0) {
      sb.append(B32.charAt((buffer << (5 - bits)) & 31));
    }
    return sb.toString();
  }

  public static byte[] decodeBase32(String text) {
    byte[] out = new byte[text.length() * 5 / 8];
    int buffer = 0;
    int bits = 0;
    int o = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = Character.toLowerCase(text.charAt(i));
      int d = c < 128 ? B32_INDEX[c] : -1;
      if (d < 0) {
        throw new WireFormatException("invalid base32 character '" + text.charAt(i) + "' at " + i);
      }
      buffer = (buffer << 5) | d;
      bits += 5;
      if (bits >= 8) {
        out[o++] = (byte) (buffer >>> (bits - 8));
        bits -= 8;
      }
    }
    if (bits >= 5 || (buffer & ((1 << bits) - 1)) != 0) {
      throw new WireFormatException("base32 text has trailing bits");
    }
    return o == out.length ? out : Arrays.copyOf(out, o);
  }

  /** Decodes a multibase string: a prefix character naming the base, then the encoded bytes. */
  public static byte[] decode(String multibase) {
    if (multibase.isEmpty()) {
      throw new WireFormatException("empty multibase string");
    }
    String body = multibase.substring(1);
    return switch (multibase.charAt(0)) {
      case 'z' -> decodeBase58btc(body);
      case 'b', 'B' -> decodeBase32(body);
      default ->
          throw new WireFormatException(
              "unsupported multibase prefix '" + multibase.charAt(0) + "' (supported: z, b)");
    };
  }

  private static int[] index(String alphabet) {
    int[] idx = new int[128];
    Arrays.fill(idx, -1);
    for (int i = 0; i < alphabet.length(); i++) {
      idx[alphabet.charAt(i)] = i;
    }
    return idx;
  }
}
