package org.oscircular.simulator;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Scale benchmark of the simulator (run by {@code bench/sim.sh}): for growing numbers of hosts it prints events per
 * CPU second, wall time, and heap bytes per host (world built, and at the end of the run), with ratios to the
 * smallest size measured in the same run. CPU time (of the simulating thread) is reported next to wall time
 * because the machine may be shared. {@code --build-only} builds and schedules each world without running it
 * (the heap a world of that size needs before anyone boots). {@code --scenario=FILE} measures a scenario file
 * instead of the built-in one (each size sets {@code sites.count}); {@code --set KEY=VALUE} overrides a setting.
 * Heap columns, per host: {@code built} (live after building), {@code live} (the largest live heap measured
 * after full collections between slices of the run), {@code gc-max} (the largest heap in use right after any
 * collection, an upper bound: young collections leave old garbage in place) and {@code end}.
 */
public final class SimBench {
    private SimBench() {}

    private record Row(int hosts, long events, double wall, double cpu, double builtBytesPerHost,
            double liveBytesPerHost, double peakBytesPerHost, double endBytesPerHost, int booted, int clients) {}

    public static void main(String[] args) {
        List<Integer> sizes = new ArrayList<>();
        int reps = 3;
        int bootBlocks = 256;
        boolean buildOnly = false;
        Path scenarioFile = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        for (String a : args) {
            if (a.equals("--build-only")) {
                buildOnly = true;
                continue;
            }
            if (a.startsWith("--scenario=")) {
                scenarioFile = Path.of(a.substring(11));
            } else if (a.startsWith("--set=")) {
                String kv = a.substring(6);
                int eq = kv.indexOf('=');
                overrides.put(kv.substring(0, eq), kv.substring(eq + 1));
            } else if (a.startsWith("--reps=")) {
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
        if (scenarioFile == null) {
            System.out.printf(Locale.ROOT, "simulator scale bench: sites of 99 clients + 1 seed, boot profile %d "
                    + "blocks of 256 KiB (70%% non-zero), boots spread over 10 min, DHT oracle", bootBlocks);
        } else {
            System.out.printf(Locale.ROOT, "simulator scale bench: scenario %s", scenarioFile);
        }
        System.out.printf(Locale.ROOT, "%s; max heap %.1f GiB%n", overrides.isEmpty() ? "" : " with " + overrides,
                Runtime.getRuntime().maxMemory() / 1073741824.0);
        System.out.printf(Locale.ROOT, "%9s %5s %12s %9s %9s %14s %8s %12s %12s %12s %12s %9s%n", "hosts",
                "runs", "events", "wall s", "cpu s", "M events/cpu-s", "ratio", "B/host built", "B/host live",
                "B/host gc-max", "B/host end", "booted");
        double baseline = Double.NaN;
        for (int size : sizes) {
            List<Row> rows = new ArrayList<>();
            int n = size >= 100_000 ? 1 : reps;
            for (int r = 0; r < n; r++) {
                rows.add(run(scenario(scenarioFile, size, bootBlocks, r + 1, overrides), buildOnly));
            }
            rows.sort((a, b) -> Double.compare(a.events / a.cpu, b.events / b.cpu));
            Row median = rows.get(rows.size() / 2);
            double rate = median.events / median.cpu / 1e6;
            if (Double.isNaN(baseline)) {
                baseline = rate;
            }
            System.out.printf(Locale.ROOT, "%9d %5d %12d %9.1f %9.1f %14.3f %8.2f %12.0f %12.0f %12.0f %12.0f %9s%n",
                    median.hosts, n, median.events, median.wall, median.cpu, rate, rate / baseline,
                    median.builtBytesPerHost, median.liveBytesPerHost, median.peakBytesPerHost,
                    median.endBytesPerHost, median.booted + "/" + median.clients);
        }
    }

    private static Scenario scenario(Path file, int hosts, int bootBlocks, long seed, Map<String, String> overrides) {
        Map<String, String> set = new LinkedHashMap<>(overrides);
        set.putIfAbsent("seed", Long.toString(seed));
        if (file == null) {
            String yaml = String.format(Locale.ROOT, """
                    sites: {count: %d, clients-per-site: 99}
                    seeds: {per-site: 1, preheat: boot}
                    image: {blocks: 16384, boot-blocks: %d}
                    clients: {boot: uniform, boot-window: 10min}
                    discovery: {dht: oracle}
                    """, Math.max(1, hosts / 100), bootBlocks);
            return ScenarioLoader.parse("bench", yaml, set).getFirst();
        }
        try {
            Scenario probe = ScenarioLoader.load(file, set).getFirst();
            int perSite = probe.sites().clientsPerSite() + probe.seeds().perSite();
            set.put("sites.count", Integer.toString(Math.max(1, hosts / perSite)));
            return ScenarioLoader.load(file, set).getFirst();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Row run(Scenario sc, boolean buildOnly) {
        long before = usedAfterGc();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getCurrentThreadCpuTime();
        long wall0 = System.nanoTime();
        Simulation sim = new Simulation(sc);
        sim.schedule();
        long built = usedAfterGc() - before;
        PeakHeap peak = new PeakHeap();
        long liveMax = built + before;
        if (!buildOnly) {
            // Run in slices and measure the live heap (after a full collection) between them: at virtual times
            // 1 s, 2 s, 4 s, ... (the publication storm) and every 1/24 of the scenario's duration.
            java.util.TreeSet<Long> samples = new java.util.TreeSet<>();
            for (long t = 1_000_000_000L; t < sc.duration(); t *= 2) {
                samples.add(t);
            }
            for (int k = 1; k <= 24; k++) {
                samples.add(sc.duration() / 24 * k);
            }
            samples.add(sc.duration());
            for (long t : samples) {
                if (sim.complete()) {
                    break;
                }
                sim.runUntil(t);
                liveMax = Math.max(liveMax, usedAfterGc());
            }
        }
        peak.close();
        double cpu = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
        double wall = (System.nanoTime() - wall0) / 1e9;
        long end = usedAfterGc() - before;
        RunResult result = RunResult.of(sim, wall);
        int n = sim.hosts().length;
        return new Row(n, sim.engine().eventsFired(), wall, cpu, (double) built / n, (double) (liveMax - before) / n,
                (double) Math.max(built, peak.max() - before) / n, (double) end / n, result.booted(),
                result.clients());
    }

    /** The largest heap in use right after any collection, while it is open. */
    private static final class PeakHeap implements NotificationListener, AutoCloseable {
        private final List<NotificationEmitter> emitters = new ArrayList<>();
        private volatile long max;

        PeakHeap() {
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                if (gc instanceof NotificationEmitter e) {
                    e.addNotificationListener(this, null, null);
                    emitters.add(e);
                }
            }
        }

        @Override
        public void handleNotification(Notification n, Object handback) {
            if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                return;
            }
            var info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
            long used = 0;
            for (MemoryUsage u : info.getGcInfo().getMemoryUsageAfterGc().values()) {
                used += u.getUsed();
            }
            if (used > max) {
                max = used;
            }
        }

        long max() {
            return max;
        }

        @Override
        public void close() {
            for (NotificationEmitter e : emitters) {
                try {
                    e.removeNotificationListener(this);
                } catch (ListenerNotFoundException ignored) {
                    // never added
                }
            }
        }
    }

    private static long usedAfterGc() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 2; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
