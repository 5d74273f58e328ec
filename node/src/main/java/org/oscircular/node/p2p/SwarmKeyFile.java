package org.oscircular.node.p2p;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.oscircular.protocol.p2p.PreSharedKey;

/** Reads the swarm key file of a private network ({@code p2p.psk-file}); see {@link PreSharedKey}. */
public final class SwarmKeyFile {
  private SwarmKeyFile() {}

  /** Reads and checks {@code file}; the exception message names the file and what is wrong. */
  public static PreSharedKey read(Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new IOException("p2p.psk-file " + file + " does not exist", e);
    }
    try {
      return PreSharedKey.parse(bytes);
    } catch (IllegalArgumentException e) {
      throw new IOException("p2p.psk-file " + file + ": " + e.getMessage(), e);
    }
  }
}
