package org.oscircular.protocol.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class AnnounceSchedulerTest {

    private static final KadConfig CONFIG = KadConfig.DEFAULTS.withQueryTimeoutMillis(1_000);

    private static List<KadKey> randomKeys(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<KadKey> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) keys.add(KadKey.random(random));
        return keys;
    }

    /** Every key must end up at each of its true k closest alive nodes: that is where GET_PROVIDERS looks. */
    private static void assertStoredAtTheKClosest(VirtualNetwork net, VirtualNetwork.Node origin, List<KadKey> keys,
                                                  int k) {
        for (KadKey key : keys) {
            for (SimPeer holder : net.trueClosestAlive(key, k, origin.peer)) {
                List<SimPeer> providers = net.node(holder.index()).server.store().providers(key, net.now());
                assertEquals(List.of(origin.peer), providers, "record for " + key + " missing at " + holder);
            }
        }
    }

    @Test
    void regionSweepStoresEveryKeyAtItsTrueKClosestWithFarFewerMessagesThanPerKeyLookups() {
        List<KadKey> keys = randomKeys(2_000, 1);
        VirtualNetwork sweepNet = VirtualNetwork.wellConnected(1000, 0, CONFIG, 5);
        VirtualNetwork.Node origin = sweepNet.node(0);
        AnnounceReport sweep = sweepNet.runAnnounce(origin, new AnnounceScheduler<>(origin.table(), CONFIG,
                AnnounceScheduler.Options.sweep(), keys, 0));
        assertStoredAtTheKClosest(sweepNet, origin, keys, CONFIG.k());

        VirtualNetwork perKeyNet = VirtualNetwork.wellConnected(1000, 0, CONFIG, 5);
        VirtualNetwork.Node origin2 = perKeyNet.node(0);
        AnnounceReport perKey = perKeyNet.runAnnounce(origin2, new AnnounceScheduler<>(origin2.table(), CONFIG,
                AnnounceScheduler.Options.perKey(), keys, 0));
        assertStoredAtTheKClosest(perKeyNet, origin2, keys, CONFIG.k());

        assertEquals(2_000, perKey.lookups());
        assertEquals(2_000L * CONFIG.k(), perKey.addProviderMessages());
        assertEquals(perKey.providerRecords(), sweep.providerRecords(), "same records, fewer messages");
        // 2000 keys among 1000 nodes: most keys share their k closest with a key looked up before
        assertTrue(sweep.lookups() * 3 < perKey.lookups(), "sweep " + sweep + " vs per key " + perKey);
        assertTrue(sweep.rpcs() * 5 < perKey.rpcs(), "sweep " + sweep + " vs per key " + perKey);
        assertTrue(sweep.addProviderMessages() <= 1000, "one message per peer: " + sweep);
    }

    @Property(tries = 3)
    void regionSweepReachesEveryTrueClosestAliveNodeWhen20PercentAreDead(@ForAll long seed) {
        VirtualNetwork net = VirtualNetwork.wellConnected(1000, 0.20, CONFIG, seed);
        net.refreshAllBuckets();
        VirtualNetwork.Node origin = net.randomAliveNode();
        List<KadKey> keys = randomKeys(500, seed);
        AnnounceReport report = net.runAnnounce(origin, new AnnounceScheduler<>(origin.table(), CONFIG,
                AnnounceScheduler.Options.sweep(), keys, 0));
        assertStoredAtTheKClosest(net, origin, keys, CONFIG.k());
        assertEquals(500L * CONFIG.k(), report.providerRecords());
    }

    @Property(tries = 30)
    void everyKeyIsAnnouncedOnceToKPeersWhateverTheNetworkSize(@ForAll @IntRange(min = 1, max = 120) int size,
                                                                 @ForAll @IntRange(min = 1, max = 300) int keyCount,
                                                                 @ForAll @IntRange(min = 1, max = 8) int lanes,
                                                                 @ForAll @IntRange(min = 1, max = 50) int perMessage,
                                                                 @ForAll long seed) {
        KadConfig config = CONFIG.withK(8);
        VirtualNetwork net = VirtualNetwork.wellConnected(size, 0, config, seed);
        VirtualNetwork.Node origin = net.node(0);
        List<KadKey> keys = randomKeys(keyCount, seed);
        var options = new AnnounceScheduler.Options(AnnounceScheduler.Strategy.REGION_SWEEP, lanes, perMessage);
        AnnounceReport report = net.runAnnounce(origin, new AnnounceScheduler<>(origin.table(), config, options,
                keys, 0));
        assertEquals(keyCount, report.keys());
        assertEquals((long) keyCount * Math.min(config.k(), size - 1), report.providerRecords());
        assertStoredAtTheKClosest(net, origin, keys, config.k());
        assertTrue(report.lookups() <= keyCount);
    }

    @Test
    void singleKeyMessagesWhenBatchingIsOff() {
        KadConfig config = CONFIG.withK(4);
        VirtualNetwork net = VirtualNetwork.wellConnected(50, 0, config, 3);
        VirtualNetwork.Node origin = net.node(0);
        var options = new AnnounceScheduler.Options(AnnounceScheduler.Strategy.REGION_SWEEP, 2, 1);
        var scheduler = new AnnounceScheduler<>(origin.table(), config, options, randomKeys(40, 3), 0);
        AnnounceReport report = net.runAnnounce(origin, scheduler);
        assertEquals(report.providerRecords(), report.addProviderMessages());
        assertTrue(scheduler.isFinished());
    }

    @Test
    void anEmptyRoutingTableFinishesAtOnceWithNothingSent() {
        RoutingTable<SimPeer> table = new RoutingTable<>(KadKey.ZERO, CONFIG);
        var scheduler = new AnnounceScheduler<>(table, CONFIG, AnnounceScheduler.Options.sweep(),
                randomKeys(10, 1), 0);
        List<AnnounceAction<SimPeer>> actions = scheduler.start(7);
        assertEquals(1, actions.size());
        AnnounceReport report = ((AnnounceAction.Finished<SimPeer>) actions.getFirst()).report();
        assertEquals(0, report.rpcs());
        assertEquals(10, report.keys());
    }
}
