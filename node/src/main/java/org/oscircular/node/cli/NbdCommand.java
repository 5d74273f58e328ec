package org.oscircular.node.cli;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.CatalogPoller;
import org.oscircular.node.boot.BootHttpServer;
import org.oscircular.node.boot.BootImages;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.Origin;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.nbd.ArchiveExports;
import org.oscircular.node.nbd.FileExport;
import org.oscircular.node.nbd.NbdExport;
import org.oscircular.node.nbd.NbdExports;
import org.oscircular.node.nbd.NbdServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code circular nbd}: serves image versions (or raw files) as read-only NBD exports. */
@Command(
    name = "nbd",
    mixinStandardHelpOptions = true,
    description = {
      "Serve every image version of ORIGIN as a read-only NBD export named IMAGE:VERSION.",
      "Clients: nbdinfo --list nbd://HOST:PORT, qemu -drive file=nbd://HOST:PORT/IMAGE:VERSION,"
          + " or nbdroot= from a diskless machine's initramfs."
    })
final class NbdCommand implements Callable<Integer> {

  @Parameters(index = "0", arity = "0..1", paramLabel = "ORIGIN",
      description = "Origin directory or base URL; mirrors separated by commas, tried in order.")
  String origin;

  @Option(names = "--listen", defaultValue = "127.0.0.1:10809", paramLabel = "HOST:PORT",
      description = "Address to listen on (default: ${DEFAULT-VALUE}; port 0 picks a free one).")
  String listen;

  @Mixin ArchiveOptions options;

  @Option(names = "--http", paramLabel = "HOST:PORT",
      description = "Also serve network boot over HTTP here: /boot/menu.ipxe and each version's"
          + " kernel and initrd (needs ORIGIN).")
  String http;

  @Option(names = "--file", paramLabel = "NAME=PATH",
      description = "Also serve the raw image file PATH as export NAME (repeatable).")
  List<String> fileSpecs = new ArrayList<>();

  /** NAME=PATH options by name; a name given twice is an error (a map option would keep only the last). */
  private Map<String, Path> files() {
    Map<String, Path> out = new LinkedHashMap<>();
    for (String spec : fileSpecs) {
      int eq = spec.indexOf('=');
      if (eq <= 0 || eq == spec.length() - 1) {
        throw new IllegalArgumentException("--file expects NAME=PATH, got '" + spec + "'");
      }
      String name = spec.substring(0, eq);
      if (out.putIfAbsent(name, Path.of(spec.substring(eq + 1))) != null) {
        throw new IllegalArgumentException("--file gives the export name '" + name + "' twice");
      }
    }
    return out;
  }

  @Override
  public Integer call() throws Exception {
    Map<String, Path> files = files();
    if (origin == null && files.isEmpty()) {
      throw new IllegalArgumentException("nothing to serve: give an ORIGIN or --file NAME=PATH");
    }
    Logs.oneLine();
    InetSocketAddress address = HostPort.parse(listen);
    List<AutoCloseable> closing = new ArrayList<>();
    ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
    ExecutorService reads = Executors.newFixedThreadPool(Integer.getInteger("circular.nbd.threads", 8),
        Thread.ofPlatform().daemon().name("nbd-read-", 0).factory());
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("catalog-poll").factory());
    NbdServer server;
    Archive archive = null;
    // The archive's versions are replaced when a newer catalog arrives; files are fixed.
    var archiveExports = new AtomicReference<List<NbdExport>>(List.of());
    List<NbdExport> fileExports = new ArrayList<>();
    NbdExports exports = () -> {
      List<NbdExport> all = new ArrayList<>(archiveExports.get());
      all.addAll(fileExports);
      return all;
    };
    try {
      if (origin != null) {
        var fetch = options.fetchConfig();
        var refresh = options.nodeConfig().duration("catalog.refresh-interval");
        List<Origin> origins = ArchiveOptions.origins(origin, fetch);
        origins.forEach(o -> closing.add(o::close));
        RocksBlockStore store = options.openStore();
        closing.add(store);
        var opened = Archive.open(origins, store, options.trustedKeys(), fetch,
            InstantSource.system(), Sleeper.SYSTEM, background);
        archive = opened;
        archiveExports.set(new ArchiveExports(opened).list());
        CatalogPoller.start(opened, refresh, timer, () -> archiveExports.set(new ArchiveExports(opened).list()));
      }
      for (var e : files.entrySet()) {
        FileExport f = FileExport.open(e.getKey(), e.getValue());
        closing.add(f);
        fileExports.add(f);
      }
      server = NbdServer.start(address, exports, reads, 2);
      closing.add(server);
      if (http != null) {
        if (archive == null) {
          throw new IllegalArgumentException("--http serves an archive's boot menu: give ORIGIN");
        }
        BootHttpServer boot = BootHttpServer.start(HostPort.parse(http), new BootImages(archive),
            server.address().getPort(), background);
        closing.add(boot);
        System.out.println("boot: menu at http://" + boot.address().getHostString() + ":"
            + boot.address().getPort() + "/boot/menu.ipxe");
      }
    } catch (Exception e) {
      closeAll(closing, timer, reads, background);
      throw e;
    }
    InetSocketAddress bound = server.address();
    System.out.println("nbd: serving " + exports.list().size() + " export(s) on nbd://"
        + bound.getHostString() + ":" + bound.getPort() + "/");
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(
        () -> closeAll(closing, timer, reads, background)));
    server.awaitClose();
    return 0;
  }

  private static void closeAll(List<AutoCloseable> closing, ExecutorService... pools) {
    for (ExecutorService p : pools) {
      p.shutdownNow();
    }
    for (AutoCloseable c : closing.reversed()) {
      try {
        c.close();
      } catch (Exception e) {
        System.err.println("circular nbd: closing: " + e.getMessage());
      }
    }
  }
}
