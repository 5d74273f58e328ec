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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.Ext4Images;
import org.oscircular.node.testing.NetnsLab;

/**
 * A lab in network namespaces: an nginx origin, one seed and six clients on one bridge, each client a
 * real {@code circular node} process with a FUSE mount. Needs root (namespaces, FUSE) and nginx.
 */
class LabSharingTest {
  static final int CLIENTS = 6;
  @TempDir static Path dir;
  static Path origin;
  static Path trust;
  static String sha1;
  static String sha2;
  static Path publisherKey;

  @BeforeAll
  static void publishTwoVersions() throws Exception {
    NetnsLab.requireRoot();
    Path key = dir.resolve("publisher.key");
    CliRun.run("keygen", "--out", key.toString()).ok();
    trust = dir.resolve("trusted-keys");
    Files.copy(dir.resolve("publisher.key.pub"), trust);
    origin = dir.resolve("origin");
    publisherKey = key;
    sha1 = publish(key, 1, 11);
  }

  private static String publish(Path key, int version, long seed) throws Exception {
    Path files = dir.resolve("files-" + version);
    Ext4Images.generateFiles(files, seed, 12 << 20);
    Path img = dir.resolve("v" + version + ".img");
    Ext4Images.mkfs(files, img, 32);
    CliRun.run("publish", img.toString(), "--name", "lab", "--version", Integer.toString(version),
        "--origin", origin.toString(), "--key", key.toString(), "--block-size", "256K").ok();
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(img)));
  }

  @Test
  @Timeout(600)
  void aLabSharesBlocksSoTheOriginSendsEachAboutOnceAndNothingCorruptIsRead() throws Exception {
    // host 0: origin; host 1: seed; hosts 2..7: clients, host 7 serving corrupted blocks.
    try (var lab = new Lab("labt", 2 + CLIENTS, dir.resolve("lab"))) {
      String url = lab.startOrigin(origin);
      List<String> ids = lab.prepareIdentities(1, 1 + CLIENTS);
      List<String> everyone = new ArrayList<>();
      for (int i = 0; i < ids.size(); i++) {
        everyone.add(lab.address(1 + i, ids.get(i)));
      }
      List<String> common = List.of("origins = " + url, "trust.file = " + trust,
          "p2p.peers = " + String.join(", ", everyone), "exchange.bad-blocks-before-ban = 1",
          "catalog.refresh-interval = 2s");
      int liar = 1 + CLIENTS;
      Lab.Node seed = lab.startNode(1, ids.get(0), with(common, "node.role = seed"));
      List<Lab.Node> clients = new ArrayList<>();
      for (int i = 2; i <= 1 + CLIENTS; i++) {
        String id = ids.get(i - 1);
        clients.add(i == liar ? lab.startLyingNode(i, id, common) : lab.startNode(i, id, common));
      }
      for (Lab.Node n : lab.nodes) {
        Lab.awaitLog(n, "up as", 120);
      }
      // A lab that has found itself: every client knows the seed and the other clients.
      for (Lab.Node c : clients) {
        Await.atMost(Duration.ofSeconds(60)).every(Duration.ofMillis(100)).until(
            CLIENTS + " peers and 1 seed known to " + c.host().namespace() + " [peers, seeds]",
            () -> List.of(c.metric("circular_exchange_peers", null), c.metric("circular_exchange_seeds", null)),
            m -> m.get(0) == CLIENTS && m.get(1) == 1);
      }

      // Every client reads version 1 at once while the seed preheats it.
      assertThat(readAll(clients, c -> Lab.sha256InMountNamespace(c, c.mountPoint().resolve("lab/1.img"))))
          .containsOnly(sha1);

      for (Lab.Node n : lab.nodes) {
        System.out.printf("%s: origin=%s lan=%s seed=%s bad=%s bans=%s busy=%s unavailable=%s%n", n.host().namespace(),
            n.metric("circular_exchange_blocks_total", "source=\"origin\""),
            n.metric("circular_exchange_blocks_total", "source=\"lan\""),
            n.metric("circular_exchange_blocks_total", "source=\"seed\""),
            n.metric("circular_exchange_bad_blocks_total", null), n.metric("circular_exchange_bans_total", null),
            n.metric("circular_exchange_busy_answers_total", null), n.metric("circular_exchange_unavailable_total", null));
      }
      Map<String, Integer> hits = lab.originBlockHits();
      int total = hits.values().stream().mapToInt(Integer::intValue).sum();
      int most = hits.values().stream().mapToInt(Integer::intValue).max().orElse(0);
      assertThat(most).as("origin requests of the most requested block: %s", hits).isLessThanOrEqualTo(2);
      assertThat(total).as("origin block requests, %d distinct blocks", hits.size())
          .isLessThanOrEqualTo(hits.size() * 5 / 4);

      double fromPeers = 0;
      double fromOrigin = 0;
      double bad = 0;
      double bans = 0;
      for (Lab.Node c : clients) {
        if (c.host().namespace().endsWith("-h" + liar)) {
          continue;
        }
        fromPeers += c.metric("circular_exchange_blocks_total", "source=\"lan\"")
            + c.metric("circular_exchange_blocks_total", "source=\"seed\"");
        fromOrigin += c.metric("circular_exchange_blocks_total", "source=\"origin\"");
        bad += c.metric("circular_exchange_bad_blocks_total", null);
        bans += c.metric("circular_exchange_bans_total", null);
      }
      assertThat(fromPeers).as("blocks clients got from peers vs origin (%s)", fromOrigin)
          .isGreaterThan(4 * fromOrigin);
      assertThat(bad).as("corrupt blocks detected").isGreaterThanOrEqualTo(1);
      assertThat(bans).as("bans of the corrupting peer").isGreaterThanOrEqualTo(1);

      // Version 2 is published while the lab runs: every node picks it up from the refreshed catalog and
      // the seed preheats it. Then, with the origin gone, it still reads from the seed and the LAN, this
      // time through each client's NBD export.
      sha2 = publish(publisherKey, 2, 22);
      Lab.awaitLog(seed, "seed: lab:2 pinned", 300);
      for (Lab.Node c : clients) {
        Lab.awaitLog(c, "catalog sequence 2 from", 60);
      }
      lab.stopOrigin();
      assertThat(readAll(clients, c -> Lab.sha256OverNbd(c, "lab:2"))).containsOnly(sha2);
    }
  }

  private static List<String> with(List<String> base, String line) {
    List<String> out = new ArrayList<>(base);
    out.add(line);
    return out;
  }

  interface Read {
    String sha256(Lab.Node client) throws Exception;
  }

  /** Runs {@code read} on every client at once and returns the digests in client order. */
  private static List<String> readAll(List<Lab.Node> clients, Read read) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients.size());
    try {
      List<Future<String>> reads = new ArrayList<>();
      for (Lab.Node c : clients) {
        reads.add(pool.submit(() -> read.sha256(c)));
      }
      List<String> out = new ArrayList<>();
      for (Future<String> f : reads) {
        out.add(f.get());
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }
}
