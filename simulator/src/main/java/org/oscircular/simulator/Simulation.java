package org.oscircular.simulator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.oscircular.protocol.exchange.ExchangeConfig;
import org.oscircular.protocol.exchange.ExchangeEvent;
import org.oscircular.protocol.exchange.OriginMode;
import org.oscircular.protocol.exchange.Provider;
import org.oscircular.protocol.exchange.Rendezvous;
import org.oscircular.protocol.exchange.SourceTier;
import org.oscircular.protocol.kad.AnnounceScheduler;
import org.oscircular.protocol.kad.BlockKey;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.kad.KadKey;

/**
 * One run of a scenario: builds the sites, hosts and links, schedules boots, preheats and churn, and carries out
 * what the hosts' exchange policies ask for (requests, lookups) over the flow network.
 */
final class Simulation {
    private final Scenario scenario;
    private final Engine engine = new Engine();
    private final FlowNetwork net;
    private final Recorder recorder;
    private final Workload workload;
    private final SplittableRandom random;
    private final Host[] hosts;
    private final int[] wanUp;
    private final int[] wanDown;
    private final int[][] seedsOfSite;
    private final int[] siteFirstClient;
    private final int originLink;
    /** Per site, per boot-trace position: sharing clients that hold the block (at most lan-max-providers). */
    private final int[][][] lanHolders;
    /** Per site, per boot-trace position: 1 + the designated client, 0 = not computed yet (see designated()). */
    private final int[][] designatedCache;
    /** Per block: announced providers (at most dht-max-providers). */
    private final int[][] announced;
    private final KadOverlay kad;
    private final KadKey[] blockKeys;
    private final List<List<KadOverlay.Node>> announceTargets;
    private int toFinish;
    private int finished;

    Simulation(Scenario scenario) {
        this.scenario = scenario;
        this.net = new FlowNetwork(engine, scenario.largeComponent(), scenario.largeComponentDelay());
        this.random = new SplittableRandom(scenario.seed());
        this.recorder = new Recorder(scenario.outputInterval());
        SplittableRandom workloadRandom = random.split();
        try {
            this.workload = scenario.image().table() == null
                    ? Workload.synthetic(scenario.image(), workloadRandom)
                    : Workload.fromTable(java.nio.file.Path.of(scenario.image().table()),
                            java.nio.file.Path.of(scenario.image().trust()), scenario.image().bootBlocks());
        } catch (java.io.IOException e) {
            throw new ScenarioException("image.table: cannot read " + e.getMessage());
        }
        Scenario.Sites s = scenario.sites();
        int sites = s.count();
        wanUp = new int[sites];
        wanDown = new int[sites];
        seedsOfSite = new int[sites][];
        siteFirstClient = new int[sites];
        lanHolders = new int[sites][][];
        designatedCache = new int[sites][];
        announced = new int[workload.blocks()][];
        originLink = net.addLink(scenario.origin().bandwidth());
        hosts = new Host[scenario.hostCount()];
        SplittableRandom placement = random.split();
        int id = 0;
        int traceBits = workload.bootTrace().length;
        for (int site = 0; site < sites; site++) {
            wanUp[site] = net.addLink(s.wanUp());
            wanDown[site] = net.addLink(s.wanDown());
            seedsOfSite[site] = new int[scenario.seeds().perSite()];
            for (int k = 0; k < scenario.seeds().perSite(); k++) {
                double bw = scenario.seeds().bandwidth();
                hosts[id] = new Host(id, site, true, false, net.addLink(bw), net.addLink(bw), workload.blocks());
                seedsOfSite[site][k] = id++;
            }
            siteFirstClient[site] = id;
            for (int k = 0; k < s.clientsPerSite(); k++) {
                boolean bad = placement.nextDouble() < scenario.clients().badFraction();
                hosts[id] = new Host(id, site, false, bad, net.addLink(s.hostBandwidth()),
                        net.addLink(s.hostBandwidth()), traceBits);
                id++;
            }
        }
        if (scenario.discovery().dht() == Scenario.DhtMode.KADEMLIA) {
            kad = buildKad(scenario, hosts, random.split());
            blockKeys = new KadKey[workload.blocks()];
            announceTargets = new ArrayList<>(java.util.Collections.nCopies(workload.blocks(), null));
        } else {
            kad = null;
            blockKeys = null;
            announceTargets = null;
        }
    }

