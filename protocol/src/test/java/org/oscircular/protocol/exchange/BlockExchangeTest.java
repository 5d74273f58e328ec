package org.oscircular.protocol.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
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
}
