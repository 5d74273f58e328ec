package org.oscircular.protocol.format;

import java.time.Instant;
import java.util.HexFormat;

/** Opening signed tables and catalogs with every check a client must make. */
public final class Documents {
  private Documents() {}

  /** Signs a table; the returned bytes are what the origin serves at tables/NAME/VERSION. */
  public static byte[] signTable(ImageTable table, PublisherKey.Private key) {
    return SignedDocument.sign(SignedDocument.Kind.TABLE, TableCodec.encode(table), key);
  }

  public static byte[] signCatalog(Catalog catalog, PublisherKey.Private key) {
    return SignedDocument.sign(SignedDocument.Kind.CATALOG, CatalogCodec.encode(catalog), key);
  }

  /**
   * Opens the signed table of {@code entry}: the bytes must hash to the catalog's digest, carry a
   * trusted signature and describe the same image version.
   */
  public static ImageTable openTable(byte[] signed, Catalog.Entry entry, TrustedKeys trust) throws FormatException {
    String what = "table " + entry.id();
    byte[] digest = Digests.sha256(signed);
    if (!java.security.MessageDigest.isEqual(digest, entry.tableDigest())) {
      throw new FormatException(what + " does not match the catalog's digest (got "
          + HexFormat.of().formatHex(digest, 0, 8) + "…, expected "
          + HexFormat.of().formatHex(entry.tableDigest(), 0, 8) + "…)");
    }
    ImageTable t = openTable(signed, trust, what);
    if (!t.name().equals(entry.name()) || !t.version().equals(entry.version())) {
      throw new FormatException(what + " describes " + t.id() + " instead");
    }
    if (t.image().length() != entry.imageLength()) {
      throw new FormatException(what + " has length " + t.image().length() + ", catalog says " + entry.imageLength());
    }
    return t;
  }

  /**
   * Like {@link #openTable(byte[], Catalog.Entry, TrustedKeys)}, and refuses a table that has expired at
   * {@code now}: what clients use to read images.
   */
  public static ImageTable openTable(byte[] signed, Catalog.Entry entry, TrustedKeys trust, Instant now)
      throws FormatException {
    ImageTable t = openTable(signed, entry, trust);
    if (!now.isBefore(t.expires())) {
      throw new FormatException("table " + entry.id() + " expired at " + t.expires()
          + " (the publisher must publish it again)");
    }
    return t;
  }

  /** Opens a signed table without a catalog entry to compare against (signature checks only). */
  public static ImageTable openTable(byte[] signed, TrustedKeys trust, String what) throws FormatException {
    SignedDocument doc = SignedDocument.open(signed, SignedDocument.Kind.TABLE, trust, what);
    return TableCodec.decode(doc.payload());
  }

  /**
   * Opens a signed catalog and applies the freshness rules: not expired at {@code now}, and a sequence
   * no lower than {@code lastSeenSequence} (pass -1 when none was seen yet).
   */
  public static Catalog openCatalog(byte[] signed, TrustedKeys trust, long lastSeenSequence, Instant now)
      throws FormatException {
    SignedDocument doc = SignedDocument.open(signed, SignedDocument.Kind.CATALOG, trust, "catalog");
    Catalog c = CatalogCodec.decode(doc.payload());
    if (c.sequence() < lastSeenSequence) {
      throw new FormatException("catalog sequence " + c.sequence() + " is older than " + lastSeenSequence
          + ", already seen (rollback refused)");
    }
    if (!now.isBefore(c.expires())) {
      throw new FormatException("catalog expired at " + c.expires() + " (freeze refused; the publisher must re-sign it)");
    }
    return c;
  }
}
