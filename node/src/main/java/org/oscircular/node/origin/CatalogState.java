package org.oscircular.node.origin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;
import org.oscircular.protocol.format.Digests;

/**
 * The highest catalog sequence a client has accepted from each origin, kept in a state directory so
 * that a rollback is refused across runs. One file per origin: {@code catalog-seq/<id>} holding the
 * sequence on the first line and the origin on the second.
 */
public final class CatalogState {
  private final Path dir;

  public CatalogState(Path stateDir) {
    this.dir = stateDir.resolve("catalog-seq");
  }

  private Path file(String origin) {
    String norm = origin.endsWith("/") ? origin.substring(0, origin.length() - 1) : origin;
    byte[] h = Digests.sha256(norm.getBytes(StandardCharsets.UTF_8));
    return dir.resolve(HexFormat.of().formatHex(h, 0, 12));
  }

  /** The last accepted sequence, or -1 when this origin was never seen. */
  public long lastSeen(String origin) throws IOException {
    Path f = file(origin);
    try {
      String first = Files.readString(f).lines().findFirst().orElse("").strip();
      return Long.parseLong(first);
    } catch (NoSuchFileException e) {
      return -1;
    } catch (NumberFormatException e) {
      throw new IOException("state file " + f + " is corrupt (expected a catalog sequence); delete it to reset");
    }
  }

  /** Records {@code sequence} if it is higher than what was seen. */
  public void record(String origin, long sequence) throws IOException {
    if (sequence > lastSeen(origin)) {
      AtomicFiles.write(file(origin), (sequence + "\n" + origin + "\n").getBytes(StandardCharsets.UTF_8), true);
    }
  }
}
