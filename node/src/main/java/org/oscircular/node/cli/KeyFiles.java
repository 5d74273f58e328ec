package org.oscircular.node.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.oscircular.node.origin.AtomicFiles;
import org.oscircular.protocol.format.PublisherKey;
import org.oscircular.protocol.format.TrustedKeys;

/** Reading and writing key and trust files. */
final class KeyFiles {
  private KeyFiles() {}

  static PublisherKey.Private readPrivate(Path file) throws IOException {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      if (text.lines().anyMatch(l -> l.startsWith("circular-ed25519-public "))) {
        throw new IOException(file + " is a public key; --key takes the private key written beside it by keygen"
            + (file.toString().endsWith(".pub") ? " (" + file.toString().replaceFirst("\\.pub$", "") + ")" : ""));
      }
      var perms = Files.getPosixFilePermissions(file);
      if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
        throw new IOException("private key " + file + " is readable by others (mode "
            + PosixFilePermissions.toString(perms) + "); run chmod 600 " + file);
      }
      return PublisherKey.parsePrivate(text, file.toString());
    } catch (NoSuchFileException e) {
      throw new IOException("private key " + file + " does not exist (make one with: circular keygen --out " + file + ")");
    }
  }

  static TrustedKeys readTrust(Path file) throws IOException {
    try {
      return TrustedKeys.parse(Files.readString(file, StandardCharsets.UTF_8), "trust file " + file);
    } catch (NoSuchFileException e) {
      throw new IOException("trust file " + file + " does not exist (copy the publisher's .pub line into it, "
          + "or pass --trust FILE)");
    }
  }

  /** Writes the private key with mode 0600 (never readable by others, even briefly) and FILE.pub beside it. */
  static Path writePair(Path privateFile, PublisherKey.Private key, String comment) throws IOException {
    Path dir = privateFile.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, AtomicFiles.TEMP_PREFIX + "key", "",
        PosixFilePermissions.asFileAttribute(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
    try {
      Files.writeString(tmp, "# OS Circular publisher private key " + key.publicKey().keyId()
          + ": keep secret\n" + key.toText() + "\n");
      Files.move(tmp, privateFile, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
    Path pub = privateFile.resolveSibling(privateFile.getFileName() + ".pub");
    AtomicFiles.write(pub, (key.publicKey().toText(comment) + "\n").getBytes(StandardCharsets.UTF_8), true);
    return pub;
  }
}
