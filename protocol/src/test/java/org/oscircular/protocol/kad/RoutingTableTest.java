package org.oscircular.protocol.kad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class RoutingTableTest {

    private static final KadConfig SMALL = KadConfig.DEFAULTS.withK(4);

    @Property(tries = 200)
    void invariantsHoldAfterAnySequenceOfEvents(@ForAll long seed, @ForAll @IntRange(min = 1, max = 600) int steps,
                                                @ForAll @IntRange(min = 1, max = 20) int k) {
        SplittableRandom random = new SplittableRandom(seed);
        KadConfig config = KadConfig.DEFAULTS.withK(k);
        SimPeer self = new SimPeer(-1, KadKey.random(random));
        RoutingTable<SimPeer> table = new RoutingTable<>(self.kadKey(), config);
        List<SimPeer> universe = new ArrayList<>();
        for (int i = 0; i < 80; i++) universe.add(new SimPeer(i, nearby(self.kadKey(), random)));
        long now = 0;
        for (int s = 0; s < steps; s++) {
            now += random.nextInt(1000);
            SimPeer p = universe.get(random.nextInt(universe.size()));
            switch (random.nextInt(4)) {
                case 0, 1 -> table.seen(p, now);
                case 2 -> table.failed(p, now);
                default -> table.remove(p);
            }
        }
        assertEquals(RoutingTable.Insert.SELF, table.seen(self, now));
        int total = 0;
        HashSet<SimPeer> all = new HashSet<>();
        for (int i = 0; i < table.bucketCount(); i++) {
            List<SimPeer> bucket = table.bucket(i);
            assertTrue(bucket.size() <= k, "bucket " + i + " holds more than k");
            for (SimPeer p : bucket) {
                assertEquals(i, self.kadKey().commonPrefixLength(p.kadKey()), "peer in the wrong bucket");
                assertTrue(all.add(p), "peer listed twice");
            }
            total += bucket.size();
        }
        assertEquals(total, table.size());
        KadKey target = KadKey.random(random);
        int n = random.nextInt(30) + 1;
        List<SimPeer> expected = all.stream().sorted((a, b) -> target.compareDistance(a.kadKey(), b.kadKey()))
                .limit(n).toList();
        assertEquals(expected, table.closest(target, n));
        List<SimPeer> selfClosest = all.stream()
                .sorted((a, b) -> self.kadKey().compareDistance(a.kadKey(), b.kadKey())).limit(n).toList();
        assertEquals(selfClosest, table.closest(self.kadKey(), n));
    }

    /** Keys sharing a random prefix length with {@code self}, so that deep buckets get used too. */
    private static KadKey nearby(KadKey self, SplittableRandom random) {
        return self.randomWithCommonPrefix(Math.min(255, random.nextInt(8)), random);
    }

    @Test
    void fullBucketCachesNewcomersAndPromotesTheNewestWhenAPeerIsEvicted() {
        SplittableRandom random = new SplittableRandom(7);
        KadKey self = KadKey.random(random);
        RoutingTable<SimPeer> table = new RoutingTable<>(self, SMALL);
        List<SimPeer> bucket0 = new ArrayList<>();
        for (int i = 0; i < 7; i++) bucket0.add(new SimPeer(i, self.randomWithCommonPrefix(0, random)));
        for (int i = 0; i < 4; i++) assertEquals(RoutingTable.Insert.ADDED, table.seen(bucket0.get(i), i));
        assertEquals(RoutingTable.Insert.CACHED, table.seen(bucket0.get(4), 10));
        assertEquals(RoutingTable.Insert.CACHED, table.seen(bucket0.get(5), 11));
        assertEquals(bucket0.get(0), table.leastRecentlySeen(bucket0.get(0).kadKey()));

        assertFalse(table.failed(bucket0.get(1), 20), "one failure must not evict (evictAfterFailures = 2)");
        assertTrue(table.failed(bucket0.get(1), 21));
        assertFalse(table.contains(bucket0.get(1)));
        assertTrue(table.contains(bucket0.get(5)), "the newest cached peer replaces the evicted one");
        assertEquals(4, table.size());
    }

    @Test
    void answeringClearsEarlierFailures() {
        SplittableRandom random = new SplittableRandom(8);
        KadKey self = KadKey.random(random);
        RoutingTable<SimPeer> table = new RoutingTable<>(self, SMALL);
        SimPeer p = new SimPeer(1, KadKey.random(random));
        table.seen(p, 0);
        assertFalse(table.failed(p, 1));
        assertEquals(RoutingTable.Insert.UPDATED, table.seen(p, 2));
        assertFalse(table.failed(p, 3));
        assertTrue(table.contains(p));
    }

    @Test
    void bucketsDueForRefreshFollowTheLastLookupInEachBucket() {
        SplittableRandom random = new SplittableRandom(9);
        KadKey self = KadKey.random(random);
        RoutingTable<SimPeer> table = new RoutingTable<>(self, KadConfig.DEFAULTS);
        long interval = KadConfig.DEFAULT_REFRESH_INTERVAL_MILLIS;
        table.seen(new SimPeer(1, self.randomWithCommonPrefix(0, random)), 0);
        table.seen(new SimPeer(2, self.randomWithCommonPrefix(2, random)), 0);
        // buckets 0..3 (one past the deepest non-empty bucket) are due at time "interval"
        assertArrayEquals(new int[] {}, table.bucketsDueForRefresh(interval - 1));
        assertArrayEquals(new int[] {0, 1, 2, 3}, table.bucketsDueForRefresh(interval));
        for (int b : new int[] {0, 1, 3}) {
            KadKey target = table.refreshTarget(b, random);
            assertEquals(b, table.bucketIndex(target));
            table.lookupCompleted(target, interval + 5);
        }
        assertArrayEquals(new int[] {2}, table.bucketsDueForRefresh(interval + 5));
        assertEquals(interval, table.nextRefreshAt());
        SimPeer stale = table.leastRecentlySeen(self.randomWithCommonPrefix(2, random));
        assertNotNull(stale);
    }
}
