package org.oscircular.protocol.kad;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * A tiny discrete-event harness that runs the sans-I/O DHT core of many nodes in one thread with virtual time.
 *
 * <p>Messages are delivered through one priority queue ordered by (time, sequence); a link delay is drawn from
 * [{@code minLatency}, {@code maxLatency}] per message. Dead nodes keep their place in other nodes' routing tables
 * but never answer, so queries to them time out. Server-side answers come from {@link KadServer}, the same code a
 * real node runs. Deterministic for a given seed.
 */
public final class VirtualNetwork {

    /** One node: its identity, routing table, provider store and whether it answers. */
    public static final class Node {
        public final SimPeer peer;
        public final KadServer<SimPeer> server;
        public boolean alive = true;

        Node(SimPeer peer, KadConfig config) {
            this.peer = peer;
            this.server = new KadServer<>(peer, config);
        }

        public RoutingTable<SimPeer> table() {
            return server.table();
        }
    }

    private record Event(long at, long seq, Runnable action) {}

    private final KadConfig config;
    private final RandomGenerator random;
    private final List<Node> nodes = new ArrayList<>();
    private final PriorityQueue<Event> queue =
            new PriorityQueue<>(Comparator.comparingLong(Event::at).thenComparingLong(Event::seq));
    private final long minLatency;
    private final long maxLatency;
    private long now;
    private long seq;
    private long messages;
    private long nextLookupId;

    public VirtualNetwork(KadConfig config, long seed, long minLatencyMillis, long maxLatencyMillis) {
        this.config = config;
        this.random = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        this.minLatency = minLatencyMillis;
        this.maxLatency = maxLatencyMillis;
    }

    /**
     * A network of {@code size} nodes whose tables were filled as if every node had met every other in a random
     * order (full buckets hold a random subset), then {@code deadFraction} of the nodes stop answering.
     */
    public static VirtualNetwork wellConnected(int size, double deadFraction, KadConfig config, long seed) {
        VirtualNetwork net = new VirtualNetwork(config, seed, 5, 50);
        for (int i = 0; i < size; i++) net.addNode();
        net.meetEveryone();
        net.kill(deadFraction);
        return net;
    }

    public Node addNode() {
        Node n = new Node(new SimPeer(nodes.size(), KadKey.random(random)), config);
        nodes.add(n);
        return n;
    }

    /** Every node sees every other node once, in its own random order. */
    public void meetEveryone() {
        int size = nodes.size();
        int[] order = new int[size];
        for (int i = 0; i < size; i++) order[i] = i;
        for (Node n : nodes) {
            for (int i = size - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int i : order) {
                if (i != n.peer.index()) n.table().seen(nodes.get(i).peer, now);
            }
        }
    }

    /** Marks a random {@code fraction} of the nodes dead. */
    public void kill(double fraction) {
        int toKill = (int) Math.round(nodes.size() * fraction);
        List<Node> alive = new ArrayList<>(nodes);
        for (int i = 0; i < toKill; i++) {
            alive.remove(random.nextInt(alive.size())).alive = false;
        }
    }

    public List<Node> nodes() {
        return nodes;
    }

    public Node node(int index) {
        return nodes.get(index);
    }

    public long now() {
        return now;
    }

    public RandomGenerator random() {
        return random;
    }

    /** Request messages delivered so far (queries and provider announcements). */
    public long messages() {
        return messages;
    }

    public long nextLookupId() {
        return nextLookupId++;
    }

    /** A random node that answers. */
    public Node randomAliveNode() {
        while (true) {
            Node n = nodes.get(random.nextInt(nodes.size()));
            if (n.alive) return n;
        }
    }

    /** The {@code n} alive nodes closest to {@code target} by brute force: the ground truth for lookups. */
    public List<SimPeer> trueClosestAlive(KadKey target, int n, SimPeer exclude) {
        return nodes.stream().filter(x -> x.alive && !x.peer.equals(exclude)).map(x -> x.peer)
                .sorted((a, b) -> target.compareDistance(a.kadKey(), b.kadKey())).limit(n).toList();
    }

    /**
     * Every alive node runs the routing table refresh the protocol schedules every refresh interval: one lookup
     * for a random key in each due bucket. Queries to dead nodes time out, so dead nodes leave the tables and the
     * replacement caches and answers fill the buckets with live ones.
     */
    public void refreshAllBuckets() {
        long dueAt = now + config.refreshIntervalMillis();
        for (Node n : nodes) {
            if (!n.alive) continue;
            for (int bucket : n.table().bucketsDueForRefresh(dueAt)) {
                KadKey target = n.table().refreshTarget(bucket, random);
                runLookup(n, Lookup.findNode(nextLookupId(), target, n.table(), config));
            }
        }
    }

    /** Runs one lookup started by {@code origin} to completion and returns its result. */
    public LookupResult<SimPeer> runLookup(Node origin, Lookup<SimPeer> lookup) {
        LookupResult<SimPeer>[] result = newResultHolder();
        perform(origin, lookup.start(now), r -> result[0] = r);
        runUntil(() -> result[0] != null);
        if (result[0] == null) throw new AssertionError("lookup " + lookup.id() + " never finished");
        return result[0];
    }

