package org.oscircular.protocol.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BlockExchangeTest {
    private static final long MS = 1_000_000L;
    private static final long ORIGIN = BlockExchange.ORIGIN;

    private final List<ExchangeAction> actions = new ArrayList<>();

    private List<ExchangeAction> handle(BlockExchange ex, ExchangeEvent event, long now) {
        actions.clear();
        ex.handle(event, now, actions::add);
        return List.copyOf(actions);
    }

    private static BlockExchange exchange(ExchangeConfig config) {
        return new BlockExchange(config, new SplittableRandom(1));
    }

    @Test
    void asksLanPeersBeforeSeedsAndSeedsBeforeRemotePeers() {
        BlockExchange ex = exchange(ExchangeConfig.defaults());
        assertEquals(List.of(new ExchangeAction.FindProviders(7)), handle(ex, new ExchangeEvent.Want(7), 0));
        var found = new ExchangeEvent.ProvidersFound(7, List.of(new Provider(3, SourceTier.REMOTE, 1),
                new Provider(2, SourceTier.SEED, 1), new Provider(1, SourceTier.LAN, 9 * MS)));
        assertEquals(List.of(new ExchangeAction.Request(1, 7)), handle(ex, found, 1));
        assertEquals(List.of(new ExchangeAction.Request(2, 7)), handle(ex, new ExchangeEvent.DontHave(1, 7), 2));
        assertEquals(List.of(new ExchangeAction.Request(3, 7)), handle(ex, new ExchangeEvent.DontHave(2, 7), 3));
    }

    @Test
    void fallsBackToTheOriginWhenTheLookupFindsNobody() {
        BlockExchange ex = exchange(ExchangeConfig.defaults());
        handle(ex, new ExchangeEvent.Want(0), 0);
        assertEquals(List.of(new ExchangeAction.RequestOrigin(0)),
                handle(ex, new ExchangeEvent.LookupFinished(0), MS));
        assertEquals(List.of(new ExchangeAction.Deliver(0, ORIGIN)),
                handle(ex, new ExchangeEvent.BlockReceived(ORIGIN, 0, true), 2 * MS));
        assertEquals(0, ex.pending());
    }

    @Test
    void hedgesASlowPeerBlockToTheOriginAndCancelsTheLoser() {
        ExchangeConfig config = ExchangeConfig.defaults();
        BlockExchange ex = exchange(config);
        handle(ex, new ExchangeEvent.Want(5), 0);
        handle(ex, new ExchangeEvent.ProvidersFound(5, List.of(new Provider(1, SourceTier.LAN, MS))), 0);
        assertEquals(config.originHedgeDelay(), ex.nextDeadline());
        assertEquals(List.of(new ExchangeAction.RequestOrigin(5)),
                handle(ex, new ExchangeEvent.Tick(), config.originHedgeDelay()));
        assertEquals(List.of(new ExchangeAction.Cancel(1, 5), new ExchangeAction.Deliver(5, ORIGIN)),
                handle(ex, new ExchangeEvent.BlockReceived(ORIGIN, 5, true), config.originHedgeDelay() + MS));
    }

    @Test
    void neverAsksTheOriginInNeverModeAndReportsTheBlockUnavailable() {
        ExchangeConfig config = ExchangeConfig.defaults().withOriginMode(OriginMode.NEVER);
        BlockExchange ex = exchange(config);
        List<ExchangeAction> all = new ArrayList<>(handle(ex, new ExchangeEvent.Want(1), 0));
        long now = 0;
        for (int i = 0; i < config.maxLookups(); i++) {
            all.addAll(handle(ex, new ExchangeEvent.LookupFinished(1), now));
            now = ex.nextDeadline();
            all.addAll(handle(ex, new ExchangeEvent.Tick(), now));
        }
        assertTrue(all.stream().noneMatch(a -> a instanceof ExchangeAction.RequestOrigin), all.toString());
        assertEquals(new ExchangeAction.Unavailable(1), all.getLast());
        assertEquals(config.maxLookups(), all.stream().filter(a -> a instanceof ExchangeAction.FindProviders).count());
    }

    @Test
    void capsConcurrentOriginRequestsSeparatelyFromPeers() {
        ExchangeConfig config = ExchangeConfig.defaults();
        BlockExchange ex = exchange(config);
        int origin = 0;
        for (int b = 0; b < 10; b++) {
            handle(ex, new ExchangeEvent.Want(b), 0);
            origin += (int) handle(ex, new ExchangeEvent.LookupFinished(b), 0).stream()
                    .filter(a -> a instanceof ExchangeAction.RequestOrigin).count();
        }
        assertEquals(config.maxInFlightOrigin(), origin);
        assertEquals(List.of(new ExchangeAction.Deliver(0, ORIGIN), new ExchangeAction.RequestOrigin(4)),
                handle(ex, new ExchangeEvent.BlockReceived(ORIGIN, 0, true), MS));
    }

    @Test
    void disconnectsAPeerForABadBlockBansItOnRepeatAndRefetchesElsewhere() {
        BlockExchange ex = exchange(ExchangeConfig.defaults());
        List<Provider> providers = List.of(new Provider(1, SourceTier.LAN, 1), new Provider(2, SourceTier.SEED, 1));
        handle(ex, new ExchangeEvent.Want(0), 0);
        handle(ex, new ExchangeEvent.Want(1), 0);
        assertEquals(List.of(new ExchangeAction.Request(1, 0)),
                handle(ex, new ExchangeEvent.ProvidersFound(0, providers), 0));
        assertEquals(List.of(new ExchangeAction.Request(1, 1)),
                handle(ex, new ExchangeEvent.ProvidersFound(1, providers), 0));
        assertEquals(List.of(new ExchangeAction.Disconnect(1, false), new ExchangeAction.Request(2, 0),
                        new ExchangeAction.Request(2, 1)),
                handle(ex, new ExchangeEvent.BlockReceived(1, 0, false), MS));
        handle(ex, new ExchangeEvent.Want(2), 2 * MS);
        assertEquals(List.of(new ExchangeAction.Request(1, 2)),
                handle(ex, new ExchangeEvent.ProvidersFound(2, providers), 2 * MS));
        assertEquals(List.of(new ExchangeAction.Disconnect(1, true), new ExchangeAction.Request(2, 2)),
                handle(ex, new ExchangeEvent.BlockReceived(1, 2, false), 3 * MS));
        assertTrue(ex.isBanned(1, 4 * MS));
    }

    @Test
    void dropsAPeerAfterConsecutiveTimeouts() {
        ExchangeConfig config = ExchangeConfig.defaults();
        BlockExchange ex = exchange(config);
        List<Provider> providers = List.of(new Provider(9, SourceTier.LAN, 1));
        List<ExchangeAction> all = new ArrayList<>();
        for (int b = 0; b < config.timeoutsBeforeDrop(); b++) {
            handle(ex, new ExchangeEvent.Want(b), 0);
            all.addAll(handle(ex, new ExchangeEvent.ProvidersFound(b, providers), 0));
        }
        all.addAll(handle(ex, new ExchangeEvent.Tick(), config.requestTimeout()));
        assertTrue(all.contains(new ExchangeAction.Disconnect(9, false)), all.toString());
        assertEquals(0, ex.inFlightToPeers());
    }

    /** The node's timers: request timeout 5 s, hedge 8 s, notices every 2.5 s, at most {@code maxWait}. */
    private static ExchangeConfig labTimers(long maxWait) {
        return new ExchangeConfig(4, 32, 4, OriginMode.FALLBACK, 5000 * MS, 8000 * MS, 3, 2, 600_000 * MS, 3,
                1000 * MS, 3, ExchangeConfig.DEFAULT_MAX_PEER_RECORDS, 2500 * MS, maxWait);
    }

    @Test
    void aPeerReportingFetchingKeepsItsRequestAndHoldsOffTheOriginHedge() {
        BlockExchange ex = exchange(labTimers(60_000 * MS));
        handle(ex, new ExchangeEvent.Want(0), 0);
        assertEquals(List.of(new ExchangeAction.Request(1, 0)),
                handle(ex, new ExchangeEvent.ProvidersFound(0, List.of(new Provider(1, SourceTier.LAN, MS))), 0));
        List<ExchangeAction> all = new ArrayList<>();
        for (long t = 2500 * MS; t <= 20_000 * MS; t += 2500 * MS) {
            all.addAll(handle(ex, new ExchangeEvent.PeerFetching(1, 0), t));
            assertEquals(t + 5000 * MS, ex.nextDeadline(), "the request timeout restarts at each notice");
            all.addAll(handle(ex, new ExchangeEvent.Tick(), t + 2000 * MS));
        }
        assertEquals(List.of(), all, "no timeout, no hedge while the peer reports progress");
        assertEquals(List.of(new ExchangeAction.Deliver(0, 1)),
                handle(ex, new ExchangeEvent.BlockReceived(1, 0, true), 21_000 * MS));
        assertTrue(ex.forgettable(21_000 * MS), "notices left no timeout on the peer's record");
    }

    @Test
    void aPeerStillFetchingAfterTheMaximumWaitIsTimedOutAndTheOriginAsked() {
        BlockExchange ex = exchange(labTimers(12_000 * MS));
        handle(ex, new ExchangeEvent.Want(0), 0);
        handle(ex, new ExchangeEvent.ProvidersFound(0, List.of(new Provider(1, SourceTier.LAN, MS))), 0);
        handle(ex, new ExchangeEvent.LookupFinished(0), 0);
        for (long t = 2500 * MS; t <= 10_000 * MS; t += 2500 * MS) {
            handle(ex, new ExchangeEvent.PeerFetching(1, 0), t);
        }
        assertEquals(12_000 * MS, ex.nextDeadline(), "the last notice extends the request only up to the bound");
        assertEquals(List.of(), handle(ex, new ExchangeEvent.PeerFetching(1, 0), 12_000 * MS - 1));
        assertEquals(12_000 * MS, ex.nextDeadline(), "a notice at the bound extends nothing");
        List<ExchangeAction> expired = handle(ex, new ExchangeEvent.Tick(), 12_000 * MS);
        assertTrue(expired.contains(new ExchangeAction.Cancel(1, 0)), expired.toString());
        assertTrue(expired.contains(new ExchangeAction.RequestOrigin(0)), expired.toString());
        assertTrue(!ex.forgettable(12_000 * MS), "the timeout is on the peer's record");
    }

    @Test
    void ignoresFetchingNoticesFromAPeerThatDoesNotCarryTheRequest() {
        BlockExchange ex = exchange(labTimers(60_000 * MS));
        handle(ex, new ExchangeEvent.Want(0), 0);
        handle(ex, new ExchangeEvent.ProvidersFound(0, List.of(new Provider(1, SourceTier.LAN, MS))), 0);
        handle(ex, new ExchangeEvent.PeerFetching(2, 0), 4000 * MS);
        handle(ex, new ExchangeEvent.PeerFetching(1, 9), 4000 * MS);
        assertEquals(5000 * MS, ex.nextDeadline());
    }

    @Test
    void forgetsIdlePeersBeyondTheBoundButNeverABannedOne() {
        ExchangeConfig config = ExchangeConfig.defaults().withMaxPeerRecords(8);
        BlockExchange ex = exchange(config);
        // Peer 1 sends two bad blocks and is banned.
        for (int b = 0; b < config.badBlocksBeforeBan(); b++) {
            handle(ex, new ExchangeEvent.Want(b), 0);
            handle(ex, new ExchangeEvent.ProvidersFound(b, List.of(new Provider(1, SourceTier.LAN, 1))), 0);
            handle(ex, new ExchangeEvent.BlockReceived(1, b, false), MS);
        }
        assertTrue(ex.isBanned(1, 2 * MS));
        // A thousand other peers each serve one block: the table stays within the bound.
        long now = 2 * MS;
        for (int b = 100; b < 1100; b++) {
            handle(ex, new ExchangeEvent.Want(b), now);
            handle(ex, new ExchangeEvent.ProvidersFound(b, List.of(new Provider(b, SourceTier.LAN, 1))), now);
            assertEquals(List.of(new ExchangeAction.Deliver(b, b)),
                    handle(ex, new ExchangeEvent.BlockReceived(b, b, true), now + 1));
            now += 2;
            assertTrue(ex.knownPeers() <= config.maxPeerRecords(), "records: " + ex.knownPeers());
        }
        // The banned peer was never forgotten: it is still banned and not asked.
        assertTrue(ex.isBanned(1, now));
        handle(ex, new ExchangeEvent.Want(5000), now);
        assertEquals(List.of(new ExchangeAction.Request(7, 5000)), handle(ex, new ExchangeEvent.ProvidersFound(5000,
                List.of(new Provider(1, SourceTier.LAN, 1), new Provider(7, SourceTier.SEED, 1))), now));
    }

    @Test
    void keepsEveryRecordWhileTheBoundIsNotReached() {
        BlockExchange ex = exchange(ExchangeConfig.defaults());
        for (int b = 0; b < 200; b++) {
            handle(ex, new ExchangeEvent.Want(b), b);
            handle(ex, new ExchangeEvent.ProvidersFound(b, List.of(new Provider(b + 10, SourceTier.LAN, 1))), b);
            handle(ex, new ExchangeEvent.BlockReceived(b + 10, b, true), b);
        }
        assertEquals(200, ex.knownPeers());
    }

    @Test
    void neverForgetsAPeerThatAWantedBlockStillNames() {
        BlockExchange ex = exchange(ExchangeConfig.defaults().withMaxPeerRecords(4));
        List<Provider> many = new ArrayList<>();
        for (int p = 10; p < 30; p++) {
            many.add(new Provider(p, SourceTier.REMOTE, p));
        }
        handle(ex, new ExchangeEvent.Want(0), 0);
        assertEquals(List.of(new ExchangeAction.Request(10, 0)),
                handle(ex, new ExchangeEvent.ProvidersFound(0, many), 0));
        assertEquals(20, ex.knownPeers());
        // Each peer in turn says it does not have the block; the next by RTT is asked, none was forgotten.
        for (int p = 10; p < 29; p++) {
            assertEquals(List.of(new ExchangeAction.Request(p + 1, 0)),
                    handle(ex, new ExchangeEvent.DontHave(p, 0), p));
        }
        handle(ex, new ExchangeEvent.BlockReceived(29, 0, true), 100);
        handle(ex, new ExchangeEvent.Want(1), 101);
        handle(ex, new ExchangeEvent.ProvidersFound(1, List.of(new Provider(99, SourceTier.LAN, 1))), 101);
        assertTrue(ex.knownPeers() <= 4, "records: " + ex.knownPeers());
    }

    @Test
    void isForgettableOnlyWhenIdleWithNothingButGoodBlocksOnRecord() {
        BlockExchange ex = exchange(ExchangeConfig.defaults());
        assertTrue(ex.forgettable(0));
        handle(ex, new ExchangeEvent.Want(0), 0);
        assertTrue(!ex.forgettable(0), "a block is wanted");
        handle(ex, new ExchangeEvent.ProvidersFound(0, List.of(new Provider(1, SourceTier.LAN, 1))), 0);
        handle(ex, new ExchangeEvent.BlockReceived(1, 0, true), MS);
        assertTrue(ex.forgettable(MS), "only a good block on record");
        handle(ex, new ExchangeEvent.Want(1), 2 * MS);
        handle(ex, new ExchangeEvent.ProvidersFound(1, List.of(new Provider(2, SourceTier.LAN, 1))), 2 * MS);
        handle(ex, new ExchangeEvent.BlockReceived(2, 1, false), 3 * MS);
        handle(ex, new ExchangeEvent.BlockReceived(ORIGIN, 1, true), 4 * MS);
        assertEquals(0, ex.pending());
        assertTrue(!ex.forgettable(5 * MS), "peer 2 sent a bad block");
    }

    /**
     * Nine blocks wanted at once from one LAN peer that holds none of them yet and loads them through: it answers
     * its oldest request every {@code deliverEvery} and sends a fetching notice for each request every 2.5 s after
     * it was sent, both only before {@code stopAt}. The origin answers 100 ms after it is asked. Returns, by block,
     * when the origin was asked; {@code delivered} gets each block's source.
     */
    private Map<Integer, Long> readFromABusyPeer(BlockExchange ex, long deliverEvery, long stopAt, long until,
            Map<Integer, Long> delivered) {
        Map<Integer, Long> asked = new LinkedHashMap<>();
        Map<Integer, Long> outstanding = new LinkedHashMap<>();
        Map<Integer, Long> origin = new LinkedHashMap<>();
        java.util.function.BiConsumer<ExchangeEvent, Long> step = (event, t) -> {
            for (ExchangeAction a : handle(ex, event, t)) {
                switch (a) {
                    case ExchangeAction.Request r -> outstanding.put(r.block(), t);
                    case ExchangeAction.Cancel c when c.source() == 1 -> outstanding.remove(c.block());
                    case ExchangeAction.Cancel c -> origin.remove(c.block());
                    case ExchangeAction.RequestOrigin o -> {
                        asked.put(o.block(), t);
                        origin.put(o.block(), t + 100 * MS);
                    }
                    case ExchangeAction.Deliver d -> delivered.put(d.block(), d.source());
                    case ExchangeAction.Disconnect d -> outstanding.clear();
                    default -> { }
                }
            }
        };
        for (int b = 0; b < 9; b++) {
            step.accept(new ExchangeEvent.Want(b), 0L);
            step.accept(new ExchangeEvent.ProvidersFound(b, List.of(new Provider(1, SourceTier.LAN, MS))), 0L);
            step.accept(new ExchangeEvent.LookupFinished(b), 0L);
        }
        for (long t = 100 * MS; t <= until; t += 100 * MS) {
            long now = t;
            for (var e : List.copyOf(origin.entrySet())) {
                if (e.getValue() <= now) {
                    origin.remove(e.getKey());
                    step.accept(new ExchangeEvent.BlockReceived(ORIGIN, e.getKey(), true), now);
                }
            }
            if (now < stopAt) {
                for (var e : List.copyOf(outstanding.entrySet())) {
                    if (now > e.getValue() && (now - e.getValue()) % (2500 * MS) == 0) {
                        step.accept(new ExchangeEvent.PeerFetching(1, e.getKey()), now);
                    }
                }
                if (now % deliverEvery == 0 && !outstanding.isEmpty()) {
                    int oldest = outstanding.keySet().iterator().next();
                    outstanding.remove(oldest);
                    step.accept(new ExchangeEvent.BlockReceived(1, oldest, true), now);
                }
            }
            if (now >= ex.nextDeadline()) {
                step.accept(new ExchangeEvent.Tick(), now);
            }
        }
        return asked;
    }

    @Test
    void aBlockWaitingForASlotOfAPeerThatMakesProgressIsNotHedgedToTheOrigin() {
        // The peer loads a block every 2 s: blocks 4 to 8 wait for one of its four slots past the 8 s hedge.
        BlockExchange ex = exchange(labTimers(60_000 * MS));
        Map<Integer, Long> delivered = new LinkedHashMap<>();
        Map<Integer, Long> asked = readFromABusyPeer(ex, 2000 * MS, Long.MAX_VALUE, 30_000 * MS, delivered);
        assertEquals(Map.of(), asked, "blocks hedged to the origin");
        assertEquals(9, delivered.size());
        assertTrue(delivered.values().stream().allMatch(source -> source == 1), delivered.toString());
    }

    @Test
    void aBlockHeldForABusyPeerIsHedgedAtTheLatestTheMaximumWaitAfterItWasWanted() {
        // A block every 4 s: block 8, wanted at 0, is asked from the peer only at 20 s, the maximum wait.
        BlockExchange ex = exchange(labTimers(20_000 * MS));
        Map<Integer, Long> delivered = new LinkedHashMap<>();
        Map<Integer, Long> asked = readFromABusyPeer(ex, 4000 * MS, Long.MAX_VALUE, 40_000 * MS, delivered);
        assertEquals(Map.of(8, 20_000 * MS), asked);
        assertEquals(9, delivered.size());
        assertEquals(ORIGIN, delivered.get(8));
    }

    @Test
    void aBusyPeerThatStopsMakingProgressNoLongerHoldsBlocksFromTheOrigin() {
        // The peer loads blocks 0 and 1, then falls silent at 6 s: its last notice (5 s) keeps its requests alive
        // until 10 s, when three of them time out and it is dropped; every block left then goes to the origin.
        BlockExchange ex = exchange(labTimers(60_000 * MS));
        Map<Integer, Long> delivered = new LinkedHashMap<>();
        Map<Integer, Long> asked = readFromABusyPeer(ex, 2000 * MS, 6000 * MS, 30_000 * MS, delivered);
        assertEquals(9, delivered.size());
        assertEquals(10_000 * MS, asked.values().stream().mapToLong(Long::longValue).min().orElseThrow(),
                "first origin request " + asked);
        assertEquals(7, asked.size(), asked.toString());
    }
}
