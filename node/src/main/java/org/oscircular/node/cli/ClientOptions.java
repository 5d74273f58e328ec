package org.oscircular.node.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.oscircular.node.fetch.BlockFetcher;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.origin.CatalogState;
import org.oscircular.node.origin.OriginClient;
import picocli.CommandLine.Option;

/**
 * Options every reading command shares. Defaults: the trust file is
 * {@code $XDG_CONFIG_HOME/circular/trusted-keys} (else {@code ~/.config/circular/trusted-keys}); the state
 * directory (last-seen catalog sequences) is {@code $XDG_STATE_HOME/circular} (else
 * {@code ~/.local/state/circular}).
 */
final class ClientOptions {
  @Option(names = "--trust", paramLabel = "FILE",
      description = "Trusted publisher keys, one 'circular-ed25519-public' line each (default: ~/.config/circular/trusted-keys).")
  Path trust;

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Where the last-seen catalog sequence of each origin is kept (default: ~/.local/state/circular).")
  Path stateDir;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s",
      description = "Connect and read timeout for HTTP origins (default: ${DEFAULT-VALUE}).")
  String timeout;

  static Path configHome() {
    String x = System.getenv("XDG_CONFIG_HOME");
    return x != null && !x.isBlank() ? Path.of(x) : Path.of(System.getProperty("user.home"), ".config");
  }

  static Path defaultTrust() {
    return configHome().resolve("circular").resolve("trusted-keys");
  }

  static Path defaultStateDir() {
    String x = System.getenv("XDG_STATE_HOME");
    Path base = x != null && !x.isBlank() ? Path.of(x) : Path.of(System.getProperty("user.home"), ".local", "state");
    return base.resolve("circular");
  }

  Duration timeout() {
    return Sizes.parseDuration(timeout);
  }

  /** A client of {@code origin} (mirrors comma-separated) for catalog and tables only. */
  OriginClient open(String origin) throws IOException {
    return open(origin, 4, 1);
  }

  /**
   * A client of {@code origin} (mirrors comma-separated) with up to {@code parallel} requests in flight
   * per origin and {@code rounds} passes over the origins per block, 200 ms backoff doubling between them.
   */
  OriginClient open(String origin, int parallel, int rounds) throws IOException {
    var trustKeys = KeyFiles.readTrust(trust != null ? trust : defaultTrust());
    var state = new CatalogState(stateDir != null ? stateDir : defaultStateDir());
    FetchConfig fetch = FetchConfig.defaults().withConnections(parallel).withTimeout(timeout())
        .withRounds(rounds, Duration.ofMillis(200));
    var fetcher = new BlockFetcher(ArchiveOptions.origins(origin, fetch), fetch, Sleeper.SYSTEM);
    return new OriginClient(fetcher, trustKeys, state, Clock.systemUTC());
  }
}
