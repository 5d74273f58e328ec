package org.oscircular.node.origin;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Read access to an origin tree (see {@link org.oscircular.protocol.format.OriginLayout}): a local
 * directory or an {@code http://} / {@code https://} base URL. Implementations are thread-safe; callers
 * fetch many blocks in parallel. Bytes returned here are unverified: callers check them against the
 * signed documents before use.
 */
public sealed interface OriginReader extends AutoCloseable permits DirectoryOrigin, HttpOrigin {

  /**
   * The bytes at {@code path} (relative, e.g. {@code catalog}). Throws {@link OriginException} whose
   * message names the origin and the path when the file is missing, the origin is unreachable or it
   * answers with something that is not an archive file (an HTML page).
   */
  byte[] read(String path) throws IOException;

  /** The origin as the user wrote it, for messages. */
  String describe();

  @Override
  void close();

  /** Opens {@code spec}: a URL with scheme http or https, otherwise a directory path. */
  static OriginReader open(String spec, Duration timeout) throws IOException {
    if (spec.startsWith("http://") || spec.startsWith("https://")) {
      return HttpOrigin.create(spec, timeout);
    }
    if (spec.contains("://")) {
      throw new IllegalArgumentException("origin '" + spec + "' has an unsupported scheme (use a directory, http:// or https://)");
    }
    return DirectoryOrigin.open(Path.of(spec));
  }

  /** True when {@code data} looks like an HTML page rather than an archive file. */
  static boolean looksLikeHtml(byte[] data) {
    int i = 0;
    while (i < data.length && i < 64 && Character.isWhitespace(data[i])) {
      i++;
    }
    if (i >= data.length || data[i] != '<') {
      return false;
    }
    String head = new String(data, i, Math.min(data.length - i, 15), java.nio.charset.StandardCharsets.ISO_8859_1)
        .toLowerCase(java.util.Locale.ROOT);
    return head.startsWith("<!doctype") || head.startsWith("<html") || head.startsWith("<head")
        || head.startsWith("<body") || head.startsWith("<!--") || head.startsWith("<?xml");
  }
}
