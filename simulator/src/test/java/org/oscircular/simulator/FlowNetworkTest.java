package org.oscircular.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class FlowNetworkTest {
    private static final double MBIT = 1e6;

    @Test
    void sharesLinksMaxMinFairly() {
        Engine engine = new Engine();
        FlowNetwork net = new FlowNetwork(engine);
        int a = net.addLink(10 * MBIT);
        int b = net.addLink(4 * MBIT);
        int f1 = net.start(new int[] {a}, 1_000_000, f -> {});
        int f2 = net.start(new int[] {a, b}, 1_000_000, f -> {});
        int f3 = net.start(new int[] {b}, 1_000_000, f -> {});
        engine.run(1); // let the rates be computed
        assertEquals(8 * MBIT, net.rateBitsPerSecond(f1), 1);
        assertEquals(2 * MBIT, net.rateBitsPerSecond(f2), 1);
        assertEquals(2 * MBIT, net.rateBitsPerSecond(f3), 1);
    }

    @Test
    void finishesATransferAtSizeOverBottleneckRateAndSpeedsUpTheOthers() {
        Engine engine = new Engine();
        FlowNetwork net = new FlowNetwork(engine);
        int link = net.addLink(8 * MBIT); // 1 MB/s
        long[] done = new long[2];
        net.start(new int[] {link}, 1_000_000, f -> done[0] = engine.now());
        net.start(new int[] {link}, 3_000_000, f -> done[1] = engine.now());
        engine.run(Long.MAX_VALUE);
        // both at 0.5 MB/s until the first ends at 2 s (1 MB moved each), then the second alone: 2 MB more at 1 MB/s
        assertEquals(2.0, done[0] / 1e9, 1e-6);
        assertEquals(4.0, done[1] / 1e9, 1e-6);
    }

    @Test
    void abortReportsTheBytesMovedSoFar() {
        Engine engine = new Engine();
        FlowNetwork net = new FlowNetwork(engine);
        int link = net.addLink(8 * MBIT);
        int f = net.start(new int[] {link}, 10_000_000, x -> {});
        engine.at(1_500_000_000L, () -> assertEquals(1_500_000, net.abort(f), 1));
        engine.run(Long.MAX_VALUE);
        assertEquals(0, net.activeFlows());
    }

    @Test
    void aFlowJoiningALargeComponentWaitsForItsNextBatch() {
        Engine engine = new Engine();
        long delay = 1_000_000; // 1 ms
        FlowNetwork net = new FlowNetwork(engine, 2, delay);
        int shared = net.addLink(8 * MBIT);
        int own = net.addLink(100 * MBIT);
        for (int i = 0; i < 3; i++) {
            net.start(new int[] {shared}, 10_000_000, f -> {});
        }
        engine.run(1); // first computation: the shared link's component has 3 flows, more than 2: it is large
        int joining = net.start(new int[] {own, shared}, 10_000_000, f -> {});
        engine.run(delay / 2);
        assertEquals(0, net.rateBitsPerSecond(joining), 1e-9, "computed before the batch");
        engine.run(delay + 2);
        assertEquals(2 * MBIT, net.rateBitsPerSecond(joining), 1);
    }

    @Test
    void aSmallComponentBesideALargeOneIsComputedAtOnce() {
        Engine engine = new Engine();
        FlowNetwork net = new FlowNetwork(engine, 2, 1_000_000);
        int shared = net.addLink(8 * MBIT);
        int lan = net.addLink(8 * MBIT);
        for (int i = 0; i < 3; i++) {
            net.start(new int[] {shared}, 10_000_000, f -> {});
        }
        engine.run(1);
        int f = net.start(new int[] {lan}, 10_000_000, x -> {});
        engine.run(2);
        assertEquals(8 * MBIT, net.rateBitsPerSecond(f), 1);
    }

    /** Max-min fairness: no link over capacity, and every flow crosses a saturated link where it gets the most. */
    @Property(tries = 200)
    void ratesAreFeasibleAndEveryFlowHasABottleneck(@ForAll long seed, @ForAll @IntRange(min = 1, max = 12) int links,
            @ForAll @IntRange(min = 1, max = 40) int flows) {
        SplittableRandom r = new SplittableRandom(seed);
        Engine engine = new Engine();
        FlowNetwork net = new FlowNetwork(engine);
        double[] cap = new double[links];
        for (int l = 0; l < links; l++) {
            cap[l] = (1 + r.nextInt(100)) * MBIT;
            net.addLink(cap[l]);
        }
        Map<Integer, int[]> paths = new HashMap<>();
        for (int i = 0; i < flows; i++) {
            List<Integer> p = new ArrayList<>();
            int len = 1 + r.nextInt(Math.min(4, links));
            while (p.size() < len) {
                int l = r.nextInt(links);
                if (!p.contains(l)) {
                    p.add(l);
                }
            }
            int[] path = p.stream().mapToInt(Integer::intValue).toArray();
            paths.put(net.start(path, 1L << 40, f -> {}), path);
        }
        engine.run(1);
        double[] load = new double[links];
        double[] maxRate = new double[links];
        for (var e : paths.entrySet()) {
            double rate = net.rateBitsPerSecond(e.getKey());
            assertTrue(rate > 0);
            for (int l : e.getValue()) {
                load[l] += rate;
                maxRate[l] = Math.max(maxRate[l], rate);
            }
        }
        for (int l = 0; l < links; l++) {
            assertTrue(load[l] <= cap[l] * (1 + 1e-9), "link " + l + " over capacity");
        }
        for (var e : paths.entrySet()) {
            double rate = net.rateBitsPerSecond(e.getKey());
            boolean bottleneck = false;
            for (int l : e.getValue()) {
                if (load[l] >= cap[l] * (1 - 1e-9) && rate >= maxRate[l] * (1 - 1e-9)) {
                    bottleneck = true;
                }
            }
            assertTrue(bottleneck, "flow " + e.getKey() + " has no bottleneck link");
        }
    }
}
