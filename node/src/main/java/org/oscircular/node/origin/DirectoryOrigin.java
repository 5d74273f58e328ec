package org.oscircular.node.origin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** An origin that is a local directory (or a mounted share). */
public final class DirectoryOrigin implements OriginReader {
  private final Path root;

  private DirectoryOrigin(Path root) {
    this.root = root;
  }

  public static DirectoryOrigin open(Path root) throws OriginException {
    if (!Files.isDirectory(root)) {
      throw new OriginException(OriginException.Kind.UNREACHABLE, "origin directory " + root + " does not exist");
    }
    return new DirectoryOrigin(root.toAbsolutePath().normalize());
  }

  public Path root() {
    return root;
  }

  @Override
  public byte[] read(String path) throws IOException {
    Path file = root.resolve(path).normalize();
    if (!file.startsWith(root.normalize())) {
      throw new IllegalArgumentException("path escapes the origin: " + path);
    }
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new OriginException(OriginException.Kind.NOT_FOUND, "origin " + root + " has no " + path);
    }
  }

  @Override
  public String describe() {
    return root.toString();
  }

  @Override
  public void close() {}
}
