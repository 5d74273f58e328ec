package org.oscircular.node.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.config.NodeConfig;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.Origin;
import org.oscircular.protocol.format.TrustedKeys;
import picocli.CommandLine.Option;

/**
 * Options of the commands that read an archive through the block cache (mount, pin, unpin, cache):
 * where the cache lives, which keys are trusted and the node configuration's cache and fetch keys.
 * Defaults: cache {@code $XDG_CACHE_HOME/circular} (else {@code ~/.cache/circular}); trust file as for
 * the other reading commands.
 */
final class ArchiveOptions {
  @Option(names = "--cache", paramLabel = "DIR",
      description = "Block cache directory (default: ~/.cache/circular).")
  Path cache;

  @Option(names = "--trust", paramLabel = "FILE",
      description = "Trusted publisher keys (default: ~/.config/circular/trusted-keys).")
  Path trust;

  @Option(names = "--config", paramLabel = "FILE",
      description = "Node configuration file (its cache.*, fetch.*, prefetch.bandwidth and catalog.refresh-interval"
          + " keys apply; see docs/configuration.md).")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Override one configuration key, e.g. --set cache.max-bytes=8G (repeatable).")
  List<String> overrides = new ArrayList<>();

  static Path defaultCache() {
    String x = System.getenv("XDG_CACHE_HOME");
    Path base = x != null && !x.isBlank() ? Path.of(x) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("circular");
  }

  Path cacheDir() {
    return cache != null ? cache : defaultCache();
  }

  NodeConfig nodeConfig() throws IOException {
    try {
      return NodeConfig.load(config, overrides);
    } catch (NodeConfig.ConfigException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  CacheConfig cacheConfig() throws IOException {
    try {
      return CacheConfig.from(nodeConfig());
    } catch (NodeConfig.ConfigException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  FetchConfig fetchConfig() throws IOException {
    try {
      return FetchConfig.from(nodeConfig());
    } catch (NodeConfig.ConfigException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  TrustedKeys trustedKeys() throws IOException {
    return KeyFiles.readTrust(trust != null ? trust : ClientOptions.defaultTrust());
  }

  RocksBlockStore openStore() throws IOException {
    return RocksBlockStore.open(cacheDir(), cacheConfig());
  }

  /** ORIGIN may list mirrors separated by commas; they are tried in that order. */
  static List<Origin> origins(String spec, FetchConfig fetch) {
    List<Origin> out = new ArrayList<>();
    for (String s : spec.split(",")) {
      if (!s.isBlank()) {
        out.add(Origin.parse(s.strip(), fetch.connections(), fetch.timeout()));
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("ORIGIN is empty: give a directory or http:// URL (mirrors comma-separated)");
    }
    return out;
  }

  static Duration since(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }
}
