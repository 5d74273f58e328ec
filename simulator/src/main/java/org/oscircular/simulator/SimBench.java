package org.oscircular.simulator;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scale benchmark of the simulator (run by {@code bench/sim.sh}): for growing numbers of hosts it prints events per
 * CPU second, wall time, and heap bytes per host (world built, and at the end of the run), with ratios to the
 * smallest size measured in the same run. CPU time (of the simulating thread) is reported next to wall time
 * because the machine may be shared. {@code --build-only} builds and schedules each world without running it
 * (the heap a world of that size needs before anyone boots).
 */
public final class SimBench {
    private SimBench() {}

    private record Row(int hosts, long events, double wall, double cpu, double builtBytesPerHost,
            double endBytesPerHost, int booted, int clients) {}

    public static void main(String[] args) {
        List<Integer> sizes = new ArrayList<>();
        int reps = 3;
        int bootBlocks = 256;
        boolean buildOnly = false;
        for (String a : args) {
            if (a.equals("--build-only")) {
                buildOnly = true;
                continue;
            }
            if (a.startsWith("--reps=")) {
                reps = Integer.parseInt(a.substring(7));
            } else if (a.startsWith("--boot-blocks=")) {
                bootBlocks = Integer.parseInt(a.substring(14));
            } else {
                sizes.add(Integer.parseInt(a));
            }
        }
        if (sizes.isEmpty()) {
            sizes = List.of(10_000, 100_000);
        }
        System.out.printf(Locale.ROOT, "simulator scale bench: sites of 99 clients + 1 seed, boot profile %d blocks "
                + "of 256 KiB (70%% non-zero), boots spread over 10 min, DHT oracle; max heap %.1f GiB%n",
                bootBlocks, Runtime.getRuntime().maxMemory() / 1073741824.0);
        System.out.printf(Locale.ROOT, "%9s %5s %12s %9s %9s %14s %12s %14s %14s %9s%n", "hosts", "runs", "events",
                "wall s", "cpu s", "M events/cpu-s", "ratio", "B/host built", "B/host end", "booted");
        double baseline = Double.NaN;
        for (int size : sizes) {
            List<Row> rows = new ArrayList<>();
            int n = size >= 100_000 ? 1 : reps;
            for (int r = 0; r < n; r++) {
                rows.add(run(size, bootBlocks, r + 1, buildOnly));
            }
            rows.sort((a, b) -> Double.compare(a.events / a.cpu, b.events / b.cpu));
            Row median = rows.get(rows.size() / 2);
            double rate = median.events / median.cpu / 1e6;
            if (Double.isNaN(baseline)) {
                baseline = rate;
            }
            System.out.printf(Locale.ROOT, "%9d %5d %12d %9.1f %9.1f %14.3f %12.2f %14.0f %14.0f %9s%n",
                    median.hosts, n, median.events, median.wall, median.cpu, rate, rate / baseline,
                    median.builtBytesPerHost, median.endBytesPerHost, median.booted + "/" + median.clients);
        }
    }

    private static Row run(int hosts, int bootBlocks, long seed, boolean buildOnly) {
        int sites = Math.max(1, hosts / 100);
        String yaml = String.format(Locale.ROOT, """
                seed: %d
                sites: {count: %d, clients-per-site: 99}
                seeds: {per-site: 1, preheat: boot}
                image: {blocks: 16384, boot-blocks: %d}
                clients: {boot: uniform, boot-window: 10min}
                discovery: {dht: oracle}
                """, seed, sites, bootBlocks);
        Scenario sc = ScenarioLoader.parse("bench", yaml, Map.of()).getFirst();
        long before = usedAfterGc();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getCurrentThreadCpuTime();
        long wall0 = System.nanoTime();
        Simulation sim = new Simulation(sc);
        sim.schedule();
        long built = usedAfterGc() - before;
        if (!buildOnly) {
            sim.run();
        }
        double cpu = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
        double wall = (System.nanoTime() - wall0) / 1e9;
        long end = usedAfterGc() - before;
        RunResult result = RunResult.of(sim, wall);
        int n = sim.hosts().length;
        Arrays.fill(new long[0], 0); // keep sim reachable until here
        return new Row(n, sim.engine().eventsFired(), wall, cpu, (double) built / n, (double) end / n,
                result.booted(), result.clients());
    }

    private static long usedAfterGc() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 2; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
