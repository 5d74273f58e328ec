package org.oscircular.node.publish;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * Parses a boot-profile file: the image's blocks in the order a boot first reads them, so clients can
 * prefetch. Text, one entry per line; {@code #} starts a comment; blank lines are ignored. An entry is
 * either a block index ({@code 17}) or a byte offset into the image prefixed with {@code @}
 * ({@code @1048576} or {@code @0x100000}), which names the block holding that byte. Repeated blocks
 * keep their first position. Documented in docs/publishing.md.
 */
public final class BootProfile {
  private BootProfile() {}

  public static List<Integer> parse(String text, String source, long imageLength, int blockSize) {
    int blocks = (int) ((imageLength + blockSize - 1) / blockSize);
    LinkedHashSet<Integer> order = new LinkedHashSet<>();
    int lineNo = 0;
    for (String raw : text.split("\n", -1)) {
      lineNo++;
      int hash = raw.indexOf('#');
      String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
      if (line.isEmpty()) {
        continue;
      }
      long index;
      try {
        if (line.startsWith("@")) {
          long offset = parseNumber(line.substring(1));
          if (offset < 0 || offset >= imageLength) {
            throw new IllegalArgumentException(source + " line " + lineNo + ": offset " + line.substring(1)
                + " is outside the image (" + imageLength + " bytes)");
          }
          index = offset / blockSize;
        } else {
          index = parseNumber(line);
          if (index < 0 || index >= blocks) {
            throw new IllegalArgumentException(source + " line " + lineNo + ": block " + index
                + " is outside the image (" + blocks + " blocks of " + blockSize + " bytes)");
          }
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(source + " line " + lineNo
            + ": expected a block index or @byte-offset, got '" + line + "'");
      }
      order.add((int) index);
    }
    return new ArrayList<>(order);
  }

  private static long parseNumber(String s) {
    String t = s.strip().toLowerCase(Locale.ROOT);
    return t.startsWith("0x") ? Long.parseLong(t.substring(2), 16) : Long.parseLong(t);
  }
}
