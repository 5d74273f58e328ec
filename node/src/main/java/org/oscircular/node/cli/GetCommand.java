package org.oscircular.node.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import org.oscircular.node.origin.ImageDownloader;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.ImageTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "get", mixinStandardHelpOptions = true,
    description = "Download and reassemble a whole image version, every block verified.")
final class GetCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;

  @Parameters(index = "0", paramLabel = "ORIGIN", description = "Origin directory or base URL; mirrors comma-separated.")
  String origin;

  @Parameters(index = "1", paramLabel = "IMAGE:VERSION", description = "The version to fetch, e.g. debian:12.8.")
  String id;

  @Parameters(index = "2", paramLabel = "OUT", description = "Output file (written to a temp file, renamed when complete).")
  Path out;

  @Option(names = "--blob", paramLabel = "NAME", defaultValue = "image",
      description = "What to fetch: image (default) or an attachment such as kernel or initrd.")
  String blob;

  @Option(names = "--parallel", paramLabel = "N", defaultValue = "8", description = "Parallel requests (default: ${DEFAULT-VALUE}).")
  int parallel;

  @Option(names = "--retries", paramLabel = "N", defaultValue = "5", description = "Passes over the origins per block, with backoff between them (default: ${DEFAULT-VALUE}).")
  int retries;

  @Option(names = "--force", description = "Overwrite OUT if it exists.")
  boolean force;

  @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    if (parallel < 1 || parallel > 256) {
      throw new IllegalArgumentException("--parallel must be 1..256, got " + parallel);
    }
    if (Files.exists(out) && !force) {
      throw new IllegalArgumentException(out + " already exists; use --force to overwrite it");
    }
    long started = System.nanoTime();
    if (retries < 1 || retries > 100) {
      throw new IllegalArgumentException("--retries must be 1..100, got " + retries);
    }
    try (var c = client.open(origin, parallel, retries)) {
      Catalog cat = c.catalog();
      Catalog.Entry e = cat.require(id);
      if (e.retired()) {
        spec.commandLine().getErr().println("warning: " + e.id() + " is retired");
      }
      ImageTable table = c.table(e);
      if (table.blob(blob) == null) {
        throw new IllegalArgumentException(e.id() + " has no '" + blob + "' (it has: image"
            + (table.attachments().isEmpty() ? "" : ", " + String.join(", ", table.attachments().keySet())) + ")");
      }
      long len = table.blob(blob).length();
      // Ctrl-C ends the JVM without running the download's finally: remove the partial file then too.
      Path partial = ImageDownloader.tempFileOf(out);
      Thread cleanup = Thread.ofPlatform().unstarted(() -> {
        try {
          Files.deleteIfExists(partial);
        } catch (IOException ignored) {
          // the next get of the same OUT deletes it first
        }
      });
      Runtime.getRuntime().addShutdownHook(cleanup);
      try (var pool = Executors.newVirtualThreadPerTaskExecutor();
          var bar = ProgressBars.start("get " + e.id(), len, quiet)) {
        new ImageDownloader(c, pool, parallel).download(table, blob, out, bar);
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running or about to: nothing to undo
        }
      }
      double secs = Math.max(1e-9, (System.nanoTime() - started) / 1e9);
      var w = spec.commandLine().getOut();
      w.printf(Locale.ROOT, "got %s%s: %s in %.2f s (%.0f MiB/s), every block verified -> %s%n", e.id(),
          blob.equals("image") ? "" : " " + blob, Sizes.bytes(len), secs, len / secs / (1 << 20), out);
      w.flush();
    }
    return 0;
  }
}
