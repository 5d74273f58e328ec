package org.oscircular.protocol.format;

import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Every image version an origin serves. Signed; {@code sequence} only grows from one publish to the
 * next, so a client that has seen sequence N refuses anything older (rollback), and {@code expires}
 * bounds how long a stale catalog is believed (freeze).
 */
public record Catalog(long sequence, Instant created, Instant expires, List<Entry> entries) {

  public Catalog {
    if (sequence < 0) {
      throw new IllegalArgumentException("catalog sequence must not be negative: " + sequence);
    }
    entries = entries.stream()
        .sorted(Comparator.comparing(Entry::name).thenComparing(Entry::created).thenComparing(Entry::version))
        .toList();
    for (int i = 1; i < entries.size(); i++) {
      Entry a = entries.get(i - 1);
      for (int j = i; j < entries.size() && entries.get(j).name().equals(a.name()); j++) {
        if (entries.get(j).version().equals(a.version())) {
          throw new IllegalArgumentException("catalog lists " + a.id() + " twice");
        }
      }
    }
  }

  /** One image version: its table is found at tables/NAME/VERSION and must hash to {@code tableDigest}. */
  public record Entry(String name, String version, byte[] tableDigest, long imageLength, Instant created,
      boolean retired) {
    public Entry {
      ImageTable.checkName("image name", name);
      ImageTable.checkName("version", version);
      if (tableDigest.length != 32) {
        throw new IllegalArgumentException("table digest must be 32 bytes (SHA-256)");
      }
      tableDigest = tableDigest.clone();
    }

    @Override
    public byte[] tableDigest() {
      return tableDigest.clone();
    }

    public String id() {
      return name + ":" + version;
    }

    public Entry withRetired(boolean r) {
      return new Entry(name, version, tableDigest, imageLength, created, r);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Entry e && name.equals(e.name) && version.equals(e.version)
          && Arrays.equals(tableDigest, e.tableDigest) && imageLength == e.imageLength
          && created.equals(e.created) && retired == e.retired;
    }

    @Override
    public int hashCode() {
      return name.hashCode() * 31 + version.hashCode();
    }

    @Override
    public String toString() {
      return "Entry[" + id() + ", table=" + HexFormat.of().formatHex(tableDigest) + ", " + imageLength
          + " B, created=" + created + (retired ? ", retired" : "") + "]";
    }
  }

  public Optional<Entry> find(String name, String version) {
    return entries.stream().filter(e -> e.name().equals(name) && e.version().equals(version)).findFirst();
  }

  /** Parses "name:version" and finds it, or throws a message naming what is missing. */
  public Entry require(String imageVersion) {
    int colon = imageVersion.indexOf(':');
    if (colon <= 0 || colon == imageVersion.length() - 1) {
      throw new IllegalArgumentException("expected IMAGE:VERSION, got '" + imageVersion + "'");
    }
    String n = imageVersion.substring(0, colon);
    String v = imageVersion.substring(colon + 1);
    return find(n, v).orElseThrow(() -> new IllegalArgumentException("the catalog has no " + imageVersion));
  }
}
