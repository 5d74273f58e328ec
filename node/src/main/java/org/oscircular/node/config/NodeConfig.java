package org.oscircular.node.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The node's configuration: the defaults of {@code reference.conf} (which documents every key), overlaid by a
 * config file, overlaid by {@code --set key=value} options. Unknown keys and bad values fail once, at load
 * time, with a message saying what to change. Typed getters parse sizes ({@code 20G}) and durations
 * ({@code 10s}).
 */
public final class NodeConfig {
  static final String REFERENCE = "reference.conf";
  private final Map<String, String> values;
  private final Map<String, String> sources;

  private NodeConfig(Map<String, String> values, Map<String, String> sources) {
    this.values = Collections.unmodifiableMap(values);
    this.sources = Collections.unmodifiableMap(sources);
  }

  /** The defaults alone. */
  public static NodeConfig defaults() {
    try {
      return load(null, List.of());
    } catch (ConfigException e) {
      throw new IllegalStateException("reference.conf is invalid: " + e.getMessage(), e);
    }
  }

  /** Loads defaults, then {@code file} (may be null), then {@code overrides} of the form key=value. */
  public static NodeConfig load(Path file, List<String> overrides) throws ConfigException {
    Map<String, String> values = new LinkedHashMap<>();
    Map<String, String> sources = new LinkedHashMap<>();
    try (InputStream in = NodeConfig.class.getResourceAsStream(REFERENCE)) {
      if (in == null) {
        throw new IllegalStateException("reference.conf is missing from the jar");
      }
      parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "defaults", values, sources, null);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read reference.conf", e);
    }
    var known = Collections.unmodifiableSet(new HashSet<>(values.keySet()));
    if (file != null) {
      String text;
      try {
        text = Files.readString(file);
      } catch (IOException e) {
        throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
      }
      parse(text, file.toString(), values, sources, known);
    }
    for (String o : overrides) {
      int eq = o.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException("--set expects key=value, got '" + o + "'");
      }
      put(o.substring(0, eq).strip(), o.substring(eq + 1).strip(), "--set", values, sources, known);
    }
    var config = new NodeConfig(values, sources);
    config.validate();
    return config;
  }

  private static void parse(String text, String source, Map<String, String> values, Map<String, String> sources,
      Set<String> known) throws ConfigException {
    int lineNo = 0;
    for (String raw : text.split("\n")) {
      lineNo++;
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException(source + " line " + lineNo + ": expected key = value, got '" + line + "'");
      }
      put(line.substring(0, eq).strip(), line.substring(eq + 1).strip(), source + " line " + lineNo, values, sources,
          known);
    }
  }

  private static void put(String key, String value, String source, Map<String, String> values,
      Map<String, String> sources, Set<String> known) throws ConfigException {
    if (known != null && !known.contains(key)) {
      throw new ConfigException(source + ": unknown key '" + key + "' (see docs/configuration.md for every key)");
    }
    values.put(key, value);
    sources.put(key, source);
  }

  private void validate() throws ConfigException {
    oneOf("node.role", "client", "seed");
    oneOf("log.format", "text", "json");
    oneOf("kad.mode", "server", "client");
    oneOf("exchange.origin-mode", "fallback", "never");
    bool("mdns.enabled");
    bool("kad.announce-cached");
    if (duration("kad.announce-delay").isZero() || duration("kad.announce-delay").isNegative()) {
      throw new ConfigException("kad.announce-delay must be positive, got " + string("kad.announce-delay")
          + " (" + sources.get("kad.announce-delay") + ")");
    }
    bool("exchange.enabled");
    bool("cache.mmap-reads");
    size("cache.decoded-bytes");
    size("cache.decoded-disk-bytes");
    if (size("cache.write-buffer-bytes") < 1L << 20) {
      throw new ConfigException("cache.write-buffer-bytes must be at least 1 MiB, got " + human(size("cache.write-buffer-bytes"))
          + " (" + sources.get("cache.write-buffer-bytes") + ")");
    }
    integer("exchange.bad-blocks-before-ban", 1, 1000);
    duration("exchange.ban-duration");
    long maxBytes = size("cache.max-bytes");
    if (maxBytes < 64L << 20) {
      throw new ConfigException("cache.max-bytes must be at least 64 MiB, got " + human(maxBytes)
          + " (" + sources.get("cache.max-bytes") + ")");
    }
    double high = ratio("cache.high-watermark");
    double low = ratio("cache.low-watermark");
    if (low >= high) {
      throw new ConfigException("cache.low-watermark (" + low + ") must be below cache.high-watermark (" + high + ")");
    }
    for (String k : List.of("fetch.origin-connections", "fetch.readahead-blocks", "p2p.max-connections",
        "p2p.max-connections-per-peer", "p2p.max-streams-per-connection", "exchange.peer-requests-per-peer",
        "exchange.peer-requests", "exchange.origin-requests", "exchange.max-uploads")) {
      integer(k, k.equals("fetch.readahead-blocks") ? 0 : 1, 100_000);
    }
    integer("fetch.retries", 1, 100);
    for (String k : List.of("catalog.refresh-interval", "fetch.timeout", "fetch.backoff", "p2p.idle-timeout", "mdns.interval",
        "exchange.request-timeout", "exchange.origin-hedge-delay", "exchange.fetching-interval",
        "exchange.max-fetching-wait")) {
      duration(k);
    }
    size("prefetch.bandwidth");
    size("exchange.upload-bandwidth");
    if (duration("fetch.timeout").isZero()) {
      throw bad("fetch.timeout", "a positive duration such as 10s");
    }
  }

  public String string(String key) {
    String v = values.get(key);
    if (v == null) {
      throw new IllegalArgumentException("no such config key: " + key);
    }
    return v;
  }

  /** Comma-separated values, empty list for an empty value. */
  public List<String> list(String key) {
    String v = string(key);
    if (v.isBlank()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String s : v.split(",")) {
      if (!s.isBlank()) {
        out.add(s.strip());
      }
    }
    return out;
  }

  public boolean bool(String key) throws ConfigException {
    return switch (string(key).toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> throw bad(key, "true or false");
    };
  }

  public int integer(String key, int min, int max) throws ConfigException {
    try {
      int v = Integer.parseInt(string(key));
      if (v < min || v > max) {
        throw bad(key, "an integer from " + min + " to " + max);
      }
      return v;
    } catch (NumberFormatException e) {
      throw bad(key, "an integer from " + min + " to " + max);
    }
  }

  public double ratio(String key) throws ConfigException {
    try {
      double v = Double.parseDouble(string(key));
      if (!(v > 0 && v <= 1)) {
        throw bad(key, "a fraction in (0, 1]");
      }
      return v;
    } catch (NumberFormatException e) {
      throw bad(key, "a fraction in (0, 1]");
    }
  }

  /** A byte count: digits with an optional K, M, G or T suffix (powers of 1024). */
  public long size(String key) throws ConfigException {
    try {
      return parseSize(string(key));
    } catch (IllegalArgumentException e) {
      throw bad(key, "a size such as 512M or 20G");
    }
  }

  public Duration duration(String key) throws ConfigException {
    try {
      return parseDuration(string(key));
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw bad(key, "a duration such as 500ms, 10s, 5m or 1h");
    }
  }

  public String oneOf(String key, String... allowed) throws ConfigException {
    String v = string(key);
    if (!Arrays.asList(allowed).contains(v)) {
      throw bad(key, "one of " + String.join(", ", allowed));
    }
    return v;
  }

  /** Every key with its effective value and where it came from, for `circular node --print-config`. */
  public String describe() {
    var sb = new StringBuilder();
    values.forEach((k, v) -> sb.append(k).append(" = ").append(v).append("    # ").append(sources.get(k)).append('\n'));
    return sb.toString();
  }

  private ConfigException bad(String key, String expected) {
    return new ConfigException(key + " must be " + expected + ", got '" + values.get(key) + "' (" + sources.get(key) + ")");
  }

  public static long parseSize(String s) {
    String t = s.strip().toUpperCase(Locale.ROOT);
    if (t.endsWith("B")) {
      t = t.substring(0, t.length() - 1);
    }
    if (t.endsWith("I")) {
      t = t.substring(0, t.length() - 1);
    }
    int shift = 0;
    if (!t.isEmpty()) {
      switch (t.charAt(t.length() - 1)) {
        case 'K' -> shift = 10;
        case 'M' -> shift = 20;
        case 'G' -> shift = 30;
        case 'T' -> shift = 40;
        default -> shift = 0;
      }
    }
    if (shift > 0) {
      t = t.substring(0, t.length() - 1);
    }
    long n = Long.parseLong(t.strip());
    if (n < 0 || n > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException("size out of range: " + s);
    }
    return n << shift;
  }

  public static Duration parseDuration(String s) {
    String t = s.strip().toLowerCase(Locale.ROOT);
    int digits = 0;
    while (digits < t.length() && Character.isDigit(t.charAt(digits))) {
      digits++;
    }
    if (digits == 0) {
      throw new IllegalArgumentException("not a duration: " + s);
    }
    long n = Long.parseLong(t.substring(0, digits));
    return switch (t.substring(digits)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      // A bare number has no unit anyone could guess (fetch.timeout = 10: seconds or milliseconds?);
      // only 0 ("off") needs none.
      case "" -> {
        if (n == 0) {
          yield Duration.ZERO;
        }
        throw new IllegalArgumentException("duration without a unit: " + s);
      }
      default -> throw new IllegalArgumentException("unknown duration unit in " + s);
    };
  }

  static String human(long bytes) {
    if (bytes >= 1L << 30) {
      return (bytes >> 30) + " GiB";
    }
    if (bytes >= 1L << 20) {
      return (bytes >> 20) + " MiB";
    }
    if (bytes >= 1L << 10) {
      return (bytes >> 10) + " KiB";
    }
    return bytes + " B";
  }

  /** A configuration mistake, with a message that says what to change. */
  public static final class ConfigException extends Exception {
    public ConfigException(String message) {
      super(message);
    }
  }
}
