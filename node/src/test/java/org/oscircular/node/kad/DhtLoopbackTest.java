package org.oscircular.node.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.oscircular.node.p2p.Host;
import org.oscircular.protocol.kad.AnnounceReport;
import org.oscircular.protocol.kad.AnnounceScheduler;
import org.oscircular.protocol.kad.BlockKey;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.kad.LookupResult;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;

/** Real libp2p hosts on loopback, one JVM: the DHT wire and the core together. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DhtLoopbackTest {
    private static final int NODES = 30;
    private static final long WAIT_SECONDS = 60;

    private final SecureRandom random = new SecureRandom();
    private final LoopbackDht dht = new LoopbackDht(random);

    @AfterEach
    void stopEverything() {
        dht.close();
    }

    private void startNodes(int count, KadConfig config) throws Exception {
        for (int i = 0; i < count; i++) dht.start(config, true);
    }

    @Test
    void aBlockAnnouncedByOneOf30NodesIsFoundByEveryOther() throws Exception {
        KadConfig config = KadConfig.DEFAULTS.withQueryTimeoutMillis(5_000);
        startNodes(NODES, config);
        Multiaddr seed = dht.address(0);
        // join one after the other through node 0, then a second self-lookup now that the network exists
        for (int i = 1; i < NODES; i++) dht.node(i).bootstrap(List.of(seed)).get(WAIT_SECONDS, TimeUnit.SECONDS);
        List<CompletableFuture<?>> again = new ArrayList<>();
        for (int i = 0; i < NODES; i++) again.add(dht.node(i).findNode(dht.id(i).toBytes()));
        CompletableFuture.allOf(again.toArray(CompletableFuture[]::new)).get(WAIT_SECONDS, TimeUnit.SECONDS);
        for (DhtNode n : dht.nodes()) {
            assertTrue(n.peers().get(WAIT_SECONDS, TimeUnit.SECONDS).size() >= 10, "routing tables filled");
        }

        BlockKey block = dht.randomBlock();
        int provider = 7;
        AnnounceReport report = dht.node(provider).provide(List.of(block), AnnounceScheduler.Options.sweep())
                .get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(1, report.keys());
        assertEquals(KadConfig.DEFAULT_K, report.providerRecords(), "stored at k = 20 of the 29 other nodes");

        PeerId expected = dht.id(provider);
        for (int i = 0; i < NODES; i++) {
            if (i == provider) continue;
            LookupResult<KadContact> found = dht.node(i).findProviders(block, 1).get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(List.of(expected), found.providers().stream().map(KadContact::id).toList(),
                    "node " + i + " finds the provider of " + block);
            assertTrue(!found.providers().getFirst().addresses().isEmpty(), "with an address to fetch from");
        }
    }

    @Test
    void aWholeImageOfBlocksIsAnnouncedWithBatchedMessagesAndFound() throws Exception {
        KadConfig config = KadConfig.DEFAULTS.withQueryTimeoutMillis(5_000);
        startNodes(12, config);
        Multiaddr seed = dht.address(0);
        for (int i = 1; i < 12; i++) dht.node(i).bootstrap(List.of(seed)).get(WAIT_SECONDS, TimeUnit.SECONDS);
        List<BlockKey> blocks = new ArrayList<>();
        for (int i = 0; i < 500; i++) blocks.add(dht.randomBlock());
        AnnounceReport report = dht.node(3).provide(blocks, AnnounceScheduler.Options.sweep())
                .get(WAIT_SECONDS, TimeUnit.SECONDS);
        // 12 nodes < k: every other node holds every key, one batched message each
        assertEquals(500L * 11, report.providerRecords());
        assertTrue(report.addProviderMessages() <= 11, "batched: " + report);
        for (int i : new int[] {0, 5, 11}) {
            BlockKey b = blocks.get(random.nextInt(blocks.size()));
            LookupResult<KadContact> found = dht.node(i).findProviders(b, 1).get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(List.of(dht.id(3)), found.providers().stream().map(KadContact::id).toList());
        }
    }

    @Test
    void aMalformedMessageResetsItsStreamAndTheNodeKeepsAnswering() throws Exception {
        KadConfig config = KadConfig.DEFAULTS.withQueryTimeoutMillis(5_000);
        startNodes(3, config);
        Multiaddr seed = dht.address(0);
        dht.node(1).bootstrap(List.of(seed)).get(WAIT_SECONDS, TimeUnit.SECONDS);
        dht.node(2).bootstrap(List.of(seed)).get(WAIT_SECONDS, TimeUnit.SECONDS);

        Host client = dht.clientHost();
        var connection = client.dial(seed).get(WAIT_SECONDS, TimeUnit.SECONDS);
        var bad = connection.openStream(DhtNode.PROTOCOL_ID).get(WAIT_SECONDS, TimeUnit.SECONDS);
        bad.setListener((s, data) -> { });
        bad.write(KadFrameReader.frame(new byte[] {0x08, 0x09})); // type 9 does not exist
        bad.closeFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);

        var good = connection.openStream(DhtNode.PROTOCOL_ID).get(WAIT_SECONDS, TimeUnit.SECONDS);
        CompletableFuture<org.oscircular.protocol.kad.KadMessage> answer = new CompletableFuture<>();
        KadFrameReader reader = new KadFrameReader();
        good.setListener((s, data) -> {
            try {
                for (byte[] m : reader.feed(data)) answer.complete(org.oscircular.protocol.kad.KadCodec.decode(m));
            } catch (Exception e) {
                answer.completeExceptionally(e);
            }
        });
        byte[] target = dht.id(2).toBytes();
        good.write(KadFrameReader.frame(org.oscircular.protocol.kad.KadCodec.encode(
                new org.oscircular.protocol.kad.KadMessage.FindNode(target, List.of()))));
        var response = (org.oscircular.protocol.kad.KadMessage.FindNode) answer.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(PeerId.fromBytes(target), PeerId.fromBytes(response.closerPeers().getFirst().id()),
                "the closest peer to a peer id is that peer");
        assertTrue(connection.isOpen(), "only the stream was closed, not the connection");
    }

    @Test
    void theCliProvidesAndFindsABlockThroughABootstrapPeer() throws Exception {
        startNodes(5, KadConfig.DEFAULTS.withQueryTimeoutMillis(5_000));
        String seed = dht.address(0).toString();
        for (int i = 1; i < 5; i++) {
            dht.node(i).bootstrap(List.of(Multiaddr.parse(seed))).get(WAIT_SECONDS, TimeUnit.SECONDS);
        }
        BlockKey block = dht.randomBlock();
        var provideOut = new java.io.StringWriter();
        var cli = org.oscircular.node.cli.CircularCli.commandLine();
        cli.setOut(new java.io.PrintWriter(provideOut));
        int rc = cli.execute("dht", "provide", block.hex(), "--bootstrap", seed, "--listen", "/ip4/127.0.0.1/tcp/0");
        assertEquals(0, rc, provideOut.toString());
        assertTrue(provideOut.toString().startsWith("announced 1 block(s)"), provideOut.toString());

        var findOut = new java.io.StringWriter();
        cli = org.oscircular.node.cli.CircularCli.commandLine();
        cli.setOut(new java.io.PrintWriter(findOut));
        rc = cli.execute("dht", "find-providers", block.cid(), "--bootstrap", seed, "--listen", "/ip4/127.0.0.1/tcp/0");
        assertEquals(0, rc, findOut.toString());
        assertTrue(findOut.toString().contains("block " + block.cid() + " (" + block.hex() + "): 1 provider(s)"),
                findOut.toString());

        var peersOut = new java.io.StringWriter();
        cli = org.oscircular.node.cli.CircularCli.commandLine();
        cli.setOut(new java.io.PrintWriter(peersOut));
        rc = cli.execute("dht", "peers", "--bootstrap", seed, "--listen", "/ip4/127.0.0.1/tcp/0");
        assertEquals(0, rc, peersOut.toString());
        assertTrue(peersOut.toString().startsWith("5 peer(s) in the routing table:"), peersOut.toString());
    }
}
