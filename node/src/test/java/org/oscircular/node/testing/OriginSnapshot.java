package org.oscircular.node.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.oscircular.protocol.format.Digests;

/** Every file of a directory tree with its SHA-256, to check that a failed command changed nothing. */
public final class OriginSnapshot {
  private OriginSnapshot() {}

  public static Map<String, String> of(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals(".lock")).forEach(p -> {
        try {
          out.put(root.relativize(p).toString(), HexFormat.of().formatHex(Digests.sha256(Files.readAllBytes(p))));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
    return out;
  }

  /** Copies a tree (to give each test its own origin to damage). */
  public static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }
}
