package org.oscircular.node.fetch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * An origin tree on a local (or network-mounted) file system. The directory need not exist when this is
 * made (a mount may start from its cache while the share is away); reads then say it does not exist.
 */
public record DirectoryOrigin(Path root) implements Origin {

  public DirectoryOrigin {
    root = root.toAbsolutePath().normalize();
  }

  @Override
  public byte[] get(String path, int maxLength) throws IOException {
    Path file = root.resolve(path).normalize();
    if (!file.startsWith(root)) {
      throw new IllegalArgumentException("path escapes the origin: " + path);
    }
    try {
      long size = Files.size(file);
      if (size > maxLength) {
        throw new OriginException(OriginException.Kind.NOT_AN_ARCHIVE,
            "origin " + root + " has " + size + " bytes in " + path + ", more than the " + maxLength + " it can have");
      }
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      if (!Files.isDirectory(root)) {
        throw new OriginException(OriginException.Kind.UNREACHABLE, "origin directory " + root
            + (Files.exists(root) ? " is not a directory" : " does not exist"));
      }
      throw new OriginException(OriginException.Kind.NOT_FOUND, "origin " + root + " has no " + path);
    }
  }

  @Override
  public String describe() {
    return root.toString();
  }
}
