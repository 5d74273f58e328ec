package org.oscircular.node.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.boot.BootImages;
import org.oscircular.node.boot.BootMenu;
import org.oscircular.node.boot.BootVersion;
import org.oscircular.node.boot.KexecTools;
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
 * running Linux to it with {@code kexec -l … && kexec -e}, root disk over NBD. Root, the kexec
 * binary and the kernel's permission are checked before anything is fetched; the files handed to
 * kexec are the verified bytes, read back after writing.
 */
@Command(name = "kexec", mixinStandardHelpOptions = true,
    description = {"Boot IMAGE:VERSION from the running Linux, its root disk on a node's NBD export.",
        "Fetches kernel and initrd through the cache (verified), then runs kexec -l … && kexec -e;"
        + " --dry-run prints the commands instead."})
final class KexecCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ArchiveOptions options;

  @Parameters(index = "0", paramLabel = "ORIGIN",
      description = "Origin directory or base URL; mirrors comma-separated.")
  String origin;

  @Parameters(index = "1", paramLabel = "IMAGE:VERSION", description = "The version to boot.")
  String id;

  @Option(names = "--nbd", paramLabel = "HOST:PORT",
      description = "The node serving the root disk over NBD, as the booted kernel reaches it"
          + " (default: ORIGIN's host, port 10809, when ORIGIN is a URL).")
  String nbd;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "Where to write kernel and initrd (default: a new temporary directory).")
  Path dir;

  @Option(names = "--dry-run", description = "Fetch and verify, print the kexec commands, run none.")
  boolean dryRun;

  @Option(names = "--load-only", description = "Run only kexec -l; boot it later with 'systemctl kexec'"
      + " (a clean shutdown first) or 'kexec -e'.")
  boolean loadOnly;

  @Option(names = "--file-load", description = "Load with kexec_file_load (kexec -s), as a locked-down"
      + " (Secure Boot) kernel requires; the kernel must be signed with a key it trusts.")
  boolean fileLoad;

  @Override
  public Integer call() throws Exception {
    Logs.oneLine();
    // Before fetching anything: a machine that cannot kexec says so at once.
    String kexec = "kexec";
    var host = nbdAddress();
    if (!dryRun) {
      KexecTools.checkAllowed(fileLoad);
      kexec = KexecTools.locate(System.getenv("PATH")).toString();
    }
    var fetch = options.fetchConfig();
    List<Origin> origins = ArchiveOptions.origins(origin, fetch);
    BootVersion v;
    byte[] kernelBytes;
    byte[] initrdBytes = null;
    try (var store = options.openStore(); var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      var archive = Archive.open(origins, store, options.trustedKeys(), fetch,
          InstantSource.system(), Sleeper.SYSTEM, pool);
      var images = new BootImages(archive);
      v = images.require(id);
      // both whole and verified before any file is written
      kernelBytes = images.attachment(v.image(), v.version(), "kernel");
      if (v.hasInitrd()) {
        initrdBytes = images.attachment(v.image(), v.version(), "initrd");
      }
    } finally {
      origins.forEach(Origin::close);
    }
    String cmdline = BootMenu.cmdline(v, host.getHostString(), host.getPort());
    boolean tempDir = dir == null;
    Path out = tempDir ? Files.createTempDirectory("circular-kexec") : Files.createDirectories(dir);
    Path kernel = writeVerified(out.resolve(v.image() + "-" + v.version() + ".kernel"), kernelBytes);
    Path initrd = initrdBytes == null ? null
        : writeVerified(out.resolve(v.image() + "-" + v.version() + ".initrd"), initrdBytes);
    var w = spec.commandLine().getOut();
    w.println(shellQuote(KexecTools.loadCommand("kexec", kernel, initrd, cmdline, fileLoad)));
    if (!loadOnly) {
      w.println(shellQuote(KexecTools.execCommand("kexec")));
    }
    w.flush();
    if (dryRun) {
      return 0;
    }
    try {
      run(KexecTools.loadCommand(kexec, kernel, initrd, cmdline, fileLoad), "nothing was loaded");
    } finally {
      if (tempDir) { // loaded into kernel memory (or failed): the files are no longer needed
        Files.deleteIfExists(kernel);
        if (initrd != null) {
          Files.deleteIfExists(initrd);
        }
        Files.deleteIfExists(out);
      }
    }
    if (loadOnly) {
      w.println("loaded " + id + "; boot it with 'systemctl kexec' (clean shutdown) or 'kexec -e'");
      w.flush();
      return 0;
    }
    run(KexecTools.execCommand(kexec), "the running kernel stays");
    // kexec -e only returns if the new kernel did not start
    throw new IllegalStateException("kexec -e returned: " + id + " did not start");
  }

  /** --nbd, else the host of an http(s) ORIGIN with the NBD port 10809; never a loopback address. */
  InetSocketAddress nbdAddress() {
    String spec = nbd;
    if (spec == null) {
      String first = origin.split(",")[0].strip();
      if (!first.startsWith("http://") && !first.startsWith("https://")) {
        throw new IllegalArgumentException("give --nbd HOST:PORT, the node the booted kernel gets its"
            + " root disk from (ORIGIN is a directory, so it names no host)");
      }
      var uri = URI.create(first);
      if (uri.getHost() == null) {
        throw new IllegalArgumentException("give --nbd HOST:PORT: ORIGIN " + first + " names no host");
      }
      spec = (uri.getHost().contains(":") ? "[" + uri.getHost() + "]" : uri.getHost()) + ":10809";
    }
    var address = HostPort.parse(spec);
    if (!dryRun && (address.getAddress() == null || address.getAddress().isLoopbackAddress())) {
      throw new IllegalArgumentException("--nbd " + spec + " is a loopback address (or does not"
          + " resolve): the booted kernel cannot reach it; give the node's network address");
    }
    return address;
  }

  /** Writes verified bytes and reads them back, so kexec loads exactly what was verified. */
  static Path writeVerified(Path file, byte[] verified) throws IOException {
    Files.write(file, verified);
    if (!Arrays.equals(Files.readAllBytes(file), verified)) {
      throw new IOException(file + ": read back differs from the verified bytes written");
    }
    return file;
  }

  private static void run(List<String> command, String onFailure) throws Exception {
    Process p = new ProcessBuilder(command).inheritIO().start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command.subList(0, 2))
          + " did not finish within 120 s; " + onFailure);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command.subList(0, 2)) + " failed (exit "
          + p.exitValue() + "); " + onFailure);
    }
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
