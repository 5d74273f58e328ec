package org.oscircular.simulator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.oscircular.protocol.kad.AnnounceAction;
import org.oscircular.protocol.kad.AnnounceReport;
import org.oscircular.protocol.kad.AnnounceScheduler;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.kad.KadKey;
import org.oscircular.protocol.kad.KadPeer;
import org.oscircular.protocol.kad.KadServer;
import org.oscircular.protocol.kad.Lookup;
import org.oscircular.protocol.kad.LookupAction;
import org.oscircular.protocol.kad.LookupResult;

/**
 * The simulated Kademlia DHT: one {@link KadServer} (the protocol's routing table and provider store) per
 * server-mode host, and lookups run by the protocol's {@link Lookup} state machine, either at once (for building
 * and announcing) or on the virtual clock with per-query latency (for the lookups the exchange asks for).
 */
final class KadOverlay {
    /** A DHT participant: a simulated host and its position in the keyspace. */
    record Node(int host, KadKey kadKey) implements KadPeer {}

    /** Latency of one query from a host to a DHT node and back. */
    interface Latency {
        long oneWayNanos(int fromHost, int toHost);
    }

    private final KadConfig config;
    private final Node[] nodes; // sorted by key
    private final KadKey[] keys;
    private final List<KadServer<Node>> servers;
    private final int[] serverOfHost;
    private long lookupIds;

    private KadOverlay(KadConfig config, Node[] nodes, int hostCount) {
        this.config = config;
        this.nodes = nodes;
        this.keys = new KadKey[nodes.length];
        this.servers = new ArrayList<>(nodes.length);
        this.serverOfHost = new int[hostCount];
        Arrays.fill(serverOfHost, -1);
        for (int i = 0; i < nodes.length; i++) {
            keys[i] = nodes[i].kadKey();
            servers.add(new KadServer<>(nodes[i], config));
            serverOfHost[nodes[i].host()] = i;
        }
    }

    /**
     * Builds a converged DHT over {@code serverHosts}: each routing table gets, for every bucket, up to k peers drawn
     * at random from the peers that belong in it (what a long-running network's refreshes would have found).
     */
    static KadOverlay build(int[] serverHosts, int hostCount, KadConfig config, SplittableRandom random) {
        Node[] nodes = new Node[serverHosts.length];
        for (int i = 0; i < serverHosts.length; i++) {
            nodes[i] = new Node(serverHosts[i], KadKey.random(random));
        }
        Arrays.sort(nodes, (a, b) -> a.kadKey().compareTo(b.kadKey()));
        KadOverlay overlay = new KadOverlay(config, nodes, hostCount);
        for (int i = 0; i < nodes.length; i++) {
            overlay.fillTable(i, random);
        }
        return overlay;
    }

    int size() {
        return nodes.length;
    }

    KadConfig config() {
        return config;
    }

    /** The server index of a host, or -1 if the host is not a DHT server. */
    int serverOf(int host) {
        return serverOfHost[host];
    }

    KadServer<Node> server(int index) {
        return servers.get(index);
    }

    Node node(int index) {
        return nodes[index];
    }

    private void fillTable(int i, SplittableRandom random) {
        KadKey x = keys[i];
        var table = servers.get(i).table();
        for (int j = 0; j < KadKey.BITS; j++) {
            // keys sharing at least j leading bits with x: if x is alone there, deeper buckets are empty
            int[] shared = range(prefix(x, j, false, false), prefix(x, j, false, true));
            if (shared[1] - shared[0] <= 1) {
                break;
            }
            int[] r = range(prefix(x, j, true, false), prefix(x, j, true, true));
            int count = r[1] - r[0];
            if (count <= config.k()) {
                for (int n = r[0]; n < r[1]; n++) {
                    table.seen(nodes[n], 0);
                }
            } else {
                int[] pick = new int[count];
                for (int n = 0; n < count; n++) {
                    pick[n] = r[0] + n;
                }
                for (int n = 0; n < config.k(); n++) {
                    int s = n + random.nextInt(count - n);
                    int t = pick[n];
                    pick[n] = pick[s];
                    pick[s] = t;
                    table.seen(nodes[pick[n]], 0);
                }
            }
        }
    }

