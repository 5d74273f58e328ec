package org.oscircular.protocol.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class BlockExchangePropertiesTest {

    @Provide
    Arbitrary<ExchangeConfig> configs() {
        var perPeer = Arbitraries.integers().between(1, 4);
        var peers = Arbitraries.integers().between(1, 8);
        var origin = Arbitraries.integers().between(1, 3);
        var mode = Arbitraries.of(OriginMode.class);
        var lookups = Arbitraries.integers().between(0, 3);
        // A bound below the number of peers makes the exchange forget idle peers while it runs.
        var records = Arbitraries.of(4, ExchangeConfig.DEFAULT_MAX_PEER_RECORDS);
        // How long "fetching" notices may keep a request alive: not at all, less than a timeout, several.
        var fetchingWait = Arbitraries.of(0L, 150_000_000L, 1_000_000_000L);
        return net.jqwik.api.Combinators.combine(perPeer, peers, origin, mode, lookups, records, fetchingWait)
                .as((pp, p, o, m, l, r, w) -> new ExchangeConfig(pp, p, o, m, 200_000_000L, 100_000_000L, 2, 2,
                        60_000_000_000L, l, 10_000_000L, 3, r, 100_000_000L, w));
    }

    private static ExchangeHarness harness(ExchangeConfig config, long seed, int peerCount, int blocks,
            double originFailureRate) {
        return harness(config, seed, peerCount, blocks, originFailureRate, ExchangeHarness.Behaviour.values());
    }

    private static ExchangeHarness harness(ExchangeConfig config, long seed, int peerCount, int blocks,
            double originFailureRate, ExchangeHarness.Behaviour... kinds) {
        SplittableRandom r = new SplittableRandom(seed);
        ExchangeHarness.Behaviour[] behaviours = new ExchangeHarness.Behaviour[peerCount];
        boolean[][] has = new boolean[peerCount][blocks];
        for (int p = 0; p < peerCount; p++) {
            behaviours[p] = kinds[r.nextInt(kinds.length)];
            for (int b = 0; b < blocks; b++) {
                has[p][b] = r.nextBoolean();
            }
        }
        return new ExchangeHarness(config, seed, behaviours, has, originFailureRate);
    }

    @Property(tries = 300)
    void everyWantedBlockIsDeliveredOnceOrReportedUnavailableWithinAllLimits(
            @ForAll("configs") ExchangeConfig config, @ForAll long seed,
            @ForAll @IntRange(min = 0, max = 12) int peerCount, @ForAll @IntRange(min = 1, max = 40) int blocks) {
        ExchangeHarness h = harness(config, seed, peerCount, blocks, 0.2);
        for (int b = 0; b < blocks; b++) {
            h.want(b);
        }
        assertTrue(h.runToCompletion(100_000), "exchange stalled with " + h.exchange.pending() + " pending");
        Set<Integer> done = new HashSet<>(h.delivered);
        done.addAll(h.unavailable);
        assertEquals(blocks, done.size());
        assertEquals(0, h.exchange.inFlightToPeers());
        assertEquals(0, h.exchange.inFlightToOrigin());
    }

    @Property(tries = 200)
    void neverAsksTheOriginInNeverMode(@ForAll("configs") ExchangeConfig config, @ForAll long seed,
            @ForAll @IntRange(min = 0, max = 6) int peerCount, @ForAll @IntRange(min = 1, max = 30) int blocks) {
        ExchangeHarness h = harness(config.withOriginMode(OriginMode.NEVER), seed, peerCount, blocks, 0.0);
        for (int b = 0; b < blocks; b++) {
            h.want(b);
        }
        assertTrue(h.runToCompletion(100_000));
        assertEquals(0, h.originRequests);
    }

    @Property(tries = 200)
    void aReliableOriginGetsEveryBlockDeliveredWhateverThePeersDo(@ForAll("configs") ExchangeConfig config,
            @ForAll long seed, @ForAll @IntRange(min = 0, max = 6) int peerCount,
            @ForAll @IntRange(min = 1, max = 30) int blocks) {
        ExchangeHarness h = harness(config.withOriginMode(OriginMode.FALLBACK), seed, peerCount, blocks, 0.0);
        for (int b = 0; b < blocks; b++) {
            h.want(b);
        }
        assertTrue(h.runToCompletion(100_000));
        assertEquals(blocks, h.delivered.size());
        assertTrue(h.unavailable.isEmpty());
    }

    @Property(tries = 200)
    void peersThatReportFetchingEndEveryBlockOnceWithinAllLimitsAndTheWaitBound(
            @ForAll("configs") ExchangeConfig config, @ForAll long seed,
            @ForAll @IntRange(min = 1, max = 8) int peerCount, @ForAll @IntRange(min = 1, max = 30) int blocks) {
        // Only peers that say "fetching" (then answer honestly, or never): the harness checks after every tick that
        // no request outlives max(requestTimeout, maxFetchingWait).
        ExchangeHarness h = harness(config, seed, peerCount, blocks, 0.2,
                ExchangeHarness.Behaviour.FETCHING_THEN_HONEST, ExchangeHarness.Behaviour.FETCHING_FOREVER);
        for (int b = 0; b < blocks; b++) {
            h.want(b);
        }
        assertTrue(h.runToCompletion(200_000), "exchange stalled with " + h.exchange.pending() + " pending");
        Set<Integer> done = new HashSet<>(h.delivered);
        done.addAll(h.unavailable);
        assertEquals(blocks, done.size());
        assertEquals(0, h.exchange.inFlightToPeers());
        assertEquals(0, h.exchange.inFlightToOrigin());
    }

    @Property(tries = 100)
    void peersThatReportFetchingForeverCannotKeepABlockFromAReliableOrigin(@ForAll("configs") ExchangeConfig config,
            @ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int peerCount,
            @ForAll @IntRange(min = 1, max = 20) int blocks) {
        ExchangeHarness h = harness(config.withOriginMode(OriginMode.FALLBACK), seed, peerCount, blocks, 0.0,
                ExchangeHarness.Behaviour.FETCHING_FOREVER);
        for (int b = 0; b < blocks; b++) {
            h.want(b);
        }
        assertTrue(h.runToCompletion(200_000));
        assertEquals(blocks, h.delivered.size());
        assertTrue(h.delivered.stream().allMatch(b -> h.deliveredFrom.get(b) == BlockExchange.ORIGIN));
    }

    @Property(tries = 100)
    void blocksWaitingForASlotOfPeersThatKeepDeliveringAreNotHedgedToTheOrigin(@ForAll long seed,
            @ForAll @IntRange(min = 1, max = 4) int perPeer, @ForAll @IntRange(min = 1, max = 2) int peerCount,
            @ForAll @IntRange(min = 150, max = 250) int blocks) {
        // Honest peers that hold every block answer one request per harness step (at most 5 ms): with at most 8
        // requests out, a request waits for the 300 ms hedge with odds below 1e-7. Far more blocks are wanted than
        // may be asked at once, so the whole read lasts longer than the hedge but less than maxFetchingWait.
        ExchangeConfig config = new ExchangeConfig(perPeer, 32, 4, OriginMode.FALLBACK, 2_000_000_000L,
                300_000_000L, 2, 2, 60_000_000_000L, 3, 10_000_000L, 3, ExchangeConfig.DEFAULT_MAX_PEER_RECORDS,
                1_000_000_000L, 5_000_000_000L);
        ExchangeHarness.Behaviour[] behaviours = new ExchangeHarness.Behaviour[peerCount];
        boolean[][] has = new boolean[peerCount][blocks];
        for (int p = 0; p < peerCount; p++) {
            behaviours[p] = ExchangeHarness.Behaviour.HONEST;
            java.util.Arrays.fill(has[p], true);
        }
        ExchangeHarness h = new ExchangeHarness(config, seed, behaviours, has, 0.0);
        for (int b = 0; b < blocks; b++) {
            h.want(b);
            h.provide(b);
        }
        assertTrue(h.runToCompletion(100_000));
        assertEquals(blocks, h.delivered.size());
        assertEquals(0, h.originRequests, "blocks hedged to the origin");
    }
}
