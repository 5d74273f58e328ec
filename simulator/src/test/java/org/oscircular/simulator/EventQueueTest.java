package org.oscircular.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

class EventQueueTest {
    @Property(tries = 200)
    void firesInTimeOrderAndTiesInSchedulingOrder(@ForAll @Size(max = 300) List<@LongRange(min = 0, max = 20) Long> times) {
        EventQueue q = new EventQueue();
        List<long[]> fired = new ArrayList<>();
        for (int i = 0; i < times.size(); i++) {
            long t = times.get(i);
            int seq = i;
            q.add(t, () -> fired.add(new long[] {t, seq}));
        }
        while (!q.isEmpty()) {
            q.poll().fire();
        }
        List<long[]> expected = new ArrayList<>();
        for (int i = 0; i < times.size(); i++) {
            expected.add(new long[] {times.get(i), i});
        }
        expected.sort(Comparator.<long[]>comparingLong(a -> a[0]).thenComparingLong(a -> a[1]));
        assertEquals(expected.size(), fired.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i)[0], fired.get(i)[0]);
            assertEquals(expected.get(i)[1], fired.get(i)[1]);
        }
    }
}
