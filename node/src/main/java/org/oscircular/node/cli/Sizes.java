package org.oscircular.node.cli;

import java.time.Duration;
import java.util.Locale;

/** Parsing and printing of the sizes and durations the CLI takes ("256K", "30d"). */
final class Sizes {
  private Sizes() {}

  /** "4096", "64K", "256KiB", "1M", "4MiB". */
  static long parseBytes(String text) {
    String t = text.strip().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
    long mult = 1;
    if (!t.isEmpty()) {
      switch (t.charAt(t.length() - 1)) {
        case 'K' -> mult = 1L << 10;
        case 'M' -> mult = 1L << 20;
        case 'G' -> mult = 1L << 30;
        default -> mult = 1;
      }
    }
    String digits = mult == 1 ? t : t.substring(0, t.length() - 1);
    try {
      return Math.multiplyExact(Long.parseLong(digits.strip()), mult);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("not a size: '" + text + "' (examples: 4096, 64K, 256K, 4M)");
    }
  }

  /** "30d", "12h", "90m", "45s", or an ISO-8601 duration such as PT1H. */
  static Duration parseDuration(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    try {
      if (t.startsWith("p")) {
        return Duration.parse(t.toUpperCase(Locale.ROOT));
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      return switch (t.charAt(t.length() - 1)) {
        case 'd' -> Duration.ofDays(n);
        case 'h' -> Duration.ofHours(n);
        case 'm' -> Duration.ofMinutes(n);
        case 's' -> Duration.ofSeconds(n);
        default -> throw new IllegalArgumentException();
      };
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a duration: '" + text + "' (examples: 30d, 12h, 90m, 45s)");
    }
  }

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
