package org.oscircular.simulator;

import java.util.Arrays;

/**
 * A binary min-heap of scheduled events ordered by (time, insertion sequence). Ties at the same virtual time run
 * in the order they were scheduled, which makes a run a pure function of the scenario and seed.
 */
final class EventQueue {
    /** Something that happens at a virtual time. */
    @FunctionalInterface
    interface Event {
        void fire();
    }

    private long[] times = new long[1024];
    private long[] seqs = new long[1024];
    private Event[] events = new Event[1024];
    private int size;
    private long nextSeq;

    void add(long time, Event event) {
        if (size == times.length) {
            int n = size * 2;
            times = Arrays.copyOf(times, n);
            seqs = Arrays.copyOf(seqs, n);
            events = Arrays.copyOf(events, n);
        }
        long seq = nextSeq++;
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(time, seq, times[parent], seqs[parent])) {
                break;
            }
            move(parent, i);
            i = parent;
        }
        times[i] = time;
        seqs[i] = seq;
        events[i] = event;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** The time of the earliest event; only valid when not empty. */
    long peekTime() {
        return times[0];
    }

    /** Removes and returns the earliest event. */
    Event poll() {
        Event top = events[0];
        int last = --size;
        long t = times[last];
        long s = seqs[last];
        Event e = events[last];
        events[last] = null;
        int i = 0;
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && before(times[right], seqs[right], times[child], seqs[child])) {
                child = right;
            }
            if (!before(times[child], seqs[child], t, s)) {
                break;
            }
            move(child, i);
            i = child;
        }
        if (size > 0) {
            times[i] = t;
            seqs[i] = s;
            events[i] = e;
        }
        return top;
    }

    private void move(int from, int to) {
        times[to] = times[from];
        seqs[to] = seqs[from];
        events[to] = events[from];
    }

    private static boolean before(long t1, long s1, long t2, long s2) {
        return t1 < t2 || (t1 == t2 && s1 < s2);
    }
}
