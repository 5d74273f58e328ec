package org.oscircular.protocol.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class PreSharedKeyTest {
  private static final String HEX = "dffb7e3135399a8b1612b2aaca1c36a3a8ac2cd0cca51ceeb2ced87d308cac6d";

  private static PreSharedKey parse(String file) {
    return PreSharedKey.parse(file.getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void readsTheStandardBase16SwarmKeyFile() {
    PreSharedKey k = parse("/key/swarm/psk/1.0.0/\n/base16/\n" + HEX + "\n");
    assertArrayEquals(HexFormat.of().parseHex(HEX), k.bytes());
    assertEquals(k, parse("/key/swarm/psk/1.0.0/\r\n/base16/\r\n" + HEX.toUpperCase() + "\r\n"), "CRLF, upper case");
    assertEquals(k, parse("/key/swarm/psk/1.0.0/\n/base16/\n" + HEX), "no final newline");
  }

  @Test
  void readsBase64AndBinaryEncodings() {
    byte[] key = HexFormat.of().parseHex(HEX);
    assertArrayEquals(key, parse("/key/swarm/psk/1.0.0/\n/base64/\n" + java.util.Base64.getEncoder().encodeToString(key) + "\n").bytes());
    byte[] bin = ("/key/swarm/psk/1.0.0/\n/bin/\n").getBytes(StandardCharsets.US_ASCII);
    byte[] file = new byte[bin.length + 32];
    System.arraycopy(bin, 0, file, 0, bin.length);
    System.arraycopy(key, 0, file, bin.length, 32);
    assertArrayEquals(key, PreSharedKey.parse(file).bytes());
  }

  @Test
  void rejectsMalformedFilesWithAReason() {
    assertMessage("first line must be /key/swarm/psk/1.0.0/", "/key/swarm/psk/2.0.0/\n/base16/\n" + HEX);
    assertMessage("ends after its first line", "/key/swarm/psk/1.0.0/\n");
    assertMessage("unknown swarm key encoding '/base32/'", "/key/swarm/psk/1.0.0/\n/base32/\n" + HEX);
    assertMessage("64 hex digits", "/key/swarm/psk/1.0.0/\n/base16/\n" + HEX.substring(2));
    assertMessage("64 hex digits", "/key/swarm/psk/1.0.0/\n/base16/\n" + HEX.replace('d', 'x'));
    assertMessage("must be 32 bytes, got 31", "/key/swarm/psk/1.0.0/\n/bin/\n" + "a".repeat(31));
    assertMessage("not valid base64", "/key/swarm/psk/1.0.0/\n/base64/\n!!!!");
  }

  private static void assertMessage(String fragment, String file) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(file));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
  }

  @Property(tries = 50)
  void theFileFormReadsBack(@ForAll @Size(32) byte[] key) {
    PreSharedKey k = PreSharedKey.of(key);
    assertEquals(k, PreSharedKey.parse(k.toFile()));
  }

  @Test
  void neverPrintsTheKey() {
    PreSharedKey k = parse("/key/swarm/psk/1.0.0/\n/base16/\n" + HEX);
    assertFalse(k.toString().contains(HEX.substring(0, 16)), k.toString());
    assertEquals(16, k.fingerprint().length());
  }

  @Test
  void theXSalsa20StreamMatchesAnIndependentImplementation() {
    // Key stream of XSalsa20 for key = 00 01 … 1f and nonce = 00 01 … 17 (first 32 bytes), as computed
    // by the js xsalsa20 package that js-libp2p's pnet uses.
    byte[] key = new byte[32];
    byte[] nonce = new byte[24];
    for (int i = 0; i < 32; i++) {
      key[i] = (byte) i;
    }
    for (int i = 0; i < 24; i++) {
      nonce[i] = (byte) i;
    }
    byte[] stream = new byte[32];
    new PnetCipher(PreSharedKey.of(key), nonce).apply(new byte[32], 0, 32, stream, 0);
    assertEquals(KEY_STREAM, HexFormat.of().formatHex(stream));

    // one direction decrypts what the other encrypted, across arbitrary piece boundaries
    byte[] data = new byte[10_000];
    new SplittableRandom(1).nextBytes(data);
    byte[] sealed = new byte[data.length];
    new PnetCipher(PreSharedKey.of(key), nonce).apply(data, 0, data.length, sealed, 0);
    PnetCipher reader = new PnetCipher(PreSharedKey.of(key), nonce);
    byte[] opened = new byte[data.length];
    for (int off = 0, piece = 1; off < data.length; off += piece, piece++) {
      piece = Math.min(piece, data.length - off);
      reader.apply(sealed, off, piece, opened, off);
    }
    assertArrayEquals(data, opened);
  }

  private static final String KEY_STREAM = "7cb660afdd9ec6468f57dd6d2433f93428fd82cd7386c5471a24d8ad2a525b6e";
}
