package org.oscircular.node.p2p;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.WireFormatException;

/**
 * The node's libp2p identity in its data directory: {@code <data-dir>/identity.key}, the libp2p
 * {@code PrivateKey} protobuf of an Ed25519 key, mode 0600. Created on first use.
 */
public final class IdentityFile {
  public static final String NAME = "identity.key";

  private IdentityFile() {}

  /** Loads the key in {@code dataDir}, creating the directory and a new key if there is none. */
  public static IdentityKey loadOrCreate(Path dataDir, SecureRandom random) throws IOException {
    Path file = dataDir.resolve(NAME);
    if (Files.exists(file)) {
      return load(file);
    }
    Files.createDirectories(dataDir);
    IdentityKey key = IdentityKey.generate(random);
    Path tmp = Files.createTempFile(dataDir, NAME, ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.write(tmp, key.toPrivateKeyProto());
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file);
      }
    } catch (FileAlreadyExistsException e) {
      return load(file); // another process created it first
    } finally {
      Files.deleteIfExists(tmp);
    }
    return key;
  }

  /** Loads a key file, refusing one that others can read. */
  public static IdentityKey load(Path file) throws IOException {
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
    if (perms.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
      throw new IOException("identity key " + file + " is accessible by other users ("
          + PosixFilePermissions.toString(perms) + "); run: chmod 600 " + file);
    }
    try {
      return IdentityKey.fromPrivateKeyProto(Files.readAllBytes(file));
    } catch (WireFormatException e) {
      throw new IOException("identity key " + file + " is not a libp2p Ed25519 private key: " + e.getMessage(), e);
    }
  }
}
