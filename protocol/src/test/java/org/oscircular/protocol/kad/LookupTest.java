package org.oscircular.protocol.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class LookupTest {

    @Property(tries = 60)
    void lookupsAlwaysTerminate(@ForAll @IntRange(min = 1, max = 300) int size,
                                @ForAll @DoubleRange(min = 0, max = 1) double deadFraction,
                                @ForAll @IntRange(min = 1, max = 20) int k, @ForAll @IntRange(min = 1, max = 10) int alpha,
                                @ForAll long seed, @ForAll boolean providers) {
        KadConfig config = KadConfig.DEFAULTS.withK(k).withAlpha(alpha).withQueryTimeoutMillis(500);
        VirtualNetwork net = VirtualNetwork.wellConnected(size, 0, config, seed);
        VirtualNetwork.Node origin = net.node(0);
        net.kill(deadFraction);
        origin.alive = true;
        KadKey target = KadKey.random(net.random());
        Lookup<SimPeer> lookup = providers
                ? Lookup.getProviders(net.nextLookupId(), target, origin.table(), config, 1)
                : Lookup.findNode(net.nextLookupId(), target, origin.table(), config);
        LookupResult<SimPeer> r = net.runLookup(origin, lookup);
        assertTrue(lookup.isDone());
        assertTrue(r.rpcs() <= size - 1, "never asks a peer twice: " + r.rpcs() + " rpcs among " + size);
        assertTrue(r.closest().size() <= k);
        // a bounded amount of virtual time: every query either answers within 100 ms or times out after 500 ms
        assertTrue(r.elapsedMillis() <= (long) r.rpcs() * 500 + 500, "took " + r.elapsedMillis() + " ms");
    }

    @Property(tries = 3)
    void findsTheClosestNodeAndMostOfTheKClosestAmong1000NodesWith20PercentJustDied(@ForAll long seed) {
        KadConfig config = KadConfig.DEFAULTS.withQueryTimeoutMillis(1_000);
        VirtualNetwork net = VirtualNetwork.wellConnected(1000, 0.20, config, seed);
        int lookups = 40;
        int found = 0;
        for (int i = 0; i < lookups; i++) {
            VirtualNetwork.Node origin = net.randomAliveNode();
            KadKey target = KadKey.random(net.random());
            LookupResult<SimPeer> r = net.runLookup(origin,
                    Lookup.findNode(net.nextLookupId(), target, origin.table(), config));
            List<SimPeer> truth = net.trueClosestAlive(target, config.k(), origin.peer);
            assertEquals(truth.subList(0, 10), r.closest().subList(0, 10), "the 10 closest alive are always found");
            found += (int) truth.stream().filter(r.closest()::contains).count();
        }
        // dead nodes still fill 20% of every bucket, so the far end of the 20 closest can be missed until refresh
        assertTrue(found >= lookups * config.k() * 0.9, "recall " + found + " of " + lookups * config.k());
    }

    @Property(tries = 2)
    void convergesToTheTrueKClosestAmong1000NodesWith20PercentDeadAfterARefresh(@ForAll long seed) {
        KadConfig config = KadConfig.DEFAULTS.withQueryTimeoutMillis(1_000);
        VirtualNetwork net = VirtualNetwork.wellConnected(1000, 0.20, config, seed);
        net.refreshAllBuckets();
        List<Integer> hops = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            VirtualNetwork.Node origin = net.randomAliveNode();
            KadKey target = KadKey.random(net.random());
            LookupResult<SimPeer> r = net.runLookup(origin,
                    Lookup.findNode(net.nextLookupId(), target, origin.table(), config));
            assertEquals(net.trueClosestAlive(target, config.k(), origin.peer), r.closest());
            hops.add(r.hops());
        }
        hops.sort(null);
        assertTrue(hops.get(hops.size() / 2) <= 3, "median hops " + hops);
    }

    @Test
    void providerLookupStopsAsSoonAsEnoughProvidersAnswered() {
        KadConfig config = KadConfig.DEFAULTS.withQueryTimeoutMillis(1_000);
        VirtualNetwork net = VirtualNetwork.wellConnected(300, 0, config, 42);
        KadKey key = KadKey.random(net.random());
        VirtualNetwork.Node provider = net.node(1);
        for (SimPeer holder : net.trueClosestAlive(key, config.k(), null)) {
            net.node(holder.index()).server.store().add(key, provider.peer, net.now());
        }
        VirtualNetwork.Node origin = net.node(2);
        LookupResult<SimPeer> full = net.runLookup(origin,
                Lookup.findNode(net.nextLookupId(), key, origin.table(), config));
        LookupResult<SimPeer> early = net.runLookup(origin,
                Lookup.getProviders(net.nextLookupId(), key, origin.table(), config, 1));
        assertEquals(List.of(provider.peer), early.providers());
        assertTrue(early.rpcs() < full.rpcs(), "early stop: " + early.rpcs() + " vs " + full.rpcs() + " rpcs");
    }

    @Test
    void unansweredQueriesTimeOutAndCountAgainstThePeer() {
        KadConfig config = KadConfig.DEFAULTS.withK(3).withAlpha(2).withQueryTimeoutMillis(200);
        SplittableRandom random = new SplittableRandom(3);
        SimPeer self = new SimPeer(0, KadKey.random(random));
        SimPeer a = new SimPeer(1, KadKey.random(random));
        SimPeer b = new SimPeer(2, KadKey.random(random));
        Lookup<SimPeer> lookup = new Lookup<>(9, Lookup.Kind.FIND_NODE, KadKey.random(random), self.kadKey(),
                List.of(a, b), 3, config, 0);
        List<LookupAction<SimPeer>> first = lookup.start(1_000);
        assertEquals(3, first.size(), "two queries and one timer: " + first);
        assertEquals(new LookupAction.ArmTimer<>(lookup, 1_200), first.get(2));
        assertEquals(List.of(), lookup.onTimer(1_199).stream().filter(x -> !(x instanceof LookupAction.ArmTimer))
                .toList());
        List<LookupAction<SimPeer>> answered = lookup.onResponse(a, List.of(self), List.of(), 1_150);
        assertEquals(List.of(), answered, "our own key is never a candidate, b is still pending");
        List<LookupAction<SimPeer>> timedOut = lookup.onTimer(1_200);
        assertEquals(new LookupAction.Unresponsive<>(lookup, b), timedOut.get(0));
        LookupAction.Done<SimPeer> done = (LookupAction.Done<SimPeer>) timedOut.get(1);
        assertEquals(List.of(a), done.result().closest());
        assertEquals(2, done.result().rpcs());
        assertEquals(1, done.result().failures());
        assertEquals(1, done.result().hops());
        assertEquals(200, done.result().elapsedMillis());
        assertEquals(List.of(), lookup.onResponse(b, List.of(), List.of(), 1_300), "finished lookups stay quiet");
    }

    @Test
    void aLookupWithNoOneToAskFinishesAtOnce() {
        Lookup<SimPeer> lookup = new Lookup<>(1, Lookup.Kind.GET_PROVIDERS, KadKey.ZERO, null, List.of(), 20,
                KadConfig.DEFAULTS, 1);
        List<LookupAction<SimPeer>> actions = lookup.start(5);
        assertEquals(1, actions.size());
        LookupResult<SimPeer> r = ((LookupAction.Done<SimPeer>) actions.getFirst()).result();
        assertEquals(0, r.rpcs());
        assertTrue(r.closest().isEmpty() && r.providers().isEmpty());
    }
}
