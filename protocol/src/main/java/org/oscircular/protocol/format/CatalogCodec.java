package org.oscircular.protocol.format;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Binary form of a {@link Catalog} (the payload of a signed catalog document). See docs/format.md. */
public final class CatalogCodec {
  static final byte[] MAGIC = {'C', 'C', 'A', 'T'};
  static final int FORMAT_VERSION = 1;
  public static final int MAX_CATALOG_BYTES = 16 * 1024 * 1024;
  private static final int FLAG_RETIRED = 1;

  private CatalogCodec() {}

  public static byte[] encode(Catalog c) {
    var out = new Wire.Out();
    out.bytes(MAGIC).u16(FORMAT_VERSION);
    out.i64(c.sequence()).i64(c.created().toEpochMilli()).i64(c.expires().toEpochMilli());
    out.u32(c.entries().size());
    for (Catalog.Entry e : c.entries()) {
      out.str(e.name()).str(e.version()).bytes(e.tableDigest()).i64(e.imageLength())
          .i64(e.created().toEpochMilli()).u8(e.retired() ? FLAG_RETIRED : 0);
    }
    return out.toByteArray();
  }

  public static Catalog decode(byte[] data) throws FormatException {
    if (data.length > MAX_CATALOG_BYTES) {
      throw new FormatException("catalog is " + data.length + " bytes, more than the limit of " + MAX_CATALOG_BYTES);
    }
    var in = new Wire.In(data, "catalog");
    if (!java.util.Arrays.equals(in.bytes(4, "magic"), MAGIC)) {
      throw in.error("not an OS Circular catalog (bad magic)");
    }
    int fv = in.u16("format version");
    if (fv != FORMAT_VERSION) {
      throw in.error("unsupported catalog format version " + fv + " (this build reads " + FORMAT_VERSION + ")");
    }
    long seq = in.i64("sequence");
    long created = in.i64("created");
    long expires = in.i64("expires");
    long n = in.u32("entry count");
    if (n > in.remaining() / 55) {
      throw in.error("entry count " + n + " does not fit in " + in.remaining() + " bytes");
    }
    List<Catalog.Entry> entries = new ArrayList<>((int) n);
    try {
      for (long i = 0; i < n; i++) {
        String name = in.str("entry name");
        String version = in.str("entry version");
        byte[] digest = in.bytes(32, "table digest");
        long len = in.i64("image length");
        long ecreated = in.i64("entry created");
        int flags = in.u8("flags");
        if ((flags & ~FLAG_RETIRED) != 0) {
          throw in.error("unknown flags " + flags + " on " + name + ":" + version);
        }
        if (len < 0) {
          throw in.error("negative image length on " + name + ":" + version);
        }
        entries.add(new Catalog.Entry(name, version, digest, len, Instant.ofEpochMilli(ecreated),
            (flags & FLAG_RETIRED) != 0));
      }
      in.expectEnd();
      return new Catalog(seq, Instant.ofEpochMilli(created), Instant.ofEpochMilli(expires), entries);
    } catch (IllegalArgumentException e) {
      throw in.error(e.getMessage());
    }
  }
}
