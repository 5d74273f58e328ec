package org.oscircular.protocol.exchange;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
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
 *       (a hedge). A block held back only because every usable candidate carries {@code maxInFlightPerPeer}
 *       requests, one of them making progress (a block or a fetching notice within {@code requestTimeout}), is not
 *       hedged yet: its hedge counts from when its peer request is sent, or from when that peer stops making
 *       progress, and never later than {@code maxFetchingWait} after the want. The origin carries at most
 *       {@code maxInFlightOrigin} requests; in {@link OriginMode#NEVER} it is never asked.</li>
 *   <li>A request unanswered for {@code requestTimeout} is cancelled and the block asked elsewhere; a peer
 *       with {@code timeoutsBeforeDrop} consecutive timeouts is dropped for {@code banDuration}. A peer that says it
 *       is still loading the block ({@link ExchangeEvent.PeerFetching}) restarts that timeout and postpones the
 *       block's origin hedge, until the request is {@code maxFetchingWait} old.</li>
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
    /** What this exchange remembers per peer, oldest first; see {@link #peer(long)} for the bound. */
    private final LinkedHashMap<Long, PeerRecord> peers = new LinkedHashMap<>();
    /** Table size at which the next sweep of idle peer records runs. */
    private int sweepAt;
    private int peerInFlight;
    private int originInFlight;
    private long lastNow = Long.MIN_VALUE;
    /** Bumped whenever a peer slot frees, a candidate appears or time passes: a failed pick may now succeed. */
    private long supply;

    public BlockExchange(ExchangeConfig config, RandomGenerator random) {
        this.config = Objects.requireNonNull(config, "config");
        this.random = Objects.requireNonNull(random, "random");
        this.sweepAt = config.maxPeerRecords();
    }

    /** Processes one event at time {@code now} and emits the resulting actions to {@code out}, in order. */
    public void handle(ExchangeEvent event, long now, Consumer<? super ExchangeAction> out) {
        lastNow = now;
        switch (event) {
            case ExchangeEvent.Want w -> wants.computeIfAbsent(w.block(), b -> new Want(b, now, config.originHedgeDelay()));
            case ExchangeEvent.ProvidersFound p -> {
                Want want = wants.get(p.block());
                if (want != null) {
                    for (Provider provider : p.providers()) {
                        if (!want.hasCandidate(provider.peer())) {
                            PeerRecord record = peer(provider.peer());
                            record.candidateOf++;
                            want.addCandidate(provider, record);
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
            case ExchangeEvent.PeerFetching f -> fetching(f, now);
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
                long hedgeAt = hedgeTime(want, lastNow);
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

    /**
     * Peers this exchange keeps a record of (load, score, exclusion). Besides the peers that are candidates of a
     * wanted block, carry a request, or are dropped or banned, at most {@link ExchangeConfig#maxPeerRecords()}
     * records of idle peers are kept; see {@code docs/exchange.md}.
     */
    public int knownPeers() {
        return peers.size();
    }

    /**
     * Whether dropping this exchange would lose nothing but good will: no block is wanted, nothing is in flight,
     * and no peer is dropped, banned or has a timeout, a bad block or a negative score on record (only the scores
     * earned by good blocks would be forgotten). A driver that keeps an exchange only to fetch for others may
     * then let it go and start afresh later.
     */
    public boolean forgettable(long now) {
        if (!wants.isEmpty() || peerInFlight > 0 || originInFlight > 0) {
            return false;
        }
        for (PeerRecord record : peers.values()) {
            if (!record.inGoodStanding(now)) {
                return false;
            }
        }
        return true;
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
            PeerRecord record = peer(source);
            record.succeeded();
            record.lastProgressAt = now;
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
        want.forgetCandidates();
        out.accept(new ExchangeAction.Deliver(want.block, source));
    }

    /**
     * The asked peer is loading the block: its request lives on, neither scored nor timed out, while it is younger
     * than {@code maxFetchingWait}; the hedge waits as long after the notice as it would after a fresh want.
     */
    private void fetching(ExchangeEvent.PeerFetching f, long now) {
        Want want = wants.get(f.block());
        if (want == null || want.peer != f.peer()) {
            return; // a notice for a request already answered, cancelled or reassigned
        }
        long limit = want.peerRequestedAt + config.maxFetchingWait();
        if (now >= limit) {
            return;
        }
        peers.get(f.peer()).lastProgressAt = now;
        want.peerDeadline = Math.max(want.peerDeadline, Math.min(now + config.requestTimeout(), limit));
        want.hedgeAt = Math.max(want.hedgeAt, Math.min(now + config.originHedgeDelay(), limit));
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
                int best = pick(want, now);
                if (best < 0) {
                    want.failedPickAt = supply;
                } else {
                    PeerRecord record = want.records[best];
                    record.inFlight++;
                    peerInFlight++;
                    want.peer = want.peers[best];
                    want.peerRequestedAt = now;
                    want.peerDeadline = now + config.requestTimeout();
                    if (want.heldForBusyPeer && progressing(record, now)) {
                        // It waited for a slot of a peer that makes progress: the hedge counts from this request.
                        want.hedgeAt = Math.max(want.hedgeAt,
                                Math.min(now + config.originHedgeDelay(), want.wantedAt + config.maxFetchingWait()));
                    }
                    want.heldForBusyPeer = false;
                    out.accept(new ExchangeAction.Request(want.peer, want.block));
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
            if (originAllowed && !want.originInFlight && (now >= hedgeTime(want, now) || peersExhausted)
                    && originInFlight < config.maxInFlightOrigin()
                    && want.originFailures < config.maxOriginAttempts()) {
                want.originInFlight = true;
                originInFlight++;
                out.accept(new ExchangeAction.RequestOrigin(want.block));
            }
            boolean originExhausted = !originAllowed || want.originFailures >= config.maxOriginAttempts();
            if (peersExhausted && want.lookups >= config.maxLookups() && originExhausted && !want.originInFlight) {
                it.remove();
                want.forgetCandidates();
                out.accept(new ExchangeAction.Unavailable(want.block));
            }
        }
    }

    /**
     * When a block without an origin request is hedged to the origin: {@code hedgeAt}, unless the block has no peer
     * request only because every usable candidate is at {@code maxInFlightPerPeer} and one of them makes progress.
     * Then the hedge counts from when the last such peer stops making progress, but it comes no later than
     * {@code maxFetchingWait} after the want (and never earlier than {@code hedgeAt}). Marks such a block, so that
     * its hedge counts from its peer request once that is sent.
     */
    private long hedgeTime(Want want, long now) {
        if (want.peer != NONE || want.wantedAt + config.maxFetchingWait() <= want.hedgeAt) {
            return want.hedgeAt;
        }
        long progressEnds = Long.MIN_VALUE;
        for (int i = 0; i < want.candidateCount; i++) {
            PeerRecord record = want.records[i];
            if (!record.usable(now) || want.excludes(want.peers[i])) {
                continue;
            }
            if (record.inFlight < config.maxInFlightPerPeer()) {
                return want.hedgeAt; // a free candidate: something else holds the block back
            }
            if (record.lastProgressAt != Long.MIN_VALUE) {
                progressEnds = Math.max(progressEnds, record.lastProgressAt + config.requestTimeout());
            }
        }
        if (progressEnds <= now - config.originHedgeDelay()) {
            return want.hedgeAt; // no busy candidate made progress recently enough to hold the block
        }
        if (progressEnds > now) {
            want.heldForBusyPeer = true;
        }
        long held = Math.min(progressEnds + config.originHedgeDelay(), want.wantedAt + config.maxFetchingWait());
        return Math.max(want.hedgeAt, held);
    }

    /** Whether the peer delivered a block or reported fetching within the last {@code requestTimeout}. */
    private boolean progressing(PeerRecord record, long now) {
        return record.lastProgressAt != Long.MIN_VALUE && now - record.lastProgressAt < config.requestTimeout();
    }

    /** The index of the best usable candidate of a want, or -1. */
    private int pick(Want want, long now) {
        int best = -1;
        int ties = 0;
        for (int i = 0; i < want.candidateCount; i++) {
            PeerRecord record = want.records[i];
            if (!record.usable(now) || record.inFlight >= config.maxInFlightPerPeer()
                    || want.excludes(want.peers[i])) {
                continue;
            }
            int order = best < 0 ? -1 : compare(want, i, best);
            if (order < 0) {
                best = i;
                ties = 1;
            } else if (order == 0 && random.nextInt(++ties) == 0) {
                best = i;
            }
        }
        return best;
    }

    /** Orders two candidates of a want: tier, then score (higher first), then RTT. */
    private static int compare(Want want, int a, int b) {
        int byTier = Byte.compare(want.tiers[a], want.tiers[b]);
        if (byTier != 0) {
            return byTier;
        }
        int byScore = Integer.compare(want.records[b].score, want.records[a].score);
        if (byScore != 0) {
            return byScore;
        }
        return Long.compare(want.rtts[a], want.rtts[b]);
    }

    private static boolean hasUsableCandidate(Want want, long now) {
        for (int i = 0; i < want.candidateCount; i++) {
            if (want.records[i].usable(now) && !want.excludes(want.peers[i])) {
                return true;
            }
        }
        return false;
    }

    /**
     * The record of a peer, created on first sight. The table is bounded: when it reaches
     * {@code maxPeerRecords}, records of idle peers (no request in flight, candidate of no wanted block, not
     * dropped or banned at this moment) are forgotten, oldest first, down to three quarters of the bound. A
     * forgotten peer that comes back starts afresh (score 0). Records that are not idle are never forgotten,
     * so the table holds at most the bound plus the peers the current wants name.
     */
    private PeerRecord peer(long peer) {
        PeerRecord record = peers.get(peer);
        if (record == null) {
            if (peers.size() >= sweepAt) {
                forgetIdlePeers();
            }
            record = new PeerRecord();
            peers.put(peer, record);
        }
        return record;
    }

    private void forgetIdlePeers() {
        int target = config.maxPeerRecords() - config.maxPeerRecords() / 4;
        Iterator<PeerRecord> it = peers.values().iterator();
        while (it.hasNext() && peers.size() > target) {
            if (it.next().idle(lastNow)) {
                it.remove();
            }
        }
        // If most records are busy, do not sweep again on every new peer: wait for a quarter of the bound more.
        sweepAt = Math.max(config.maxPeerRecords(), peers.size() + Math.max(1, config.maxPeerRecords() / 4));
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
        private static final long[] NO_PEERS = new long[0];

        final int block;
        final long wantedAt;
        /** When the block is also asked from the origin if still missing; later while a peer reports loading it. */
        long hedgeAt;
        /** The block waited for a slot of a busy peer that makes progress; see {@link #hedgeTime}. */
        boolean heldForBusyPeer;
        // Candidates (peers that claim to have the block) in parallel arrays: handle, tier ordinal, RTT, and the
        // peer's record (saves a map lookup per candidate per event).
        long[] peers = NO_PEERS;
        byte[] tiers;
        long[] rtts;
        PeerRecord[] records;
        int candidateCount;
        long[] excluded = NO_PEERS;
        long peer = NONE;
        long peerRequestedAt;
        long peerDeadline;
        boolean originInFlight;
        int originFailures;
        int lookups;
        boolean lookupRunning;
        long nextLookupAt = Long.MIN_VALUE;
        /** The value of {@code supply} when picking a peer for this block last found none. */
        long failedPickAt = -1;

        Want(int block, long wantedAt, long hedgeDelay) {
            this.block = block;
            this.wantedAt = wantedAt;
            this.hedgeAt = wantedAt + hedgeDelay;
        }

        boolean hasCandidate(long peer) {
            for (int i = 0; i < candidateCount; i++) {
                if (peers[i] == peer) {
                    return true;
                }
            }
            return false;
        }

        void addCandidate(Provider provider, PeerRecord record) {
            if (candidateCount == peers.length) {
                int n = Math.max(4, candidateCount * 2);
                peers = Arrays.copyOf(peers, n);
                tiers = tiers == null ? new byte[n] : Arrays.copyOf(tiers, n);
                rtts = rtts == null ? new long[n] : Arrays.copyOf(rtts, n);
                records = records == null ? new PeerRecord[n] : Arrays.copyOf(records, n);
            }
            peers[candidateCount] = provider.peer();
            tiers[candidateCount] = (byte) provider.tier().ordinal();
            rtts[candidateCount] = provider.rtt();
            records[candidateCount] = record;
            candidateCount++;
        }

        /** The want is over: its candidates' records no longer count it. */
        void forgetCandidates() {
            for (int i = 0; i < candidateCount; i++) {
                records[i].candidateOf--;
            }
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
                excluded = Arrays.copyOf(excluded, excluded.length + 1);
                excluded[excluded.length - 1] = peer;
            }
        }
    }
}
