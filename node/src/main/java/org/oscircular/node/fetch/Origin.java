package org.oscircular.node.fetch;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One place the archive can be read from: an {@code http://} base URL or a local directory, laid out as
 * {@link org.oscircular.protocol.format.OriginLayout} says. Implementations are thread-safe.
 */
public sealed interface Origin extends AutoCloseable permits HttpOrigin, DirectoryOrigin {

  /** The bytes at a relative path of the origin tree; {@link java.nio.file.NoSuchFileException} if absent. */
  byte[] get(String path, int maxLength) throws IOException;

  /** The base URL or directory, for log lines and error messages. */
  String describe();

  @Override
  default void close() {}

  /**
   * Parses an origin argument: {@code http://…} or {@code https://…} becomes an {@link HttpOrigin}, anything
   * else a directory.
   */
  static Origin parse(String spec, int maxConnections, Duration timeout) {
    if (spec.startsWith("http://") || spec.startsWith("https://")) {
      return new HttpOrigin(URI.create(spec.endsWith("/") ? spec : spec + "/"), maxConnections, timeout);
    }
    return new DirectoryOrigin(Path.of(spec));
  }
}
