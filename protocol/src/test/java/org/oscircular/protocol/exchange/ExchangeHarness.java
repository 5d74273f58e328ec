package org.oscircular.protocol.exchange;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A randomized driver for {@link BlockExchange}: peers that are honest, lie (bad blocks), stay silent or say
 * "don't have", that report "fetching" for a while and then answer honestly, or that report "fetching" forever;
 * an origin that sometimes fails. It checks the policy's invariants after every step (limits; after a tick, that
 * no request outlives its bound and that no block waits for its origin hedge beyond its bound) and records
 * what happened so tests can assert on the outcome.
 */
final class ExchangeHarness {
    enum Behaviour { HONEST, BAD_BLOCKS, SILENT, DONT_HAVE, FETCHING_THEN_HONEST, FETCHING_FOREVER }

    private static final long MS = 1_000_000L;

    final ExchangeConfig config;
    final BlockExchange exchange;
    final SplittableRandom random;
    final Behaviour[] peers;
    final SourceTier[] tiers;
    final boolean[][] has;
    final double originFailureRate;

    final Map<Long, Set<Integer>> outstanding = new HashMap<>();
    /** When each outstanding peer request was sent, by {@link #key}. */
    private final Map<Long, Long> requestedAt = new HashMap<>();
    /** When each block was wanted, and when a peer was last asked for it. */
    private final Map<Integer, Long> wantedAt = new HashMap<>();
    private final Map<Integer, Long> lastRequestAt = new HashMap<>();
    private final Map<Integer, Integer> originFailures = new HashMap<>();
    int fetchingNotices;
    final Set<Integer> originOutstanding = new HashSet<>();
    final List<Integer> lookups = new ArrayList<>();
    final Set<Integer> delivered = new HashSet<>();
    final Set<Integer> unavailable = new HashSet<>();
    final Map<Integer, Long> deliveredFrom = new HashMap<>();
    final List<ExchangeAction> log = new ArrayList<>();
    final Map<Long, Long> bannedUntil = new HashMap<>();
    long now;
    int originRequests;

    private long lastValidSource = Long.MIN_VALUE;
    private int lastValidBlock = -1;

    ExchangeHarness(ExchangeConfig config, long seed, Behaviour[] peers, boolean[][] has, double originFailureRate) {
        this.config = config;
        this.random = new SplittableRandom(seed);
        this.exchange = new BlockExchange(config, new SplittableRandom(seed ^ 0x5DEECE66DL));
        this.peers = peers;
        this.has = has;
        this.originFailureRate = originFailureRate;
        this.tiers = new SourceTier[peers.length];
        for (int i = 0; i < peers.length; i++) {
            tiers[i] = SourceTier.values()[random.nextInt(SourceTier.values().length)];
        }
    }

    void want(int block) {
        wantedAt.putIfAbsent(block, now);
        handle(new ExchangeEvent.Want(block));
    }

    /** Answers the block's running lookup at once with every peer that has it, all on the LAN. */
    void provide(int block) {
        lookups.remove(Integer.valueOf(block));
        List<Provider> found = new ArrayList<>();
        for (int p = 0; p < peers.length; p++) {
            if (has[p][block]) {
                found.add(new Provider(p, SourceTier.LAN, MS));
            }
        }
        handle(new ExchangeEvent.ProvidersFound(block, found));
        handle(new ExchangeEvent.LookupFinished(block));
    }

    /** Runs until nothing is pending; returns false if the exchange stalled or the step budget ran out. */
    boolean runToCompletion(int maxSteps) {
        for (int step = 0; step < maxSteps; step++) {
            if (exchange.pending() == 0) {
                return true;
            }
            List<Runnable> choices = answerable();
            if (choices.isEmpty()) {
                long deadline = exchange.nextDeadline();
                if (deadline == Long.MAX_VALUE) {
                    return false;
                }
                now = Math.max(now, deadline);
                handle(new ExchangeEvent.Tick());
            } else {
                now += random.nextLong(5 * MS);
                choices.get(random.nextInt(choices.size())).run();
                if (random.nextInt(8) == 0) {
                    handle(new ExchangeEvent.Tick());
                }
            }
        }
        return exchange.pending() == 0;
    }