    private static KadOverlay buildKad(Scenario scenario, Host[] hosts, SplittableRandom random) {
        Scenario.Discovery d = scenario.discovery();
        int[] servers = Arrays.stream(hosts)
                .filter(h -> d.dhtServers() == Scenario.DhtServers.ALL || h.seed).mapToInt(h -> h.id).toArray();
        KadConfig config = KadConfig.DEFAULTS.withK(d.kadK()).withAlpha(d.kadAlpha())
                .withQueryTimeoutMillis(Math.max(1, d.kadQueryTimeout() / 1_000_000));
        return KadOverlay.build(servers, hosts.length, config, random);
    }

    KadOverlay kad() {
        return kad;
    }

    /** The DHT key of a block: sha256 of the sha1 multihash of its (synthetic) SHA-1 name. */
    private KadKey blockKey(int block) {
        KadKey key = blockKeys[block];
        if (key == null) {
            key = blockKeys[block] = new BlockKey(blockName(block)).kadKey();
        }
        return key;
    }

    /** A block's SHA-1 name: the table's, or for a synthetic image 20 bytes derived from the seed and index. */
    private byte[] blockName(int block) {
        byte[] name = workload.name(block);
        if (name != null) {
            return name;
        }
        byte[] sha1 = new byte[20];
        long a = scenario.seed() * 0x9E3779B97F4A7C15L + block;
        for (int i = 0; i < 20; i++) {
            a = a * 6364136223846793005L + 1442695040888963407L;
            sha1[i] = (byte) (a >>> 56);
        }
        return sha1;
    }

    /** The DHT server whose routing table a host's lookups start from. */
    private int bootstrapServer(Host h) {
        int own = kad.serverOf(h.id);
        if (own >= 0) {
            return own;
        }
        for (int seed : seedsOfSite[h.site]) {
            if (kad.serverOf(seed) >= 0) {
                return kad.serverOf(seed);
            }
        }
        return h.id % kad.size();
    }

    private KadOverlay.Node kadNode(Host h) {
        int own = kad.serverOf(h.id);
        if (own >= 0) {
            return kad.node(own);
        }
        long x = h.id * 0x9E3779B97F4A7C15L + scenario.seed();
        return new KadOverlay.Node(h.id, new KadKey(x, ~x, x * 31, h.id));
    }

    Scenario scenario() {
        return scenario;
    }

    Engine engine() {
        return engine;
    }

    FlowNetwork network() {
        return net;
    }

    Recorder recorder() {
        return recorder;
    }

    Workload workload() {
        return workload;
    }

    long now() {
        return engine.now();
    }

    Host host(int id) {
        return hosts[id];
    }

    Host[] hosts() {
        return hosts;
    }

    int finishedHosts() {
        return finished;
    }

    int hostsToFinish() {
        return toFinish;
    }

    /** Schedules the publication (seed preheat), the boots and the churn. Call once before running. */
    void schedule() {
        Scenario.Clients c = scenario.clients();
        SplittableRandom times = random.split();
        int clients = scenario.clientCount();
        long t = c.bootStart();
        for (Host h : hosts) {
            if (h.seed) {
                if (scenario.seeds().preheat() != Scenario.Preheat.NONE) {
                    toFinish++;
                    engine.at(0, () -> begin(h));
                }
                continue;
            }
            toFinish++;
            long at = switch (c.boot()) {
                case AT_ONCE -> c.bootStart();
                case UNIFORM -> c.bootStart() + (c.bootWindow() == 0 ? 0 : times.nextLong(c.bootWindow() + 1));
                case POISSON -> t += (long) (-Math.log(1 - times.nextDouble()) * c.bootWindow() / Math.max(1, clients));
            };
            engine.at(at, () -> {
                h.wantedAt = engine.now();
                if (h.online) {
                    begin(h);
                }
            });
            if (scenario.churn().enabled()) {
                SplittableRandom r = times.split();
                engine.at(exp(r, scenario.churn().meanSession()), () -> goOffline(h, r));
            }
        }
    }

