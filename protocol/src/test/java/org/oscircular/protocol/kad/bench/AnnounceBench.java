package org.oscircular.protocol.kad.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.oscircular.protocol.kad.AnnounceReport;
import org.oscircular.protocol.kad.AnnounceScheduler;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.kad.KadKey;
import org.oscircular.protocol.kad.Lookup;
import org.oscircular.protocol.kad.LookupResult;
import org.oscircular.protocol.kad.SimPeer;
import org.oscircular.protocol.kad.VirtualNetwork;

/**
 * Announces a 16k-block image into the 1000-node virtual-time harness with the per-key baseline and with the
 * region sweep, in the same run, and prints messages, virtual time and wall time with their ratios; then measures
 * lookup hops and find-providers latency. Run with {@code bench/kad-announce.sh [blocks] [nodes] [seeds]}.
 */
public final class AnnounceBench {

    public static void main(String[] args) {
        int blocks = args.length > 0 ? Integer.parseInt(args[0]) : 16_384;
        int nodes = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        int seeds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        KadConfig config = KadConfig.DEFAULTS.withQueryTimeoutMillis(1_000);
        System.out.printf(Locale.ROOT, "kad announce bench: %d blocks, %d nodes, k=%d, alpha=%d, link delay 5-50 ms,"
                + " query timeout %d ms, %d seeds%n", blocks, nodes, config.k(), config.alpha(),
                config.queryTimeoutMillis(), seeds);
        for (double dead : new double[] {0.0, 0.2}) {
            List<Row> perKey = new ArrayList<>();
            List<Row> sweep = new ArrayList<>();
            List<Integer> hops = new ArrayList<>();
            List<Long> findMillis = new ArrayList<>();
            int found = 0;
            int finds = 0;
            for (int seed = 1; seed <= seeds; seed++) {
                List<KadKey> keys = keys(blocks, seed);
                perKey.add(announce(nodes, dead, config, seed, keys, AnnounceScheduler.Options.perKey(), null));
                VirtualNetwork[] kept = new VirtualNetwork[1];
                sweep.add(announce(nodes, dead, config, seed, keys, AnnounceScheduler.Options.sweep(), kept));
                VirtualNetwork net = kept[0];
                for (int i = 0; i < 200; i++) {
                    VirtualNetwork.Node origin = net.randomAliveNode();
                    KadKey target = KadKey.random(net.random());
                    hops.add(net.runLookup(origin, Lookup.findNode(net.nextLookupId(), target, origin.table(),
                            config)).hops());
                    KadKey key = keys.get(net.random().nextInt(keys.size()));
                    LookupResult<SimPeer> r = net.runLookup(origin, Lookup.getProviders(net.nextLookupId(), key,
                            origin.table(), config, 1));
                    finds++;
                    if (!r.providers().isEmpty()) found++;
                    findMillis.add(r.elapsedMillis());
                }
            }
            System.out.printf(Locale.ROOT, "%n-- %.0f%% of nodes dead (tables refreshed once before announcing) --%n",
                    dead * 100);
            System.out.println("strategy   lookups  lookup-rpcs  add-provider-msgs  total-msgs  virtual-s  wall-ms");
            Row p = Row.median(perKey);
            Row s = Row.median(sweep);
            p.print("per-key");
            s.print("sweep");
            System.out.printf(Locale.ROOT, "ratio per-key/sweep: messages %.1fx, lookups %.1fx, virtual time %.1fx,"
                            + " wall time %.1fx%n", (double) p.msgs / s.msgs, (double) p.lookups / s.lookups,
                    (double) p.virtualMillis / s.virtualMillis, (double) p.wallMillis / s.wallMillis);
            hops.sort(null);
            findMillis.sort(null);
            System.out.printf(Locale.ROOT, "FIND_NODE median hops %d (p90 %d); find-providers median %d ms"
                            + " (p90 %d ms), found %d of %d%n", hops.get(hops.size() / 2),
                    hops.get(hops.size() * 9 / 10), findMillis.get(findMillis.size() / 2),
                    findMillis.get(findMillis.size() * 9 / 10), found, finds);
        }
    }

    private static List<KadKey> keys(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed * 7919);
        List<KadKey> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) keys.add(KadKey.random(random));
        return keys;
    }

    private static Row announce(int nodes, double dead, KadConfig config, long seed, List<KadKey> keys,
                                AnnounceScheduler.Options options, VirtualNetwork[] keep) {
        VirtualNetwork net = VirtualNetwork.wellConnected(nodes, dead, config, seed);
        if (dead > 0) net.refreshAllBuckets();
        VirtualNetwork.Node origin = net.randomAliveNode();
        long before = net.now();
        long wall = System.nanoTime();
        AnnounceReport r = net.runAnnounce(origin, new AnnounceScheduler<>(origin.table(), config, options, keys,
                net.nextLookupId() + 1_000_000));
        long wallMillis = (System.nanoTime() - wall) / 1_000_000;
        if (keep != null) keep[0] = net;
        return new Row(r.lookups(), r.lookupRpcs(), r.addProviderMessages(), r.rpcs(), r.finishedAt() - before,
                wallMillis);
    }

    private record Row(long lookups, long lookupRpcs, long addMsgs, long msgs, long virtualMillis, long wallMillis) {

        static Row median(List<Row> rows) {
            return new Row(med(rows, Row::lookups), med(rows, Row::lookupRpcs), med(rows, Row::addMsgs),
                    med(rows, Row::msgs), med(rows, Row::virtualMillis), med(rows, Row::wallMillis));
        }

        private static long med(List<Row> rows, java.util.function.ToLongFunction<Row> f) {
            long[] v = rows.stream().mapToLong(f).sorted().toArray();
            return v[v.length / 2];
        }

        void print(String name) {
            System.out.printf(Locale.ROOT, "%-9s %8d %12d %18d %11d %10.1f %8d%n", name, lookups, lookupRpcs,
                    addMsgs, msgs, virtualMillis / 1000.0, wallMillis);
        }
    }
}