    private List<Runnable> answerable() {
        List<Runnable> choices = new ArrayList<>();
        for (var e : outstanding.entrySet()) {
            long peer = e.getKey();
            if (peers[(int) peer] == Behaviour.SILENT) {
                continue;
            }
            for (int block : e.getValue()) {
                switch (peers[(int) peer]) {
                    case FETCHING_FOREVER -> choices.add(() -> fetching(peer, block));
                    case FETCHING_THEN_HONEST -> choices.add(() -> {
                        if (random.nextInt(3) == 0) {
                            answerPeer(peer, block);
                        } else {
                            fetching(peer, block);
                        }
                    });
                    default -> choices.add(() -> answerPeer(peer, block));
                }
            }
        }
        for (int block : originOutstanding) {
            choices.add(() -> answerOrigin(block));
        }
        for (int block : lookups) {
            choices.add(() -> answerLookup(block));
        }
        return choices;
    }

    private void fetching(long peer, int block) {
        fetchingNotices++;
        handle(new ExchangeEvent.PeerFetching(peer, block));
    }

    private void answerPeer(long peer, int block) {
        outstanding.get(peer).remove(block);
        requestedAt.remove(key(peer, block));
        switch (peers[(int) peer]) {
            case HONEST, FETCHING_THEN_HONEST -> {
                if (has[(int) peer][block]) {
                    lastValidSource = peer;
                    lastValidBlock = block;
                    handle(new ExchangeEvent.BlockReceived(peer, block, true));
                } else {
                    handle(new ExchangeEvent.DontHave(peer, block));
                }
            }
            case BAD_BLOCKS -> handle(new ExchangeEvent.BlockReceived(peer, block, false));
            case DONT_HAVE -> handle(new ExchangeEvent.DontHave(peer, block));
            case SILENT, FETCHING_FOREVER -> throw new AssertionError(peers[(int) peer] + " peers never answer");
        }
    }

    private void answerOrigin(int block) {
        originOutstanding.remove(block);
        if (random.nextDouble() < originFailureRate) {
            originFailures.merge(block, 1, Integer::sum);
            handle(new ExchangeEvent.RequestFailed(BlockExchange.ORIGIN, block));
        } else {
            lastValidSource = BlockExchange.ORIGIN;
            lastValidBlock = block;
            handle(new ExchangeEvent.BlockReceived(BlockExchange.ORIGIN, block, true));
        }
    }

    private void answerLookup(int block) {
        lookups.remove(Integer.valueOf(block));
        List<Provider> found = new ArrayList<>();
        for (int p = 0; p < peers.length; p++) {
            // liars and silent peers claim everything; honest peers claim what they have
            boolean claims = peers[p] != Behaviour.HONEST || has[p][block];
            if (claims && random.nextInt(4) != 0) {
                found.add(new Provider(p, tiers[p], random.nextLong(50 * MS)));
            }
        }
        handle(new ExchangeEvent.ProvidersFound(block, found));
        handle(new ExchangeEvent.LookupFinished(block));
    }

    private void handle(ExchangeEvent event) {
        exchange.handle(event, now, this::apply);
        lastValidSource = Long.MIN_VALUE;
        lastValidBlock = -1;
        checkLimits();
        if (event instanceof ExchangeEvent.Tick) {
            checkRequestAges();
            checkHedgeBound();
        }
    }

