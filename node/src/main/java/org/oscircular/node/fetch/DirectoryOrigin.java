package org.oscircular.node.fetch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** An origin tree on a local (or network-mounted) file system. */
public record DirectoryOrigin(Path root) implements Origin {

  @Override
  public byte[] get(String path, int maxLength) throws IOException {
    Path p = root.resolve(path);
    long size = Files.size(p);
    if (size > maxLength) {
      throw new IOException(p + " is " + size + " bytes, more than the " + maxLength + " expected");
    }
    return Files.readAllBytes(p);
  }

  @Override
  public String describe() {
    return root.toString();
  }
}
