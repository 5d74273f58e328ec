package org.oscircular.node.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.boot.BootImages;
import org.oscircular.node.boot.BootMenu;
import org.oscircular.node.boot.BootVersion;
import org.oscircular.node.fetch.Origin;
import org.oscircular.node.fetch.Sleeper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code circular kexec}: fetches a version's kernel and initrd through the cache and switches the
 * running Linux to it with {@code kexec -l … && kexec -e}, root disk over NBD.
 */
@Command(name = "kexec", mixinStandardHelpOptions = true,
    description = {"Boot IMAGE:VERSION from the running Linux: fetch its kernel and initrd through"
        + " the cache (verified),", "then kexec -l … && kexec -e with its root disk on a node's NBD"
        + " export. --dry-run prints the commands instead."})
final class KexecCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ArchiveOptions options;

  @Parameters(index = "0", paramLabel = "ORIGIN",
      description = "Origin directory or base URL; mirrors comma-separated.")
  String origin;

  @Parameters(index = "1", paramLabel = "IMAGE:VERSION", description = "The version to boot.")
  String id;

  @Option(names = "--nbd", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:10809",
      description = "The node serving the root disk over NBD, as the booted kernel reaches it"
          + " (default: ${DEFAULT-VALUE}).")
  String nbd;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "Where to write kernel and initrd (default: a new temporary directory).")
  Path dir;

  @Option(names = "--dry-run", description = "Fetch and verify, print the kexec commands, run none.")
  boolean dryRun;

  @Override
  public Integer call() throws Exception {
    Logs.oneLine();
    if (!dryRun && !"root".equals(System.getProperty("user.name"))) {
      throw new IllegalStateException("kexec needs root (or use --dry-run to see the commands)");
    }
    var fetch = options.fetchConfig();
    List<Origin> origins = ArchiveOptions.origins(origin, fetch);
    List<List<String>> commands = new ArrayList<>();
    try (var store = options.openStore(); var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      var archive = Archive.open(origins, store, options.trustedKeys(), fetch,
          InstantSource.system(), Sleeper.SYSTEM, pool);
      var images = new BootImages(archive);
      BootVersion v = images.require(id);
      Path out = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("circular-kexec");
      Path kernel = out.resolve(v.image() + "-" + v.version() + ".kernel");
      Files.write(kernel, images.attachment(v.image(), v.version(), "kernel"));
      var host = HostPort.parse(nbd);
      List<String> load = new ArrayList<>(List.of("kexec", "-l", kernel.toString()));
      if (v.hasInitrd()) {
        Path initrd = out.resolve(v.image() + "-" + v.version() + ".initrd");
        Files.write(initrd, images.attachment(v.image(), v.version(), "initrd"));
        load.add("--initrd=" + initrd);
      }
      load.add("--command-line=" + BootMenu.cmdline(v, host.getHostString(), host.getPort()));
      commands.add(load);
      commands.add(List.of("kexec", "-e"));
    } finally {
      origins.forEach(Origin::close);
    }
    var outStream = spec.commandLine().getOut();
    for (List<String> c : commands) {
      outStream.println(shellQuote(c));
    }
    outStream.flush();
    if (dryRun) {
      return 0;
    }
    for (List<String> c : commands) {
      Process p = new ProcessBuilder(c).inheritIO().start();
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", c) + " failed");
      }
    }
    return 0;
  }

  static String shellQuote(List<String> words) {
    StringBuilder s = new StringBuilder();
    for (String w : words) {
      if (!s.isEmpty()) {
        s.append(' ');
      }
      s.append(w.matches("[A-Za-z0-9_./:=,+-]+") ? w : "'" + w.replace("'", "'\\''") + "'");
    }
    return s.toString();
  }
}