    /**
     * After a tick, with a free origin slot, every block still missing and not asked from the origin was wanted,
     * or last asked from a peer, less than max(originHedgeDelay, maxFetchingWait) ago: busy peers and "fetching"
     * notices may postpone the hedge, never beyond that.
     */
    private void checkHedgeBound() {
        if (config.originMode() != OriginMode.FALLBACK || originOutstanding.size() >= config.maxInFlightOrigin()) {
            return;
        }
        long wait = Math.max(config.originHedgeDelay(), config.maxFetchingWait());
        for (var e : wantedAt.entrySet()) {
            int block = e.getKey();
            if (delivered.contains(block) || unavailable.contains(block) || originOutstanding.contains(block)
                    || originFailures.getOrDefault(block, 0) >= config.maxOriginAttempts()) {
                continue;
            }
            long since = Math.max(e.getValue(), lastRequestAt.getOrDefault(block, Long.MIN_VALUE));
            if (now - since >= wait) {
                throw new AssertionError("block " + block + " not hedged to the origin " + (now - since)
                        + " ns after it was wanted or last requested, bound " + wait);
            }
        }
    }

    /** After a tick, no peer request is older than the longest that notices may keep it alive. */
    private void checkRequestAges() {
        long bound = Math.max(config.requestTimeout(), config.maxFetchingWait());
        for (var e : requestedAt.entrySet()) {
            if (now - e.getValue() >= bound) {
                throw new AssertionError("a peer request (key " + e.getKey() + ") is " + (now - e.getValue())
                        + " ns old after a tick, bound " + bound);
            }
        }
    }

    private static long key(long peer, int block) {
        return (peer << 32) ^ (block & 0xFFFFFFFFL);
    }

    private void apply(ExchangeAction action) {
        log.add(action);
        switch (action) {
            case ExchangeAction.Request r -> {
                Long until = bannedUntil.get(r.peer());
                if (until != null && now < until) {
                    throw new AssertionError("requested block " + r.block() + " from banned peer " + r.peer());
                }
                if (!outstanding.computeIfAbsent(r.peer(), p -> new HashSet<>()).add(r.block())) {
                    throw new AssertionError("asked peer " + r.peer() + " twice for block " + r.block());
                }
                requestedAt.put(key(r.peer(), r.block()), now);
                lastRequestAt.put(r.block(), now);
            }
            case ExchangeAction.RequestOrigin o -> {
                originRequests++;
                if (config.originMode() == OriginMode.NEVER) {
                    throw new AssertionError("origin requested in never-use-origin mode");
                }
                originOutstanding.add(o.block());
            }
            case ExchangeAction.Cancel c -> {
                if (c.source() == BlockExchange.ORIGIN) {
                    originOutstanding.remove(c.block());
                } else {
                    outstanding.getOrDefault(c.source(), new HashSet<>()).remove(c.block());
                    requestedAt.remove(key(c.source(), c.block()));
                }
            }
            case ExchangeAction.FindProviders f -> lookups.add(f.block());
            case ExchangeAction.Deliver d -> {
                if (d.source() != lastValidSource || d.block() != lastValidBlock) {
                    throw new AssertionError("delivered block " + d.block() + " from " + d.source()
                            + " that was not just received valid");
                }
                if (!delivered.add(d.block()) || unavailable.contains(d.block())) {
                    throw new AssertionError("block " + d.block() + " delivered twice");
                }
                deliveredFrom.put(d.block(), d.source());
            }
            case ExchangeAction.Disconnect d -> {
                outstanding.remove(d.peer());
                requestedAt.keySet().removeIf(k -> k >> 32 == d.peer());
                if (d.banned()) {
                    bannedUntil.put(d.peer(), now + config.banDuration());
                }
            }
            case ExchangeAction.Unavailable u -> {
                if (delivered.contains(u.block()) || !unavailable.add(u.block())) {
                    throw new AssertionError("block " + u.block() + " reported twice");
                }
            }
        }
    }

    private void checkLimits() {
        int total = 0;
        for (var e : outstanding.entrySet()) {
            int n = e.getValue().size();
            if (n > config.maxInFlightPerPeer()) {
                throw new AssertionError(n + " requests in flight to peer " + e.getKey());
            }
            total += n;
        }
        if (total > config.maxInFlightPeers()) {
            throw new AssertionError(total + " peer requests in flight, cap " + config.maxInFlightPeers());
        }
        if (originOutstanding.size() > config.maxInFlightOrigin()) {
            throw new AssertionError(originOutstanding.size() + " origin requests in flight");
        }
    }
}
