package org.oscircular.protocol.format;

import java.util.Arrays;

/**
 * The signed envelope around a table or a catalog. Layout (big-endian): magic "CSIG", u8 envelope
 * version (1), u8 kind, u32 payload length, payload, 32-byte Ed25519 public key, 64-byte signature
 * over every byte before the signature.
 */
public record SignedDocument(Kind kind, byte[] payload, PublisherKey.Public signer) {
  static final byte[] MAGIC = {'C', 'S', 'I', 'G'};
  static final int VERSION = 1;

  public enum Kind {
    TABLE(1, "table"),
    CATALOG(2, "catalog");

    final int id;
    final String label;

    Kind(int id, String label) {
      this.id = id;
      this.label = label;
    }
  }

  public SignedDocument {
    payload = payload.clone();
  }

  @Override
  public byte[] payload() {
    return payload.clone();
  }

  /** Signs {@code payload} with {@code key} and returns the envelope's bytes. */
  public static byte[] sign(Kind kind, byte[] payload, PublisherKey.Private key) {
    byte[] unsigned = new Wire.Out().bytes(MAGIC).u8(VERSION).u8(kind.id).u32(payload.length).bytes(payload)
        .bytes(key.publicKey().raw()).toByteArray();
    byte[] sig = key.sign(unsigned);
    byte[] out = Arrays.copyOf(unsigned, unsigned.length + sig.length);
    System.arraycopy(sig, 0, out, unsigned.length, sig.length);
    return out;
  }

  /**
   * Parses an envelope, checks it holds a document of {@code expected} kind, that its signer is
   * trusted and that the signature verifies. {@code what} names the document in error messages.
   */
  public static SignedDocument open(byte[] data, Kind expected, TrustedKeys trust, String what)
      throws FormatException {
    var in = new Wire.In(data, what);
    if (data.length < 4 || !Arrays.equals(in.bytes(4, "magic"), MAGIC)) {
      throw new FormatException(what + " is not a signed OS Circular document (bad magic)");
    }
    int v = in.u8("envelope version");
    if (v != VERSION) {
      throw new FormatException(what + " has unsupported envelope version " + v);
    }
    int kind = in.u8("kind");
    if (kind != expected.id) {
      throw new FormatException(what + " is not a " + expected.label + " (kind " + kind + ")");
    }
    long len = in.u32("payload length");
    if (len > in.remaining()) {
      throw new FormatException(what + " is truncated (payload of " + len + " bytes, " + in.remaining() + " left)");
    }
    byte[] payload = in.bytes((int) len, "payload");
    var signer = new PublisherKey.Public(in.bytes(32, "signer key"));
    int signedLength = data.length - in.remaining();
    byte[] sig = in.bytes(64, "signature");
    in.expectEnd();
    if (!trust.trusts(signer)) {
      throw new FormatException(what + " is signed by untrusted key " + signer.keyId()
          + " (add it to the trust file if you trust this publisher)");
    }
    if (!signer.verify(Arrays.copyOf(data, signedLength), sig)) {
      throw new FormatException(what + " has a bad signature (key " + signer.keyId() + ")");
    }
    return new SignedDocument(expected, payload, signer);
  }
}