    /** The smallest (or largest) key with x's first j bits, then bit j flipped if asked, then zeros (or ones). */
    private static KadKey prefix(KadKey x, int j, boolean flip, boolean ones) {
        long[] w = {x.w0(), x.w1(), x.w2(), x.w3()};
        long[] out = new long[4];
        int bits = flip ? j + 1 : j;
        for (int word = 0; word < 4; word++) {
            int keep = Math.max(0, Math.min(64, bits - 64 * word));
            long mask = keep == 0 ? 0 : keep == 64 ? -1L : -1L << (64 - keep);
            long v = w[word] & mask;
            if (flip && j >= 64 * word && j < 64 * word + 64) {
                long bit = 1L << (63 - (j - 64 * word));
                v = (v & ~bit) | (~w[word] & bit);
            }
            out[word] = ones ? v | ~mask : v;
        }
        return new KadKey(out[0], out[1], out[2], out[3]);
    }

    /** [first index with key >= lo, first index with key > hi). */
    private int[] range(KadKey lo, KadKey hi) {
        return new int[] {lowerBound(lo), upperBound(hi)};
    }

    private int lowerBound(KadKey k) {
        int lo = 0;
        int hi = keys.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (keys[mid].compareTo(k) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private int upperBound(KadKey k) {
        int lo = 0;
        int hi = keys.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (keys[mid].compareTo(k) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The true k closest servers to {@code target} (brute force; for tests). */
    List<Node> trueClosest(KadKey target, int n) {
        List<Node> all = new ArrayList<>(Arrays.asList(nodes));
        all.sort((a, b) -> target.compareDistance(a.kadKey(), b.kadKey()));
        return all.subList(0, Math.min(n, all.size()));
    }

    /** Seeds for a lookup from {@code host}: its own table if it is a server, else its bootstrap server's table. */
    List<Node> seeds(int bootstrapServer, KadKey target) {
        return servers.get(bootstrapServer).table().closest(target, config.k());
    }

    /** Runs a lookup to completion at once: every query is answered immediately by the server asked. */
    LookupResult<Node> lookupNow(Lookup.Kind kind, KadKey target, KadKey self, List<Node> seeds, long nowMillis) {
        Lookup<Node> lookup = new Lookup<>(++lookupIds, kind, target, self, seeds, config.k(), config, 0);
        ArrayDeque<LookupAction<Node>> todo = new ArrayDeque<>(lookup.start(nowMillis));
        while (!todo.isEmpty()) {
            switch (todo.poll()) {
                case LookupAction.Query<Node> q -> todo.addAll(answer(q.lookup(), q.peer(), null, nowMillis));
                case LookupAction.Done<Node> d -> {
                    return d.result();
                }
                default -> { }
            }
        }
        throw new IllegalStateException("lookup for " + target + " ended without a result");
    }

    /** Stores {@code provider} for {@code key} on the k closest servers found by a FIND_NODE lookup. */
    List<Node> announce(KadKey key, Node provider, List<Node> closestCache, int bootstrap, long nowMillis) {
        List<Node> closest = closestCache;
        if (closest == null) {
            closest = lookupNow(Lookup.Kind.FIND_NODE, key, null, seeds(bootstrap, key), nowMillis).closest();
        }
        for (Node n : closest) {
            servers.get(serverOfHost[n.host()]).addProviders(List.of(key), provider, nowMillis);
        }
        return closest;
    }

    /**
     * Runs a GET_PROVIDERS lookup on the virtual clock: each query travels to the server and back with the
     * latency between the hosts; {@code done} gets the protocol's result.
     */
    void lookupProviders(Engine engine, Latency latency, int fromHost, KadKey target, List<Node> seeds,
            int wantedProviders, java.util.function.IntPredicate online, Consumer<LookupResult<Node>> done) {
        Lookup<Node> lookup = new Lookup<>(++lookupIds, Lookup.Kind.GET_PROVIDERS, target, null, seeds, config.k(),
                config, wantedProviders);
        Runner runner = new Runner(engine, latency, fromHost, online, done);
        runner.process(lookup.start(engine.now() / 1_000_000));
    }

    /**
     * Runs the protocol's {@link AnnounceScheduler} for {@code keys} on the virtual clock: FIND_NODE queries and
     * ADD_PROVIDER messages travel with the latency between the hosts; {@code done} gets the scheduler's report.
     */
    void announceAsync(Engine engine, Latency latency, int fromHost, int bootstrap, Node provider, List<KadKey> keys,
            AnnounceScheduler.Options options, java.util.function.IntPredicate online, Consumer<AnnounceReport> done) {
        AnnounceScheduler<Node> scheduler = new AnnounceScheduler<>(servers.get(bootstrap).table(), config, options,
                keys, lookupIds + 1);
        lookupIds += 1L << 20; // leave this run a range of lookup ids
        new Announcer(engine, latency, fromHost, provider, scheduler, online, done)
                .process(scheduler.start(engine.now() / 1_000_000));
    }

    private final class Announcer {
        private final Engine engine;
        private final Latency latency;
        private final int from;
        private final Node provider;
        private final AnnounceScheduler<Node> scheduler;
        private final java.util.function.IntPredicate online;
        private final Consumer<AnnounceReport> done;

        Announcer(Engine engine, Latency latency, int from, Node provider, AnnounceScheduler<Node> scheduler,
                java.util.function.IntPredicate online, Consumer<AnnounceReport> done) {
            this.engine = engine;
            this.latency = latency;
            this.from = from;
            this.provider = provider;
            this.scheduler = scheduler;
            this.online = online;
            this.done = done;
        }

        void process(List<AnnounceAction<Node>> actions) {
            for (AnnounceAction<Node> action : actions) {
                switch (action) {
                    case AnnounceAction.Query<Node> q -> {
                        long oneWay = latency.oneWayNanos(from, q.peer().host());
                        engine.after(oneWay, () -> {
                            boolean up = online.test(q.peer().host());
                            List<Node> closer = up ? servers.get(serverOfHost[q.peer().host()])
                                    .findNode(q.lookup().target(), provider, engine.now() / 1_000_000).closerPeers()
                                    : List.of();
                            engine.after(oneWay, () -> {
                                long ms = engine.now() / 1_000_000;
                                process(up ? scheduler.onResponse(q.lookup(), q.peer(), closer, ms)
                                        : scheduler.onFailure(q.lookup(), q.peer(), ms));
                            });
                        });
                    }
                    case AnnounceAction.ArmTimer<Node> t -> engine.at(t.atMillis() * 1_000_000,
                            () -> process(scheduler.onTimer(engine.now() / 1_000_000)));
                    case AnnounceAction.Unresponsive<Node> u -> { }
                    case AnnounceAction.AddProviders<Node> a -> engine.after(latency.oneWayNanos(from, a.peer().host()),
                            () -> {
                                if (online.test(a.peer().host())) {
                                    servers.get(serverOfHost[a.peer().host()]).addProviders(a.keys(), provider,
                                            engine.now() / 1_000_000);
                                }
                            });
                    case AnnounceAction.Finished<Node> f -> done.accept(f.report());
                }
            }
        }
    }

    private List<LookupAction<Node>> answer(Lookup<Node> lookup, Node peer, Node requester, long nowMillis) {
        KadServer<Node> server = servers.get(serverOfHost[peer.host()]);
        KadServer.Answer<Node> a = lookup.kind() == Lookup.Kind.FIND_NODE
                ? server.findNode(lookup.target(), requester, nowMillis)
                : server.getProviders(lookup.target(), requester, nowMillis);
        return lookup.onResponse(peer, a.closerPeers(), a.providers(), nowMillis);
    }

    private final class Runner {
        private final Engine engine;
        private final Latency latency;
        private final int from;
        private final java.util.function.IntPredicate online;
        private final Consumer<LookupResult<Node>> done;

        Runner(Engine engine, Latency latency, int from, java.util.function.IntPredicate online,
                Consumer<LookupResult<Node>> done) {
            this.engine = engine;
            this.latency = latency;
            this.from = from;
            this.online = online;
            this.done = done;
        }

        void process(List<LookupAction<Node>> actions) {
            for (LookupAction<Node> action : actions) {
                switch (action) {
                    case LookupAction.Query<Node> q -> {
                        long oneWay = latency.oneWayNanos(from, q.peer().host());
                        engine.after(oneWay, () -> {
                            boolean up = online.test(q.peer().host());
                            engine.after(oneWay, () -> {
                                long ms = engine.now() / 1_000_000;
                                process(up ? answer(q.lookup(), q.peer(), null, ms) : q.lookup().onFailure(q.peer(), ms));
                            });
                        });
                    }
                    case LookupAction.ArmTimer<Node> t -> engine.at(t.atMillis() * 1_000_000,
                            () -> process(t.lookup().onTimer(engine.now() / 1_000_000)));
                    case LookupAction.Unresponsive<Node> u -> { }
                    case LookupAction.Done<Node> d -> done.accept(d.result());
                }
            }
        }
    }
}
