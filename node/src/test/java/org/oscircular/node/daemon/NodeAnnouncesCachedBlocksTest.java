package org.oscircular.node.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.config.NodeConfig;
import org.oscircular.node.kad.DhtNode;
import org.oscircular.node.p2p.Host;
import org.oscircular.node.p2p.HostConfig;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.CliRun;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.kad.BlockKey;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;

/**
 * {@code circular node} as a client: the blocks it fetches into its cache are announced in the DHT, and an
 * operator's {@code circular dht find-providers} through another DHT server finds it; blocks it never fetched
 * are not announced.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class NodeAnnouncesCachedBlocksTest {
  @TempDir Path dir;

  @Test
  void aClientNodeIsFoundAsProviderOfTheBlocksItFetched() throws Exception {
    CliRun.run("keygen", "--out", dir.resolve("k").toString()).ok();
    byte[] img = new byte[1 << 20];
    new Random(5).nextBytes(img);
    Files.write(dir.resolve("a.img"), img);
    Path origin = dir.resolve("origin");
    CliRun.run("publish", dir.resolve("a.img").toString(), "--name", "a", "--version", "1", "--origin",
        origin.toString(), "--key", dir.resolve("k").toString(), "--block-size", "64K").ok();

    // another DHT server, the one the operator's command and the node join through
    SecureRandom random = new SecureRandom();
    ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();
    try (Host serverHost = new Host(IdentityKey.generate(random), HostConfig.defaults().withIoThreads(1), random)) {
      serverHost.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));
      DhtNode server = new DhtNode(serverHost, KadConfig.DEFAULTS, true, loop, System::currentTimeMillis,
          new SplittableRandom(1));
      server.start();
      String bootstrap = serverHost.listenAddresses().getFirst().withPeerId(serverHost.peerId()).toString();

      Path conf = dir.resolve("node.conf");
      Files.write(conf, List.of(
          "node.data-dir = " + dir.resolve("data"),
          "origins = " + origin,
          "trust.file = " + dir.resolve("k.pub"),
          "p2p.listen = /ip4/127.0.0.1/tcp/0",
          "kad.bootstrap = " + bootstrap,
          "kad.announce-delay = 200ms",
          "fetch.readahead-blocks = 0",
          "mdns.enabled = false",
          "nbd.listen =",
          "metrics.listen ="));
      try (CircularNode node = CircularNode.start(NodeConfig.load(conf, List.of()))) {
        var reader = node.archive().reader("a:1");
        List<BlockEntry> blocks = reader.table().image().blocks();
        assertThat(blocks).hasSizeGreaterThan(4);
        int blockSize = reader.blockSize();
        for (int b = 0; b < 3; b++) {
          reader.read((long) b * blockSize, ByteBuffer.allocate(blockSize)); // fetched from the origin, cached
        }
        String nodeId = node.host().peerId().toString();

        BlockKey fetched = new BlockKey(((BlockEntry.Stored) blocks.get(2)).name().sha1());
        // the node announces within kad.announce-delay of caching; poll the operator's view until then
        CliRun found = Await.atMost(Duration.ofSeconds(30)).until("dht find-providers to find " + fetched.hex(),
            () -> CliRun.run("dht", "find-providers", fetched.hex(), "--bootstrap", bootstrap,
                "--listen", "/ip4/127.0.0.1/tcp/0", "--timeout", "10s"), run -> run.exitCode() == 0);
        assertThat(found.out()).contains("1 provider(s)").contains(nodeId);

        BlockKey neverFetched = new BlockKey(((BlockEntry.Stored) blocks.getLast()).name().sha1());
        CliRun none = CliRun.run("dht", "find-providers", neverFetched.hex(), "--bootstrap", bootstrap,
            "--listen", "/ip4/127.0.0.1/tcp/0", "--timeout", "10s");
        assertThat(none.exitCode()).as(none.out()).isEqualTo(1);
        assertThat(none.out()).contains("0 provider(s)");
      } finally {
        server.close();
      }
    } finally {
      loop.shutdownNow();
    }
  }
}
