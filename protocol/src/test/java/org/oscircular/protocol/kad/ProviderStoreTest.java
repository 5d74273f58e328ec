package org.oscircular.protocol.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ProviderStoreTest {

    private static final long HOUR = 3_600_000L;

    @Test
    void recordsExpireAfter48HoursUnlessRepublished() {
        ProviderStore<SimPeer> store = new ProviderStore<>(KadConfig.DEFAULTS);
        SplittableRandom random = new SplittableRandom(1);
        KadKey key = KadKey.random(random);
        SimPeer a = new SimPeer(1, KadKey.random(random));
        SimPeer b = new SimPeer(2, KadKey.random(random));
        assertEquals(ProviderStore.AddResult.ADDED, store.add(key, a, 0));
        assertEquals(ProviderStore.AddResult.ADDED, store.add(key, b, 0));
        // a republishes after 22 h, b does not
        assertEquals(ProviderStore.AddResult.REFRESHED, store.add(key, a, 22 * HOUR));
        assertEquals(List.of(a, b), store.providers(key, 48 * HOUR - 1));
        assertEquals(List.of(a), store.providers(key, 48 * HOUR), "b expired exactly at 48 h");
        assertEquals(1, store.expire(48 * HOUR));
        assertEquals(1, store.size());
        assertEquals(List.of(), store.providers(key, 70 * HOUR));
        assertEquals(1, store.expire(70 * HOUR));
        assertEquals(0, store.keyCount());
    }

    @Test
    void aFullKeyReplacesTheProviderExpiringFirst() {
        ProviderStore<SimPeer> store = new ProviderStore<>(KadConfig.DEFAULTS.withProviderLimits(100, 2));
        SplittableRandom random = new SplittableRandom(2);
        KadKey key = KadKey.random(random);
        SimPeer a = new SimPeer(1, KadKey.random(random));
        SimPeer b = new SimPeer(2, KadKey.random(random));
        SimPeer c = new SimPeer(3, KadKey.random(random));
        store.add(key, a, 10);
        store.add(key, b, 5);
        assertEquals(ProviderStore.AddResult.REPLACED_OLDEST, store.add(key, c, 20));
        assertEquals(List.of(a, c), store.providers(key, 20));
        assertEquals(2, store.size());
    }

    @Test
    void aFullStoreRefusesNewRecordsUntilOldOnesExpire() {
        KadConfig config = KadConfig.DEFAULTS.withProviderLimits(3, 10);
        ProviderStore<SimPeer> store = new ProviderStore<>(config);
        SplittableRandom random = new SplittableRandom(3);
        SimPeer p = new SimPeer(1, KadKey.random(random));
        for (int i = 0; i < 3; i++) store.add(KadKey.random(random), p, i);
        KadKey late = KadKey.random(random);
        assertEquals(ProviderStore.AddResult.FULL, store.add(late, p, 10));
        assertEquals(0, store.providers(late, 10).size());
        assertEquals(3, store.expire(config.providerTtlMillis() + 2));
        assertEquals(ProviderStore.AddResult.ADDED, store.add(late, p, config.providerTtlMillis() + 2));
    }

    @Property(tries = 100)
    void answersMatchAModelOfUnexpiredRecords(@ForAll long seed, @ForAll @IntRange(min = 1, max = 400) int steps) {
        KadConfig config = KadConfig.DEFAULTS.withProviderTimes(100, 40).withProviderLimits(1_000_000, 1_000);
        ProviderStore<SimPeer> store = new ProviderStore<>(config);
        SplittableRandom random = new SplittableRandom(seed);
        List<KadKey> keys = new ArrayList<>();
        List<SimPeer> peers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            keys.add(KadKey.random(random));
            peers.add(new SimPeer(i, KadKey.random(random)));
        }
        Map<KadKey, Map<SimPeer, Long>> model = new HashMap<>();
        long now = 0;
        for (int s = 0; s < steps; s++) {
            now += random.nextInt(30);
            KadKey key = keys.get(random.nextInt(keys.size()));
            if (random.nextInt(5) == 0) {
                store.expire(now);
            } else {
                SimPeer p = peers.get(random.nextInt(peers.size()));
                store.add(key, p, now);
                model.computeIfAbsent(key, unused -> new HashMap<>()).put(p, now + 100);
            }
            final long t = now;
            for (KadKey k : keys) {
                List<SimPeer> expected = model.getOrDefault(k, Map.of()).entrySet().stream()
                        .filter(e -> e.getValue() > t).map(Map.Entry::getKey).sorted((x, y) -> x.index() - y.index())
                        .toList();
                List<SimPeer> actual = new ArrayList<>(store.providers(k, t));
                actual.sort((x, y) -> x.index() - y.index());
                assertEquals(expected, actual);
            }
        }
    }
}
