package org.oscircular.protocol.p2p;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.random.RandomGenerator;

/**
 * The 32-byte pre-shared key of a libp2p private network (pnet/Private-Networks-PSK-V1.md), read from
 * a swarm key file:
 *
 * <pre>
 * /key/swarm/psk/1.0.0/
 * /base16/
 * dffb7e3135399a8b1612b2aaca1c36a3a8ac2cd0cca51ceeb2ced87d308cac6d
 * </pre>
 *
 * The second line names the encoding of the rest: {@code /base16/} (64 hex digits), {@code /base64/}
 * or {@code /bin/} (the 32 raw bytes). Lines end with LF or CRLF; whitespace around the encoded key is
 * ignored.
 */
public final class PreSharedKey {
  public static final String CODEC = "/key/swarm/psk/1.0.0/";
  public static final int SIZE = 32;

  private final byte[] key;

  private PreSharedKey(byte[] key) {
    this.key = key;
  }

  public static PreSharedKey of(byte[] key) {
    if (key.length != SIZE) {
      throw new IllegalArgumentException("a pre-shared key has 32 bytes, got " + key.length);
    }
    return new PreSharedKey(key.clone());
  }

  public static PreSharedKey generate(RandomGenerator random) {
    byte[] k = new byte[SIZE];
    random.nextBytes(k);
    return new PreSharedKey(k);
  }

  /**
   * Parses a swarm key file.
   *
   * @throws IllegalArgumentException with a one-line reason if the file is not a valid 32-byte key
   */
  public static PreSharedKey parse(byte[] file) {
    int end1 = lineEnd(file, 0);
    if (end1 < 0 || !line(file, 0, end1).equals(CODEC)) {
      throw new IllegalArgumentException("not a swarm key file: the first line must be " + CODEC);
    }
    int start2 = next(file, end1);
    int end2 = lineEnd(file, start2);
    if (end2 < 0) {
      throw new IllegalArgumentException("swarm key file ends after its first line; expected /base16/, /base64/ or /bin/");
    }
    String encoding = line(file, start2, end2);
    int rest = next(file, end2);
    byte[] body = Arrays.copyOfRange(file, rest, file.length);
    byte[] key = switch (encoding) {
      case "/base16/" -> {
        String hex = new String(body, StandardCharsets.US_ASCII).strip();
        if (hex.length() != 2 * SIZE || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
          throw new IllegalArgumentException("swarm key must be 64 hex digits after /base16/, got " + describe(hex));
        }
        yield HexFormat.of().parseHex(hex);
      }
      case "/base64/" -> {
        String b64 = new String(body, StandardCharsets.US_ASCII).strip();
        try {
          yield Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("swarm key after /base64/ is not valid base64: " + e.getMessage());
        }
      }
      case "/bin/" -> body;
      default -> throw new IllegalArgumentException(
          "unknown swarm key encoding " + describe(encoding) + "; expected /base16/, /base64/ or /bin/");
    };
    if (key.length != SIZE) {
      throw new IllegalArgumentException("swarm key must be 32 bytes, got " + key.length);
    }
    return new PreSharedKey(key);
  }

  /** The file form, base16: what {@link #parse} reads back. */
  public byte[] toFile() {
    return (CODEC + "\n/base16/\n" + HexFormat.of().formatHex(key) + "\n").getBytes(StandardCharsets.US_ASCII);
  }

  public byte[] bytes() {
    return key.clone();
  }

  /**
   * A short public name for the network: the first 8 bytes of SHA-256 of the key, hex. Safe to log;
   * two nodes with different fingerprints cannot connect.
   */
  public String fingerprint() {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int lineEnd(byte[] b, int from) {
    for (int i = from; i < b.length; i++) {
      if (b[i] == '\n') {
        return i > from && b[i - 1] == '\r' ? i - 1 : i;
      }
    }
    return -1;
  }

  private static int next(byte[] b, int lineEnd) {
    return b[lineEnd] == '\r' ? lineEnd + 2 : lineEnd + 1;
  }

  private static String line(byte[] b, int from, int to) {
    return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
  }

  private static String describe(String s) {
    String shown = s.length() > 40 ? s.substring(0, 40) + "…" : s;
    return "'" + shown.replaceAll("\\p{Cntrl}", "?") + "' (" + s.length() + " characters)";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PreSharedKey p && MessageDigest.isEqual(key, p.key);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(key);
  }

  /** Never prints the key itself. */
  @Override
  public String toString() {
    return "PreSharedKey[" + fingerprint() + "]";
  }
}