    /** Runs until everything finished or the scenario's duration passed. */
    void run() {
        runUntil(scenario.duration());
    }

    void runUntil(long until) {
        if (toFinish == 0) {
            return;
        }
        engine.run(until);
    }

    boolean complete() {
        return finished >= toFinish || engine.now() >= scenario.duration() || engine.queued() == 0;
    }

    private void begin(Host h) {
        if (h.done || h.driver != null && h.driver.fetching()) {
            return;
        }
        if (h.wantedAt < 0) {
            h.wantedAt = engine.now();
        }
        h.attempts++;
        int[] wanted = h.seed && scenario.seeds().preheat() == Scenario.Preheat.ALL
                ? workload.nonZeroBlocks() : nonZeroTrace();
        if (h.driver == null) {
            h.driver = newDriver(h);
        }
        h.driver.start(wanted);
    }

    /** A host's exchange driver (the node's policy with this host's seed-derived randomness). */
    private NodeDriver newDriver(Host h) {
        long mix = scenario.seed() * 0x9E3779B97F4A7C15L + h.id * 0xBF58476D1CE4E5B9L + h.attempts;
        // Seeds exist to pull from the origin: they always may, whatever the clients' origin mode.
        ExchangeConfig config = h.seed ? scenario.exchange().withOriginMode(OriginMode.FALLBACK) : scenario.exchange();
        return new NodeDriver(this, h, h.seed ? 64 : scenario.clients().prefetch(), config, new SplittableRandom(mix));
    }

    private int[] nonZeroTraceCache;

    private int[] nonZeroTrace() {
        if (nonZeroTraceCache == null) {
            nonZeroTraceCache = Arrays.stream(workload.bootTrace()).filter(b -> !workload.isZero(b)).toArray();
        }
        return nonZeroTraceCache;
    }

    void finished(Host h, boolean failed) {
        h.driver = null;
        if (h.done) {
            return;
        }
        h.done = true;
        h.failed = failed;
        h.doneAt = engine.now();
        finished++;
        boolean announces = h.seed || scenario.clients().announce() && scenario.clients().share();
        if (kad != null && announces && !failed && scenario.discovery().announce() != Scenario.Announce.IMMEDIATE) {
            announceAll(h);
        }
        if (finished >= toFinish) {
            engine.stop();
        }
    }

    /** A driver that only fetched for peers has nothing left to do: the host drops it until it needs one again. */
    void released(NodeDriver driver) {
        if (driver.host.driver == driver) {
            driver.host.driver = null;
        }
    }

    boolean hasBlock(Host h, int block) {
        return h.seed ? h.has(block) : h.has(workload.tracePosition(block));
    }

    private boolean serves(Host h, int block) {
        return h.online && (h.seed || scenario.clients().share()) && hasBlock(h, block);
    }

    void delivered(Host h, int block) {
        if (h.seed) {
            h.add(block);
        } else {
            int pos = workload.tracePosition(block);
            h.add(pos);
            if (scenario.clients().share()) {
                int[][] site = lanHolders[h.site];
                if (site == null) {
                    site = lanHolders[h.site] = new int[workload.bootTrace().length][];
                }
                site[pos] = append(site[pos], h.id, scenario.discovery().lanMaxProviders());
            }
        }
        if (h.seed || scenario.clients().announce() && scenario.clients().share()) {
            if (kad == null) {
                announced[block] = append(announced[block], h.id, scenario.discovery().dhtMaxProviders());
            } else if (scenario.discovery().announce() == Scenario.Announce.IMMEDIATE) {
                // The k closest servers of a key do not change in a static DHT: one FIND_NODE lookup per block.
                KadKey key = blockKey(block);
                announceTargets.set(block, kad.announce(key, kadNode(h), announceTargets.get(block),
                        bootstrapServer(h), engine.now() / 1_000_000));
            }
            // sweep and per-key: announced in one batch when the host has finished (see finished())
        }
    }

    private static int[] append(int[] list, int id, int cap) {
        if (list == null) {
            return cap == 0 ? null : new int[] {id};
        }
        if (list.length >= cap) {
            return list;
        }
        int[] grown = Arrays.copyOf(list, list.length + 1);
        grown[list.length] = id;
        return grown;
    }

