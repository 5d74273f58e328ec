package org.oscircular.protocol.kad;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Announces many provider keys at once (a whole image: 16k blocks) with few messages.
 *
 * <p>{@link Strategy#PER_KEY} is the classic path and the baseline: one FIND_NODE lookup per key, then a
 * single-key ADD_PROVIDER to each of its k closest peers. {@link Strategy#REGION_SWEEP} walks the keys in keyspace
 * order and reuses what each lookup proved. A converged lookup for target t knows every peer within distance D of
 * t (D = distance to its k-th closest answer): a "ball". For a later key x the sweep computes x's k closest peers
 * by walking down x's path in the binary trie of the keyspace (in the XOR metric the side of x is always closer):
 * where a subtree holds at least the peers still needed, descend; otherwise all its peers are taken and the walk
 * continues on the other side. This needs only that every subtree whose peers are all taken lies inside some ball
 * ({@code (t xor prefix) | lowbits <= D}). Keys that resolve this way get no lookup of their own; the first key
 * that does not becomes the next lookup target, seeded with the peers already known around it. Each peer then gets
 * ADD_PROVIDER messages carrying all its keys (the multi-key extension, up to {@code maxKeysPerMessage} keys each,
 * sent when full or when the sweep ends). Keys are split into {@code parallelLookups} contiguous lanes that sweep
 * concurrently.
 *
 * <p>Sans-I/O like {@link Lookup}: events in, {@link AnnounceAction actions} out; the driver routes query answers
 * back with the {@link Lookup} named in each {@link AnnounceAction.Query}. Run it again every republish interval.
 */
public final class AnnounceScheduler<P extends KadPeer> {

    /** How keys are announced. */
    public enum Strategy { PER_KEY, REGION_SWEEP }

    /**
     * @param strategy          per-key lookups (baseline, standard messages) or the region sweep
     * @param parallelLookups   lookups running at the same time
     * @param maxKeysPerMessage keys carried by one ADD_PROVIDER (1 = only standard single-key messages)
     */
    public record Options(Strategy strategy, int parallelLookups, int maxKeysPerMessage) {

        public static final int DEFAULT_PARALLEL_LOOKUPS = 16;
        public static final int DEFAULT_MAX_KEYS_PER_MESSAGE = 1024;

        public Options {
            if (parallelLookups < 1) throw new IllegalArgumentException("announce.parallel-lookups must be >= 1");
            if (maxKeysPerMessage < 1) throw new IllegalArgumentException("announce.max-keys-per-message must be >= 1");
        }

        /** The region sweep with 16 lanes, up to 1024 keys per ADD_PROVIDER. */
        public static Options sweep() {
            return new Options(Strategy.REGION_SWEEP, DEFAULT_PARALLEL_LOOKUPS, DEFAULT_MAX_KEYS_PER_MESSAGE);
        }

        /** One lookup per key and standard single-key ADD_PROVIDER messages (what kad-dht implementations do). */
        public static Options perKey() {
            return new Options(Strategy.PER_KEY, DEFAULT_PARALLEL_LOOKUPS, 1);
        }
    }

    private static final int NEAREST_BALLS = 16;
    private final RoutingTable<P> table;
    private final KadConfig config;
    private final Options options;
    private final KadKey[] keys;
    private final List<Lane> lanes;
    private final List<Integer> hops = new ArrayList<>();
    private final TreeMap<KadKey, P> known = new TreeMap<>();
    private final Map<P, List<KadKey>> pending = new LinkedHashMap<>();
    /** Centers and radii of the balls converged lookups proved complete, sorted along the keyspace. */
    private final TreeMap<KadKey, KadKey> balls = new TreeMap<>();
    private boolean anyExhausted;
    private long nextLookupId;
    private long startedAt;
    private long lookupRpcs;
    private long messages;
    private long records;
    private int lookups;
    private boolean started;
    private boolean finished;

    /**
     * @param table         our routing table (lookup seeds; also gives our own key)
     * @param keys          kad keys to announce (any order; duplicates are announced once)
     * @param firstLookupId ids of this run's lookups count up from here
     */
    public AnnounceScheduler(RoutingTable<P> table, KadConfig config, Options options, List<KadKey> keys,
                             long firstLookupId) {
        this.table = table;
        this.config = config;
        this.options = options;
        this.keys = keys.stream().distinct().sorted().toArray(KadKey[]::new);
        this.nextLookupId = firstLookupId;
        int laneCount = Math.max(1, Math.min(options.parallelLookups(), this.keys.length));
        this.lanes = new ArrayList<>(laneCount);
        for (int i = 0; i < laneCount; i++) {
            lanes.add(new Lane((int) ((long) this.keys.length * i / laneCount),
                    (int) ((long) this.keys.length * (i + 1) / laneCount)));
        }
    }

    public boolean isFinished() {
        return finished;
    }

    /** The id the next lookup of this run will get (ids count up from {@code firstLookupId}). */
    public long nextLookupId() {
        return nextLookupId;
    }

    public List<AnnounceAction<P>> start(long nowMillis) {
        if (started) throw new IllegalStateException("announce already started");
        started = true;
        startedAt = nowMillis;
        List<AnnounceAction<P>> out = new ArrayList<>();
        for (Lane lane : lanes) startNext(lane, nowMillis, out);
        finishIfDone(nowMillis, out);
        return out;
    }

    /** {@code from} answered the FIND_NODE of {@code lookup}. */
    public List<AnnounceAction<P>> onResponse(Lookup<P> lookup, P from, List<P> closerPeers, long nowMillis) {
        Lane lane = laneOf(lookup);
        if (lane == null) return List.of();
        List<AnnounceAction<P>> out = new ArrayList<>();
        handle(lane, lookup.onResponse(from, closerPeers, List.of(), nowMillis), nowMillis, out);
        finishIfDone(nowMillis, out);
        return out;
    }

    /** The FIND_NODE of {@code lookup} to {@code from} failed. */
    public List<AnnounceAction<P>> onFailure(Lookup<P> lookup, P from, long nowMillis) {
        Lane lane = laneOf(lookup);
        if (lane == null) return List.of();
        List<AnnounceAction<P>> out = new ArrayList<>();
        handle(lane, lookup.onFailure(from, nowMillis), nowMillis, out);
        finishIfDone(nowMillis, out);
        return out;
    }

    public List<AnnounceAction<P>> onTimer(long nowMillis) {
        List<AnnounceAction<P>> out = new ArrayList<>();
        for (Lane lane : lanes) {
            if (lane.current != null) handle(lane, lane.current.onTimer(nowMillis), nowMillis, out);
        }
        finishIfDone(nowMillis, out);
        return out;
    }

    private Lane laneOf(Lookup<P> lookup) {
        for (Lane lane : lanes) {
            if (lane.current == lookup) return lane;
        }
        return null;
    }

    private void startNext(Lane lane, long now, List<AnnounceAction<P>> out) {
        if (lane.cursor >= lane.end) {
            lane.current = null;
            return;
        }
        KadKey target = keys[lane.cursor];
        int resultSize = config.k();
        List<P> seeds = new ArrayList<>(table.closest(target, resultSize));
        seeds.addAll(known.headMap(target, false).descendingMap().values().stream().limit(resultSize).toList());
        seeds.addAll(known.tailMap(target).values().stream().limit(resultSize).toList());
        lane.current = new Lookup<>(nextLookupId++, Lookup.Kind.FIND_NODE, target, table.self(), seeds,
                resultSize, config, 0);
        lookups++;
        handle(lane, lane.current.start(now), now, out);
    }

    private void handle(Lane lane, List<LookupAction<P>> actions, long now, List<AnnounceAction<P>> out) {
        for (LookupAction<P> a : actions) {
            switch (a) {
                case LookupAction.Query<P> q -> out.add(new AnnounceAction.Query<>(q.lookup(), q.peer()));
                case LookupAction.ArmTimer<P> t -> out.add(new AnnounceAction.ArmTimer<>(t.atMillis()));
                case LookupAction.Unresponsive<P> u -> out.add(new AnnounceAction.Unresponsive<>(u.peer()));
                case LookupAction.Done<P> d -> {
                    table.lookupCompleted(d.result().target(), now);
                    lookupRpcs += d.result().rpcs();
                    hops.add(d.result().hops());
                    assign(lane, d.result(), out);
                    startNext(lane, now, out);
                }
            }
        }
    }

    /** Assigns the keys this lookup covers to their k closest peers and emits the ADD_PROVIDER messages. */
    private void assign(Lane lane, LookupResult<P> result, List<AnnounceAction<P>> out) {
        List<P> answered = result.closest();
        KadKey target = result.target();
        int k = config.k();
        for (P p : answered) known.put(p.kadKey(), p);
        boolean exhausted = answered.size() < k; // we heard from every reachable peer
        if (exhausted) {
            anyExhausted = true;
        } else {
            balls.put(target, target.xor(answered.getLast().kadKey()));
        }
        do {
            KadKey x = keys[lane.cursor];
            List<P> closest;
            if (x.equals(target)) {
                closest = answered.subList(0, Math.min(k, answered.size()));
            } else {
                if (options.strategy() == Strategy.PER_KEY) break;
                closest = new ArrayList<>(k);
                if (collect(x, x, 0, k, closest) < 0) break; // a peer we do not know might be closer to x
            }
            for (P p : closest) {
                List<KadKey> batch = pending.computeIfAbsent(p, unused -> new ArrayList<>());
                batch.add(x);
                if (batch.size() == options.maxKeysPerMessage()) send(p, pending.remove(p), out);
            }
            lane.cursor++;
        } while (lane.cursor < lane.end);
    }

    private void send(P peer, List<KadKey> batch, List<AnnounceAction<P>> out) {
        out.add(new AnnounceAction.AddProviders<>(peer, List.copyOf(batch)));
        messages++;
        records += batch.size();
    }

    /**
     * Adds to {@code out} the {@code m} peers closest to {@code x} inside the subtree of keys sharing the first
     * {@code depth} bits of {@code prefix}, if what the lookups proved suffices to know them. Returns how many were
     * added (fewer than {@code m} only when the subtree holds no more peers), or -1 if some unknown peer might be
     * among them. The XOR metric makes this a walk down x's path: the side of x is always closer than the other.
     */
    private int collect(KadKey x, KadKey prefix, int depth, int m, List<P> out) {
        KadKey mask = KadKey.lowMask(KadKey.BITS - depth);
        KadKey lo = prefix.or(mask).xor(mask);
        KadKey hi = prefix.or(mask);
        var inside = known.subMap(lo, true, hi, true);
        // a ball holds k peers, so a subtree with more known peers lies in none (unless the network was exhausted)
        boolean mayBeComplete = anyExhausted || !holdsMoreThan(inside, config.k());
        if (mayBeComplete && isComplete(prefix, mask)) {
            List<P> peers = new ArrayList<>(inside.values());
            peers.sort((a, b) -> x.compareDistance(a.kadKey(), b.kadKey()));
            List<P> take = peers.subList(0, Math.min(m, peers.size()));
            out.addAll(take);
            return take.size();
        }
        if (inside.isEmpty() || depth == KadKey.BITS) return -1;
        KadKey bit = KadKey.lowMask(KadKey.BITS - depth).xor(KadKey.lowMask(KadKey.BITS - depth - 1));
        KadKey near = x.bit(depth) == prefix.bit(depth) ? prefix : prefix.xor(bit);
        KadKey far = near.xor(bit);
        int got = collect(x, near, depth + 1, m, out);
        if (got < 0 || got == m) return got;
        int rest = collect(x, far, depth + 1, m - got, out);
        return rest < 0 ? -1 : got + rest;
    }

    private static boolean holdsMoreThan(java.util.SortedMap<KadKey, ?> map, int n) {
        int seen = 0;
        for (KadKey ignored : map.keySet()) {
            if (++seen > n) return true;
        }
        return false;
    }

    /**
     * Whether some finished lookup proved it knows every peer of the subtree (prefix, mask). A ball that covers the
     * subtree is centred close to it along the keyspace, so only the balls centred nearest on either side are
     * checked.
     */
    private boolean isComplete(KadKey prefix, KadKey mask) {
        if (anyExhausted) return true;
        Map.Entry<KadKey, KadKey> e = balls.floorEntry(prefix);
        for (int seen = 0; e != null && seen < NEAREST_BALLS; seen++, e = balls.lowerEntry(e.getKey())) {
            if (e.getKey().subtreeWithin(prefix, mask, e.getValue())) return true;
        }
        e = balls.higherEntry(prefix);
        for (int seen = 0; e != null && seen < NEAREST_BALLS; seen++, e = balls.higherEntry(e.getKey())) {
            if (e.getKey().subtreeWithin(prefix, mask, e.getValue())) return true;
        }
        return false;
    }

    private void finishIfDone(long now, List<AnnounceAction<P>> out) {
        if (finished || !started) return;
        for (Lane lane : lanes) {
            if (lane.current != null || lane.cursor < lane.end) return;
        }
        finished = true;
        for (Map.Entry<P, List<KadKey>> e : pending.entrySet()) send(e.getKey(), e.getValue(), out);
        pending.clear();
        List<Integer> h = new ArrayList<>(hops);
        h.sort(null);
        int median = h.isEmpty() ? 0 : h.get(h.size() / 2);
        out.add(new AnnounceAction.Finished<>(new AnnounceReport(keys.length, lookups, lookupRpcs, messages,
                records, median, startedAt, now)));
    }

    /** A contiguous slice of the sorted keys swept by one lookup at a time. */
    private final class Lane {
        final int end;
        int cursor;
        Lookup<P> current;

        Lane(int start, int end) {
            this.cursor = start;
            this.end = end;
        }
    }
}
