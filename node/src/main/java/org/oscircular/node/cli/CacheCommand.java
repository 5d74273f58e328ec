package org.oscircular.node.cli;

import java.util.Locale;
import java.util.concurrent.Callable;
import org.oscircular.node.cache.CacheStats;
import org.oscircular.node.cache.RocksBlockStore;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "cache", mixinStandardHelpOptions = true, description = "Inspect the block cache.",
    subcommands = {CacheCommand.Stats.class})
final class CacheCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "stats", mixinStandardHelpOptions = true,
      description = "Bytes and blocks cached, the cap, hit rate, evictions and pinned images. Works while a mount runs.")
  static final class Stats implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ArchiveOptions options;

    @Override
    public Integer call() throws Exception {
      CacheStats s = RocksBlockStore.readStats(options.cacheDir(), options.cacheConfig());
      var out = spec.commandLine().getOut();
      out.printf(Locale.ROOT, "cache:          %s%n", options.cacheDir());
      out.printf(Locale.ROOT, "bytes:          %s of %s (%.1f %%)%n", mib(s.bytes()), mib(s.maxBytes()),
          100.0 * s.bytes() / s.maxBytes());
      out.printf(Locale.ROOT, "blocks:         %d%n", s.blocks());
      out.printf(Locale.ROOT, "hits / misses:  %d / %d (hit rate %.1f %%)%n", s.hits(), s.misses(), 100 * s.hitRate());
      out.printf(Locale.ROOT, "evictions:      %d%n", s.evictions());
      out.printf(Locale.ROOT, "pinned images:  %s%n", s.pinnedImages().isEmpty() ? "none" : String.join(", ", s.pinnedImages()));
      out.printf(Locale.ROOT, "pinned bytes:   %s%n", mib(s.pinnedBytes()));
      var decoded = org.oscircular.node.cache.DecodedBlocks.readUsage(options.cacheDir());
      out.printf(Locale.ROOT, "decoded tier:   %s of %s in %d image version%s%n", mib(decoded.bytes()),
          mib(options.cacheConfig().decodedDiskBytes()), decoded.versions(), decoded.versions() == 1 ? "" : "s");
      return 0;
    }

    private static String mib(long b) {
      return String.format(Locale.ROOT, "%.1f MiB", b / 1048576.0);
    }
  }

}