    private long oneWay(Host client, Host server) {
        Scenario.Sites s = scenario.sites();
        if (server == null) {
            return s.wanLatency() + scenario.origin().latency();
        }
        return server.site == client.site ? s.lanLatency() : 2 * s.wanLatency();
    }

    private int[] route(Host client, Host server) {
        if (server == null) {
            return new int[] {originLink, wanDown[client.site]};
        }
        if (server.site == client.site) {
            return new int[] {server.upLink, client.downLink};
        }
        return new int[] {server.upLink, wanUp[server.site], wanDown[client.site]};
    }

    private Source sourceOf(Host client, Host server) {
        if (server == null) {
            return Source.ORIGIN;
        }
        if (server.site != client.site) {
            return Source.REMOTE;
        }
        return server.seed ? Source.LAN_SEED : Source.LAN_PEER;
    }

    /** Sends a block request from a driver's host to {@code server} (null = origin); the request travels first. */
    Transfer request(NodeDriver driver, Host server, int block) {
        Host client = driver.host;
        Transfer t = new Transfer(driver, server, block, sourceOf(client, server));
        long oneWay = oneWay(client, server);
        engine.after(oneWay, () -> serve(t, oneWay));
        return t;
    }

    private void serve(Transfer t, long oneWay) {
        if (t.cancelled) {
            return;
        }
        Host server = t.server;
        Host client = t.requester.host;
        if (server != null && !server.online) {
            recorder.failedRequests++;
            engine.after(oneWay, () -> t.requester.reply(t, new ExchangeEvent.RequestFailed(server.id, t.block)));
            return;
        }
        if (server != null && !serves(server, t.block)) {
            if (!server.seed && !server.done && workload.tracePosition(t.block) >= 0
                    && designated(server.site, t.block) == server.id) {
                // The designated peer fetches the block it lacks, then serves it (the node's fetch-through);
                // its node runs before its own boot starts, so it may have to start its exchange for this.
                recorder.fetchThroughs++;
                if (server.driver == null) {
                    server.driver = newDriver(server);
                }
                t.loading = true;
                noticeFetching(t, oneWay);
                server.driver.fetchThrough(t.block, loaded -> {
                    t.loading = false;
                    if (loaded) {
                        serve(t, oneWay);
                    } else {
                        // the load failed: the node answers DontHave
                        recorder.dontHaves++;
                        engine.after(oneWay, () -> t.requester.reply(t, new ExchangeEvent.DontHave(server.id, t.block)));
                    }
                });
                return;
            }
            recorder.dontHaves++;
            engine.after(oneWay, () -> t.requester.reply(t, new ExchangeEvent.DontHave(server.id, t.block)));
            return;
        }
        t.corrupt = server != null && server.bad;
        if (server != null) {
            server.upload(t);
        }
        long bytes = workload.size(t.block);
        t.flow = net.start(route(client, server), bytes, f -> {
            t.flow = -1;
            account(t, bytes);
            if (server != null) {
                server.uploadEnded(t);
            }
            engine.after(oneWay, () -> t.requester.reply(t,
                    new ExchangeEvent.BlockReceived(t.sourceId(), t.block, !t.corrupt)));
            if (t.corrupt) {
                recorder.badBlocks++;
            }
        });
    }

    /**
     * While the server loads the block of {@code t} for its requester, a Fetching notice reaches the requester
     * {@code oneWay} after the load starts and then every {@code fetchingInterval} of the requester's exchange
     * (the interval a node asks for in its Hello), as BlockService sends them.
     */
    private void noticeFetching(Transfer t, long oneWay) {
        if (t.cancelled || !t.loading || !t.server.online || t.server.driver == null || !t.server.driver.alive) {
            return;
        }
        recorder.fetchingNotices++;
        engine.after(oneWay, () -> t.requester.fetching(t));
        engine.after(t.requester.config().fetchingInterval(), () -> noticeFetching(t, oneWay));
    }

    /** Abandons a transfer: the request is dropped where it is, a running flow stops and its bytes are counted. */
    void cancel(Transfer t) {
        t.cancelled = true;
        if (t.flow >= 0) {
            long moved = net.abort(t.flow);
            t.flow = -1;
            account(t, moved);
            if (t.server != null) {
                t.server.uploadEnded(t);
            }
        }
    }

