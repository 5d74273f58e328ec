package org.oscircular.node.cli;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.oscircular.node.config.NodeConfig;
import org.oscircular.node.daemon.CircularNode;
import org.oscircular.node.daemon.JsonLogFormatter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "node", mixinStandardHelpOptions = true,
    description = {"Run a node: block cache, libp2p host, block exchange with peers (origins as fallback).",
        "Also the front ends the configuration enables (NBD, FUSE mount, boot menu, metrics). Runs until SIGINT or"
        + " SIGTERM.", "Every key and default: docs/configuration.md."})
final class NodeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE", description = "Configuration file (key = value lines).")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one key, e.g. --set node.role=seed (repeatable).")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--print-config", description = "Print every key's effective value and where it came from, then exit.")
  boolean printConfig;

  @Override
  public Integer call() throws Exception {
    NodeConfig cfg;
    try {
      cfg = NodeConfig.load(config, overrides);
    } catch (NodeConfig.ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (printConfig) {
      var out = spec.commandLine().getOut();
      out.print(cfg.describe());
      out.flush(); // print() does not flush, and main() exits right after: the text would be lost
      return 0;
    }
    Logs.oneLine();
    if (cfg.string("log.format").equals("json")) {
      JsonLogFormatter.install();
    }
    CircularNode node = CircularNode.start(cfg);
    var out = spec.commandLine().getOut();
    out.printf("node %s up; listening on %s%n", node.host().peerId(), node.host().listenAddresses());
    if (node.metrics() != null) {
      out.printf("metrics at http://%s/metrics%n", hostPort(node.metrics().address()));
    }
    out.flush();
    var stopped = new CountDownLatch(1);
    // A stop by SIGTERM (systemctl stop) or SIGINT is a clean one: exit 0 once closed, as mount does, not the
    // JVM's 143, which systemd would record as a failure of the unit.
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("circular-node-stop").unstarted(() -> {
      int code = 0;
      try {
        node.close();
      } catch (RuntimeException e) {
        System.err.println("circular node: closing: " + e.getMessage());
        code = 1;
      }
      System.err.println("circular node: stopped");
      System.err.flush();
      stopped.countDown();
      Runtime.getRuntime().halt(code);
    }));
    stopped.await();
    return 0;
  }

  private static String hostPort(InetSocketAddress a) {
    return a.getHostString() + ":" + a.getPort();
  }
}
