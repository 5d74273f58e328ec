package org.oscircular.node.kad.bench;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.oscircular.node.kad.DhtNode;
import org.oscircular.node.kad.KadContact;
import org.oscircular.node.kad.LoopbackDht;
import org.oscircular.protocol.kad.AnnounceReport;
import org.oscircular.protocol.kad.AnnounceScheduler;
import org.oscircular.protocol.kad.BlockKey;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.kad.LookupResult;
import org.oscircular.protocol.p2p.Multiaddr;

/**
 * Announces an image's blocks into a DHT of real libp2p hosts on loopback (one JVM) with the per-key baseline and
 * the region sweep in the same run, then measures find-providers latency. Run with
 * {@code bench/kad-loopback.sh [nodes=100] [blocks=16384] [baselineBlocks=1024]}.
 */
public final class DhtLoopbackBench {

    public static void main(String[] args) throws Exception {
        int nodeCount = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        int blocks = args.length > 1 ? Integer.parseInt(args[1]) : 16_384;
        int baselineBlocks = args.length > 2 ? Integer.parseInt(args[2]) : 1_024;
        SecureRandom random = new SecureRandom();
        KadConfig config = KadConfig.DEFAULTS.withQueryTimeoutMillis(10_000);
        try (LoopbackDht dht = new LoopbackDht(random)) {
            for (int i = 0; i < nodeCount; i++) dht.start(config, true);
            Multiaddr seed = dht.address(0);
            long t0 = System.nanoTime();
            for (int i = 1; i < nodeCount; i++) dht.node(i).bootstrap(List.of(seed)).get(60, TimeUnit.SECONDS);
            for (int i = 0; i < nodeCount; i++) {
                dht.node(i).findNode(dht.id(i).toBytes()).get(60, TimeUnit.SECONDS);
            }
            System.out.printf(Locale.ROOT, "kad loopback bench: %d hosts joined in %d ms; k=%d alpha=%d%n",
                    nodeCount, (System.nanoTime() - t0) / 1_000_000, config.k(), config.alpha());

            List<BlockKey> image = new ArrayList<>();
            for (int i = 0; i < blocks; i++) image.add(dht.randomBlock());
            List<BlockKey> sample = image.subList(0, Math.min(baselineBlocks, blocks));
            System.out.println("strategy  blocks  lookups  lookup-queries  add-provider-msgs  total-msgs  wall-ms  ms/block");
            run("per-key", dht.node(1), sample, AnnounceScheduler.Options.perKey());
            run("sweep", dht.node(2), sample, AnnounceScheduler.Options.sweep());
            run("sweep", dht.node(3), image, AnnounceScheduler.Options.sweep());

            List<Long> millis = new ArrayList<>();
            int found = 0;
            for (int i = 0; i < 100; i++) {
                DhtNode asker = dht.node(random.nextInt(nodeCount));
                BlockKey b = image.get(random.nextInt(image.size()));
                long start = System.nanoTime();
                LookupResult<KadContact> r = asker.findProviders(b, 1).get(60, TimeUnit.SECONDS);
                millis.add((System.nanoTime() - start) / 1_000_000);
                if (!r.providers().isEmpty()) found++;
            }
            millis.sort(null);
            System.out.printf(Locale.ROOT, "find-providers: median %d ms, p90 %d ms, found %d of 100%n",
                    millis.get(50), millis.get(90), found);
        }
    }

    private static void run(String name, DhtNode node, List<BlockKey> blocks, AnnounceScheduler.Options options)
            throws Exception {
        long start = System.nanoTime();
        AnnounceReport r = node.provide(blocks, options).get(30, TimeUnit.MINUTES);
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.printf(Locale.ROOT, "%-8s %7d %8d %15d %18d %11d %8d %9.2f%n", name, blocks.size(), r.lookups(),
                r.lookupRpcs(), r.addProviderMessages(), r.rpcs(), ms, (double) ms / blocks.size());
    }
}