    private void account(Transfer t, long bytes) {
        Host client = t.requester.host;
        client.bytesFrom[t.source.ordinal()] += bytes;
        recorder.moved(engine.now(), t.source, t.server != null && t.server.seed, bytes, true);
    }

    /** Finds providers of a block for a driver: a LAN have-query, then (if enabled) a DHT lookup. */
    void discover(NodeDriver driver, int block) {
        Host h = driver.host;
        Scenario.Sites s = scenario.sites();
        List<Provider> lan = new ArrayList<>();
        for (int seed : seedsOfSite[h.site]) {
            if (seed != h.id && hosts[seed].online && hasBlock(hosts[seed], block)) {
                lan.add(new Provider(seed, SourceTier.SEED, 2 * s.lanLatency()));
            }
        }
        int pos = workload.tracePosition(block);
        int[][] site = lanHolders[h.site];
        if (pos >= 0 && site != null && site[pos] != null) {
            for (int peer : site[pos]) {
                if (peer != h.id && hosts[peer].online) {
                    lan.add(new Provider(peer, SourceTier.LAN, 2 * s.lanLatency()));
                }
            }
        }
        long lanRtt = 2 * s.lanLatency();
        boolean first = driver.firstLookup(block);
        if (first && !h.seed) {
            int designated = designated(h.site, block);
            if (designated >= 0 && designated != h.id) {
                // Ask the block's designated LAN peer (it fetches through if it must), then the site's seeds.
                List<Provider> ask = new ArrayList<>();
                ask.add(new Provider(designated, SourceTier.LAN, lanRtt));
                for (int seed : seedsOfSite[h.site]) {
                    if (hosts[seed].online) {
                        ask.add(new Provider(seed, SourceTier.SEED, lanRtt));
                    }
                }
                engine.after(0, () -> {
                    driver.handle(new ExchangeEvent.ProvidersFound(block, ask));
                    driver.handle(new ExchangeEvent.LookupFinished(block));
                });
                return;
            }
        }
        // LAN first: the first lookup of a block that LAN holders can serve does not touch the DHT.
        boolean lanOnly = !lan.isEmpty() && first;
        if (lanOnly || scenario.discovery().dht() == Scenario.DhtMode.NONE) {
            engine.after(lanRtt, () -> {
                if (!lan.isEmpty()) {
                    driver.handle(new ExchangeEvent.ProvidersFound(block, lan));
                }
                driver.handle(new ExchangeEvent.LookupFinished(block));
            });
            return;
        }
        if (!lan.isEmpty()) {
            engine.after(lanRtt, () -> driver.handle(new ExchangeEvent.ProvidersFound(block, lan)));
        }
        if (kad != null) {
            long started = engine.now();
            KadKey key = blockKey(block);
            kad.lookupProviders(engine, (a, b) -> oneWay(hosts[a], hosts[b]), h.id, key,
                    kad.seeds(bootstrapServer(h), key), scenario.discovery().dhtMaxProviders(),
                    peer -> hosts[peer].online, result -> {
                        recorder.lookup(engine.now() - started, result.hops());
                        List<Provider> found = new ArrayList<>();
                        for (KadOverlay.Node n : result.providers()) {
                            Host p = hosts[n.host()];
                            if (p.id != h.id && p.online) {
                                found.add(providerFor(h, p));
                            }
                        }
                        if (!found.isEmpty()) {
                            driver.handle(new ExchangeEvent.ProvidersFound(block, found));
                        }
                        driver.handle(new ExchangeEvent.LookupFinished(block));
                    });
            return;
        }
        int hops = scenario.discovery().dhtLookupRtts();
        long latency = hops * 4L * s.wanLatency();
        engine.after(latency, () -> {
            recorder.lookup(latency, hops);
            List<Provider> remote = new ArrayList<>();
            int[] list = announced[block];
            if (list != null) {
                for (int peer : list) {
                    Host p = hosts[peer];
                    if (peer != h.id && p.site != h.site && p.online) {
                        remote.add(new Provider(peer, SourceTier.REMOTE, 4 * s.wanLatency()));
                    }
                }
            }
            if (!remote.isEmpty()) {
                driver.handle(new ExchangeEvent.ProvidersFound(block, remote));
            }
            driver.handle(new ExchangeEvent.LookupFinished(block));
        });
    }

