package org.oscircular.node.daemon;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.Ext4Images;
import org.oscircular.node.testing.NetnsLab;

/**
 * The lab benchmark (run by bench/lab.sh, not by the test suite): N clients in network namespaces
 * read one image at once from an nginx origin whose link is shaped to {@code bench.origin-rate}
 * (default 100mbit). For each N it reports origin egress divided by the image's stored non-zero
 * bytes, and the time for all N to read the image divided by the time one client alone takes, with
 * peer exchange on and off. With {@code bench.out} set to a directory it also writes there what the
 * simulator needs to replay the same runs ({@code bench/sim-validate.sh}): {@code lab.properties} (origin
 * rate, image bytes), {@code lab.csv} (one line per run) and the published table with its trust file.
 * {@code bench.node-set} adds configuration lines to every node, separated by {@code ;} (for a baseline such as
 * {@code exchange.max-fetching-wait = 0s}, which makes requesters ignore Fetching notices as nodes did before them).
 */
@Tag("bench")
class LabBench {
  @TempDir Path dir;

  @Test
  void originEgressAndReadTimeAsTheLabGrows() throws Exception {
    NetnsLab.requireRoot();
    List<Integer> sizes = Stream.of(System.getProperty("bench.clients", "4,8,16").split(","))
        .map(String::strip).map(Integer::parseInt).toList();
    String rate = System.getProperty("bench.origin-rate", "100mbit");
    // How long tbf may queue a packet (its buffer): the default 100ms; a deeper one drops less under many flows.
    String tbfLatency = System.getProperty("bench.tbf-latency", "100ms");
    int dataMiB = Integer.getInteger("bench.data-mib", 24);

    Path key = dir.resolve("publisher.key");
    CliRun.run("keygen", "--out", key.toString()).ok();
    Path trust = dir.resolve("trusted-keys");
    Files.copy(dir.resolve("publisher.key.pub"), trust);
    Path files = dir.resolve("files");
    Ext4Images.generateFiles(files, 7, (long) dataMiB << 20);
    Path img = dir.resolve("bench.img");
    Ext4Images.mkfs(files, img, dataMiB * 2 + 16);
    Path origin = dir.resolve("origin");
    CliRun.run("publish", img.toString(), "--name", "bench", "--version", "1", "--origin", origin.toString(),
        "--key", key.toString()).ok();
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(img)));
    long stored;
    try (var walk = Files.walk(origin.resolve("blocks"))) {
      stored = walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }

    System.out.printf("%nlab bench: image %d MiB, %.1f MiB stored non-zero blocks, origin link %s%n",
        Files.size(img) >> 20, stored / 1048576.0, rate);
    System.out.printf("%-8s %-9s %10s %14s %12s%n", "clients", "exchange", "read s", "time/alone", "egress/image");
    List<String> csv = new ArrayList<>(List.of("clients,exchange,seconds,egress_per_image"));
    double[] one = run(dir.resolve("alone"), 1, true, rate, tbfLatency, origin, trust, sha, stored);
    double alone = one[0];
    System.out.printf("%-8d %-9s %10.2f %14.2f %12s%n", 1, "-", alone, 1.0, "-");
    csv.add(String.format(java.util.Locale.ROOT, "1,alone,%.3f,%.4f", one[0], one[1]));
    for (int n : sizes) {
      for (boolean exchange : new boolean[] {true, false}) {
        double[] r = run(dir.resolve("n" + n + exchange), n, exchange, rate, tbfLatency, origin, trust, sha, stored);
        System.out.printf("%-8d %-9s %10.2f %14.2f %12.2f%n", n, exchange ? "on" : "off", r[0], r[0] / alone, r[1]);
        csv.add(String.format(java.util.Locale.ROOT, "%d,%s,%.3f,%.4f", n, exchange ? "on" : "off", r[0], r[1]));
      }
    }
    String out = System.getProperty("bench.out", "");
    if (!out.isBlank()) {
      Path o = Path.of(out);
      Files.createDirectories(o);
      Files.write(o.resolve("lab.csv"), csv);
      Files.copy(origin.resolve(org.oscircular.protocol.format.OriginLayout.table("bench", "1")),
          o.resolve("bench.table"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      Files.copy(trust, o.resolve("trust"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      Files.writeString(o.resolve("lab.properties"), "origin-rate=" + rate + "\nimage-bytes=" + Files.size(img)
          + "\nstored-bytes=" + stored + "\ntbf-latency=" + tbfLatency + "\nload-average="
          + Files.readString(Path.of("/proc/loadavg")).strip() + "\n");
    }
  }

  /** Returns {seconds for all clients to read the image, origin egress / stored bytes}. */
  private static double[] run(Path dir, int clients, boolean exchange, String rate, String tbfLatency, Path origin,
      Path trust, String sha, long stored) throws Exception {
    try (var lab = new Lab("lb", 1 + clients, dir)) {
      String url = lab.startOrigin(origin);
      lab.net.host(0).run("tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", rate, "burst", "256kb",
          "latency", tbfLatency);
      List<String> ids = lab.prepareIdentities(1, clients);
      List<String> everyone = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        everyone.add(lab.address(1 + i, ids.get(i)));
      }
      List<String> config = new ArrayList<>(List.of("origins = " + url, "trust.file = " + trust,
          "p2p.peers = " + String.join(", ", everyone), "exchange.enabled = " + exchange,
          "prefetch.bandwidth = 0"));
      // bench.node-set: more "key = value" lines for every node, separated by ';' (e.g. a baseline setting)
      for (String line : System.getProperty("bench.node-set", "").split(";")) {
        if (!line.isBlank()) {
          config.add(line.strip());
        }
      }
      List<Lab.Node> nodes = new ArrayList<>();
      for (int i = 1; i <= clients; i++) {
        nodes.add(lab.startNode(i, ids.get(i - 1), config));
      }
      for (Lab.Node n : nodes) {
        Lab.awaitLog(n, "up as", 300);
      }
      if (exchange) {
        for (Lab.Node n : nodes) {
          Await.atMost(Duration.ofSeconds(120)).every(Duration.ofMillis(100)).until(
              (clients - 1) + " peers known to " + n.host().namespace(),
              () -> n.metric("circular_exchange_peers", null), peers -> peers == clients - 1);
        }
      }
      long start = System.nanoTime();
      ExecutorService pool = Executors.newFixedThreadPool(clients);
      try {
        List<Future<String>> reads = new ArrayList<>();
        for (Lab.Node n : nodes) {
          reads.add(pool.submit(() -> Lab.sha256InMountNamespace(n, n.mountPoint().resolve("bench/1.img"))));
        }
        for (Future<String> f : reads) {
          if (!f.get().equals(sha)) {
            throw new AssertionError("a client read wrong bytes");
          }
        }
      } finally {
        pool.shutdownNow();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      return new double[] {seconds, lab.originBlockBytes() / (double) stored};
    }
  }
}
