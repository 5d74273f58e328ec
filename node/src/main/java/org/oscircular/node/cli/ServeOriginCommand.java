package org.oscircular.node.cli;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import org.oscircular.node.origin.StaticOriginServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "serve-origin", mixinStandardHelpOptions = true,
    description = "Serve an origin directory over HTTP (a small static server; nginx or any web server works too).")
final class ServeOriginCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "Origin directory.")
  Path dir;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8080",
      description = "Address to listen on (default: ${DEFAULT-VALUE}; use 0.0.0.0:8080 for the whole network).")
  String listen;

  @Override
  public Integer call() throws Exception {
    InetSocketAddress addr = parse(listen);
    try (var pool = Executors.newVirtualThreadPerTaskExecutor();
        var server = StaticOriginServer.start(dir, addr, pool)) {
      var w = spec.commandLine().getOut();
      w.println("serving " + dir + " at " + server.url() + " (Ctrl-C to stop)");
      w.flush();
      new CountDownLatch(1).await();
    }
    return 0;
  }

  static InetSocketAddress parse(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    try {
      if (colon < 0) {
        return new InetSocketAddress(Integer.parseInt(hostPort));
      }
      String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
      return new InetSocketAddress(host.isEmpty() ? "0.0.0.0" : host, Integer.parseInt(hostPort.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--listen must be HOST:PORT or PORT, got '" + hostPort + "'");
    }
  }
}
