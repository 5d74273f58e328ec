package org.oscircular.node.cli;

import java.time.InstantSource;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.ImagePinner;
import org.oscircular.node.fetch.Origin;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.protocol.format.Catalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "pin", mixinStandardHelpOptions = true,
    description = {"Preload a whole image version into the cache and keep it there (never evicted), so it works offline.",
        "Resumable: run it again after an interruption and only missing blocks are fetched."})
final class PinCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ArchiveOptions options;

  @Parameters(index = "0", paramLabel = "ORIGIN", description = "Origin directory or base URL; mirrors comma-separated.")
  String origin;

  @Parameters(index = "1", paramLabel = "IMAGE:VERSION", description = "The version to pin, e.g. debian:12.8.")
  String id;

  @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    Logs.oneLine();
    long started = System.nanoTime();
    var fetch = options.fetchConfig();
    List<Origin> origins = ArchiveOptions.origins(origin, fetch);
    try (var store = options.openStore(); var workers = Executors.newVirtualThreadPerTaskExecutor()) {
      var archive = Archive.open(origins, store, options.trustedKeys(), fetch, InstantSource.system(), Sleeper.SYSTEM, workers);
      Catalog.Entry entry;
      try {
        entry = archive.catalog().require(id);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(e.getMessage() + " (see circular images " + origin + ")");
      }
      long fetchedBefore = archive.blocks().fetchedBytes();
      // Ctrl-C (or SIGTERM) ends the JVM in the middle: say that nothing is lost and how to go on.
      var err = spec.commandLine().getErr();
      Thread interrupted = Thread.ofPlatform().unstarted(() -> {
        err.println("circular pin: interrupted; what was fetched stays cached, run the same command again to fetch"
            + " the rest");
        err.flush();
      });
      Runtime.getRuntime().addShutdownHook(interrupted);
      ImagePinner.Progress done;
      AtomicLong shown = new AtomicLong();
      ProgressBars bar = null;
      try {
        var bars = new ProgressBars[1];
        done = ImagePinner.pin(archive, entry, workers, p -> {
          synchronized (bars) {
            if (bars[0] == null) {
              bars[0] = ProgressBars.start("pin " + id, p.totalBytes(), quiet);
            }
            long delta = p.doneBytes() - shown.get();
            if (delta > 0) {
              shown.addAndGet(delta);
              bars[0].accept(delta);
            }
          }
        });
        bar = bars[0];
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(interrupted);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running: it says what happened
        }
        if (bar != null) {
          bar.close();
        }
      }
      long fetched = archive.blocks().fetchedBytes() - fetchedBefore;
      spec.commandLine().getOut().printf(Locale.ROOT,
          "pinned %s: %d blocks, %.1f MiB stored (%.1f MiB fetched now, the rest was cached) in %.1f s%n",
          entry.id(), done.totalBlocks(), done.totalBytes() / 1048576.0, fetched / 1048576.0,
          ArchiveOptions.since(started).toMillis() / 1000.0);
      return 0;
    } finally {
      origins.forEach(Origin::close);
    }
  }
}
