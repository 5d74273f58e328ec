package org.oscircular.node.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.oscircular.protocol.format.PublisherKey;
import picocli.CommandLine.Option;

/** Options of the commands that sign a new catalog: publish, retire and resign. */
final class SignerOptions {
  @Option(names = "--key", required = true, paramLabel = "KEY", description = "Publisher private key file (from keygen).")
  Path key;

  @Option(names = "--catalog-valid", paramLabel = "DURATION", defaultValue = "30d",
      description = "How long clients accept the new catalog (default: ${DEFAULT-VALUE}); renew with 'circular resign'.")
  String catalogValid;

  PublisherKey.Private privateKey() throws IOException {
    return KeyFiles.readPrivate(key);
  }

  Duration catalogValidity() {
    Duration d = Sizes.parseDuration(catalogValid);
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException("--catalog-valid must be positive, got '" + catalogValid + "' (e.g. 30d)");
    }
    return d;
  }
}
