package org.oscircular.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.kad.KadKey;
import org.oscircular.protocol.kad.Lookup;
import org.oscircular.protocol.kad.LookupResult;

class KadOverlayTest {

    private record Stats(double meanHops, double converged) {}

    private static Stats lookups(int n, int lookups, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        KadOverlay dht = KadOverlay.build(IntStream.range(0, n).toArray(), n, KadConfig.DEFAULTS, random);
        double hops = 0;
        int converged = 0;
        for (int i = 0; i < lookups; i++) {
            KadKey target = KadKey.random(random);
            int from = random.nextInt(n);
            LookupResult<KadOverlay.Node> r = dht.lookupNow(Lookup.Kind.FIND_NODE, target, dht.node(from).kadKey(),
                    dht.seeds(from, target), 0);
            hops += r.hops();
            var truth = dht.trueClosest(target, 21).stream().filter(p -> !p.equals(dht.node(from))).limit(20).toList();
            if (r.closest().equals(truth)) {
                converged++;
            }
        }
        return new Stats(hops / lookups, (double) converged / lookups);
    }

    @Test
    void lookupHopsGrowLogarithmicallyWithTheNumberOfNodes() {
        Stats small = lookups(100, 200, 1);
        Stats medium = lookups(1_000, 200, 2);
        Stats large = lookups(10_000, 200, 3);
        // each tenfold growth adds about the same number of hops (log growth), far fewer than log2(N)
        double step1 = medium.meanHops() - small.meanHops();
        double step2 = large.meanHops() - medium.meanHops();
        assertTrue(step1 > 0.2 && step2 > 0.2, "hops " + small + " " + medium + " " + large);
        assertTrue(Math.abs(step2 - step1) < 0.75, "hops " + small + " " + medium + " " + large);
        assertTrue(large.meanHops() < Math.log(10_000) / Math.log(2) / 2, "hops " + large);
    }

    @Test
    void lookupsConvergeToTheTrueClosestNodes() {
        Stats s = lookups(2_000, 200, 4);
        assertTrue(s.converged() >= 0.95, "converged " + s.converged());
    }

    @Test
    void providersAnnouncedAtTheClosestNodesAreFoundFromAnywhere() {
        SplittableRandom random = new SplittableRandom(5);
        KadOverlay dht = KadOverlay.build(IntStream.range(0, 500).toArray(), 500, KadConfig.DEFAULTS, random);
        KadKey key = KadKey.random(random);
        KadOverlay.Node provider = dht.node(7);
        dht.announce(key, provider, null, 7, 0);
        for (int from = 0; from < 500; from += 37) {
            LookupResult<KadOverlay.Node> r = dht.lookupNow(Lookup.Kind.GET_PROVIDERS, key, null,
                    dht.seeds(from, key), 0);
            assertEquals(java.util.List.of(provider), r.providers(), "from " + from);
        }
    }
}
