package org.oscircular.protocol.exchange;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * The block-exchange policy of one node for one image, as a sans-I/O state machine: the driver feeds it
 * {@link ExchangeEvent}s with the current time and carries out the {@link ExchangeAction}s it emits. It never
 * reads a clock, opens a socket or starts a thread; randomness (tie-breaking among equal peers) is injected.
 *
 * <p>Policy, in short (details in {@code docs/exchange.md}):
 * <ul>
 *   <li>Blocks are served in the order they were wanted (a boot reads in trace order).</li>
 *   <li>For each wanted block one peer is asked at a time: LAN peers before seeds before remote peers; within a
 *       tier the best score, then the lowest RTT, then a random pick. A peer carries at most
 *       {@code maxInFlightPerPeer} requests, all peers together at most {@code maxInFlightPeers}.</li>
 *   <li>A block with no usable provider starts a provider lookup; if the lookup finds nobody, the origin is
 *       asked. A block still missing {@code originHedgeDelay} after it was wanted is also asked from the origin
 *       (a hedge). The origin carries at most {@code maxInFlightOrigin} requests; in {@link OriginMode#NEVER} it
 *       is never asked.</li>
 *   <li>A request unanswered for {@code requestTimeout} is cancelled and the block asked elsewhere; a peer
 *       with {@code timeoutsBeforeDrop} consecutive timeouts is dropped for {@code banDuration}.</li>
 *   <li>A bad block (hash mismatch) is never delivered: the peer is disconnected and scored down, banned after
 *       {@code badBlocksBeforeBan} bad blocks, and the block is fetched elsewhere.</li>
 * </ul>
 */
public final class BlockExchange {

    /** The source handle of the HTTP origin in events and actions. */
    public static final long ORIGIN = -1L;
    private static final long NONE = Long.MIN_VALUE;

    private final ExchangeConfig config;
    private final RandomGenerator random;
    private final LinkedHashMap<Integer, Want> wants = new LinkedHashMap<>();
    private final Map<Long, PeerRecord> peers = new HashMap<>();
    private int peerInFlight;
    private int originInFlight;
    private long lastNow = Long.MIN_VALUE;
    /** Bumped whenever a peer slot frees, a candidate appears or time passes: a failed pick may now succeed. */
    private long supply;

    public BlockExchange(ExchangeConfig config, RandomGenerator random) {
        this.config = Objects.requireNonNull(config, "config");
        this.random = Objects.requireNonNull(random, "random");
    }

    /** Processes one event at time {@code now} and emits the resulting actions to {@code out}, in order. */
    public void handle(ExchangeEvent event, long now, Consumer<? super ExchangeAction> out) {
        lastNow = now;
        switch (event) {
            case ExchangeEvent.Want w -> wants.computeIfAbsent(w.block(), b -> new Want(b, now));
            case ExchangeEvent.ProvidersFound p -> {
                Want want = wants.get(p.block());
                if (want != null) {
                    for (Provider provider : p.providers()) {
                        if (!want.hasCandidate(provider.peer())) {
                            want.addCandidate(provider, peer(provider.peer()));
                            supply++;
                        }
                    }
                }
            }
            case ExchangeEvent.LookupFinished l -> {
                Want want = wants.get(l.block());
                if (want != null && want.lookupRunning) {
                    want.lookupRunning = false;
                    want.nextLookupAt = now + config.lookupRetryDelay();
                }
            }
            case ExchangeEvent.BlockReceived r -> received(r, now, out);
            case ExchangeEvent.DontHave d -> {
                Want want = wants.get(d.block());
                if (want != null) {
                    if (want.peer == d.peer()) {
                        releasePeer(want);
                    }
                    want.exclude(d.peer());
                }
            }
            case ExchangeEvent.RequestFailed f -> failed(f.source(), f.block());
            case ExchangeEvent.PeerDisconnected d -> lost(d.peer());
            case ExchangeEvent.Tick t -> {
                supply++;
                expireRequests(now, out);
            }
        }
        pump(now, out);
    }

    /**
     * The earliest time at which {@link ExchangeEvent.Tick} has work to do (a request timeout, an origin hedge, a
     * lookup retry), or {@link Long#MAX_VALUE} if no timer is needed.
     */
    public long nextDeadline() {
        long next = Long.MAX_VALUE;
        boolean originAllowed = config.originMode() == OriginMode.FALLBACK;
        for (Want want : wants.values()) {
            if (want.peer != NONE) {
                next = Math.min(next, want.peerDeadline);
            }
            if (originAllowed && !want.originInFlight) {
                long hedgeAt = want.wantedAt + config.originHedgeDelay();
                if (hedgeAt > lastNow) {
                    next = Math.min(next, hedgeAt);
                }
            }
            if (!want.lookupRunning && want.nextLookupAt > lastNow && want.lookups < config.maxLookups()) {
                next = Math.min(next, want.nextLookupAt);
            }
        }
        return next;
    }

    /** Blocks wanted and not yet delivered or given up. */
    public int pending() {
        return wants.size();
    }

    public int inFlightToPeers() {
        return peerInFlight;
    }

    public int inFlightToOrigin() {
        return originInFlight;
    }

    /** Whether the peer is currently banned (bad blocks). */
    public boolean isBanned(long peer, long now) {
        PeerRecord record = peers.get(peer);
        return record != null && record.banned && !record.usable(now);
    }

    private void received(ExchangeEvent.BlockReceived r, long now, Consumer<? super ExchangeAction> out) {
        Want want = wants.get(r.block());
        long source = r.source();
        if (want != null) {
            if (source == ORIGIN && want.originInFlight) {
                releaseOrigin(want);
            } else if (source != ORIGIN && want.peer == source) {
                releasePeer(want);
            }
        }
        if (!r.valid()) {
            if (source == ORIGIN) {
                if (want != null) {
                    want.originFailures++;
                }
            } else {
                PeerRecord record = peer(source);
                record.sentBadBlock();
                boolean ban = record.badBlocks >= config.badBlocksBeforeBan();
                if (ban) {
                    record.banned = true;
                    record.excludedUntil = now + config.banDuration();
                }
                if (want != null) {
                    want.exclude(source);
                }
                lost(source);
                out.accept(new ExchangeAction.Disconnect(source, ban));
            }
            return;
        }
        if (want == null) {
            return; // a late or duplicate copy of a block already delivered
        }
        if (source != ORIGIN) {
            peer(source).succeeded();
        }
        if (want.peer != NONE) {
            out.accept(new ExchangeAction.Cancel(want.peer, want.block));
            releasePeer(want);
        }
        if (want.originInFlight) {
            out.accept(new ExchangeAction.Cancel(ORIGIN, want.block));
            releaseOrigin(want);
        }
        wants.remove(want.block);
        out.accept(new ExchangeAction.Deliver(want.block, source));
    }

    private void failed(long source, int block) {
        Want want = wants.get(block);
        if (source == ORIGIN) {
            if (want != null && want.originInFlight) {
                releaseOrigin(want);
                want.originFailures++;
            }
            return;
        }
        peer(source).failed();
        if (want != null) {
            if (want.peer == source) {
                releasePeer(want);
            }
            want.exclude(source);
        }
    }

    /** All requests to the peer are lost; the blocks go back to the queue with this peer excluded. */
    private void lost(long peer) {
        for (Want want : wants.values()) {
            if (want.peer == peer) {
                releasePeer(want);
                want.exclude(peer);
            }
        }
    }

    private void expireRequests(long now, Consumer<? super ExchangeAction> out) {
        List<Long> dropped = null;
        for (Want want : wants.values()) {
            if (want.peer != NONE && now >= want.peerDeadline) {
                long peer = want.peer;
                out.accept(new ExchangeAction.Cancel(peer, want.block));
                releasePeer(want);
                want.exclude(peer);
                PeerRecord record = peer(peer);
                record.timedOut();
                if (record.consecutiveTimeouts >= config.timeoutsBeforeDrop()) {
                    record.consecutiveTimeouts = 0;
                    record.excludedUntil = now + config.banDuration();
                    if (dropped == null) {
                        dropped = new ArrayList<>(2);
                    }
                    dropped.add(peer);
                }
            }
        }
        if (dropped != null) {
            for (long peer : dropped) {
                lost(peer);
                out.accept(new ExchangeAction.Disconnect(peer, false));
            }
        }
    }

    /** Assigns sources to wanted blocks in want order, within every limit. */
    private void pump(long now, Consumer<? super ExchangeAction> out) {
        boolean originAllowed = config.originMode() == OriginMode.FALLBACK;
        Iterator<Want> it = wants.values().iterator();
        while (it.hasNext()) {
            Want want = it.next();
            if (want.peer == NONE && peerInFlight < config.maxInFlightPeers() && want.failedPickAt != supply) {
                Provider best = pick(want, now);
                if (best == null) {
                    want.failedPickAt = supply;
                } else {
                    PeerRecord record = peer(best.peer());
                    record.inFlight++;
                    peerInFlight++;
                    want.peer = best.peer();
                    want.peerDeadline = now + config.requestTimeout();
                    out.accept(new ExchangeAction.Request(best.peer(), want.block));
                }
            }
            boolean usable = want.peer != NONE || hasUsableCandidate(want, now);
            if (!usable && !want.lookupRunning && want.lookups < config.maxLookups() && now >= want.nextLookupAt) {
                want.lookups++;
                want.lookupRunning = true;
                out.accept(new ExchangeAction.FindProviders(want.block));
            }
            boolean peersExhausted = !usable && !want.lookupRunning
                    && (want.lookups >= config.maxLookups() || originAllowed && want.lookups > 0);
            if (originAllowed && !want.originInFlight && originInFlight < config.maxInFlightOrigin()
                    && want.originFailures < config.maxOriginAttempts()
                    && (peersExhausted || now >= want.wantedAt + config.originHedgeDelay())) {
                want.originInFlight = true;
                originInFlight++;
                out.accept(new ExchangeAction.RequestOrigin(want.block));
            }
            boolean originExhausted = !originAllowed || want.originFailures >= config.maxOriginAttempts();
            if (peersExhausted && want.lookups >= config.maxLookups() && originExhausted && !want.originInFlight) {
                it.remove();
                out.accept(new ExchangeAction.Unavailable(want.block));
            }
        }
    }

    private Provider pick(Want want, long now) {
        Provider best = null;
        PeerRecord bestRecord = null;
        int ties = 0;
        for (int i = 0; i < want.candidates.size(); i++) {
            Provider candidate = want.candidates.get(i);
            PeerRecord record = want.records.get(i);
            if (!record.usable(now) || record.inFlight >= config.maxInFlightPerPeer()
                    || want.excludes(candidate.peer())) {
                continue;
            }
            int order = best == null ? -1 : compare(candidate, record, best, bestRecord);
            if (order < 0) {
                best = candidate;
                bestRecord = record;
                ties = 1;
            } else if (order == 0 && random.nextInt(++ties) == 0) {
                best = candidate;
                bestRecord = record;
            }
        }
        return best;
    }

    private static int compare(Provider a, PeerRecord ra, Provider b, PeerRecord rb) {
        int byTier = a.tier().compareTo(b.tier());
        if (byTier != 0) {
            return byTier;
        }
        int byScore = Integer.compare(rb.score, ra.score);
        if (byScore != 0) {
            return byScore;
        }
        return Long.compare(a.rtt(), b.rtt());
    }

    private static boolean hasUsableCandidate(Want want, long now) {
        for (int i = 0; i < want.candidates.size(); i++) {
            if (want.records.get(i).usable(now) && !want.excludes(want.candidates.get(i).peer())) {
                return true;
            }
        }
        return false;
    }

    private PeerRecord peer(long peer) {
        return peers.computeIfAbsent(peer, p -> new PeerRecord());
    }

    private void releasePeer(Want want) {
        supply++;
        PeerRecord record = peers.get(want.peer);
        record.inFlight--;
        peerInFlight--;
        want.peer = NONE;
    }

    private void releaseOrigin(Want want) {
        want.originInFlight = false;
        originInFlight--;
    }

    /** One wanted block. */
    private static final class Want {
        final int block;
        final long wantedAt;
        final List<Provider> candidates = new ArrayList<>(4);
        /** The peer record of each candidate, same order (saves a map lookup per candidate per event). */
        final List<PeerRecord> records = new ArrayList<>(4);
        long[] excluded = new long[0];
        long peer = NONE;
        long peerDeadline;
        boolean originInFlight;
        int originFailures;
        int lookups;
        boolean lookupRunning;
        long nextLookupAt = Long.MIN_VALUE;
        /** The value of {@code supply} when picking a peer for this block last found none. */
        long failedPickAt = -1;

        Want(int block, long wantedAt) {
            this.block = block;
            this.wantedAt = wantedAt;
        }

        boolean hasCandidate(long peer) {
            for (Provider known : candidates) {
                if (known.peer() == peer) {
                    return true;
                }
            }
            return false;
        }

        void addCandidate(Provider provider, PeerRecord record) {
            candidates.add(provider);
            records.add(record);
        }

        boolean excludes(long peer) {
            for (long e : excluded) {
                if (e == peer) {
                    return true;
                }
            }
            return false;
        }

        void exclude(long peer) {
            if (!excludes(peer)) {
                excluded = java.util.Arrays.copyOf(excluded, excluded.length + 1);
                excluded[excluded.length - 1] = peer;
            }
        }
    }
}
