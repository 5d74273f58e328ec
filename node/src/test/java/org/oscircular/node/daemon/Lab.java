package org.oscircular.node.daemon;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.oscircular.node.p2p.IdentityFile;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.NetnsLab;
import org.oscircular.node.testing.NginxOrigin;

/**
 * A lab of real {@code circular node} processes, one per network namespace, plus an nginx origin in its
 * own namespace: what a computer room with a campus mirror looks like, on one machine.
 */
final class Lab implements AutoCloseable {
  static final int P2P_PORT = 4001;
  static final int METRICS_PORT = 9464;
  static final int ORIGIN_PORT = 8080;
  static final int NBD_PORT = 10809;

  final NetnsLab net;
  final Path dir;
  final List<Node> nodes = new ArrayList<>();
  NginxOrigin origin;

  /** One node process. */
  record Node(NetnsLab.Host host, Path dataDir, Path log, Path mountPoint, String peerId, Process process) {
    String metrics() throws IOException, InterruptedException {
      return host.run("curl", "-sf", "http://" + host.ip() + ":" + METRICS_PORT + "/metrics");
    }

    /** Sum of a Prometheus series (all label sets) in this node's metrics. */
    double metric(String name, String labelFilter) throws IOException, InterruptedException {
      double sum = 0;
      for (String line : metrics().split("\n")) {
        if (line.startsWith(name) && (labelFilter == null || line.contains(labelFilter))) {
          String[] parts = line.trim().split(" ");
          sum += Double.parseDouble(parts[parts.length - 1]);
        }
      }
      return sum;
    }
  }

  Lab(String prefix, int hosts, Path dir) throws IOException, InterruptedException {
    this.net = NetnsLab.create(prefix, hosts);
    this.dir = dir;
  }

  /** Starts nginx on host 0 serving {@code origin}, logging every request's status, URI and body bytes. */
  String startOrigin(Path root) throws IOException {
    origin = NginxOrigin.serveIn(net.host(0), ORIGIN_PORT, root);
    return origin.url();
  }

  void stopOrigin() throws IOException {
    origin.close();
  }

  /** Requests per block path with status 200 in the origin's access log. */
  Map<String, Integer> originBlockHits() throws IOException {
    Map<String, Integer> hits = new HashMap<>();
    for (NginxOrigin.Request r : origin.requests()) {
      if (r.status() == 200 && r.uri().startsWith("/blocks/")) {
        hits.merge(r.uri(), 1, Integer::sum);
      }
    }
    return hits;
  }

  /** Body bytes the origin has sent for block paths, whatever the status. */
  long originBlockBytes() throws IOException {
    long bytes = 0;
    for (NginxOrigin.Request r : origin.requests()) {
      if (r.uri().startsWith("/blocks/")) {
        bytes += r.bodyBytes();
      }
    }
    return bytes;
  }

  /** Creates each node's data dir and identity now, so every node can be told every other's address. */
  List<String> prepareIdentities(int firstHost, int count) throws IOException {
    List<String> ids = new ArrayList<>();
    for (int i = firstHost; i < firstHost + count; i++) {
      Path data = dir.resolve("node-" + i);
      ids.add(IdentityFile.loadOrCreate(data, new SecureRandom()).peerId().toString());
    }
    return ids;
  }

  String address(int hostIndex, String peerId) {
    return "/ip4/" + net.host(hostIndex).ip() + "/tcp/" + P2P_PORT + "/p2p/" + peerId;
  }

  /** Starts {@code circular node} on host {@code i} with the given config lines (plus the lab's own). */
  Node startNode(int i, String peerId, List<String> extraConfig) throws IOException {
    return startNode(i, peerId, extraConfig, List.of("org.oscircular.node.cli.CircularCli", "node"));
  }

  /** As {@link #startNode}, a node that serves its peers corrupted blocks ({@link LyingNode}). */
  Node startLyingNode(int i, String peerId, List<String> extraConfig) throws IOException {
    return startNode(i, peerId, extraConfig, List.of(LyingNode.class.getName()));
  }

  private Node startNode(int i, String peerId, List<String> extraConfig, List<String> main) throws IOException {
    NetnsLab.Host h = net.host(i);
    Path data = dir.resolve("node-" + i);
    Path mnt = dir.resolve("mnt-" + i);
    Files.createDirectories(mnt);
    List<String> lines = new ArrayList<>(List.of(
        "node.data-dir = " + data,
        "p2p.listen = /ip4/" + h.ip() + "/tcp/" + P2P_PORT,
        "metrics.listen = " + h.ip() + ":" + METRICS_PORT,
        "fuse.mountpoint = " + mnt,
        "nbd.listen = " + h.ip() + ":" + NBD_PORT,
        "mdns.enabled = false"));
    lines.addAll(extraConfig);
    Path conf = dir.resolve("node-" + i + ".conf");
    Files.write(conf, lines);
    Path log = dir.resolve("node-" + i + ".log");
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m",
        "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path")));
    command.addAll(main);
    command.addAll(List.of("--config", conf.toString()));
    Process p = h.start(command, log);
    var node = new Node(h, data, log, mnt, peerId, p);
    nodes.add(node);
    return node;
  }

  static void awaitLog(Node n, String text, int seconds) throws IOException, InterruptedException {
    String what = "'" + text + "' in " + n.log();
    Await.atMost(Duration.ofSeconds(seconds)).every(Duration.ofMillis(100)).until(what, () -> {
      if (!n.process().isAlive()) {
        throw new AssertionError("node on " + n.host().namespace() + " exited: " + tail(n.log()));
      }
      return Files.exists(n.log()) ? Files.readString(n.log()) : "(no log yet)";
    }, log -> log.contains(text));
  }

  /** SHA-256 of a file read inside the node's mount namespace (where its FUSE mount lives). */
  static String sha256InMountNamespace(Node n, Path file) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("nsenter", "-t", Long.toString(n.process().pid()), "-m", "--", "sha256sum",
        file.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("reading " + file + " on " + n.host().namespace() + " failed: " + out.strip());
    }
    Matcher m = Pattern.compile("^([0-9a-f]{64})").matcher(out);
    if (!m.find()) {
      throw new IOException("unexpected sha256sum output: " + out);
    }
    return m.group(1);
  }

  /** SHA-256 of an NBD export of the node, copied with nbdcopy from inside the node's namespace. */
  static String sha256OverNbd(Node n, String export) throws IOException, InterruptedException {
    String uri = "nbd://" + n.host().ip() + ":" + NBD_PORT + "/" + export;
    String out = n.host().run("sh", "-c", "nbdcopy '" + uri + "' - | sha256sum");
    Matcher m = Pattern.compile("^([0-9a-f]{64})").matcher(out);
    if (!m.find()) {
      throw new IOException("unexpected output of nbdcopy | sha256sum: " + out);
    }
    return m.group(1);
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  @Override
  public void close() {
    for (Node n : nodes) {
      n.process().destroy();
    }
    for (Node n : nodes) {
      try {
        if (!n.process().waitFor(20, TimeUnit.SECONDS)) {
          n.process().destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      if (origin != null) {
        origin.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("removing the origin's nginx directory", e);
    } finally {
      net.close();
    }
  }
}
