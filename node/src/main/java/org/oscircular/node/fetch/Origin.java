package org.oscircular.node.fetch;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * One place the archive can be read from: an {@code http://} / {@code https://} base URL or a local
 * directory, laid out as {@link org.oscircular.protocol.format.OriginLayout} says. Every reader of origins
 * (mount, NBD, pin, node, get, verify, images) goes through this interface. Bytes returned are
 * unverified: callers check them against the signed documents ({@link BlockFetcher} does for blocks).
 * Implementations are thread-safe; callers fetch many blocks in parallel.
 */
public sealed interface Origin extends AutoCloseable permits HttpOrigin, DirectoryOrigin {

  /**
   * The bytes at a relative path of the origin tree, at most {@code maxLength} of them. Throws
   * {@link OriginException} with a one-line message naming the origin and the path when the file is
   * missing, the origin is unreachable or answers with something that is not an archive file (a longer
   * body; an HTML page where the catalog or a table should be).
   */
  byte[] get(String path, int maxLength) throws IOException;

  /** The origin as the user wrote it (a URL or a directory), for log lines and error messages. */
  String describe();

  @Override
  default void close() {}

  /**
   * Parses an origin argument: {@code http://…} or {@code https://…} becomes an {@link HttpOrigin} with at
   * most {@code maxConnections} requests in flight, another scheme is refused, anything else is a directory.
   */
  static Origin parse(String spec, int maxConnections, Duration timeout) {
    if (spec.startsWith("http://") || spec.startsWith("https://")) {
      URI base;
      try {
        base = URI.create(spec.endsWith("/") ? spec : spec + "/");
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("origin '" + spec + "' is not a valid URL: " + e.getMessage());
      }
      if (base.getHost() == null) {
        throw new IllegalArgumentException("origin '" + spec + "' has no host");
      }
      return new HttpOrigin(base, maxConnections, timeout);
    }
    if (spec.contains("://")) {
      throw new IllegalArgumentException("origin '" + spec
          + "' has an unsupported scheme (use a directory, http:// or https://)");
    }
    return new DirectoryOrigin(Path.of(spec));
  }

  /** Whether {@code path} names a block (whose bytes may be anything, even text that looks like HTML). */
  static boolean isBlock(String path) {
    return path.startsWith("blocks/");
  }

  /** True when {@code data} starts like an HTML page rather than an archive file. */
  static boolean looksLikeHtml(byte[] data) {
    int i = 0;
    while (i < data.length && i < 64 && Character.isWhitespace(data[i])) {
      i++;
    }
    if (i >= data.length || data[i] != '<') {
      return false;
    }
    String head = new String(data, i, Math.min(data.length - i, 15), StandardCharsets.ISO_8859_1)
        .toLowerCase(Locale.ROOT);
    return head.startsWith("<!doctype") || head.startsWith("<html") || head.startsWith("<head")
        || head.startsWith("<body") || head.startsWith("<!--") || head.startsWith("<?xml");
  }

  /** "300 ms" or "10 s", for timeout messages. */
  static String humanDuration(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
