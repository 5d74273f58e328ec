package org.oscircular.node.cli;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.oscircular.node.nbd.FileExport;
import org.oscircular.node.nbd.NbdExport;
import org.oscircular.node.nbd.NbdExports;
import org.oscircular.node.nbd.NbdServer;
import picocli.CommandLine.Command;
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
      description = "Origin URL of the archive (e.g. http://mirror.example/os/).")
  String origin;

  @Option(names = "--listen", defaultValue = "127.0.0.1:10809", paramLabel = "HOST:PORT",
      description = "Address to listen on (default: ${DEFAULT-VALUE}; port 0 picks a free one).")
  String listen;

  @Option(names = "--cache", paramLabel = "DIR", description = "Block cache directory.")
  Path cache;

  @Option(names = "--file", paramLabel = "NAME=PATH",
      description = "Also serve the raw image file PATH as export NAME (repeatable).")
  Map<String, Path> files = new LinkedHashMap<>();

  @Override
  public Integer call() throws Exception {
    if (origin != null) {
      throw new IllegalArgumentException("serving an ORIGIN needs the archive read path, which"
          + " this build does not have yet; serve raw images with --file NAME=PATH");
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("nothing to serve: give an ORIGIN or --file NAME=PATH");
    }
    List<NbdExport> exports = new ArrayList<>();
    for (var e : files.entrySet()) {
      exports.add(FileExport.open(e.getKey(), e.getValue()));
    }
    InetSocketAddress address = HostPort.parse(listen);
    ExecutorService reads = "virtual".equals(System.getProperty("circular.nbd.reads"))
        ? Executors.newVirtualThreadPerTaskExecutor()
        : Executors.newFixedThreadPool(Integer.getInteger("circular.nbd.threads", 8),
            Thread.ofPlatform().daemon().name("nbd-read-", 0).factory());
    NbdServer server = NbdServer.start(address, NbdExports.of(exports), reads, 2);
    InetSocketAddress bound = server.address();
    System.out.println("nbd: serving " + exports.size() + " export(s) on nbd://"
        + bound.getHostString() + ":" + bound.getPort() + "/");
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
      server.close();
      reads.shutdownNow();
    }));
    server.awaitClose();
    return 0;
  }
}
