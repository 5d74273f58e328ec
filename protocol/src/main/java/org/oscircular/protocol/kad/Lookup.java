package org.oscircular.protocol.kad;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One iterative Kademlia lookup as a state machine (libp2p kad-dht "peer routing" and "content routing").
 *
 * <p>Candidates are kept sorted by XOR distance to the target. At most {@code alpha} queries are in flight; each
 * goes to the closest candidate not yet queried among the {@code resultSize} closest candidates that have not
 * failed. The lookup ends when those {@code resultSize} closest have all answered (or fewer remain and all answered,
 * meaning the reachable network is exhausted), or, for GET_PROVIDERS, as soon as {@code wantedProviders} distinct
 * providers arrived. A query unanswered after {@code queryTimeoutMillis} counts as failed; a late answer is still
 * used.
 *
 * <p>Events: {@link #start}, {@link #onResponse}, {@link #onFailure}, {@link #onTimer}. Each returns the actions to
 * perform ({@link LookupAction}). Nothing here reads a clock: every event carries {@code nowMillis}.
 */
public final class Lookup<P extends KadPeer> {

    /** What is being looked up. */
    public enum Kind { FIND_NODE, GET_PROVIDERS }

    private static final byte HEARD = 0;
    private static final byte WAITING = 1;
    private static final byte ANSWERED = 2;
    private static final byte FAILED = 3;

    private final long id;
    private final Kind kind;
    private final KadKey target;
    private final KadKey self;
    private final int resultSize;
    private final int alpha;
    private final long timeoutMillis;
    private final int wantedProviders;
    private final ArrayList<Candidate<P>> candidates = new ArrayList<>();
    private final Set<P> providers = new LinkedHashSet<>();
    private int inFlight;
    private int rpcs;
    private int failures;
    private int providerHops;
    private long armedAt = Long.MIN_VALUE;
    private long startedAt;
    private boolean started;
    private boolean done;

    /**
     * @param id              the caller's id for this lookup, echoed in the result
     * @param kind            FIND_NODE or GET_PROVIDERS
     * @param target          the key looked up
     * @param self            our own key, never queried (null if we are not in the keyspace, e.g. client mode)
     * @param seeds           initial candidates, usually {@code routingTable.closest(target, resultSize)}
     * @param resultSize      how many closest peers must answer (k; the announce sweep uses more)
     * @param config          alpha and query timeout
     * @param wantedProviders stop a GET_PROVIDERS lookup after this many providers (0: run to the end)
     */
    public Lookup(long id, Kind kind, KadKey target, KadKey self, List<P> seeds, int resultSize, KadConfig config,
                  int wantedProviders) {
        if (resultSize < 1) throw new IllegalArgumentException("resultSize must be positive, got " + resultSize);
        if (wantedProviders < 0) throw new IllegalArgumentException("wantedProviders must be >= 0");
        this.id = id;
        this.kind = kind;
        this.target = target;
        this.self = self;
        this.resultSize = resultSize;
        this.alpha = config.alpha();
        this.timeoutMillis = config.queryTimeoutMillis();
        this.wantedProviders = wantedProviders;
        for (P seed : seeds) addCandidate(seed, 1);
    }

    /** A FIND_NODE lookup for the k closest peers, seeded from the table. */
    public static <P extends KadPeer> Lookup<P> findNode(long id, KadKey target, RoutingTable<P> table,
                                                        KadConfig config) {
        return new Lookup<>(id, Kind.FIND_NODE, target, table.self(), table.closest(target, config.k()),
                config.k(), config, 0);
    }

    /** A GET_PROVIDERS lookup that stops after {@code wantedProviders} providers. */
    public static <P extends KadPeer> Lookup<P> getProviders(long id, KadKey target, RoutingTable<P> table,
                                                            KadConfig config, int wantedProviders) {
        return new Lookup<>(id, Kind.GET_PROVIDERS, target, table.self(), table.closest(target, config.k()),
                config.k(), config, wantedProviders);
    }

    public long id() {
        return id;
    }

    public Kind kind() {
        return kind;
    }

    public KadKey target() {
        return target;
    }

    public boolean isDone() {
        return done;
    }

    /** Queries sent so far. */
    public int rpcs() {
        return rpcs;
    }

    /** Sends the first {@code alpha} queries (or finishes at once when there is no one to ask). */
    public List<LookupAction<P>> start(long nowMillis) {
        if (started) throw new IllegalStateException("lookup " + id + " already started");
        started = true;
        startedAt = nowMillis;
        List<LookupAction<P>> out = new ArrayList<>(alpha + 1);
        step(nowMillis, out);
        return out;
    }

    /**
     * {@code from} answered with peers closer to the target and, for GET_PROVIDERS, providers it knows.
     * Peers equal to our own key are ignored.
     */
    public List<LookupAction<P>> onResponse(P from, List<P> closerPeers, List<P> providerPeers, long nowMillis) {
        if (done || !started) return List.of();
        int at = find(from.kadKey());
        if (at < 0) return List.of();
        Candidate<P> c = candidates.get(at);
        if (c.state == WAITING) {
            inFlight--;
        } else if (c.state != FAILED) {
            return List.of(); // not asked, or a duplicate answer
        }
        c.state = ANSWERED;
        int depth = c.depth;
        for (P p : closerPeers) addCandidate(p, depth + 1);
        if (kind == Kind.GET_PROVIDERS && !providerPeers.isEmpty()) {
            boolean hadNone = providers.isEmpty();
            providers.addAll(providerPeers);
            if (hadNone && !providers.isEmpty()) providerHops = depth;
        }
        List<LookupAction<P>> out = new ArrayList<>(alpha + 1);
        step(nowMillis, out);
        return out;
    }

    /** The query to {@code from} failed (connection refused, stream reset, undecodable answer). */
    public List<LookupAction<P>> onFailure(P from, long nowMillis) {
        if (done || !started) return List.of();
        int at = find(from.kadKey());
        if (at < 0 || candidates.get(at).state != WAITING) return List.of();
        candidates.get(at).state = FAILED;
        inFlight--;
        failures++;
        List<LookupAction<P>> out = new ArrayList<>(alpha + 1);
        step(nowMillis, out);
        return out;
    }

    /** Time passed: queries past their deadline fail (and are reported {@link LookupAction.Unresponsive}). */
    public List<LookupAction<P>> onTimer(long nowMillis) {
        if (done || !started) return List.of();
        List<LookupAction<P>> out = new ArrayList<>(alpha + 2);
        for (Candidate<P> c : candidates) {
            if (c.state == WAITING && c.deadline <= nowMillis) {
                c.state = FAILED;
                inFlight--;
                failures++;
                out.add(new LookupAction.Unresponsive<>(this, c.peer));
            }
        }
        if (armedAt <= nowMillis) armedAt = Long.MIN_VALUE;
        step(nowMillis, out);
        return out;
    }

    private void step(long now, List<LookupAction<P>> out) {
        if (kind == Kind.GET_PROVIDERS && wantedProviders > 0 && providers.size() >= wantedProviders) {
            finish(now, out);
            return;
        }
        int seen = 0;
        boolean pending = false;
        for (int i = 0; i < candidates.size() && seen < resultSize; i++) {
            Candidate<P> c = candidates.get(i);
            if (c.state == FAILED) continue;
            seen++;
            if (c.state == HEARD && inFlight < alpha) {
                c.state = WAITING;
                c.deadline = now + timeoutMillis;
                inFlight++;
                rpcs++;
                out.add(new LookupAction.Query<>(this, c.peer));
            }
            if (c.state == HEARD || c.state == WAITING) pending = true;
        }
        if (!pending) {
            finish(now, out);
            return;
        }
        long earliest = Long.MAX_VALUE;
        for (Candidate<P> c : candidates) {
            if (c.state == WAITING && c.deadline < earliest) earliest = c.deadline;
        }
        if (earliest != Long.MAX_VALUE && (armedAt == Long.MIN_VALUE || earliest < armedAt)) {
            armedAt = earliest;
            out.add(new LookupAction.ArmTimer<>(this, earliest));
        }
    }

    private void finish(long now, List<LookupAction<P>> out) {
        done = true;
        List<P> closest = new ArrayList<>(resultSize);
        int hops = 0;
        for (Candidate<P> c : candidates) {
            if (c.state != ANSWERED) continue;
            if (closest.isEmpty()) hops = c.depth;
            closest.add(c.peer);
            if (closest.size() == resultSize) break;
        }
        if (kind == Kind.GET_PROVIDERS && !providers.isEmpty()) hops = providerHops;
        out.add(new LookupAction.Done<>(new LookupResult<>(id, kind, target, closest, List.copyOf(providers),
                hops, rpcs, failures, startedAt, now)));
    }

    private void addCandidate(P peer, int depth) {
        KadKey key = peer.kadKey();
        if (self != null && key.equals(self)) return;
        int at = find(key);
        if (at >= 0) {
            Candidate<P> c = candidates.get(at);
            if (depth < c.depth && c.state == HEARD) c.depth = depth;
            return;
        }
        candidates.add(-at - 1, new Candidate<>(peer, depth));
    }

    /** Binary search by distance to the target; equal distance means the same key. */
    private int find(KadKey key) {
        int lo = 0;
        int hi = candidates.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = target.compareDistance(candidates.get(mid).peer.kadKey(), key);
            if (c < 0) lo = mid + 1;
            else if (c > 0) hi = mid - 1;
            else return mid;
        }
        return -(lo + 1);
    }

    private static final class Candidate<P> {
        final P peer;
        int depth;
        byte state = HEARD;
        long deadline;

        Candidate(P peer, int depth) {
            this.peer = peer;
            this.depth = depth;
        }
    }
}
