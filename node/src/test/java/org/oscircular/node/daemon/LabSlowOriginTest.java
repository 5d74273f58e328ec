package org.oscircular.node.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.Ext4Images;
import org.oscircular.node.testing.NetnsLab;

/**
 * Two real {@code circular node} processes sharing one image behind an origin shaped with {@code tc tbf} so
 * slow that a designated peer's fetch-through outlasts the requester's request timeout many times over. The
 * requester must wait for the load (the holder's {@code Fetching} notices) rather than time the peer out and
 * hedge to the origin, so the origin sends every block exactly once. With notices ignored
 * ({@code exchange.max-fetching-wait = 0s}) the same lab fetches blocks twice. Needs root (namespaces, FUSE,
 * tc) and nginx.
 */
class LabSlowOriginTest {
  @TempDir Path dir;

  @Test
  @Timeout(300)
  void clientsWaitForADesignatedPeerLoadingFromASlowOriginSoTheOriginSendsEachBlockOnce() throws Exception {
    NetnsLab.requireRoot();
    Path key = dir.resolve("publisher.key");
    CliRun.run("keygen", "--out", key.toString()).ok();
    Path trust = dir.resolve("trusted-keys");
    Files.copy(dir.resolve("publisher.key.pub"), trust);
    Path origin = dir.resolve("origin");
    Path files = dir.resolve("files");
    Ext4Images.generateFiles(files, 5, 2 << 20);
    Path img = dir.resolve("slow.img");
    Ext4Images.mkfs(files, img, 8);
    CliRun.run("publish", img.toString(), "--name", "slow", "--version", "1", "--origin", origin.toString(),
        "--key", key.toString(), "--block-size", "256K").ok();
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(img)));

    try (var lab = new Lab("labs", 3, dir.resolve("lab"))) {
      String url = lab.startOrigin(origin);
      // 1 Mbit/s: one 256 KiB block alone takes about 2 s, four at once about 8 s; the request timeout is 1 s.
      lab.net.host(0).run("tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "1mbit", "burst", "256kb",
          "latency", "400ms");
      List<String> ids = lab.prepareIdentities(1, 2);
      List<String> everyone = List.of(lab.address(1, ids.get(0)), lab.address(2, ids.get(1)));
      List<String> config = List.of("origins = " + url, "trust.file = " + trust,
          "p2p.peers = " + String.join(", ", everyone), "prefetch.bandwidth = 0", "fetch.timeout = 60s",
          "exchange.request-timeout = 1s", "exchange.origin-hedge-delay = 2s", "exchange.fetching-interval = 300ms",
          "exchange.max-fetching-wait = 120s");
      List<Lab.Node> nodes = List.of(lab.startNode(1, ids.get(0), config), lab.startNode(2, ids.get(1), config));
      for (Lab.Node n : nodes) {
        Lab.awaitLog(n, "up as", 120);
      }
      for (Lab.Node n : nodes) {
        Await.atMost(Duration.ofSeconds(60)).every(Duration.ofMillis(100)).until(
            "1 peer known to " + n.host().namespace(), () -> n.metric("circular_exchange_peers", null),
            peers -> peers == 1);
      }

      ExecutorService pool = Executors.newFixedThreadPool(nodes.size());
      try {
        List<Future<String>> reads = new ArrayList<>();
        for (Lab.Node n : nodes) {
          reads.add(pool.submit(() -> Lab.sha256InMountNamespace(n, n.mountPoint().resolve("slow/1.img"))));
        }
        for (Future<String> f : reads) {
          assertThat(f.get()).isEqualTo(sha);
        }
      } finally {
        pool.shutdownNow();
      }

      double received = 0;
      double lan = 0;
      for (Lab.Node n : nodes) {
        received += n.metric("circular_exchange_fetching_notices_total", "direction=\"received\"");
        lan += n.metric("circular_exchange_blocks_total", "source=\"lan\"");
      }
      Map<String, Integer> hits = lab.originBlockHits();
      int total = hits.values().stream().mapToInt(Integer::intValue).sum();
      assertThat(received).as("Fetching notices received by the clients").isPositive();
      assertThat(lan).as("blocks the clients got from each other").isPositive();
      assertThat(total).as("origin block requests for %d distinct blocks: %s", hits.size(), hits)
          .isEqualTo(hits.size());
    }
  }
}
