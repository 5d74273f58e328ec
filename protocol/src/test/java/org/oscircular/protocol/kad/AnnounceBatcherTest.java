package org.oscircular.protocol.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The batching of announcements, driven with virtual time. */
class AnnounceBatcherTest {
    private static final long DELAY = 1_000;

    /** One step of a driver's life: a key stored, time passing, the running sweep ending, a republish. */
    record Step(int kind, int key, long millis, boolean fail) {}

    @Provide
    Arbitrary<Step> steps() {
        return Arbitraries.integers().between(0, 3).flatMap(kind -> Arbitraries.integers().between(0, 30)
                .flatMap(key -> Arbitraries.longs().between(1, 3 * DELAY)
                        .flatMap(ms -> Arbitraries.of(true, false).map(fail -> new Step(kind, key, ms, fail)))));
    }

    /** A virtual-time driver: runs timers as time passes and remembers what each sweep carried. */
    private static final class Driver {
        final AnnounceBatcher<Integer> batcher = new AnnounceBatcher<>(DELAY);
        final PriorityQueue<Long> timers = new PriorityQueue<>();
        final List<List<Integer>> sweeps = new ArrayList<>();
        final Map<Integer, Long> lastAnnouncedAt = new HashMap<>();
        List<Integer> running;
        long now;

        void perform(List<AnnounceBatcher.Action<Integer>> actions) {
            for (var a : actions) {
                switch (a) {
                    case AnnounceBatcher.ArmTimer<Integer> t -> {
                        assertTrue(t.atMillis() >= now, "a timer in the past");
                        timers.add(t.atMillis());
                    }
                    case AnnounceBatcher.Sweep<Integer> s -> {
                        assertNull(running, "a second sweep while one runs");
                        assertEquals(s.keys().size(), new HashSet<>(s.keys()).size(), "a key twice in one sweep");
                        assertFalse(s.keys().isEmpty(), "an empty sweep");
                        running = s.keys();
                        sweeps.add(s.keys());
                    }
                }
            }
        }

        void advance(long ms) {
            long until = now + ms;
            while (!timers.isEmpty() && timers.peek() <= until) {
                now = Math.max(now, timers.poll());
                perform(batcher.onTimer(now));
            }
            now = until;
        }

        void finish(boolean fail) {
            List<Integer> done = running;
            running = null;
            if (!fail) {
                for (Integer k : done) lastAnnouncedAt.put(k, now);
            }
            perform(batcher.sweepFinished(fail ? done : List.of(), now));
        }
    }

    @Property(tries = 300)
    void everyHeldKeyIsAnnouncedAfterItArrivesAndSweepsNeverOverlap(
            @ForAll @Size(max = 80) List<@net.jqwik.api.From("steps") Step> steps) {
        Driver d = new Driver();
        Map<Integer, Long> lastStoredAt = new HashMap<>();
        for (Step s : steps) {
            switch (s.kind()) {
                case 0 -> {
                    lastStoredAt.put(s.key(), d.now);
                    d.perform(d.batcher.stored(s.key(), d.now));
                }
                case 1 -> d.advance(s.millis());
                case 2 -> {
                    if (d.running != null) d.finish(s.fail());
                }
                default -> {
                    Set<Integer> held = new HashSet<>(lastStoredAt.keySet());
                    for (Integer k : held) lastStoredAt.put(k, d.now);
                    d.perform(d.batcher.republish(held, d.now));
                }
            }
            assertEquals(d.running != null, d.batcher.sweeping());
        }
        // let everything settle: running sweeps succeed, timers fire
        for (int round = 0; round < 10 && (d.running != null || d.batcher.queued() > 0); round++) {
            if (d.running != null) d.finish(false);
            d.advance(DELAY);
        }
        assertEquals(0, d.batcher.queued(), "nothing left behind");
        for (var e : lastStoredAt.entrySet()) {
            Long announced = d.lastAnnouncedAt.get(e.getKey());
            assertTrue(announced != null && announced >= e.getValue(),
                    "key " + e.getKey() + " stored at " + e.getValue() + " last announced at " + announced);
        }
    }

    @Property(tries = 200)
    void aBurstOfKeysGoesOutAsOneSweepAfterTheDelay(@ForAll @IntRange(min = 1, max = 500) int keys,
                                                    @ForAll @IntRange(min = 0, max = 999) int spreadMillis) {
        Driver d = new Driver();
        for (int k = 0; k < keys; k++) {
            d.perform(d.batcher.stored(k, d.now));
            if (k == 0) {
                assertEquals(List.of(DELAY), List.copyOf(d.timers), "the first key arms the only timer");
            }
            d.advance(spreadMillis / keys); // all within the delay
        }
        assertTrue(d.sweeps.isEmpty(), "nothing before the delay");
        d.advance(DELAY);
        assertEquals(1, d.sweeps.size());
        assertEquals(keys, d.sweeps.getFirst().size());
    }

    @Example
    void keysArrivingDuringASweepWaitForItAndAFailedSweepIsRetried() {
        Driver d = new Driver();
        d.perform(d.batcher.republish(List.of(1, 2, 3), 0));
        assertEquals(List.of(List.of(1, 2, 3)), d.sweeps, "republish sweeps at once");
        d.perform(d.batcher.stored(4, 0));
        d.advance(5 * DELAY);
        assertEquals(1, d.sweeps.size(), "no second sweep while the first runs");
        d.finish(true); // failed: 1, 2, 3 come back
        d.advance(DELAY);
        assertEquals(List.of(4, 1, 2, 3), d.sweeps.get(1));
        d.finish(false);
        assertEquals(0, d.batcher.queued());
        assertThrows(IllegalStateException.class, () -> d.batcher.sweepFinished(List.of(), d.now));
        assertThrows(IllegalArgumentException.class, () -> new AnnounceBatcher<Integer>(0));
    }
}