    @SuppressWarnings("unchecked")
    private static LookupResult<SimPeer>[] newResultHolder() {
        return new LookupResult[1];
    }

    /** Processes events until the condition holds or the queue is empty. */
    public void runUntil(java.util.function.BooleanSupplier condition) {
        while (!condition.getAsBoolean()) {
            Event e = queue.poll();
            if (e == null) return;
            now = Math.max(now, e.at());
            e.action().run();
        }
    }

    /** Processes every queued event. */
    public void runAll() {
        runUntil(() -> false);
    }

    /** Schedules {@code action} after {@code delayMillis} of virtual time. */
    public void schedule(long delayMillis, Runnable action) {
        queue.add(new Event(now + delayMillis, seq++, action));
    }

    private long latency() {
        return minLatency + (maxLatency > minLatency ? random.nextLong(maxLatency - minLatency + 1) : 0);
    }

    /**
     * Carries out lookup actions on behalf of {@code origin}: queries travel to the server and back with link
     * delays, timers become events, timeouts count against the peer in the origin's routing table.
     */
    public void perform(Node origin, List<LookupAction<SimPeer>> actions,
                        java.util.function.Consumer<LookupResult<SimPeer>> onDone) {
        for (LookupAction<SimPeer> a : actions) {
            switch (a) {
                case LookupAction.Query<SimPeer> q -> sendQuery(origin, q, onDone);
                case LookupAction.ArmTimer<SimPeer> t -> schedule(Math.max(0, t.atMillis() - now),
                        () -> perform(origin, t.lookup().onTimer(now), onDone));
                case LookupAction.Unresponsive<SimPeer> u -> origin.table().failed(u.peer(), now);
                case LookupAction.Done<SimPeer> d -> {
                    origin.table().lookupCompleted(d.result().target(), now);
                    onDone.accept(d.result());
                }
            }
        }
    }

    private void sendQuery(Node origin, LookupAction.Query<SimPeer> q,
                           java.util.function.Consumer<LookupResult<SimPeer>> onDone) {
        Node server = nodes.get(q.peer().index());
        Lookup<SimPeer> lookup = q.lookup();
        long there = latency();
        schedule(there, () -> {
            messages++;
            if (!server.alive) return; // silence: the origin's timer will fire
            server.table().seen(origin.peer, now);
            KadServer.Answer<SimPeer> answer = switch (lookup.kind()) {
                case FIND_NODE -> server.server.findNode(lookup.target(), origin.peer, now);
                case GET_PROVIDERS -> server.server.getProviders(lookup.target(), origin.peer, now);
            };
            schedule(latency(), () -> {
                origin.table().seen(server.peer, now);
                perform(origin, lookup.onResponse(server.peer, answer.closerPeers(), answer.providers(), now),
                        onDone);
            });
        });
    }

    /** Runs an announce started by {@code origin} to completion (its ADD_PROVIDERs delivered) and reports it. */
    public AnnounceReport runAnnounce(Node origin, AnnounceScheduler<SimPeer> scheduler) {
        AnnounceReport[] report = new AnnounceReport[1];
        performAnnounce(origin, scheduler, scheduler.start(now), report);
        runUntil(() -> report[0] != null);
        if (report[0] == null) throw new AssertionError("announce never finished");
        runAll(); // deliver the last ADD_PROVIDER messages and drain stale timers
        return report[0];
    }

    private void performAnnounce(Node origin, AnnounceScheduler<SimPeer> scheduler,
                                 List<AnnounceAction<SimPeer>> actions, AnnounceReport[] report) {
        for (AnnounceAction<SimPeer> a : actions) {
            switch (a) {
                case AnnounceAction.Query<SimPeer> q -> {
                    Node server = nodes.get(q.peer().index());
                    schedule(latency(), () -> {
                        messages++;
                        if (!server.alive) return;
                        server.table().seen(origin.peer, now);
                        List<SimPeer> closer = server.server.findNode(q.lookup().target(), origin.peer, now)
                                .closerPeers();
                        schedule(latency(), () -> {
                            origin.table().seen(server.peer, now);
                            performAnnounce(origin, scheduler,
                                    scheduler.onResponse(q.lookup(), server.peer, closer, now), report);
                        });
                    });
                }
                case AnnounceAction.ArmTimer<SimPeer> t -> schedule(Math.max(0, t.atMillis() - now),
                        () -> performAnnounce(origin, scheduler, scheduler.onTimer(now), report));
                case AnnounceAction.Unresponsive<SimPeer> u -> origin.table().failed(u.peer(), now);
                case AnnounceAction.AddProviders<SimPeer> add -> sendAddProvider(origin, add.peer(), add.keys());
                case AnnounceAction.Finished<SimPeer> f -> report[0] = f.report();
            }
        }
    }

    /** Delivers an ADD_PROVIDER for {@code keys} from {@code origin} to {@code to} after a link delay. */
    public void sendAddProvider(Node origin, SimPeer to, List<KadKey> keys) {
        Node server = nodes.get(to.index());
        schedule(latency(), () -> {
            messages++;
            if (server.alive) server.server.addProviders(keys, origin.peer, now);
        });
    }
}