    /** Runs the protocol's announce scheduler over every block the host holds. */
    private void announceAll(Host h) {
        int[] blocks = h.seed && scenario.seeds().preheat() == Scenario.Preheat.ALL
                ? workload.nonZeroBlocks() : nonZeroTrace();
        List<KadKey> keys = new ArrayList<>(blocks.length);
        for (int b : blocks) {
            if (hasBlock(h, b)) {
                keys.add(blockKey(b));
            }
        }
        AnnounceScheduler.Options options = scenario.discovery().announce() == Scenario.Announce.SWEEP
                ? AnnounceScheduler.Options.sweep() : AnnounceScheduler.Options.perKey();
        recorder.announcesStarted++;
        kad.announceAsync(engine, (a, b) -> oneWay(hosts[a], hosts[b]), h.id, bootstrapServer(h), kadNode(h), keys,
                options, peer -> hosts[peer].online, recorder::announced);
    }

    /**
     * The designated fetcher of a block in a site: the node's own rule ({@link Rendezvous}) over the site's online
     * sharing clients, with synthetic peer ids and block names; or -1 when the rule is off. Cached per site and
     * boot-trace position until a client of the site goes offline or comes back.
     */
    private int designated(int site, int block) {
        if (!scenario.clients().share() || !scenario.discovery().lanDesignated()) {
            return -1;
        }
        int pos = workload.tracePosition(block);
        int[] cache = designatedCache[site];
        if (pos >= 0 && cache != null && cache[pos] != 0) {
            return cache[pos] - 1;
        }
        List<Host> online = new ArrayList<>(scenario.sites().clientsPerSite());
        int first = siteFirstClient[site];
        for (int i = 0; i < scenario.sites().clientsPerSite(); i++) {
            if (hosts[first + i].online) {
                online.add(hosts[first + i]);
            }
        }
        int best = online.isEmpty() ? -1 : Rendezvous.designated(online, h -> peerId(h.id), blockName(block)).id;
        if (pos >= 0) {
            if (cache == null) {
                cache = designatedCache[site] = new int[workload.bootTrace().length];
            }
            cache[pos] = best + 1;
        }
        return best;
    }

    /** A host's synthetic peer id: eight bytes derived from the scenario seed and the host number. */
    private byte[] peerId(int host) {
        long z = host + scenario.seed() * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        byte[] id = new byte[8];
        for (int i = 7; i >= 0; i--) {
            id[i] = (byte) z;
            z >>>= 8;
        }
        return id;
    }

    private Provider providerFor(Host client, Host server) {
        long rtt = 2 * oneWay(client, server);
        if (server.site != client.site) {
            return new Provider(server.id, SourceTier.REMOTE, rtt);
        }
        return new Provider(server.id, server.seed ? SourceTier.SEED : SourceTier.LAN, rtt);
    }

    private void goOffline(Host h, SplittableRandom r) {
        if (h.done) {
            return;
        }
        h.online = false;
        designatedCache[h.site] = null;
        if (h.driver != null) {
            h.driver.kill();
            h.driver = null;
        }
        if (h.uploads != null) {
            // Everything this host was sending stops; each requester sees its stream fail.
            for (Transfer t : h.uploads) {
                if (t.flow >= 0) {
                    account(t, net.abort(t.flow));
                    t.flow = -1;
                }
                engine.after(oneWay(t.requester.host, h),
                        () -> t.requester.reply(t, new ExchangeEvent.RequestFailed(h.id, t.block)));
            }
            h.uploads.clear();
        }
        engine.after(exp(r, scenario.churn().meanDowntime()), () -> {
            h.online = true;
            designatedCache[h.site] = null;
            if (h.wantedAt >= 0 && !h.done) {
                begin(h);
            }
            engine.after(exp(r, scenario.churn().meanSession()), () -> goOffline(h, r));
        });
    }

    private static long exp(SplittableRandom r, long mean) {
        return (long) (-Math.log(1 - r.nextDouble()) * mean);
    }
}
